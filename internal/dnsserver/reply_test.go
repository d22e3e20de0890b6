package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// newQuery builds a query message.
func newQuery(name string, qtype uint16, edit ...func(*dns.Msg)) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	for _, e := range edit {
		e(m)
	}
	return m
}

func withEDNS(size uint16, opts ...dns.EDNS0) func(*dns.Msg) {
	return func(m *dns.Msg) {
		m.SetEdns0(size, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, opts...)
	}
}

func ecs(family uint16, mask uint8, addr string) *dns.EDNS0_SUBNET {
	return &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: mask, Address: net.ParseIP(addr)}
}

// exchange runs a query through the server's reply path, as UDP or TCP
// from 127.0.0.1, and parses the reply.
func exchange(t *testing.T, s *Server, req *dns.Msg, tcp bool) (*dns.Msg, int) {
	t.Helper()
	out, _ := s.reply(req, netip.MustParseAddr("127.0.0.1"), tcp)
	if out == nil {
		return nil, 0
	}
	m := new(dns.Msg)
	if err := m.Unpack(out); err != nil {
		t.Fatalf("unpacking the reply: %v", err)
	}
	return m, len(out)
}

func TestReply(t *testing.T) {
	s, _, _ := newFixture(t)
	tests := []struct {
		name  string
		req   *dns.Msg
		rcode int
		check func(t *testing.T, m *dns.Msg)
	}{
		{name: "NOTIFY is not implemented", req: newQuery("gyre.test.", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }), rcode: dns.RcodeNotImplemented,
			check: func(t *testing.T, m *dns.Msg) {
				if m.Opcode != dns.OpcodeNotify {
					t.Errorf("opcode %d, want NOTIFY's", m.Opcode)
				}
			}},
		{name: "UPDATE is not implemented", req: newQuery("gyre.test.", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }), rcode: dns.RcodeNotImplemented},
		{name: "AXFR is not implemented", req: newQuery("gyre.test.", dns.TypeAXFR), rcode: dns.RcodeNotImplemented},
		{name: "IXFR is not implemented", req: newQuery("gyre.test.", dns.TypeIXFR), rcode: dns.RcodeNotImplemented},
		{name: "no question", req: newQuery("gyre.test.", dns.TypeA, func(m *dns.Msg) { m.Question = nil }), rcode: dns.RcodeFormatError},
		{name: "two questions", req: newQuery("gyre.test.", dns.TypeA, func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }), rcode: dns.RcodeFormatError},
		{name: "question of type OPT", req: newQuery("gyre.test.", dns.TypeOPT), rcode: dns.RcodeFormatError},
		{name: "question of type 0", req: newQuery("gyre.test.", 0), rcode: dns.RcodeFormatError},
		{name: "two OPT records", req: newQuery("www.gyre.test.", dns.TypeA, withEDNS(1232), withEDNS(1232)), rcode: dns.RcodeFormatError},
		{name: "EDNS version 1", req: newQuery("www.gyre.test.", dns.TypeA, withEDNS(1232), func(m *dns.Msg) { m.IsEdns0().SetVersion(1) }), rcode: dns.RcodeBadVers,
			check: func(t *testing.T, m *dns.Msg) {
				if opt := m.IsEdns0(); opt == nil || opt.Version() != 0 {
					t.Errorf("BADVERS reply OPT %v, want version 0", opt)
				}
			}},
		{name: "client subnet with bits beyond its length", req: newQuery("lat.gyre.test.", dns.TypeA, withEDNS(1232, ecs(1, 16, "10.5.3.0"))), rcode: dns.RcodeFormatError},
		{name: "class CHAOS", req: newQuery("version.bind.", dns.TypeTXT, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }), rcode: dns.RcodeRefused},
		{name: "class ANY is answered as IN", req: newQuery("www.gyre.test.", dns.TypeA, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassANY }),
			check: func(t *testing.T, m *dns.Msg) {
				if len(m.Answer) != 2 {
					t.Errorf("%d answers, want 2", len(m.Answer))
				}
			}},
		{name: "no EDNS0 in, none out", req: newQuery("www.gyre.test.", dns.TypeA),
			check: func(t *testing.T, m *dns.Msg) {
				if m.IsEdns0() != nil {
					t.Errorf("reply has an OPT record the query did not")
				}
			}},
		{name: "IPv6 client subnet", req: newQuery("lat.gyre.test.", dns.TypeA, withEDNS(1232, ecs(2, 56, "2001:db8::"))),
			check: func(t *testing.T, m *dns.Msg) {
				e := m.IsEdns0().Option[0].(*dns.EDNS0_SUBNET)
				if e.Family != 2 || e.SourceNetmask != 56 || e.SourceScope != 56 || !e.Address.Equal(net.ParseIP("2001:db8::")) {
					t.Errorf("echoed client subnet %v, want 2001:db8::/56/56", e)
				}
			}},
		{name: "DO bit is not echoed: the zone is unsigned", req: newQuery("www.gyre.test.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(1232, true) }),
			check: func(t *testing.T, m *dns.Msg) {
				if m.IsEdns0().Do() {
					t.Errorf("reply has DO set")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := exchange(t, s, tt.req, false)
			if m.Id != tt.req.Id || !m.Response {
				t.Errorf("reply id %d response %v, want id %d and a response", m.Id, m.Response, tt.req.Id)
			}
			if m.Rcode != tt.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[m.Rcode], dns.RcodeToString[tt.rcode])
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
	t.Run("responses get no reply", func(t *testing.T) {
		req := newQuery("www.gyre.test.", dns.TypeA)
		req.Response = true
		if m, _ := exchange(t, s, req, false); m != nil {
			t.Errorf("the server answered a response: %v", m)
		}
	})
}

func TestReplySizes(t *testing.T) {
	s, _, _ := newFixture(t)
	for _, tt := range []struct {
		name  string
		edit  []func(*dns.Msg)
		tcp   bool
		limit int
		tc    bool
	}{
		{name: "no EDNS0: 512", limit: 512, tc: true},
		{name: "EDNS0 1232", edit: []func(*dns.Msg){withEDNS(1232)}, limit: 1232, tc: true},
		{name: "EDNS0 below 512 counts as 512", edit: []func(*dns.Msg){withEDNS(100)}, limit: 512, tc: true},
		{name: "EDNS0 4096 is capped", edit: []func(*dns.Msg){withEDNS(4096)}, limit: DefaultMaxUDPSize, tc: true},
		{name: "TCP", tcp: true, limit: dns.MaxMsgSize},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, size := exchange(t, s, newQuery("big.gyre.test.", dns.TypeA, tt.edit...), tt.tcp)
			if size > tt.limit || m.Truncated != tt.tc {
				t.Errorf("%d bytes, TC %v; want at most %d and TC %v", size, m.Truncated, tt.limit, tt.tc)
			}
			if tt.tc && len(m.Answer) > 0 {
				t.Errorf("truncated reply has %d answers: want none rather than part of the RRset", len(m.Answer))
			}
			if !tt.tc && len(m.Answer) != bigValues {
				t.Errorf("%d answers, want %d", len(m.Answer), bigValues)
			}
		})
	}
	t.Run("glue goes first, without TC", func(t *testing.T) {
		ns := []NameServer{}
		for _, n := range []string{"ns1", "ns2", "ns3", "ns4", "ns5", "ns6"} {
			ns = append(ns, NameServer{Name: n + ".with-a-rather-long-label-to-make-the-reply-big", Addrs: []netip.Addr{
				netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("2001:db8::3")}})
		}
		s, err := New(Options{NameServers: ns})
		if err != nil {
			t.Fatal(err)
		}
		m, size := exchange(t, s, newQuery("gyre.test.", dns.TypeNS), false)
		if size > 512 || m.Truncated || len(m.Answer) != 6 || len(m.Extra) != 0 {
			t.Errorf("%d bytes, TC %v, %d answers, %d additional: want the 6 NS records within 512 bytes, no glue, no TC", size, m.Truncated, len(m.Answer), len(m.Extra))
		}
		m, _ = exchange(t, s, newQuery("gyre.test.", dns.TypeNS), true)
		if len(m.Extra) != 24 {
			t.Errorf("over TCP %d glue records, want 24", len(m.Extra))
		}
	})
}

func TestReplyLongTXT(t *testing.T) {
	long := strings.Repeat("x", 300) + `\`
	s, err := New(Options{RecordSets: []RecordSet{{Name: "long", Type: "TXT", Records: []Record{{Values: []string{long}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := exchange(t, s, newQuery("long.gyre.test.", dns.TypeTXT), true)
	txt := m.Answer[0].(*dns.TXT).Txt
	if len(txt) != 2 || len(txt[0]) != 255 || strings.Join(txt, "") != strings.ReplaceAll(long, `\`, `\\`) {
		t.Errorf("TXT strings %q, want the value in two strings of 255 and 46 bytes", txt)
	}
}

func TestLifecycle(t *testing.T) {
	reg := prometheus.NewRegistry()
	o, _, _ := fixture(t)
	o.Registerer, o.Region = reg, "us-east-1"
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if u, c := s.Addr(); u != nil || c != nil {
		t.Errorf("Addr before Start = %v, %v; want nil", u, c)
	}
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start: %v, want ErrStarted", err)
	}
	udp, tcp := s.Addr()

	// A second server on the same port fails to start, and leaks nothing.
	o2, _, _ := fixture(t)
	o2.Addr = udp.String()
	s2, err := New(o2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(ctx); err == nil {
		t.Error("a second server started on a port in use")
		s2.Shutdown(ctx)
	}

	// Metrics count queries over both transports.
	for _, c := range []*dns.Client{{Net: "udp"}, {Net: "tcp"}} {
		addr := udp.String()
		if c.Net == "tcp" {
			addr = tcp.String()
		}
		for _, name := range []string{"lat.gyre.test.", "nope.gyre.test."} {
			m := newQuery(name, dns.TypeA, withEDNS(1232, ecs(1, 24, "10.5.0.0")))
			if _, _, err := c.Exchange(m, addr); err != nil {
				t.Fatalf("%s exchange: %v", c.Net, err)
			}
		}
	}
	got := gather(t, reg)
	for _, w := range []string{
		`gyre_dns_queries_total{policy="latency",qtype="A",rcode="NOERROR",region="us-east-1"} 2`,
		`gyre_dns_queries_total{policy="none",qtype="A",rcode="NXDOMAIN",region="us-east-1"} 2`,
		`gyre_dns_answers_total{id="apne1",name="lat.gyre.test.",record_region="ap-northeast-1",region="us-east-1",type="A"} 2`,
		`gyre_dns_request_duration_seconds_count{region="us-east-1"} 4`,
	} {
		if !slices.Contains(got, w) {
			t.Errorf("metrics lack %s; they are:\n%s", w, strings.Join(got, "\n"))
		}
	}

	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := s.Shutdown(sctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if err := s.Start(ctx); !errors.Is(err, ErrStopped) {
		t.Errorf("Start after Shutdown: %v, want ErrStopped", err)
	}
	if _, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(newQuery("www.gyre.test.", dns.TypeA), udp.String()); err == nil {
		t.Error("the server answered after Shutdown")
	}
	if r := s.Resolve(Question{Name: "www.gyre.test.", Type: dns.TypeA}); len(r.Answer) != 2 {
		t.Errorf("Resolve after Shutdown: %d answers, want 2", len(r.Answer))
	}
	// Shutdown before Start is fine too.
	s3, _ := New(Options{})
	if err := s3.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown before Start: %v", err)
	}
}

// gather returns the registry's counters and histogram counts as
// "name{labels} value" lines.
func gather(t *testing.T, reg *prometheus.Registry) []string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			ls := "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.Counter != nil:
				out = append(out, fmt.Sprintf("%s%s %g", mf.GetName(), ls, m.GetCounter().GetValue()))
			case m.Histogram != nil:
				out = append(out, fmt.Sprintf("%s_count%s %d", mf.GetName(), ls, m.GetHistogram().GetSampleCount()))
			}
		}
	}
	return out
}

// TestConcurrent answers from many goroutines while health, routing
// controls and record sets change: run with -race.
func TestConcurrent(t *testing.T) {
	s, health, controls := newFixture(t)
	src := netip.MustParseAddr("127.0.0.2")
	reqs := []*dns.Msg{
		newQuery("lat.gyre.test.", dns.TypeA, withEDNS(1232, ecs(1, 24, "10.5.0.0"))),
		newQuery("edge.gyre.test.", dns.TypeA),
		newQuery("w.gyre.test.", dns.TypeA),
		newQuery("mv.gyre.test.", dns.TypeA),
		newQuery("gyre.test.", dns.TypeNS),
		newQuery("nope.gyre.test.", dns.TypeA),
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; ; j++ {
				select {
				case <-done:
					return
				default:
				}
				out, _ := s.reply(reqs[(i+j)%len(reqs)], src, j%2 == 0)
				if err := new(dns.Msg).Unpack(out); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range 200 {
		health.set("hc-apne1", i%2 == 0)
		controls.set("eu-west-1", i%3 == 0)
		if i%20 == 0 {
			if err := s.SetRecordSets(fixtureSets()); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Millisecond / 10)
	}
	close(done)
	wg.Wait()
}
