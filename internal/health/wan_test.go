package health

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gyre-dev/gyre/internal/wan"
)

// TestProbesThroughTheWAN checks health the way Gyre does: each vantage
// point dials through the simulated WAN, so a partition is a failed probe
// from the vantage points it cuts off, and the 18% rule keeps a target
// healthy while any one of them still reaches it.
func TestProbesThroughTheWAN(t *testing.T) {
	w, err := wan.New(wan.Options{
		Regions: []string{"us-east-1", "eu-west-1", "router"},
		Links: []wan.Link{
			{From: "us-east-1", To: "eu-west-1", Latency: time.Millisecond},
			{From: "us-east-1", To: "router", Latency: time.Millisecond},
			{From: "eu-west-1", To: "router", Latency: time.Millisecond},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	backend := &switchable{}
	backend.code.Store(200)
	srv := httptest.NewServer(backend) // the app in us-east-1
	defer srv.Close()

	check := Check{ID: "us-east-1", Target: hostPort(srv.URL), Region: "us-east-1", Interval: 100 * time.Millisecond,
		Timeout: 100 * time.Millisecond, FailureThreshold: 1}
	mon, err := NewMonitor(MonitorOptions{Checks: []Check{check}})
	if err != nil {
		t.Fatal(err)
	}
	published := newSignal()
	probers := map[string]*Prober{}
	for _, vantage := range []string{"eu-west-1", "router"} {
		probers[vantage] = startProber(t, ProberOptions{Vantage: vantage, Checks: []Check{check},
			Dial: func(ctx context.Context, to, network, addr string) (net.Conn, error) {
				return w.DialContext(ctx, vantage, to, network, addr)
			}}, mon, published)
	}
	sees := func(vantage string, s Status) func() bool {
		return func() bool {
			st, _ := stateOf(probers[vantage].Report(), "us-east-1")
			return st.Status == s
		}
	}

	published.wait(t, "both vantage points to reach us-east-1", func() bool {
		return sees("eu-west-1", StatusHealthy)() && sees("router", StatusHealthy)()
	})
	if !mon.Healthy("us-east-1") {
		t.Fatal("us-east-1 unhealthy with every vantage point reaching it")
	}

	// The router loses us-east-1: one vantage point of two still reaches
	// it, which is more than 18%.
	if err := w.Partition("router", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	// A probe in flight when the partition fell fails reading; the next
	// one cannot connect.
	published.wait(t, "the router to fail to connect to us-east-1", func() bool {
		st, _ := stateOf(probers["router"].Report(), "us-east-1")
		return st.Last != nil && st.Last.Outcome == OutcomeConnect
	})
	st, _ := stateOf(probers["router"].Report(), "us-east-1")
	if st.Status != StatusUnhealthy || !strings.Contains(st.Last.Error, "partitioned") {
		t.Errorf("router's state %+v, last result %+v: want unhealthy, the error naming the partition", st, st.Last)
	}
	if mon.Status("us-east-1") != StatusHealthy {
		t.Errorf("us-east-1 is %v with eu-west-1 still reaching it, want healthy", mon.Status("us-east-1"))
	}

	// us-east-1 is cut off from everyone.
	if err := w.Isolate("us-east-1"); err != nil {
		t.Fatal(err)
	}
	waitChanged(t, mon, "us-east-1 unhealthy", func() bool { return mon.Status("us-east-1") == StatusUnhealthy })

	w.Heal()
	waitChanged(t, mon, "us-east-1 healthy after the heal", func() bool { return mon.Status("us-east-1") == StatusHealthy })
}
