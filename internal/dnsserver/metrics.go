package dnsserver

import (
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus metrics, all labelled with the
// server's region.
type metrics struct {
	queries *prometheus.CounterVec
	answers *prometheus.CounterVec
	latency prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, region string) *metrics {
	labels := prometheus.Labels{"region": region}
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "gyre", Subsystem: "dns", Name: "queries_total",
			Help:        "DNS queries answered, by the routing policy of the record set that answered (none for SOA, NS, negative answers and errors), query type and response code.",
			ConstLabels: labels,
		}, []string{"policy", "qtype", "rcode"}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "gyre", Subsystem: "dns", Name: "answers_total",
			Help:        "Records chosen for answers, by record set name and type, record ID and the record's region.",
			ConstLabels: labels,
		}, []string{"name", "type", "id", "record_region"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "gyre", Subsystem: "dns", Name: "request_duration_seconds",
			Help:        "Time to answer a DNS query, from the handler receiving it to the reply being written.",
			ConstLabels: labels,
			Buckets:     prometheus.ExponentialBuckets(0.000005, 2, 16),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.queries, m.answers, m.latency)
	}
	return m
}

// qtypeLabel bounds the qtype label to the types the server knows.
func qtypeLabel(t uint16) string {
	switch t {
	case dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeTXT, dns.TypeSOA, dns.TypeNS, dns.TypeANY:
		return dns.TypeToString[t]
	}
	return "other"
}

func (m *metrics) observe(o outcome, d time.Duration) {
	rcode, ok := dns.RcodeToString[o.rcode]
	if !ok {
		rcode = "other"
	}
	m.queries.WithLabelValues(o.policy, qtypeLabel(o.qtype), rcode).Inc()
	for _, p := range o.picks {
		m.answers.WithLabelValues(p.Name, p.Type, p.ID, p.Region).Inc()
	}
	m.latency.Observe(d.Seconds())
}
