package control

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// metricValue returns the value of the series of name with labels, and
// whether there is one.
func metricValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			// A series is a counter or a gauge; the other's getter gives 0.
			return m.GetCounter().GetValue() + m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	regs := map[string]*prometheus.Registry{}
	c := newCluster(t, regions, func(o *Options) {
		regs[o.NodeID] = prometheus.NewRegistry()
		o.Registerer = regs[o.NodeID]
		o.Controls = []string{"gate", "shop"}
		o.Rules = []Rule{{Name: "shop-gate", Type: Gating, Controls: []string{"gate"}, Targets: []string{"shop"}, AtLeast: 1}}
	})
	leader := c.waitLeader(regions...)
	n := c.nodes[leader]
	if _, err := set(t, n, map[string]bool{"gate": false}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := set(t, n, map[string]bool{"shop": false}, nil); err == nil {
		t.Fatal("the gate let shop change")
	}
	if _, err := set(t, n, map[string]bool{"shop": false}, &Override{Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	reg := regs[leader]
	for _, m := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"gyre_control_state", map[string]string{"region": leader, "control": "shop"}, 0},
		{"gyre_control_state", map[string]string{"region": leader, "control": "us-east-1"}, 1},
		{"gyre_control_changes_total", map[string]string{"region": leader, "control": "gate", "override": "false"}, 1},
		{"gyre_control_changes_total", map[string]string{"region": leader, "control": "shop", "override": "true"}, 1},
		{"gyre_control_rule_rejections_total", map[string]string{"region": leader, "rule": "shop-gate"}, 1},
		{"gyre_control_raft_leader", map[string]string{"region": leader}, 1},
	} {
		got, ok := metricValue(t, reg, m.name, m.labels)
		if !ok || got != m.want {
			t.Errorf("%s%v = %v (present %v), want %v", m.name, m.labels, got, ok, m.want)
		}
	}
	if term, _ := metricValue(t, reg, "gyre_control_raft_term", map[string]string{"region": leader}); term < 1 {
		t.Errorf("gyre_control_raft_term = %v, want at least 1", term)
	}
	f := c.follower(leader)
	if v, _ := metricValue(t, regs[f], "gyre_control_raft_leader", map[string]string{"region": f}); v != 0 {
		t.Errorf("follower %s reports raft_leader %v, want 0", f, v)
	}
}
