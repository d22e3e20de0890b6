package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testConfig() *config {
	return &config{
		Panel:    "default",
		Controls: []string{"app", "eu-west-1", "gate", "us-east-1", "us-west-2"},
		Rules: []Rule{
			{Name: "one-region", Type: Assertion, Controls: []string{"eu-west-1", "us-east-1", "us-west-2"}, AtLeast: 1},
			{Name: "gate", Type: Gating, Controls: []string{"gate"}, Targets: []string{"app"}, AtLeast: 1},
		},
	}
}

func setCmd(id string, kv ...any) command {
	c := command{Op: opSet, ID: id, Time: t0, Origin: "test", Node: "us-east-1", Changes: map[string]bool{}}
	for i := 0; i < len(kv); i += 2 {
		c.Changes[kv[i].(string)] = kv[i+1].(bool)
	}
	return c
}

func TestMachine(t *testing.T) {
	var m machine
	index := uint64(0)
	apply := func(c command) result {
		index++
		return m.apply(index, c)
	}

	if r := apply(setCmd("early", "us-east-1", false)); !errors.Is(r.Err, errNotConfigured) {
		t.Fatalf("set before configure = %v, want errNotConfigured", r.Err)
	}
	if r := apply(command{Op: opConfigure, Config: testConfig()}); r.Err != nil {
		t.Fatalf("configure: %v", r.Err)
	}
	for _, n := range testConfig().Controls {
		if !m.Values[n].On {
			t.Errorf("control %s is off after configure, want on", n)
		}
	}

	// A change, then the same request again: applied once.
	r := apply(setCmd("c1", "us-east-1", false, "us-west-2", false))
	if r.Err != nil || r.Change == nil {
		t.Fatalf("set = %+v, want a change", r)
	}
	want := []ControlChange{{Control: "us-east-1", From: true, To: false}, {Control: "us-west-2", From: true, To: false}}
	if !reflect.DeepEqual(r.Change.Controls, want) || r.Change.Index != index || r.Change.Origin != "test" {
		t.Errorf("change = %+v, want controls %v at index %d", r.Change, want, index)
	}
	if r := apply(setCmd("c1", "us-east-1", false, "us-west-2", false)); !r.Duplicate {
		t.Errorf("retried request: %+v, want Duplicate", r)
	}
	if len(m.History) != 1 {
		t.Errorf("history has %d entries, want 1", len(m.History))
	}

	// The last region: refused, state unchanged.
	r = apply(setCmd("c2", "eu-west-1", false))
	var re *RuleError
	if !errors.As(r.Err, &re) || re.Rule.Name != "one-region" {
		t.Fatalf("turning off the last region = %v, want a RuleError for one-region", r.Err)
	}
	if !m.Values["eu-west-1"].On {
		t.Errorf("a refused change changed the state")
	}

	// Overridden: applied and recorded with the rule it broke.
	c := setCmd("c3", "eu-west-1", false)
	c.Override, c.Reason = true, "drill"
	r = apply(c)
	if r.Err != nil || r.Change == nil || !r.Change.Override || r.Change.Reason != "drill" || fmt.Sprint(r.Change.Bypassed) != "[one-region]" {
		t.Fatalf("override = %+v (change %+v), want applied, bypassing one-region", r, r.Change)
	}

	// Setting values they have records nothing.
	if r := apply(setCmd("c4", "eu-west-1", false)); r.Err != nil || r.Change != nil {
		t.Errorf("no-op set = %+v, want no change", r)
	}
	if r := apply(setCmd("c5", "nowhere", true)); !errors.Is(r.Err, ErrUnknownControl) {
		t.Errorf("unknown control = %v, want ErrUnknownControl", r.Err)
	}

	// Reconfigure: a control goes, one comes (on), values of the rest stay.
	cfg := testConfig()
	cfg.Controls = []string{"app", "ap-south-1", "eu-west-1", "gate", "us-east-1", "us-west-2"}
	cfg.Rules = cfg.Rules[1:]
	if r := apply(command{Op: opConfigure, Config: cfg}); r.Err != nil {
		t.Fatalf("reconfigure: %v", r.Err)
	}
	if !m.Values["ap-south-1"].On || m.Values["us-east-1"].On || len(m.Config.Rules) != 1 {
		t.Errorf("after reconfigure: values %v, rules %v", m.Values, m.Config.Rules)
	}
	bad := testConfig()
	bad.Rules[0].Controls = []string{"mars-1"}
	if r := apply(command{Op: opConfigure, Config: bad}); r.Err == nil {
		t.Errorf("invalid configuration applied")
	}
	if r := apply(command{Op: "reboot"}); !errors.Is(r.Err, ErrInvalidChange) {
		t.Errorf("unknown op = %v, want ErrInvalidChange", r.Err)
	}
	if m.Index != index {
		t.Errorf("Index = %d, want %d (every entry counts)", m.Index, index)
	}
}

func TestMachineHistoryIsBounded(t *testing.T) {
	m := machine{}
	m.apply(1, command{Op: opConfigure, Config: testConfig()})
	for i := range HistoryLimit + 10 {
		c := setCmd(fmt.Sprint("id", i), "us-east-1", i%2 == 1)
		if r := m.apply(uint64(i+2), c); r.Err != nil || r.Change == nil {
			t.Fatalf("change %d: %+v", i, r)
		}
	}
	if len(m.History) != HistoryLimit {
		t.Fatalf("history holds %d, want %d", len(m.History), HistoryLimit)
	}
	if first := m.History[0].ID; first != "id10" {
		t.Errorf("oldest kept change is %s, want id10", first)
	}
}

// TestMachineDeterministic applies one log to two machines, one of them
// restored from a snapshot of the other half way, and wants equal states.
func TestMachineDeterministic(t *testing.T) {
	log := []command{
		{Op: opConfigure, Config: testConfig()},
		setCmd("a", "us-east-1", false),
		setCmd("b", "us-west-2", false),
		setCmd("c", "eu-west-1", false), // refused
		setCmd("d", "gate", false),
		setCmd("e", "app", false), // refused by the gate
		{Op: opSet, ID: "f", Time: t0.Add(time.Minute), Node: "eu-west-1", Changes: map[string]bool{"app": false}, Override: true, Reason: "r"},
		setCmd("g", "us-east-1", true),
	}
	var a, b machine
	for i, c := range log {
		// Through JSON, as the log carries it.
		data, _ := json.Marshal(c)
		var dc command
		if err := json.Unmarshal(data, &dc); err != nil {
			t.Fatal(err)
		}
		a.apply(uint64(i+1), dc)
		if i == 3 {
			snap, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(snap, &b); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if i > 3 {
			b.apply(uint64(i+1), dc)
		}
	}
	var sa, sb State
	a.view(&sa)
	b.view(&sb)
	ja, _ := json.Marshal(sa)
	jb, _ := json.Marshal(sb)
	if string(ja) != string(jb) {
		t.Errorf("replicas differ:\n%s\n%s", ja, jb)
	}
	if !sa.On("us-east-1") || sa.On("us-west-2") || sa.On("app") || len(sa.History) != 5 {
		t.Errorf("final state %s", ja)
	}
}

func TestStateJSONRoundTrip(t *testing.T) {
	var m machine
	m.apply(1, command{Op: opConfigure, Config: testConfig()})
	m.apply(2, setCmd("a", "us-east-1", false))
	var s State
	m.view(&s)
	data, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.on == nil || back.On("us-east-1") || !back.On("us-west-2") || back.On("mars-1") {
		t.Errorf("decoded state: index %v, us-east-1 %v, us-west-2 %v, mars-1 %v; want indexed, off, on, off",
			back.on != nil, back.On("us-east-1"), back.On("us-west-2"), back.On("mars-1"))
	}
	again, _ := json.Marshal(&back)
	if string(again) != string(data) {
		t.Errorf("JSON round trip changed the state:\n%s\n%s", data, again)
	}
}
