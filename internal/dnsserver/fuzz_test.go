package dnsserver

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// FuzzReply sends arbitrary packets to the handler's reply path: whatever
// parses as a DNS message must get a well-formed reply (or, for a
// response, none), within the transport's size limit, and never a panic.
// What does not parse never reaches the handler: miekg/dns answers it with
// FORMERR itself.
func FuzzReply(f *testing.F) {
	seeds := []*dns.Msg{
		newQuery("www.gyre.test.", dns.TypeA),
		newQuery("WWW.gyre.test.", dns.TypeANY, withEDNS(1232)),
		newQuery("lat.gyre.test.", dns.TypeA, withEDNS(4096, ecs(1, 24, "10.5.0.0"))),
		newQuery("lat.gyre.test.", dns.TypeA, withEDNS(512, ecs(2, 56, "2001:db8::"))),
		newQuery("lat.gyre.test.", dns.TypeA, withEDNS(512, ecs(0, 0, "0.0.0.0"))),
		newQuery("big.gyre.test.", dns.TypeA, withEDNS(512)),
		newQuery("mv.gyre.test.", dns.TypeA),
		newQuery("docs.gyre.test.", dns.TypeA),
		newQuery("gyre.test.", dns.TypeNS),
		newQuery("nope.gyre.test.", dns.TypeTXT),
		newQuery("example.com.", dns.TypeA),
		newQuery("gyre.test.", dns.TypeAXFR),
		newQuery("gyre.test.", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }),
		newQuery("www.gyre.test.", dns.TypeA, withEDNS(1232), func(m *dns.Msg) { m.IsEdns0().SetVersion(3) }),
	}
	for _, m := range seeds {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	s, _, _ := newFixture(f)
	src := netip.MustParseAddr("127.0.0.2")
	f.Fuzz(func(t *testing.T, packet []byte, tcp bool) {
		req := new(dns.Msg)
		if err := req.Unpack(packet); err != nil {
			return
		}
		out, _ := s.reply(req, src, tcp)
		if req.Response {
			if out != nil {
				t.Fatalf("replied to a response")
			}
			return
		}
		limit := dns.MaxMsgSize
		if !tcp {
			limit = DefaultMaxUDPSize
		}
		if len(out) > limit {
			t.Fatalf("reply of %d bytes over the %d limit", len(out), limit)
		}
		m := new(dns.Msg)
		if err := m.Unpack(out); err != nil {
			t.Fatalf("reply does not parse: %v", err)
		}
		if m.Id != req.Id || !m.Response {
			t.Fatalf("reply id %d response %v to query id %d", m.Id, m.Response, req.Id)
		}
		if (m.IsEdns0() != nil) != (req.IsEdns0() != nil) && m.Rcode != dns.RcodeServerFailure {
			t.Fatalf("reply EDNS0 %v to query EDNS0 %v", m.IsEdns0(), req.IsEdns0())
		}
	})
}
