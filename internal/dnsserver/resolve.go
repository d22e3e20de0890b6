package dnsserver

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/gyre-dev/gyre/internal/geo"
)

// maxChain bounds how many in-zone CNAMEs one answer follows.
const maxChain = 8

// Question is one query for Server.Resolve.
type Question struct {
	// Name is the name asked for, in any case, with or without the
	// trailing dot. Answers owned by it carry it exactly as written.
	Name string
	// Type is the type asked for, a miekg/dns type code (dns.TypeA, ...).
	Type uint16
	// Subnet is the client subnet of an EDNS0 client subnet option. When it
	// is valid with a non-zero length, latency records locate the client
	// by it (geo.Table.LocatePrefix).
	Subnet netip.Prefix
	// Source is the address the query came from, which locates the client
	// when there is no usable Subnet (geo.Table.Locate). When neither is
	// set, the client is at Geo's default location.
	Source netip.Addr
	// Rand, when set, makes this query's random choices instead of
	// Options.Rand; it need not be safe for concurrent use.
	Rand Rand
}

// Response is the outcome of Resolve: the sections of a DNS reply but for
// the question, EDNS0 and truncation, which the server adds.
type Response struct {
	// Rcode is dns.RcodeSuccess, dns.RcodeNameError (NXDOMAIN) or
	// dns.RcodeRefused (the name is outside the zone).
	Rcode int
	// Answer, Authority and Additional are the reply's sections. The
	// records are fresh for each call but may share data (addresses,
	// strings) with the server's and each other: treat them as read-only.
	Answer, Authority, Additional []dns.RR
	// Scope is the EDNS0 client subnet scope prefix length to answer
	// with: how many leading bits of Subnet the answer depends on. It is 0
	// when the answer does not depend on the client's location, or when
	// the location came from Source.
	Scope int
	// Policy is the routing policy of the record set that answered, or
	// "none" when none did (SOA, NS, negative answers, refusals).
	Policy string
	// Picks are the records the answer is made of, in answer order, for
	// metrics and tests. Aliases appear with their targets' picks after
	// them.
	Picks []Pick
}

// Pick identifies one record chosen for an answer.
type Pick struct {
	// Name and Type are the record set's name (fully qualified, lower
	// case) and type.
	Name, Type string
	// ID and Region are the record's ID and Region.
	ID, Region string
}

// env is what answering needs besides the zone: health, routing controls,
// geography and randomness.
type env struct {
	healthy  func(string) bool
	regionOn func(string) bool
	geo      *geo.Table
	rand     Rand
}

// query holds the state of one Resolve.
type query struct {
	z    *zone
	env  *env
	q    *Question
	rand Rand

	located   bool
	location  string
	bySubnet  bool // the location came from q.Subnet
	dependent bool // the answer depends on the location
	picks     []Pick
	policy    string
}

// resolve answers q from z. It is deterministic given env's functions and
// randomness, and never blocks.
func (z *zone) resolve(e *env, q *Question) Response {
	st := query{z: z, env: e, q: q, rand: q.Rand, policy: "none"}
	if st.rand == nil {
		st.rand = e.rand
	}
	owner := dns.Fqdn(q.Name)
	lname := strings.ToLower(owner)
	if !dns.IsSubDomain(z.origin, lname) {
		return Response{Rcode: dns.RcodeRefused, Policy: "none"}
	}
	var r Response
	if q.Type == dns.TypeANY {
		r = st.any(owner, lname)
	} else {
		r = st.answer(owner, lname, q.Type, 0)
	}
	r.Policy, r.Picks = st.policy, st.picks
	if st.dependent && st.bySubnet {
		r.Scope = scope(e.geo, q.Subnet, st.location)
	}
	return r
}

// answer answers a name of the zone, following in-zone CNAMEs.
func (st *query) answer(owner, lname string, qtype uint16, hops int) Response {
	z := st.z
	n := z.names[lname]
	if n == nil {
		return Response{Rcode: dns.RcodeNameError, Authority: []dns.RR{z.negSOA}}
	}
	if lname == z.origin {
		switch qtype {
		case dns.TypeSOA:
			return Response{Answer: []dns.RR{withOwner(z.soa, owner)}}
		case dns.TypeNS:
			ans := make([]dns.RR, len(z.ns))
			for i, rr := range z.ns {
				ans[i] = withOwner(rr, owner)
			}
			return Response{Answer: ans, Additional: z.glue}
		}
	}
	if s := n.sets[qtype]; s != nil {
		st.note(s)
		return Response{Answer: st.resolveSet(s, owner, nil)}
	}
	if c := n.sets[dns.TypeCNAME]; c != nil && qtype != dns.TypeCNAME {
		st.note(c)
		ans := st.resolveSet(c, owner, nil)
		target := ans[len(ans)-1].(*dns.CNAME).Target
		if hops+1 >= maxChain || !dns.IsSubDomain(z.origin, target) {
			return Response{Answer: ans}
		}
		r := st.answer(target, target, qtype, hops+1)
		r.Answer = append(ans, r.Answer...)
		return r
	}
	return Response{Authority: []dns.RR{z.negSOA}}
}

// any answers a query of type ANY minimally, as RFC 8482 allows: with one
// record set of the name (the SOA at the apex).
func (st *query) any(owner, lname string) Response {
	if lname == st.z.origin {
		return st.answer(owner, lname, dns.TypeSOA, 0)
	}
	if n := st.z.names[lname]; n != nil {
		for _, t := range []uint16{dns.TypeCNAME, dns.TypeA, dns.TypeAAAA, dns.TypeTXT} {
			if n.sets[t] != nil {
				return st.answer(owner, lname, t, 0)
			}
		}
	}
	return st.answer(owner, lname, dns.TypeANY, 0)
}

// note records the policy of the first set that answers.
func (st *query) note(s *set) {
	if st.policy == "none" {
		st.policy = s.policy
	}
}

// resolveSet appends the answer of set s, owned by owner, to out.
func (st *query) resolveSet(s *set, owner string, out []dns.RR) []dns.RR {
	chosen := st.choose(s)
	if out == nil && len(chosen) > 0 {
		out = make([]dns.RR, 0, len(chosen)*max(1, len(chosen[0].rrs)))
	}
	if st.picks == nil {
		st.picks = make([]Pick, 0, 2)
	}
	for _, r := range chosen {
		st.picks = append(st.picks, Pick{Name: s.name, Type: s.typ, ID: r.id, Region: r.region})
		if r.alias != nil {
			out = st.resolveSet(r.alias, owner, out)
			continue
		}
		for _, rr := range r.rrs {
			out = append(out, withHeader(rr, owner, s.ttl))
		}
	}
	return out
}

// choose applies the set's routing policy.
func (st *query) choose(s *set) []*record {
	switch s.policy {
	case PolicyFailover:
		primary := s.records[0]
		if st.healthy(primary) || len(s.records) == 1 || !st.healthy(s.records[1]) {
			return s.records[:1]
		}
		return s.records[1:2]
	case PolicyWeighted:
		return []*record{st.weighted(s)}
	case PolicyLatency:
		return []*record{st.latency(s)}
	case PolicyMultivalue:
		return st.multivalue(s)
	}
	return s.records[:1]
}

// weighted picks one record at random with probability weight/sum among
// the healthy records of positive weight; failing those, among the healthy
// records of weight zero (equally likely); failing those, as if every
// record were healthy.
func (st *query) weighted(s *set) *record {
	var pbuf, zbuf [16]*record
	pos, zero := pbuf[:0], zbuf[:0]
	for _, r := range s.records {
		if !st.healthy(r) {
			continue
		}
		if r.weight > 0 {
			pos = append(pos, r)
		} else {
			zero = append(zero, r)
		}
	}
	if len(pos) == 0 && len(zero) == 0 {
		// Route 53's rule: every record is unhealthy, so all count as
		// healthy.
		for _, r := range s.records {
			if r.weight > 0 {
				pos = append(pos, r)
			} else {
				zero = append(zero, r)
			}
		}
	}
	if len(pos) == 0 {
		return zero[st.rand.IntN(len(zero))]
	}
	total := 0
	for _, r := range pos {
		total += r.weight
	}
	n := st.rand.IntN(total)
	for _, r := range pos {
		if n < r.weight {
			return r
		}
		n -= r.weight
	}
	panic("dnsserver: weighted choice fell off the end of the records")
}

// latency picks the healthy record (any record when none is healthy)
// whose region is nearest the client, as geo.Table.Rank orders regions.
func (st *query) latency(s *set) *record {
	var buf [16]*record
	cands := buf[:0]
	for _, r := range s.records {
		if st.healthy(r) {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		cands = s.records
	}
	if len(cands) == 1 {
		return cands[0]
	}
	st.dependent = true
	var rbuf [16]string
	regions := rbuf[:0]
	for _, r := range cands {
		regions = append(regions, r.region)
	}
	nearest := st.env.geo.Rank(st.locate(), regions)[0]
	for _, r := range cands {
		if r.region == nearest {
			return r
		}
	}
	panic("dnsserver: geo.Table.Rank returned a region it was not given")
}

// multivalue picks up to eight healthy records at random (up to eight of
// all when none is healthy), in random order.
func (st *query) multivalue(s *set) []*record {
	var cands []*record
	for _, r := range s.records {
		if st.healthy(r) {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		cands = append(cands, s.records...)
	}
	k := min(len(cands), maxMultivalue)
	for i := range k {
		j := i + st.rand.IntN(len(cands)-i)
		cands[i], cands[j] = cands[j], cands[i]
	}
	return cands[:k]
}

// healthy reports whether a record is healthy: its health check is, its
// region's routing control is on, and, for an alias that evaluates target
// health, its target set has a healthy record.
func (st *query) healthy(r *record) bool {
	if r.check != "" && !st.env.healthy(r.check) {
		return false
	}
	if r.region != "" && !st.env.regionOn(r.region) {
		return false
	}
	if r.alias != nil && r.eth && !st.setHealthy(r.alias) {
		return false
	}
	return true
}

// setHealthy reports whether a set has a healthy record.
func (st *query) setHealthy(s *set) bool {
	for _, r := range s.records {
		if st.healthy(r) {
			return true
		}
	}
	return false
}

// locate returns the client's location, computing it once.
func (st *query) locate() string {
	if st.located {
		return st.location
	}
	st.located = true
	g, q := st.env.geo, st.q
	switch {
	case q.Subnet.IsValid() && q.Subnet.Bits() > 0:
		st.location, st.bySubnet = g.LocatePrefix(q.Subnet), true
	case q.Source.IsValid():
		st.location = g.Locate(q.Source)
	default:
		st.location = g.Default()
	}
	return st.location
}

// scope returns the ECS scope prefix length of an answer that depends on
// the location of client subnet p: the length of the shortest prefix of p
// that every longer prefix of p shares loc with, which is the length of
// the network that located p unless an enclosing network (or the default)
// has the same location. When no prefix of p has another location, the
// network cannot be told from the default location (geo.Table does not
// say which network matched), and the answer claims only p itself.
func scope(g *geo.Table, p netip.Prefix, loc string) int {
	p = p.Masked()
	for b := p.Bits() - 1; b >= 0; b-- {
		if g.LocatePrefix(netip.PrefixFrom(p.Addr(), b).Masked()) != loc {
			return b + 1
		}
	}
	return p.Bits()
}

// withOwner returns a copy of an SOA or NS record owned by owner.
func withOwner(rr dns.RR, owner string) dns.RR {
	switch v := rr.(type) {
	case *dns.SOA:
		c := *v
		c.Hdr.Name = owner
		return &c
	case *dns.NS:
		c := *v
		c.Hdr.Name = owner
		return &c
	}
	panic("dnsserver: withOwner of a record that is neither SOA nor NS")
}
