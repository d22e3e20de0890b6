package main

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"text/tabwriter"

	"github.com/gyre-dev/gyre/internal/geo"
	"github.com/gyre-dev/gyre/internal/health"
	"github.com/gyre-dev/gyre/internal/node"
	"github.com/gyre-dev/gyre/internal/topology"
)

// printSummary prints what gyre up is running and three commands to try:
// the first minute of a newcomer.
func printSummary(w io.Writer, t *topology.Topology, n *node.Node, config, logPath string, waiting []string) {
	regions := n.Regions()
	fmt.Fprintf(w, "Gyre is up: %d regions, config %s, data in %s, logs in %s\n\n", len(regions), config, t.DataDir, logPath)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  REGION\tPUBLIC ENDPOINT (app + DynamoDB API)\tDYNAMODB API\tADMIN API")
	for _, r := range regions {
		pub := "http://" + r.PublicAddr().String()
		if a := r.PublicHTTPSAddr(); a != nil {
			pub += "  https://" + a.String()
		}
		fmt.Fprintf(tw, "  %s\t%s\thttp://%s\thttp://%s\n", r.Name(), pub, r.Addr(), r.AdminAddr())
	}
	tw.Flush()
	fmt.Fprintln(w)
	front := ""
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if rt := n.Router(); rt != nil {
		front = "http://" + rt.FrontDoorAddr().String()
		fd := front
		if a := rt.FrontDoorHTTPSAddr(); a != nil {
			fd += "  https://" + a.String()
		}
		fmt.Fprintf(tw, "  front door\t%s\tto the nearest healthy region (say where you are: X-Gyre-Client-Location: oregon)\n", fd)
		fmt.Fprintf(tw, "  DNS\t%s\tzone %s: %s\n", rt.DNSAddr(), t.Routing.Zone, strings.Join(recordNames(t), ", "))
	}
	fmt.Fprintf(tw, "  credentials\taccess key %s\tsecret key %s, admin token %s\n", t.Credentials.AccessKey, t.Credentials.SecretKey, t.AdminToken)
	if ca := n.CA(); ca != nil {
		fmt.Fprintf(tw, "  TLS\t%s\tthe local CA: curl --cacert it, or set AWS_CA_BUNDLE to it\n", ca.CAPath())
	}
	if !t.App.Disabled {
		tb := t.App.Tables()
		fmt.Fprintf(tw, "  app\t/data, /orders, /fill, /health\ttables %s (primary region %s)\n", strings.Join(tb.Names(), ", "), t.PrimaryRegion)
	}
	var status map[string]health.Status
	if rt := n.Router(); rt != nil && len(t.Apps) > 0 {
		status = map[string]health.Status{}
		for _, c := range rt.Monitor().Snapshot().Checks {
			status[c.Check.ID] = c.Status
		}
	}
	for _, a := range t.Apps {
		state := ""
		if status != nil {
			var down []string
			for _, r := range a.Regions {
				if status[a.HealthCheckID(r)] != health.StatusHealthy {
					down = append(down, r)
				}
			}
			state = fmt.Sprintf(" (healthy in %d of %d)", len(a.Regions)-len(down), len(a.Regions))
			if len(down) > 0 {
				state = fmt.Sprintf(" (not healthy yet in %s: see the log)", strings.Join(down, ", "))
			}
		}
		fmt.Fprintf(tw, "  app %s\t%s%s/  (Host %s)\tin %s%s\n", a.Name, front, a.Path, a.Host, strings.Join(a.Regions, ", "), state)
	}
	tw.Flush()
	if len(waiting) > 0 {
		fmt.Fprintf(w, "\nStill starting in %s: waiting for the app's tables or for health checks to pass (see %s).\n", strings.Join(waiting, ", "), logPath)
	}
	if rt := n.Router(); rt != nil && len(regions) > 1 {
		dns := rt.DNSAddr().(*net.UDPAddr)
		first, second := tryLocations(t)
		fmt.Fprintf(w, "\nTry:\n")
		if !t.App.Disabled {
			fmt.Fprintf(w, "  # write through the front door as a client in %s, read it back as one in %s (replicated in well under a second):\n", first.location, second.location)
			fmt.Fprintf(w, "  curl -s -X PUT -H 'X-Gyre-Client-Location: %s' -d '{\"hello\":\"world\"}' %s/data/hello; sleep 1; curl -s -H 'X-Gyre-Client-Location: %s' %s/data/hello\n",
				first.location, front, second.location, front)
		}
		fmt.Fprintf(w, "  # which region DNS sends a client in %s to:\n", second.location)
		if second.network != "" {
			fmt.Fprintf(w, "  dig @%s -p %d api.%s +short +subnet=%s\n", dns.IP, dns.Port, t.Routing.Zone, second.network)
		} else {
			fmt.Fprintf(w, "  dig @%s -p %d api.%s +short\n", dns.IP, dns.Port, t.Routing.Zone)
		}
		fmt.Fprintf(w, "  # take %s out of service, and back:\n", first.region)
		fmt.Fprintf(w, "  gyre control set %s off; gyre control set %s on\n", first.region, first.region)
	}
	fmt.Fprintf(w, "\nCtrl-C stops everything; the data stays for the next gyre up.\n")
}

// recordNames are the zone's record set names, fully qualified.
func recordNames(t *topology.Topology) []string {
	var out []string
	for _, rs := range t.Routing.RecordSets {
		name := strings.TrimSuffix(rs.Name, ".")
		if !strings.HasSuffix(name, t.Routing.Zone) {
			name += "." + t.Routing.Zone
		}
		out = append(out, name)
	}
	return out
}

// tryLocation is a client location near a region, for the commands to try.
type tryLocation struct {
	region, location, network string
}

// tryLocations picks the locations of the second and the last region (a
// write and a read an ocean apart in the default topology).
func tryLocations(t *topology.Topology) (tryLocation, tryLocation) {
	pick := func(r *topology.Region) tryLocation {
		l := tryLocation{region: r.Name, location: r.Location}
		if l.location == "" {
			l.location = t.Routing.Location
		}
		for _, nw := range t.Routing.Networks {
			if nw.Location == l.location {
				l.network = nw.CIDR
				break
			}
		}
		if l.network == "" && len(t.Routing.Networks) == 0 {
			for _, nw := range geo.DefaultNetworks {
				if nw.Location == l.location {
					l.network = netip.PrefixFrom(nw.Prefix.Addr(), max(24, nw.Prefix.Bits())).String()
					break
				}
			}
		}
		return l
	}
	n := len(t.Regions)
	return pick(&t.Regions[min(1, n-1)]), pick(&t.Regions[n-1])
}
