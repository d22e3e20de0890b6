package dynamo

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, region string) *metrics {
	labels := prometheus.Labels{"region": region}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "gyre", Subsystem: "dynamo", Name: "requests_total",
			Help:        "DynamoDB API requests by operation and result code (OK or the error type).",
			ConstLabels: labels,
		}, []string{"operation", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "gyre", Subsystem: "dynamo", Name: "request_duration_seconds",
			Help:        "Time to serve a DynamoDB API request, by operation.",
			ConstLabels: labels,
			Buckets:     prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"operation"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency)
	}
	return m
}

func (m *metrics) observe(op, code string, d time.Duration) {
	if _, known := operations[op]; !known {
		op = "unknown"
	}
	m.requests.WithLabelValues(op, code).Inc()
	m.latency.WithLabelValues(op).Observe(d.Seconds())
}
