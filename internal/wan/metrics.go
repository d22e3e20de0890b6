package wan

import "github.com/prometheus/client_golang/prometheus"

// metrics are the WAN's Prometheus metrics. Every one is labelled by the
// direction it measures: from (the dialing region, or the sender of the
// bytes) and to. The WAN is shared by the regions of a process, so the
// from label plays the part of the region label other packages carry.
type metrics struct {
	bytes        *prometheus.CounterVec
	dials        *prometheus.CounterVec
	dialFailures *prometheus.CounterVec
	broken       *prometheus.CounterVec
	open         *prometheus.GaugeVec
	up           *prometheus.GaugeVec
	latency      *prometheus.GaugeVec
	jitter       *prometheus.GaugeVec
}

// Dial failure reasons, the values of the reason label.
const (
	reasonPartition = "partition" // the link was partitioned
	reasonIsolation = "isolation" // an end of the link was isolated
	reasonCanceled  = "canceled"  // the context ended during the dial
	reasonError     = "error"     // the real dial failed
)

func newMetrics(reg prometheus.Registerer) *metrics {
	const ns, sub = "gyre", "wan"
	dir := []string{"from", "to"}
	m := &metrics{
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "bytes_total",
			Help: "Bytes delivered across the simulated WAN, by direction.",
		}, dir),
		dials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "dials_total",
			Help: "Connections dialed across the simulated WAN, successful or not.",
		}, dir),
		dialFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "dial_failures_total",
			Help: "Dials across the simulated WAN that failed, by reason: partition, isolation, canceled or error (the real dial failed).",
		}, []string{"from", "to", "reason"}),
		broken: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "connections_broken_total",
			Help: "Open connections failed because their link went down.",
		}, dir),
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "connections",
			Help: "Connections open across the simulated WAN, by dialing region (from) and dialed region (to).",
		}, dir),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "link_up",
			Help: "1 when the link is up, 0 when a partition or an isolation holds it down.",
		}, dir),
		latency: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "link_latency_seconds",
			Help: "One-way latency of the link.",
		}, dir),
		jitter: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "link_jitter_seconds",
			Help: "Most a chunk of bytes is delayed beyond the link's latency.",
		}, dir),
	}
	if reg != nil {
		reg.MustRegister(m.bytes, m.dials, m.dialFailures, m.broken, m.open, m.up, m.latency, m.jitter)
	}
	return m
}

// linkMetrics are the metrics of one direction, resolved once so the data
// path does not look labels up per chunk.
type linkMetrics struct {
	vec     *metrics
	from    string
	to      string
	bytes   prometheus.Counter
	dials   prometheus.Counter
	broken  prometheus.Counter
	open    prometheus.Gauge
	up      prometheus.Gauge
	latency prometheus.Gauge
	jitter  prometheus.Gauge
}

func (m *metrics) link(from, to string) linkMetrics {
	return linkMetrics{
		vec: m, from: from, to: to,
		bytes:   m.bytes.WithLabelValues(from, to),
		dials:   m.dials.WithLabelValues(from, to),
		broken:  m.broken.WithLabelValues(from, to),
		open:    m.open.WithLabelValues(from, to),
		up:      m.up.WithLabelValues(from, to),
		latency: m.latency.WithLabelValues(from, to),
		jitter:  m.jitter.WithLabelValues(from, to),
	}
}

func (l *linkMetrics) dialFailed(reason string) {
	l.vec.dialFailures.WithLabelValues(l.from, l.to, reason).Inc()
}

func (l *linkMetrics) setState(up bool, p *linkParams) {
	v := 0.0
	if up {
		v = 1
	}
	l.up.Set(v)
	l.latency.Set(p.latency.Seconds())
	l.jitter.Set(p.jitter.Seconds())
}
