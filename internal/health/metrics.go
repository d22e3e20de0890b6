package health

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names, namespace gyre, subsystem health. Every metric carries the
// region label of the node that exports it (the region itself, or the
// router's name).
//
// A Prober exports, per check and vantage point:
//
//	gyre_health_vantage_status{check,vantage}            1 healthy, 0 unhealthy, -1 unknown
//	gyre_health_probes_total{check,vantage,result}       result: ok, timeout, connect, status, mismatch, error
//	gyre_health_probe_duration_seconds{check,vantage}    histogram of Result.Latency
//	gyre_health_transitions_total{check,vantage,to}      to: healthy, unhealthy, unknown
//
// A Monitor exports, per check:
//
//	gyre_health_status{check}                            aggregated: 1 healthy, 0 unhealthy, -1 unknown
//	gyre_health_status_changes_total{check,to}           aggregated transitions
const (
	metricsNamespace = "gyre"
	metricsSubsystem = "health"
)

type proberMetrics struct {
	status      *prometheus.GaugeVec
	probes      *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	transitions *prometheus.CounterVec
}

func newProberMetrics(reg prometheus.Registerer, region string) *proberMetrics {
	labels := prometheus.Labels{"region": region}
	m := &proberMetrics{
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Subsystem: metricsSubsystem, Name: "vantage_status",
			Help:        "A vantage point's opinion of a check: 1 healthy, 0 unhealthy, -1 unknown (no result yet).",
			ConstLabels: labels,
		}, []string{"check", "vantage"}),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Subsystem: metricsSubsystem, Name: "probes_total",
			Help:        "Probes finished, by result: ok, timeout, connect (could not connect), status (HTTP status not 2xx/3xx), mismatch (search string not found) or error.",
			ConstLabels: labels,
		}, []string{"check", "vantage", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Subsystem: metricsSubsystem, Name: "probe_duration_seconds",
			Help:        "Time a probe took, from the start of its dial to its verdict, failed probes included.",
			ConstLabels: labels,
			Buckets:     prometheus.ExponentialBuckets(0.001, 2, 14), // 1ms to 8s
		}, []string{"check", "vantage"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Subsystem: metricsSubsystem, Name: "transitions_total",
			Help:        "Changes of a vantage point's opinion of a check, by the status changed to.",
			ConstLabels: labels,
		}, []string{"check", "vantage", "to"}),
	}
	m.status = register(reg, m.status)
	m.probes = register(reg, m.probes)
	m.latency = register(reg, m.latency)
	m.transitions = register(reg, m.transitions)
	return m
}

// forget drops the series of a check that is no longer probed.
func (m *proberMetrics) forget(check string) {
	l := prometheus.Labels{"check": check}
	m.status.DeletePartialMatch(l)
	m.probes.DeletePartialMatch(l)
	m.latency.DeletePartialMatch(l)
	m.transitions.DeletePartialMatch(l)
}

type monitorMetrics struct {
	status  *prometheus.GaugeVec
	changes *prometheus.CounterVec
}

func newMonitorMetrics(reg prometheus.Registerer, region string) *monitorMetrics {
	labels := prometheus.Labels{"region": region}
	m := &monitorMetrics{
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: metricsNamespace, Subsystem: metricsSubsystem, Name: "status",
			Help:        "A check's aggregated status over the vantage points: 1 healthy, 0 unhealthy, -1 unknown (no fresh report).",
			ConstLabels: labels,
		}, []string{"check"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace, Subsystem: metricsSubsystem, Name: "status_changes_total",
			Help:        "Changes of a check's aggregated status, by the status changed to.",
			ConstLabels: labels,
		}, []string{"check", "to"}),
	}
	m.status = register(reg, m.status)
	m.changes = register(reg, m.changes)
	return m
}

func (m *monitorMetrics) forget(check string) {
	l := prometheus.Labels{"check": check}
	m.status.DeletePartialMatch(l)
	m.changes.DeletePartialMatch(l)
}

// register registers c with reg, or returns the collector already
// registered under the same description, so that two Monitors of one node
// share their series rather than panic. A nil reg keeps c unexported.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic("health: registering metrics: " + err.Error())
	}
	return c
}
