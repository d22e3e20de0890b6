package frontdoor

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	requests *prometheus.CounterVec
	retries  *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "gyre", Subsystem: "frontdoor", Name: "requests_total",
			Help: "Requests the front door served, by the region that served them and the status class (or none/error when no region could).",
		}, []string{"region", "code"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "gyre", Subsystem: "frontdoor", Name: "retries_total",
			Help: "Requests moved on to the next region, by the region that failed and why: connect (before the request was sent) or after-send (idempotent requests only).",
		}, []string{"region", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "gyre", Subsystem: "frontdoor", Name: "request_duration_seconds",
			Help:    "Time from receiving a request to the region's response headers, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"region"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.retries, m.duration)
	}
	return m
}
