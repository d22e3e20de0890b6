package node

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gyre-dev/gyre/internal/frontdoor"
	"github.com/gyre-dev/gyre/internal/topology"
)

// requireDig returns the path of dig, skipping the test when it is missing
// (failing instead when GYRE_REQUIRE_DIG=1, as in CI).
func requireDig(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("dig")
	if err != nil {
		if os.Getenv("GYRE_REQUIRE_DIG") == "1" {
			t.Fatal("dig is required (apt-get install dnsutils)")
		}
		t.Skip("dig not installed (apt-get install dnsutils)")
	}
	return path
}

// dig asks the router's DNS server for name's A records with a client
// subnet, and returns the addresses.
func dig(t *testing.T, n *Node, name, subnet string) []string {
	t.Helper()
	addr := n.Router().DNSAddr().String()
	host, port, _ := strings.Cut(addr, ":")
	args := []string{"@" + host, "-p", port, "+short", "+time=2", "+tries=1", name, "A"}
	if subnet != "" {
		args = append(args, "+subnet="+subnet)
	}
	out, err := exec.Command(requireDig(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %v: %v\n%s", args, err, out)
	}
	return strings.Fields(string(out))
}

// routedNode runs the default topology with the routing plane, health
// checks every interval.
func routedNode(t *testing.T, interval time.Duration) *Node {
	return startNodeWith(t, func(topo *topology.Topology) {
		for _, name := range topo.RegionNames() {
			topo.Routing.HealthChecks = append(topo.Routing.HealthChecks, topology.HealthCheck{ID: name, Region: name, Interval: interval})
		}
	}, true)
}

func TestLatencyDNSFollowsHealth(t *testing.T) {
	requireDig(t)
	const interval = 250 * time.Millisecond
	n := routedNode(t, interval)
	for subnet, want := range map[string]string{"10.1.0.0/24": "127.0.1.1", "10.2.0.0/24": "127.0.2.1", "10.3.0.0/24": "127.0.3.1", "10.5.0.0/24": "127.0.2.1"} {
		if got := dig(t, n, "api.gyre.test", subnet); len(got) != 1 || got[0] != want {
			t.Errorf("api.gyre.test from %s = %v, want %s", subnet, got, want)
		}
	}
	// Wait until every vantage point has seen us-west-2 healthy, so the
	// measurement below starts from a settled state.
	eventually(t, "us-west-2 healthy", func() bool { return n.Router().RegionHealthy("us-west-2") })

	// Kill us-west-2: DNS must stop answering with it within
	// interval x threshold + one interval.
	start := time.Now()
	if err := n.Stop(context.Background(), "us-west-2"); err != nil {
		t.Fatal(err)
	}
	t.Logf("stop took %v", time.Since(start))
	bound := interval*3 + interval
	deadline := start.Add(10 * bound)
	for {
		got := dig(t, n, "api.gyre.test", "10.2.0.0/24")
		if len(got) == 1 && got[0] != "127.0.2.1" {
			took := time.Since(start)
			t.Logf("DNS stopped answering with the killed region after %v (bound %v); now %v", took, bound, got)
			if took > bound+interval {
				t.Errorf("took %v, more than interval x threshold + one interval (%v) with an interval of slack", took, bound)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("DNS still answers with the killed region after %v", time.Since(start))
		}
		time.Sleep(interval / 10)
	}
}

func TestFrontDoorHidesAKilledRegion(t *testing.T) {
	n := routedNode(t, 200*time.Millisecond)
	url := "http://" + n.Router().FrontDoorAddr().String() + "/health"
	client := &http.Client{Timeout: 10 * time.Second}
	var failures, served, fromWest atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header.Set(frontdoor.LocationHeader, "oregon")
				resp, err := client.Do(req)
				if err != nil {
					failures.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				// A region shutting down answers /health with 503 before
				// it closes; anything else is a failure.
				if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable {
					failures.Add(1)
					continue
				}
				served.Add(1)
				if resp.Header.Get(frontdoor.RegionHeader) == "us-west-2" {
					fromWest.Add(1)
				}
			}
		}()
	}
	eventually(t, "traffic to us-west-2", func() bool { return fromWest.Load() > 50 })
	if err := n.Stop(context.Background(), "us-west-2"); err != nil {
		t.Fatal(err)
	}
	before := served.Load()
	eventually(t, "traffic after the kill", func() bool { return served.Load() > before+300 })
	close(stop)
	wg.Wait()
	if f := failures.Load(); f != 0 {
		t.Fatalf("%d client-visible failures of %d requests", f, served.Load()+f)
	}
}

// TestActiveLatencyMode: with latency_mode active, the router measures its
// round trip to each region and ranks regions for its own location by it,
// whatever the table says.
func TestActiveLatencyMode(t *testing.T) {
	n := startNodeWith(t, func(topo *topology.Topology) {
		topo.Routing.LatencyMode = "active"
	}, true)
	served := func() string {
		resp, err := http.Get("http://" + n.Router().FrontDoorAddr().String() + "/health")
		if err != nil {
			return ""
		}
		resp.Body.Close()
		return resp.Header.Get(frontdoor.RegionHeader)
	}
	// The WAN decides: first us-east-1 is the only near region...
	for _, far := range []string{"us-west-2", "eu-west-1"} {
		if err := n.WAN().Set(RouterVantage, far, 60*time.Millisecond, 0); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the measured round trips to favour us-east-1", func() bool { return served() == "us-east-1" })
	// ...then it becomes the farthest, and the ranking follows.
	if err := n.WAN().Set(RouterVantage, "us-east-1", 200*time.Millisecond, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the measured round trips to move off us-east-1", func() bool { return served() != "us-east-1" })
}
