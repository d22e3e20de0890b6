package node

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gyre-dev/gyre/internal/frontdoor"
	"github.com/gyre-dev/gyre/internal/health"
	"github.com/gyre-dev/gyre/internal/topology"
)

// TestHTTPS checks that every public endpoint and the front door serve
// HTTPS with a certificate that verifies against Gyre's CA, for their IPs
// and the zone's names, and that HTTPS health checks pass.
func TestHTTPS(t *testing.T) {
	n := appNode(t, true, func(topo *topology.Topology) {
		for _, r := range topo.Regions {
			topo.Routing.HealthChecks = append(topo.Routing.HealthChecks,
				topology.HealthCheck{ID: r.Name, Region: r.Name},
				topology.HealthCheck{ID: "tls-" + r.Name, Type: "HTTPS", Region: r.Name})
		}
	})
	if n.CA() == nil {
		t.Fatal("no CA with TLS on")
	}
	pool := n.CA().Pool()
	get := func(t *testing.T, addr net.Addr, serverName, location string) (*http.Response, error) {
		t.Helper()
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: serverName}}}
		defer c.CloseIdleConnections()
		req, _ := http.NewRequest("GET", "https://"+addr.String()+"/health", nil)
		if location != "" {
			req.Header.Set(frontdoor.LocationHeader, location)
		}
		resp, err := c.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	for _, r := range n.Regions() {
		for _, name := range []string{"", "api.gyre.test", "us-east-1.gyre.test"} {
			resp, err := get(t, r.PublicHTTPSAddr(), name, "")
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("%s https as %q: %v %v", r.Name(), name, resp, err)
			}
		}
	}
	fd := n.Router().FrontDoorHTTPSAddr()
	resp, err := get(t, fd, "api.gyre.test", "dublin")
	if err != nil || resp.StatusCode != 200 || resp.Header.Get(frontdoor.RegionHeader) != "eu-west-1" {
		t.Fatalf("front door https: %v %v", resp, err)
	}
	// A name outside the zone does not verify.
	if _, err := get(t, fd, "example.com", ""); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a name outside the zone: %v; want a certificate error", err)
	}
	// HTTPS checks, which do not verify certificates, pass from every
	// vantage point.
	eventually(t, "the HTTPS checks healthy", func() bool {
		snap := n.Router().Monitor().Snapshot()
		healthy := 0
		for _, c := range snap.Checks {
			if strings.HasPrefix(c.Check.ID, "tls-") && c.Status == health.StatusHealthy {
				healthy++
			}
		}
		return healthy == 3
	})
}
