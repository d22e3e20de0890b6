package control

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	regions := []string{"eu-west-1", "us-east-1", "us-west-2"}
	atLeastOne := Rule{Name: "one-region", Type: Assertion, Controls: regions, AtLeast: 1}
	atLeastTwo := Rule{Name: "two-regions", Type: Assertion, Controls: regions, AtLeast: 2}
	gate := Rule{Name: "gate", Type: Gating, Controls: []string{"gate"}, Targets: []string{"app"}, AtLeast: 1}
	gateTwo := Rule{Name: "two-keys", Type: Gating, Controls: []string{"key-a", "key-b"}, Targets: []string{"us-east-1", "us-west-2"}, AtLeast: 2}

	all := func(on bool, extra ...string) map[string]bool {
		m := map[string]bool{}
		for _, r := range append(append([]string{}, regions...), extra...) {
			m[r] = on
		}
		return m
	}
	with := func(m map[string]bool, kv ...any) map[string]bool {
		m = maps.Clone(m)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].(bool)
		}
		return m
	}

	tests := []struct {
		name    string
		state   map[string]bool
		changes map[string]bool
		rules   []Rule
		// wantRule is the rule that must refuse the change; "" means
		// allowed.
		wantRule string
		// wantOn and wantControls describe the refusal.
		wantOn       int
		wantControls []string
		wantUnknown  bool
	}{
		{name: "no rules", state: all(true), changes: map[string]bool{"us-east-1": false}},
		{name: "one of three off", state: all(true), changes: map[string]bool{"us-east-1": false}, rules: []Rule{atLeastOne}},
		{name: "last one off", state: with(all(false), "us-west-2", true), changes: map[string]bool{"us-west-2": false},
			rules: []Rule{atLeastOne}, wantRule: "one-region", wantOn: 0, wantControls: []string{"us-west-2"}},
		{name: "all off at once", state: all(true), changes: map[string]bool{"us-east-1": false, "us-west-2": false, "eu-west-1": false},
			rules: []Rule{atLeastOne}, wantRule: "one-region", wantOn: 0, wantControls: []string{"eu-west-1", "us-east-1", "us-west-2"}},
		{name: "swap the last one on", state: with(all(false), "us-west-2", true), changes: map[string]bool{"us-west-2": false, "us-east-1": true},
			rules: []Rule{atLeastOne}},
		{name: "two of three: first off", state: all(true), changes: map[string]bool{"us-east-1": false}, rules: []Rule{atLeastTwo}},
		{name: "two of three: second off", state: with(all(true), "us-east-1", false), changes: map[string]bool{"eu-west-1": false},
			rules: []Rule{atLeastTwo}, wantRule: "two-regions", wantOn: 1, wantControls: []string{"eu-west-1"}},
		{name: "turning on while broken is allowed", state: all(false), changes: map[string]bool{"us-east-1": true}, rules: []Rule{atLeastTwo}},
		{name: "unrelated change while broken is allowed", state: all(false, "app"), changes: map[string]bool{"app": false}, rules: []Rule{atLeastTwo}},
		{name: "setting a value it has is allowed", state: with(all(false), "us-west-2", true), changes: map[string]bool{"us-west-2": true}, rules: []Rule{atLeastOne}},
		{name: "setting off what is off while broken", state: all(false), changes: map[string]bool{"us-east-1": false}, rules: []Rule{atLeastOne}},
		{name: "first rule broken is reported", state: with(all(false), "us-west-2", true, "us-east-1", true), changes: map[string]bool{"us-west-2": false, "us-east-1": false},
			rules: []Rule{atLeastTwo, atLeastOne}, wantRule: "two-regions", wantOn: 0, wantControls: []string{"us-east-1", "us-west-2"}},

		{name: "gate open: target changes", state: all(true, "gate", "app"), changes: map[string]bool{"app": false}, rules: []Rule{gate}},
		{name: "gate closed: target refused", state: with(all(true, "app"), "gate", false), changes: map[string]bool{"app": false},
			rules: []Rule{gate}, wantRule: "gate", wantOn: 0, wantControls: []string{"app"}},
		{name: "gate closed: target set to its value", state: with(all(true, "app"), "gate", false), changes: map[string]bool{"app": true}, rules: []Rule{gate}},
		{name: "gate closed: other controls change", state: with(all(true, "app"), "gate", false), changes: map[string]bool{"us-east-1": false}, rules: []Rule{gate}},
		{name: "gate closed: gate opens", state: with(all(true, "app"), "gate", false), changes: map[string]bool{"gate": true}, rules: []Rule{gate}},
		{name: "gate closed: opening it with the target is refused", state: with(all(true, "app"), "gate", false), changes: map[string]bool{"gate": true, "app": false},
			rules: []Rule{gate}, wantRule: "gate", wantOn: 0, wantControls: []string{"app"}},
		{name: "gate open: closing it with the target is allowed", state: all(true, "gate", "app"), changes: map[string]bool{"gate": false, "app": false}, rules: []Rule{gate}},
		{name: "two keys, one turned", state: with(all(true, "key-a", "key-b"), "key-b", false), changes: map[string]bool{"us-west-2": false},
			rules: []Rule{gateTwo}, wantRule: "two-keys", wantOn: 1, wantControls: []string{"us-west-2"}},
		{name: "two keys, both turned", state: all(true, "key-a", "key-b"), changes: map[string]bool{"us-west-2": false, "us-east-1": false}, rules: []Rule{gateTwo}},
		{name: "gating and assertion: assertion refuses", state: with(all(false, "key-a", "key-b"), "key-a", true, "key-b", true, "us-east-1", true),
			changes: map[string]bool{"us-east-1": false}, rules: []Rule{gateTwo, atLeastOne}, wantRule: "one-region", wantOn: 0, wantControls: []string{"us-east-1"}},

		{name: "unknown control", state: all(true), changes: map[string]bool{"ap-south-1": false}, rules: []Rule{atLeastOne}, wantUnknown: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			state, changes := maps.Clone(tc.state), maps.Clone(tc.changes)
			err := Check(tc.state, tc.changes, tc.rules)
			if !maps.Equal(state, tc.state) || !maps.Equal(changes, tc.changes) {
				t.Fatalf("Check modified its arguments")
			}
			if tc.wantUnknown {
				if !errors.Is(err, ErrUnknownControl) {
					t.Fatalf("Check = %v, want ErrUnknownControl", err)
				}
				return
			}
			if tc.wantRule == "" {
				if err != nil {
					t.Fatalf("Check = %v, want the change allowed", err)
				}
				return
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("Check = %v, want a *RuleError for rule %q", err, tc.wantRule)
			}
			if re.Rule.Name != tc.wantRule || re.On != tc.wantOn || strings.Join(re.Controls, ",") != strings.Join(tc.wantControls, ",") {
				t.Errorf("RuleError{rule %q, on %d, controls %v}, want {rule %q, on %d, controls %v}",
					re.Rule.Name, re.On, re.Controls, tc.wantRule, tc.wantOn, tc.wantControls)
			}
			if !strings.Contains(err.Error(), `"`+tc.wantRule+`"`) {
				t.Errorf("error %q does not name rule %q", err, tc.wantRule)
			}
		})
	}
}

func TestRuleErrorMessages(t *testing.T) {
	a := &RuleError{Rule: Rule{Name: "one-region", Type: Assertion, Controls: []string{"a", "b"}, AtLeast: 1}, On: 0, Controls: []string{"b"}}
	if got, want := a.Error(), `control: change refused by assertion rule "one-region": turning off b would leave 0 of a, b on, and the rule needs at least 1 (override with a reason to force it)`; got != want {
		t.Errorf("assertion message:\n got %s\nwant %s", got, want)
	}
	g := &RuleError{Rule: Rule{Name: "gate", Type: Gating, Controls: []string{"gate"}, Targets: []string{"app"}, AtLeast: 1}, On: 0, Controls: []string{"app"}}
	if got, want := g.Error(), `control: change refused by gating rule "gate": app may change only while at least 1 of gate is on, and 0 are (override with a reason to force it)`; got != want {
		t.Errorf("gating message:\n got %s\nwant %s", got, want)
	}
}

func TestValidateRules(t *testing.T) {
	controls := map[string]bool{"a": true, "b": true, "gate": true}
	tests := []struct {
		name  string
		rules []Rule
		want  []string // substrings of the error, all of them; none: valid
	}{
		{name: "valid", rules: []Rule{
			{Name: "one", Type: Assertion, Controls: []string{"a", "b"}, AtLeast: 1},
			{Name: "gate", Type: Gating, Controls: []string{"gate"}, Targets: []string{"a", "b"}, AtLeast: 1},
		}},
		{name: "no name", rules: []Rule{{Type: Assertion, Controls: []string{"a"}, AtLeast: 1}}, want: []string{"rule 0 has no name"}},
		{name: "twice", rules: []Rule{
			{Name: "x", Type: Assertion, Controls: []string{"a"}, AtLeast: 1},
			{Name: "x", Type: Assertion, Controls: []string{"b"}, AtLeast: 1},
		}, want: []string{`rule name "x" is used twice`}},
		{name: "bad type", rules: []Rule{{Name: "x", Type: "quorum", Controls: []string{"a"}, AtLeast: 1}}, want: []string{`type "quorum"`}},
		{name: "every problem at once", rules: []Rule{
			{Name: "x", Type: Gating, Controls: []string{"a", "a", "zz"}, AtLeast: 4},
		}, want: []string{"a gating rule needs targets", `"a" is listed twice`, `unknown control "zz"`, "at_least 4"}},
		{name: "assertion with targets", rules: []Rule{{Name: "x", Type: Assertion, Controls: []string{"a"}, Targets: []string{"b"}, AtLeast: 1}},
			want: []string{"an assertion rule has no targets"}},
		{name: "zero threshold", rules: []Rule{{Name: "x", Type: Assertion, Controls: []string{"a"}}}, want: []string{"at_least 0"}},
		{name: "no controls", rules: []Rule{{Name: "x", Type: Assertion, AtLeast: 1}}, want: []string{"has no controls"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := validateRules(controls, tc.rules)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("validateRules = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("validateRules = nil, want errors mentioning %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("validateRules = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}
