package control

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var regions = []string{"eu-west-1", "us-east-1", "us-west-2"}

// Timeouts of the test clusters: fast failover, with room for the race
// detector.
const (
	testHeartbeat = 200 * time.Millisecond
	// waitTimeout bounds every wait for the cluster to reach a state.
	waitTimeout = 20 * time.Second
)

// cluster is a Raft group of real nodes on loopback listeners, each with
// its own data directory.
type cluster struct {
	t     *testing.T
	peers []Peer
	dirs  map[string]string
	nodes map[string]*Service // the running nodes
	// mod adjusts each node's Options.
	mod func(*Options)
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() && os.Getenv("CONTROL_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newCluster starts a node per name and waits for a leader.
func newCluster(t *testing.T, names []string, mod func(*Options)) *cluster {
	t.Helper()
	c := &cluster{t: t, dirs: map[string]string{}, nodes: map[string]*Service{}, mod: mod}
	lns := map[string]net.Listener{}
	for _, n := range names {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[n] = ln
		c.peers = append(c.peers, Peer{ID: n, RaftAddr: ln.Addr().String()})
		c.dirs[n] = filepath.Join(t.TempDir(), n)
	}
	for _, n := range names {
		c.startWith(n, lns[n])
	}
	t.Cleanup(c.stopAll)
	c.waitLeader(names...)
	return c
}

func (c *cluster) options(name string, ln net.Listener) Options {
	o := Options{
		NodeID:           name,
		Peers:            c.peers,
		Listener:         ln,
		DataDir:          c.dirs[name],
		HeartbeatTimeout: testHeartbeat,
		SetTimeout:       5 * time.Second,
		Logger:           testLogger(c.t).With("node", name),
	}
	if c.mod != nil {
		c.mod(&o)
	}
	return o
}

// start (re)starts a stopped node on its address.
func (c *cluster) start(name string) *Service {
	c.t.Helper()
	addr := ""
	for _, p := range c.peers {
		if p.ID == name {
			addr = p.RaftAddr
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		c.t.Fatalf("listening again on %s: %v", addr, err)
	}
	return c.startWith(name, ln)
}

func (c *cluster) startWith(name string, ln net.Listener) *Service {
	c.t.Helper()
	s, err := New(c.options(name, ln))
	if err != nil {
		c.t.Fatalf("New(%s): %v", name, err)
	}
	if err := s.Start(context.Background()); err != nil {
		c.t.Fatalf("Start(%s): %v", name, err)
	}
	c.nodes[name] = s
	return s
}

func (c *cluster) stop(name string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.nodes[name].Shutdown(ctx); err != nil {
		c.t.Errorf("Shutdown(%s): %v", name, err)
	}
	delete(c.nodes, name)
}

// crash stops a node as a crash would: no leadership hand-over, no
// snapshot.
func (c *cluster) crash(name string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.nodes[name].shutdown(ctx, false); err != nil {
		c.t.Errorf("crash(%s): %v", name, err)
	}
	delete(c.nodes, name)
}

func (c *cluster) stopAll() {
	for _, n := range slices.Sorted(mapsKeys(c.nodes)) {
		c.stop(n)
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// waitFor waits until cond holds, re-evaluating it whenever a node's view
// changes, and fails the test after waitTimeout.
func waitFor(t *testing.T, nodes []*Service, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		chans := make([]<-chan struct{}, len(nodes))
		for i, n := range nodes {
			chans[i] = n.Watch()
		}
		if cond() {
			return
		}
		if !waitAny(chans, deadline.C) {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
	}
}

// waitAny waits for one of chans to close; false if stop fires first.
func waitAny(chans []<-chan struct{}, stop <-chan time.Time) bool {
	any := make(chan struct{}, 1)
	done := make(chan struct{})
	defer close(done)
	for _, ch := range chans {
		go func() {
			select {
			case <-ch:
				select {
				case any <- struct{}{}:
				default:
				}
			case <-done:
			}
		}()
	}
	select {
	case <-any:
		return true
	case <-stop:
		return false
	}
}

// running returns the named running nodes, or all of them.
func (c *cluster) running(names ...string) []*Service {
	if len(names) == 0 {
		names = slices.Sorted(mapsKeys(c.nodes))
	}
	out := make([]*Service, len(names))
	for i, n := range names {
		out[i] = c.nodes[n]
	}
	return out
}

// waitLeader waits until the named nodes agree on a leader among them and
// have applied the panel's configuration, and returns the leader.
func (c *cluster) waitLeader(names ...string) string {
	c.t.Helper()
	nodes := c.running(names...)
	var leader string
	waitFor(c.t, nodes, fmt.Sprintf("a leader among %v", names), func() bool {
		leader = nodes[0].State().Leader
		if leader == "" || !slices.Contains(names, leader) {
			return false
		}
		for _, n := range nodes {
			if s := n.State(); s.Leader != leader || !s.Configured {
				return false
			}
		}
		return true
	})
	return leader
}

// waitOn waits until every named node sees control set to on.
func (c *cluster) waitOn(control string, on bool, names ...string) {
	c.t.Helper()
	nodes := c.running(names...)
	waitFor(c.t, nodes, fmt.Sprintf("%s on=%v on %v", control, on, names), func() bool {
		for _, n := range nodes {
			if n.On(control) != on {
				return false
			}
		}
		return true
	})
}

// follower returns a running node other than the leader.
func (c *cluster) follower(leader string) string {
	for _, n := range slices.Sorted(mapsKeys(c.nodes)) {
		if n != leader {
			return n
		}
	}
	c.t.Fatal("no follower")
	return ""
}

func set(t *testing.T, s *Service, changes map[string]bool, override *Override) (State, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Set(ctx, changes, override, "test")
}

func TestClusterElectsLeader(t *testing.T) {
	c := newCluster(t, regions, nil)
	leader := c.waitLeader(regions...)
	for _, n := range c.running() {
		s := n.State()
		if s.Panel != DefaultPanel || s.Leader != leader || len(s.Controls) != 3 || !reflect.DeepEqual(s.Rules, DefaultRules(regions)) {
			t.Errorf("%s: state %+v, want panel %q, leader %s, 3 controls, the default rule", n.id, s, DefaultPanel, leader)
		}
		for _, r := range regions {
			if !n.On(r) {
				t.Errorf("%s: control %s is off, want every control on at first", n.id, r)
			}
		}
	}
}

func TestSetFromFollowerIsForwarded(t *testing.T) {
	c := newCluster(t, regions, nil)
	leader := c.waitLeader(regions...)
	f := c.follower(leader)
	st, err := set(t, c.nodes[f], map[string]bool{"us-west-2": false}, nil)
	if err != nil {
		t.Fatalf("Set on follower %s: %v", f, err)
	}
	if st.On("us-west-2") || st.Node != f {
		t.Errorf("Set returned %+v: want %s's view with us-west-2 off", st, f)
	}
	if !(&st).On("us-east-1") {
		t.Errorf("us-east-1 is off, want on")
	}
	last := st.History[len(st.History)-1]
	if last.Node != f || last.Origin != "test" || last.Override || !reflect.DeepEqual(last.Controls, []ControlChange{{Control: "us-west-2", From: true, To: false}}) {
		t.Errorf("history entry %+v, want us-west-2 true->false taken by %s from test", last, f)
	}
	c.waitOn("us-west-2", false)
}

func TestAssertionRuleRefusesLastRegionOff(t *testing.T) {
	c := newCluster(t, regions, nil)
	leader := c.waitLeader(regions...)
	n := c.nodes[c.follower(leader)]
	if _, err := set(t, n, map[string]bool{"us-east-1": false, "us-west-2": false}, nil); err != nil {
		t.Fatalf("turning off two of three: %v", err)
	}
	for _, node := range []*Service{n, c.nodes[leader]} {
		_, err := set(t, node, map[string]bool{"eu-west-1": false}, nil)
		var re *RuleError
		if !errors.As(err, &re) || re.Rule.Name != DefaultRuleName || !strings.Contains(err.Error(), DefaultRuleName) {
			t.Fatalf("turning off the last region on %s: %v, want a *RuleError naming %q", node.id, err, DefaultRuleName)
		}
	}
	if !n.On("eu-west-1") {
		t.Errorf("eu-west-1 went off despite the refusal")
	}
	if _, err := set(t, n, map[string]bool{"eu-west-1": false, "us-east-1": true}, nil); err != nil {
		t.Errorf("swapping the region that is on: %v", err)
	}
	if _, err := set(t, n, map[string]bool{"nowhere": false}, nil); !errors.Is(err, ErrUnknownControl) {
		t.Errorf("unknown control: %v, want ErrUnknownControl", err)
	}
	if _, err := set(t, n, map[string]bool{"us-east-1": false}, &Override{}); !errors.Is(err, ErrInvalidChange) {
		t.Errorf("override without a reason: %v, want ErrInvalidChange", err)
	}
}

func TestGatingRuleAndOverride(t *testing.T) {
	c := newCluster(t, regions, func(o *Options) {
		o.Controls = []string{"gate", "shop"}
		o.Rules = []Rule{
			{Name: "two-regions", Type: Assertion, Controls: regions, AtLeast: 2},
			{Name: "shop-gate", Type: Gating, Controls: []string{"gate"}, Targets: []string{"shop"}, AtLeast: 1},
		}
	})
	leader := c.waitLeader(regions...)
	n := c.nodes[c.follower(leader)]

	if _, err := set(t, n, map[string]bool{"gate": false}, nil); err != nil {
		t.Fatalf("closing the gate: %v", err)
	}
	_, err := set(t, n, map[string]bool{"shop": false}, nil)
	var re *RuleError
	if !errors.As(err, &re) || re.Rule.Name != "shop-gate" || re.Rule.Type != Gating {
		t.Fatalf("changing shop with the gate closed: %v, want a *RuleError for shop-gate", err)
	}

	st, err := set(t, n, map[string]bool{"shop": false}, &Override{Reason: "incident 42"})
	if err != nil {
		t.Fatalf("override: %v", err)
	}
	if st.On("shop") {
		t.Errorf("shop still on after the override")
	}
	last := st.History[len(st.History)-1]
	if !last.Override || last.Reason != "incident 42" || !reflect.DeepEqual(last.Bypassed, []string{"shop-gate"}) || last.Node != n.id {
		t.Errorf("history entry %+v, want an override for incident 42 bypassing shop-gate", last)
	}
	// The history is replicated: the leader has the entry too.
	lead := c.nodes[leader]
	waitFor(t, []*Service{lead}, "the override in the leader's history", func() bool {
		h := lead.State().History
		return len(h) > 0 && h[len(h)-1].ID == last.ID
	})

	if _, err := set(t, n, map[string]bool{"us-east-1": false}, nil); err != nil {
		t.Fatalf("first region off: %v", err)
	}
	if _, err := set(t, n, map[string]bool{"us-west-2": false}, nil); !errors.As(err, &re) || re.Rule.Name != "two-regions" {
		t.Fatalf("second region off: %v, want two-regions to refuse", err)
	}
}

func TestMinorityDown(t *testing.T) {
	c := newCluster(t, regions, nil)
	leader := c.waitLeader(regions...)
	// Stop the leader: the others elect a new one and take changes.
	c.stop(leader)
	rest := slices.DeleteFunc(slices.Clone(regions), func(r string) bool { return r == leader })
	c.waitLeader(rest...)
	st, err := set(t, c.nodes[rest[0]], map[string]bool{"us-east-1": false}, nil)
	if err != nil {
		t.Fatalf("Set with %s down: %v", leader, err)
	}
	if st.On("us-east-1") {
		t.Errorf("us-east-1 on after Set")
	}
	// The stopped node catches up when it comes back.
	c.start(leader)
	c.waitOn("us-east-1", false, regions...)
	c.waitLeader(regions...)
}

func TestNoQuorum(t *testing.T) {
	c := newCluster(t, regions, nil)
	leader := c.waitLeader(regions...)
	survivor := c.follower(leader)
	for _, r := range regions {
		if r != survivor {
			c.stop(r)
		}
	}
	const deadline = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	_, err := c.nodes[survivor].Set(ctx, map[string]bool{"us-east-1": false}, nil, "test")
	took := time.Since(start)
	if !errors.Is(err, ErrNoQuorum) {
		t.Fatalf("Set with two of three down: %v, want ErrNoQuorum", err)
	}
	if took > deadline+2*time.Second {
		t.Errorf("Set took %v, want about the context's deadline %v", took, deadline)
	}
	if !c.nodes[survivor].On("us-east-1") {
		t.Errorf("the survivor shows the change it could not commit")
	}
}

func TestStateSurvivesRestartOfAll(t *testing.T) {
	c := newCluster(t, regions, func(o *Options) { o.Controls = []string{"shop"} })
	leader := c.waitLeader(regions...)
	n := c.nodes[leader]
	if _, err := set(t, n, map[string]bool{"us-east-1": false}, nil); err != nil {
		t.Fatal(err)
	}
	c.waitOn("us-east-1", false)
	// A snapshot on every node now, then more log on top of it.
	for _, s := range c.running() {
		if err := s.raft.Snapshot().Error(); err != nil {
			t.Fatalf("snapshot on %s: %v", s.id, err)
		}
	}
	if _, err := set(t, n, map[string]bool{"shop": false}, &Override{Reason: "after the snapshot"}); err != nil {
		t.Fatal(err)
	}
	c.waitOn("shop", false)
	before := c.nodes[leader].State()

	c.stopAll()
	for _, r := range regions {
		c.start(r)
	}
	c.waitLeader(regions...)
	c.waitOn("shop", false)
	for _, s := range c.running() {
		got := s.State()
		if !reflect.DeepEqual(got.Controls, before.Controls) || !reflect.DeepEqual(got.History, before.History) {
			t.Errorf("%s after restart:\ncontrols %+v\nhistory %+v\nwant\ncontrols %+v\nhistory %+v", s.id, got.Controls, got.History, before.Controls, before.History)
		}
	}
	if _, err := set(t, c.nodes[regions[0]], map[string]bool{"us-east-1": true}, nil); err != nil {
		t.Errorf("Set after restart: %v", err)
	}
}

func TestShutdownIsIdempotent(t *testing.T) {
	c := newCluster(t, regions[:1], nil)
	n := c.nodes[regions[0]]
	if _, err := set(t, n, map[string]bool{regions[0]: true}, nil); err != nil {
		t.Fatalf("Set on a one-node group: %v", err)
	}
	c.stop(regions[0])
	if err := n.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if _, err := set(t, n, map[string]bool{regions[0]: false}, nil); !errors.Is(err, ErrStopped) {
		t.Errorf("Set after Shutdown: %v, want ErrStopped", err)
	}
	if err := n.Start(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("Start after Shutdown: %v, want ErrStopped", err)
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := New(Options{
		NodeID:             "mars-1",
		Peers:              []Peer{{ID: "a", RaftAddr: "x:1"}, {ID: "a", RaftAddr: "x:1"}, {RaftAddr: ""}},
		Controls:           []string{"a"},
		HeartbeatTimeout:   time.Millisecond,
		LeaderLeaseTimeout: time.Second,
		Rules:              []Rule{{Name: "r", Type: Assertion, Controls: []string{"nope"}, AtLeast: 1}},
	})
	if err == nil {
		t.Fatal("New accepted bad options")
	}
	for _, want := range []string{
		`names "a" twice`, `address "x:1" twice`, "Peers[2] has no ID", "has no RaftAddr", `NodeID "mars-1" is not one of`,
		"Listener is required", "DataDir is required", `"a", which is a peer's own control`, "HeartbeatTimeout 1ms",
		"LeaderLeaseTimeout 1s", `unknown control "nope"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New's error does not mention %q:\n%v", want, err)
		}
	}
}

// TestCrashedNodeServesLastState restarts a crashed node on its own, with
// no snapshot and no majority to learn the commit index from: it must
// serve the state it had applied, not every control on.
func TestCrashedNodeServesLastState(t *testing.T) {
	c := newCluster(t, regions, nil)
	leader := c.waitLeader(regions...)
	if _, err := set(t, c.nodes[leader], map[string]bool{"us-east-1": false}, nil); err != nil {
		t.Fatal(err)
	}
	c.waitOn("us-east-1", false)
	want := c.nodes[leader].State()
	for _, r := range regions {
		c.crash(r)
	}

	alone := c.start(regions[0])
	st := alone.State()
	if alone.On("us-east-1") || !st.Configured || !reflect.DeepEqual(st.History, want.History) {
		t.Fatalf("restarted alone after a crash: us-east-1 on=%v, configured=%v, history %+v; want off, configured, history %+v",
			alone.On("us-east-1"), st.Configured, st.History, want.History)
	}
	if st.Leader != "" {
		t.Errorf("a lone node reports leader %q", st.Leader)
	}

	for _, r := range regions[1:] {
		c.start(r)
	}
	c.waitLeader(regions...)
	if _, err := set(t, alone, map[string]bool{"us-east-1": true}, nil); err != nil {
		t.Fatalf("Set after the crash: %v", err)
	}
	c.waitOn("us-east-1", true)
}

func TestStartFailsOnABusyDataDir(t *testing.T) {
	c := newCluster(t, regions[:1], nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := c.options(regions[0], ln)
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "raft log") {
		t.Fatalf("Start on a data directory in use = %v, want an error opening the raft log", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("the listener of a failed Start: Accept = %v, want it closed", err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown after a failed Start: %v", err)
	}
}
