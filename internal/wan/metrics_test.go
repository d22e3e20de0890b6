package wan

import (
	"io"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	w, err := New(Options{
		Regions: testRegions, FallbackLatency: -1, JitterFraction: -1,
		Registerer: reg, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := newEchoServer(t)
	c := dial(t, w, "a", "b", srv.addr())
	roundTrip(t, c, "0123456789")

	value := func(name string, labels ...string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
		metric:
			for _, m := range mf.GetMetric() {
				for i := 0; i < len(labels); i += 2 {
					found := false
					for _, lp := range m.GetLabel() {
						found = found || lp.GetName() == labels[i] && lp.GetValue() == labels[i+1]
					}
					if !found {
						continue metric
					}
				}
				{
					switch {
					case m.Counter != nil:
						return m.Counter.GetValue()
					case m.Gauge != nil:
						return m.Gauge.GetValue()
					}
				}
			}
		}
		return -1
	}
	// The outbound pump counts bytes once the socket took them, which may
	// be just after the echo came back.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := value("gyre_wan_bytes_total", "from", "a", "to", "b")
		if got >= 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gyre_wan_bytes_total{from=a,to=b} = %v after 10s, want the 10 bytes written", got)
		}
		time.Sleep(time.Millisecond)
	}
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"gyre_wan_bytes_total", []string{"from", "a", "to", "b"}, 10},
		{"gyre_wan_bytes_total", []string{"from", "b", "to", "a"}, 10},
		{"gyre_wan_dials_total", []string{"from", "a", "to", "b"}, 1},
		{"gyre_wan_connections", []string{"from", "a", "to", "b"}, 1},
		{"gyre_wan_link_up", []string{"from", "a", "to", "b"}, 1},
		{"gyre_wan_link_latency_seconds", []string{"from", "c", "to", "d"}, 0},
	} {
		if got := value(tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}

	must(t, w.Partition("a", "b"))
	if _, err := c.Read(make([]byte, 1)); err == nil || err == io.EOF {
		t.Fatalf("read across the partition: %v", err)
	}
	w.DialContext(t.Context(), "b", "a", "tcp", srv.addr())
	must(t, w.Isolate("c"))
	w.DialContext(t.Context(), "d", "c", "tcp", srv.addr())
	must(t, w.SetOneWay("c", "d", 1500*time.Microsecond, 0))
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"gyre_wan_link_up", []string{"from", "a", "to", "b"}, 0},
		{"gyre_wan_link_up", []string{"from", "b", "to", "a"}, 0},
		{"gyre_wan_link_up", []string{"from", "d", "to", "c"}, 0},
		{"gyre_wan_link_up", []string{"from", "a", "to", "d"}, 1},
		{"gyre_wan_connections_broken_total", []string{"from", "a", "to", "b"}, 1},
		{"gyre_wan_connections", []string{"from", "a", "to", "b"}, 0},
		{"gyre_wan_dial_failures_total", []string{"from", "b", "to", "a", "reason", "partition"}, 1},
		{"gyre_wan_dial_failures_total", []string{"from", "d", "to", "c", "reason", "isolation"}, 1},
		{"gyre_wan_link_latency_seconds", []string{"from", "c", "to", "d"}, 0.0015},
	} {
		if got := value(tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}
