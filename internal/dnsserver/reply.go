package dnsserver

import (
	"net"
	"net/netip"

	"github.com/miekg/dns"
)

// outcome is what the metrics record of one query.
type outcome struct {
	policy string
	qtype  uint16
	rcode  int
	picks  []Pick
}

// reply builds the wire reply to req, a query that arrived from src over
// UDP or TCP. It returns nil when no reply should be sent (req is itself a
// response). It never panics on a parsed message, however odd.
func (s *Server) reply(req *dns.Msg, src netip.Addr, tcp bool) ([]byte, outcome) {
	o := outcome{policy: "none"}
	if req.Response {
		return nil, o
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Compress = true
	if len(req.Question) == 1 {
		o.qtype = req.Question[0].Qtype
	}

	// EDNS0 (RFC 6891): at most one OPT, version 0; the reply carries an
	// OPT when the query did.
	var reqOpt *dns.OPT
	opts := 0
	for _, rr := range req.Extra {
		if opt, ok := rr.(*dns.OPT); ok {
			reqOpt = opt
			opts++
		}
	}
	var respOpt *dns.OPT
	if reqOpt != nil {
		respOpt = &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		respOpt.SetUDPSize(uint16(s.opts.MaxUDPSize))
	}
	limit := dns.MaxMsgSize
	if !tcp {
		limit = dns.MinMsgSize
		if reqOpt != nil {
			limit = max(dns.MinMsgSize, min(int(reqOpt.UDPSize()), s.opts.MaxUDPSize))
		}
	}
	fail := func(rcode int) ([]byte, outcome) {
		m.Rcode = rcode
		o.rcode = rcode
		if respOpt != nil {
			m.Extra = append(m.Extra, respOpt)
		}
		return s.pack(m, limit), o
	}

	switch {
	case req.Opcode != dns.OpcodeQuery:
		return fail(dns.RcodeNotImplemented)
	case len(req.Question) != 1 || opts > 1:
		return fail(dns.RcodeFormatError)
	case reqOpt != nil && reqOpt.Version() != 0:
		return fail(dns.RcodeBadVers)
	}
	subnet, ecs, ok := clientSubnet(reqOpt)
	if !ok {
		return fail(dns.RcodeFormatError)
	}
	q := req.Question[0]
	switch {
	case q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY:
		return fail(dns.RcodeRefused)
	case q.Qtype == 0 || q.Qtype == dns.TypeOPT || q.Qtype == dns.TypeTSIG || q.Qtype == dns.TypeTKEY:
		return fail(dns.RcodeFormatError)
	case q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR || q.Qtype == dns.TypeMAILA || q.Qtype == dns.TypeMAILB:
		return fail(dns.RcodeNotImplemented)
	}

	r := s.Resolve(Question{Name: q.Name, Type: q.Qtype, Subnet: subnet, Source: src})
	o.policy, o.rcode, o.picks = r.Policy, r.Rcode, r.Picks
	m.Rcode = r.Rcode
	m.Authoritative = r.Rcode != dns.RcodeRefused
	m.Answer, m.Ns = r.Answer, r.Authority
	m.Extra = append(m.Extra, r.Additional...)
	if respOpt != nil {
		if ecs != nil {
			echo := *ecs
			echo.SourceScope = uint8(r.Scope)
			respOpt.Option = append(respOpt.Option, &echo)
		}
		m.Extra = append(m.Extra, respOpt)
	}
	return s.pack(m, limit), o
}

// pack packs m within limit bytes. What does not fit goes, whole sections
// at a time so that no RRset is cut (RFC 2181 §9): first the additional
// records but the OPT (glue is optional, no TC), then the answer and
// authority sections, with TC set. A message that cannot be packed at
// all becomes a SERVFAIL with no question.
func (s *Server) pack(m *dns.Msg, limit int) []byte {
	b, err := m.Pack()
	if err == nil && len(b) <= limit {
		return b
	}
	if err == nil {
		var opt []dns.RR
		if o := m.IsEdns0(); o != nil {
			opt = []dns.RR{o}
		}
		if len(m.Extra) > len(opt) {
			m.Extra = opt
			if b, err = m.Pack(); err == nil && len(b) <= limit {
				return b
			}
		}
		if err == nil {
			m.Answer, m.Ns, m.Truncated = nil, nil, true
			if b, err = m.Pack(); err == nil && len(b) <= limit {
				return b
			}
		}
	}
	s.log.Error("packing a DNS reply", "err", err, "size", len(b), "limit", limit)
	f := &dns.Msg{MsgHdr: dns.MsgHdr{Id: m.Id, Response: true, Opcode: m.Opcode, Rcode: dns.RcodeServerFailure}}
	b, err = f.Pack()
	if err != nil {
		panic("dnsserver: packing a bare SERVFAIL: " + err.Error())
	}
	return b
}

// clientSubnet reads the EDNS0 client subnet option (RFC 7871) of a
// query, returning the subnet and the option to echo. It reports false
// when the option is malformed: address bits set beyond the source prefix
// length, which the RFC answers with FORMERR. A source prefix length of 0
// (or family 0, as dig sends for +subnet=0) gives no subnet: the client is
// located by its source address and the scope is 0.
func clientSubnet(opt *dns.OPT) (netip.Prefix, *dns.EDNS0_SUBNET, bool) {
	if opt == nil {
		return netip.Prefix{}, nil, true
	}
	for _, o := range opt.Option {
		e, isECS := o.(*dns.EDNS0_SUBNET)
		if !isECS {
			continue
		}
		var addr netip.Addr
		switch e.Family {
		case 0:
			return netip.Prefix{}, e, e.SourceNetmask == 0
		case 1:
			ip := e.Address.To4()
			if ip == nil || e.SourceNetmask > 32 {
				return netip.Prefix{}, nil, false
			}
			addr = netip.AddrFrom4([4]byte(ip))
		case 2:
			ip := e.Address.To16()
			if ip == nil || e.SourceNetmask > 128 {
				return netip.Prefix{}, nil, false
			}
			addr = netip.AddrFrom16([16]byte(ip))
		default:
			return netip.Prefix{}, nil, false
		}
		p := netip.PrefixFrom(addr, int(e.SourceNetmask))
		if p.Masked().Addr() != addr {
			return netip.Prefix{}, nil, false
		}
		// Echo what was asked, in canonical form for packing.
		echo := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: e.Family, SourceNetmask: e.SourceNetmask, Address: net.IP(addr.AsSlice())}
		if e.SourceNetmask == 0 {
			return netip.Prefix{}, echo, true
		}
		return p, echo, true
	}
	return netip.Prefix{}, nil, true
}
