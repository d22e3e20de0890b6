package repl

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	latency  *prometheus.HistogramVec
	applied  *prometheus.CounterVec
	linkUp   *prometheus.GaugeVec
	retained prometheus.Gauge
	backlog  *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer, region string) *metrics {
	m := &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "gyre", Name: "replication_latency_seconds",
			Help:        "Replication lag: apply time in the destination region minus commit time in the origin region.",
			ConstLabels: prometheus.Labels{"destination": region, "region": region},
			Buckets:     prometheus.ExponentialBuckets(0.0005, 1.5, 24),
		}, []string{"origin"}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "gyre", Subsystem: "repl", Name: "item_writes_total",
			Help:        "Replicated item writes received, by origin and outcome: applied, stale (an older version than the destination had) or skipped (a table the destination does not replicate).",
			ConstLabels: prometheus.Labels{"region": region},
		}, []string{"origin", "outcome"}),
		linkUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "gyre", Subsystem: "repl", Name: "link_up",
			Help:        "1 while the replication stream from the origin is connected.",
			ConstLabels: prometheus.Labels{"region": region},
		}, []string{"origin"}),
		retained: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "gyre", Subsystem: "repl", Name: "log_retained_entries",
			Help:        "Entries of this region's change log kept because some peer has not applied them yet. It grows while a peer is cut off: alert on it.",
			ConstLabels: prometheus.Labels{"region": region},
		}),
		backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "gyre", Subsystem: "repl", Name: "backlog_entries",
			Help:        "Entries of this region's change log a peer has not acknowledged applying, by destination.",
			ConstLabels: prometheus.Labels{"region": region},
		}, []string{"destination"}),
	}
	if reg != nil {
		reg.MustRegister(m.latency, m.applied, m.linkUp, m.retained, m.backlog)
	}
	return m
}
