package health

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// metricValue returns the value of the gauge, counter or histogram count
// named name with the given labels in reg, and false when there is none.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metrics
				}
			}
			switch {
			case m.Gauge != nil:
				return m.GetGauge().GetValue(), true
			case m.Counter != nil:
				return m.GetCounter().GetValue(), true
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func TestMetricsShareARegistry(t *testing.T) {
	// Two Monitors of one node share their series rather than panic.
	reg := prometheus.NewRegistry()
	for range 2 {
		if _, err := NewMonitor(MonitorOptions{Registerer: reg, Region: "us-east-1", Checks: []Check{probedCheck("a")}}); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok := metricValue(t, reg, "gyre_health_status", map[string]string{"check": "a", "region": "us-east-1"}); !ok || v != -1 {
		t.Errorf("gyre_health_status{check=a} = %v, %v; want -1 (unknown)", v, ok)
	}
}
