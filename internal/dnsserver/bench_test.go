package dnsserver

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// reportRate adds answers/s to a benchmark's output.
func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "answers/s")
}

var benchQuestions = []struct {
	name string
	q    Question
}{
	{"simple", Question{Name: "www.gyre.test.", Type: dns.TypeA}},
	{"weighted", Question{Name: "w.gyre.test.", Type: dns.TypeA}},
	{"latency-subnet", Question{Name: "lat.gyre.test.", Type: dns.TypeA, Subnet: netip.MustParsePrefix("10.5.0.0/24")}},
	{"latency-source", Question{Name: "lat.gyre.test.", Type: dns.TypeA, Source: netip.MustParseAddr("127.0.0.2")}},
	{"failover", Question{Name: "fo.gyre.test.", Type: dns.TypeA}},
	{"multivalue", Question{Name: "mv.gyre.test.", Type: dns.TypeA}},
	{"alias-eth", Question{Name: "edge.gyre.test.", Type: dns.TypeA, Subnet: netip.MustParsePrefix("10.3.0.0/24")}},
	{"nxdomain", Question{Name: "nope.gyre.test.", Type: dns.TypeA}},
}

// BenchmarkResolve measures the deterministic core: one answer, no
// sockets, no packing.
func BenchmarkResolve(b *testing.B) {
	s, _, _ := newFixture(b)
	for _, bq := range benchQuestions {
		b.Run(bq.name, func(b *testing.B) {
			q := bq.q
			q.Rand = rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			for b.Loop() {
				s.Resolve(q)
			}
			reportRate(b)
		})
	}
}

// BenchmarkReply measures the handler's work short of the socket: EDNS0,
// resolving and packing the reply.
func BenchmarkReply(b *testing.B) {
	s, _, _ := newFixture(b)
	src := netip.MustParseAddr("127.0.0.1")
	for _, bq := range []struct {
		name string
		req  *dns.Msg
	}{
		{"simple", newQuery("www.gyre.test.", dns.TypeA)},
		{"latency-ecs", newQuery("lat.gyre.test.", dns.TypeA, withEDNS(1232, ecs(1, 24, "10.5.0.0")))},
		{"multivalue", newQuery("mv.gyre.test.", dns.TypeA, withEDNS(1232))},
		{"truncated", newQuery("big.gyre.test.", dns.TypeA, withEDNS(1232))},
	} {
		b.Run(bq.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.reply(bq.req, src, false)
			}
			reportRate(b)
		})
	}
}

// BenchmarkUDP measures answers over UDP on loopback with a miekg/dns
// client: one query in flight, then one per GOMAXPROCS goroutine.
func BenchmarkUDP(b *testing.B) {
	s, _, _ := newFixture(b)
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(ctx)
	udp, _ := s.Addr()
	for _, bq := range []struct {
		name string
		req  *dns.Msg
	}{
		{"simple", newQuery("www.gyre.test.", dns.TypeA)},
		{"latency-ecs", newQuery("lat.gyre.test.", dns.TypeA, withEDNS(1232, ecs(1, 24, "10.5.0.0")))},
	} {
		b.Run(bq.name+"/sequential", func(b *testing.B) {
			c := &dns.Client{Net: "udp"}
			conn, err := c.Dial(udp.String())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.ExchangeWithConn(bq.req.Copy(), conn); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b)
		})
		b.Run(bq.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				c := &dns.Client{Net: "udp"}
				conn, err := c.Dial(udp.String())
				if err != nil {
					b.Error(err)
					return
				}
				defer conn.Close()
				for pb.Next() {
					if _, _, err := c.ExchangeWithConn(bq.req.Copy(), conn); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportRate(b)
		})
	}
}
