package control

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are a node's Prometheus metrics, each labelled region=NodeID.
// They describe the node's replica: every node counts the changes its
// state machine applies, so each region reports the same counts once it
// has caught up (counts restart from zero with the process, and entries
// replayed after a restart are counted again).
type metrics struct {
	state        *prometheus.GaugeVec
	changes      *prometheus.CounterVec
	rejections   *prometheus.CounterVec
	isLeader     prometheus.Gauge
	term         prometheus.Gauge
	appliedIndex prometheus.Gauge

	// shown are the controls the state gauge has a series for; observe's
	// callers serialize its use.
	shown map[string]bool
}

func newMetrics(reg prometheus.Registerer, region string) *metrics {
	const ns, sub = "gyre", "control"
	labels := prometheus.Labels{"region": region}
	m := &metrics{
		shown: map[string]bool{},
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "state",
			Help:        "1 while the routing control is on, 0 while it is off, as this region's replica sees it.",
			ConstLabels: labels,
		}, []string{"control"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "changes_total",
			Help:        "Routing control values changed, by control and whether the change overrode the safety rules.",
			ConstLabels: labels,
		}, []string{"control", "override"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "rule_rejections_total",
			Help:        "Changes refused by a safety rule, by rule.",
			ConstLabels: labels,
		}, []string{"rule"}),
		isLeader: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "raft_leader",
			Help:        "1 while this region leads the routing controls' Raft group.",
			ConstLabels: labels,
		}),
		term: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "raft_term",
			Help:        "This region's current Raft term; each election raises it.",
			ConstLabels: labels,
		}),
		appliedIndex: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "raft_applied_index",
			Help:        "Index of the last Raft log entry this region's state machine applied.",
			ConstLabels: labels,
		}),
	}
	if reg != nil {
		reg.MustRegister(m.state, m.changes, m.rejections, m.isLeader, m.term, m.appliedIndex)
	}
	return m
}

// observe brings the gauges up to date with s. Calls must not overlap.
func (m *metrics) observe(s *State, leader bool) {
	seen := make(map[string]bool, len(s.Controls))
	for _, c := range s.Controls {
		m.state.WithLabelValues(c.Name).Set(b2f(c.On))
		seen[c.Name] = true
	}
	for n := range m.shown {
		if !seen[n] {
			m.state.DeleteLabelValues(n)
		}
	}
	m.shown = seen
	m.isLeader.Set(b2f(leader))
	m.term.Set(float64(s.Term))
	m.appliedIndex.Set(float64(s.AppliedIndex))
}

// applied counts what applying a command yielded.
func (m *metrics) applied(r result) {
	if r.Duplicate {
		return
	}
	var re *RuleError
	if errors.As(r.Err, &re) {
		m.rejections.WithLabelValues(re.Rule.Name).Inc()
	}
	if r.Change != nil {
		for _, c := range r.Change.Controls {
			m.changes.WithLabelValues(c.Control, strconv.FormatBool(r.Change.Override)).Inc()
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
