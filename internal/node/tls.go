package node

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/gyre-dev/gyre/internal/certs"
	"github.com/gyre-dev/gyre/internal/topology"
)

// zoneNames are the DNS names an endpoint's certificate covers: the zone,
// every name one label under it (the wildcard), the names of record sets
// and apps deeper than that, and localhost.
func zoneNames(t *topology.Topology) []string {
	zone := strings.ToLower(t.Routing.Zone)
	names := []string{zone, "*." + zone, "localhost"}
	add := func(name string) {
		name = strings.ToLower(strings.TrimSuffix(name, "."))
		if !strings.Contains(name, ".") {
			name += "." + zone
		}
		rest, under := strings.CutSuffix(name, "."+zone)
		if name == zone || (under && !strings.Contains(rest, ".")) || slices.Contains(names, name) {
			return
		}
		names = append(names, name)
	}
	for _, rs := range t.Routing.RecordSets {
		add(rs.Name)
	}
	for _, a := range t.Apps {
		add(a.Host)
	}
	return names
}

// serverTLS issues (or reuses) the certificate called name for dnsNames and
// the IP of addr, and returns a server configuration with it.
func serverTLS(ca *certs.Authority, name string, dnsNames []string, addr net.Addr) (*tls.Config, error) {
	var ips []netip.Addr
	if ap, err := netip.ParseAddrPort(addr.String()); err == nil && !ap.Addr().IsUnspecified() {
		ips = append(ips, ap.Addr().Unmap())
	}
	cert, err := ca.Issue(name, dnsNames, ips)
	if err != nil {
		return nil, fmt.Errorf("issuing the certificate of %s: %w", name, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
