package dnsserver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/gyre-dev/gyre/internal/geo"
)

// Routing policies, as Route 53 names them.
const (
	// PolicySimple answers with the set's one record, every value of it,
	// with no health checking.
	PolicySimple = "simple"
	// PolicyWeighted answers with one record chosen at random with
	// probability weight/sum of weights, among the healthy records.
	PolicyWeighted = "weighted"
	// PolicyLatency answers with the healthy record whose region has the
	// lowest round trip from the client's location.
	PolicyLatency = "latency"
	// PolicyFailover answers with the PRIMARY record when it is healthy,
	// else the SECONDARY when it is healthy, else the PRIMARY.
	PolicyFailover = "failover"
	// PolicyMultivalue answers with up to eight healthy records chosen at
	// random, or up to eight records regardless of health when none is
	// healthy.
	PolicyMultivalue = "multivalue"
)

// Failover roles of Record.Failover.
const (
	Primary   = "PRIMARY"
	Secondary = "SECONDARY"
)

// maxMultivalue is how many records a multivalue answer holds at most.
const maxMultivalue = 8

// RecordSet is the records of one name and type, answered by one routing
// policy: Route 53's "group of records with the same name and type".
type RecordSet struct {
	// Name is the owner name, relative to the zone ("api", "@" or "" for
	// the apex) or fully qualified with a trailing dot ("api.gyre.test.").
	// A relative name must not end with the zone's name: "api.gyre.test"
	// is refused as ambiguous. Labels hold letters, digits, '-' and '_';
	// wildcards are not supported. Required.
	Name string
	// Type is A, AAAA, CNAME or TXT (any case). At most one set per name
	// and type; a CNAME set's name has no other set and is not the apex.
	// Required.
	Type string
	// TTL is the answers' time to live, whole seconds. An alias record is
	// answered with its target set's TTL instead, as Route 53 does.
	// Default DefaultTTL (so a TTL of zero cannot be asked for: use 1s).
	TTL time.Duration
	// Policy is one of the Policy constants (any case). Default
	// PolicySimple.
	Policy string
	// Records are the set's records: exactly one for PolicySimple; a
	// PRIMARY and optionally a SECONDARY for PolicyFailover; one or more
	// otherwise.
	Records []Record
}

// Record is one record of a set: its values (or an alias) and what
// routing and health checking need to know about it.
type Record struct {
	// ID is Route 53's SetIdentifier: required, and unique within the set,
	// for every policy but simple. It labels the answers metric.
	ID string
	// Values are the record's data: IPv4 addresses for A, IPv6 addresses
	// for AAAA, exactly one target name for CNAME (fully qualified, the
	// trailing dot optional), one TXT record per value for TXT (values
	// longer than 255 bytes are split into several strings). No
	// duplicates. Exactly one of Values and Alias is set.
	Values []string
	// Alias names another record set of the same type in the zone (same
	// rules as RecordSet.Name): the record is answered with that set's
	// answer for the same client, under this record's name and with the
	// target's TTL. Aliases may chain but not loop. Not allowed in
	// multivalue sets.
	Alias string
	// EvaluateTargetHealth, for an alias, makes the record healthy only
	// when the target set has at least one healthy record.
	EvaluateTargetHealth bool
	// HealthCheck names a health check (see Options.Healthy): the record
	// is unhealthy when the check is. Optional; not allowed in simple
	// sets.
	HealthCheck string
	// Region is the region the record's resource is in: required, and
	// unique within the set, for latency records, and one of Options.Geo's
	// regions. For every policy but simple, a region whose routing
	// control is off (Options.RegionOn) makes the record unhealthy.
	Region string
	// Weight is a weighted record's weight, 0..255 (zero elsewhere). A
	// record of weight 0 is answered only when no record of positive
	// weight is healthy (Route 53's rule).
	Weight int
	// Failover is PRIMARY or SECONDARY (any case) in a failover set, and
	// empty elsewhere.
	Failover string
}

// zone is the compiled, immutable form of the options and record sets;
// the server swaps in a new one on SetRecordSets.
type zone struct {
	origin string           // lower case, fully qualified
	names  map[string]*node // every name that exists: sets, apex, empty non-terminals
	soa    *dns.SOA         // the apex SOA, as answered
	negSOA *dns.SOA         // the SOA of negative answers, with the negative TTL
	ns     []dns.RR         // the apex NS records
	glue   []dns.RR         // addresses of in-zone name servers
	sets   []RecordSet      // the record sets as accepted, normalised
}

// node is a name of the zone. An empty non-terminal has no sets.
type node struct {
	sets map[uint16]*set
}

// set is a compiled RecordSet.
type set struct {
	name    string // lower case, fully qualified
	rrtype  uint16
	typ     string
	ttl     uint32
	policy  string
	records []*record
}

// record is a compiled Record.
type record struct {
	id        string
	rrs       []dns.RR // the values, headers zeroed (owner and TTL are per answer)
	alias     *set
	aliasName string
	eth       bool
	check     string
	region    string
	weight    int
	primary   bool
}

// supportedTypes are the record set types.
var supportedTypes = map[string]uint16{"A": dns.TypeA, "AAAA": dns.TypeAAAA, "CNAME": dns.TypeCNAME, "TXT": dns.TypeTXT}

// compile validates the options' record sets against the rest of the
// options and builds the zone, reporting every problem at once. serial is
// the SOA serial to answer.
func compile(o *Options, sets []RecordSet, serial uint32) (*zone, error) {
	c := &compiler{o: o, z: &zone{origin: o.Zone, names: map[string]*node{}}, nsAddrs: map[*set]bool{}}
	c.z.names[o.Zone] = &node{}
	c.nameServers(serial)
	for i := range sets {
		c.set(i, sets[i])
	}
	c.aliases()
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	return c.z, nil
}

type compiler struct {
	o       *Options
	z       *zone
	nsAddrs map[*set]bool // the name servers' address sets
	errs    []error
}

func (c *compiler) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("dnsserver: "+format, args...))
}

// qualify turns a configured name into a lower-case fully qualified name,
// and reports whether it lies inside the zone.
func (c *compiler) qualify(name string) (fqdn string, inZone bool, err error) {
	origin := c.z.origin
	switch {
	case name == "" || name == "@":
		return origin, true, nil
	case strings.HasSuffix(name, "."):
		fqdn = strings.ToLower(name)
	default:
		l := strings.ToLower(name)
		bare := strings.TrimSuffix(origin, ".")
		if l == bare || strings.HasSuffix(l, "."+bare) {
			rel := strings.TrimSuffix(strings.TrimSuffix(l, bare), ".")
			if rel == "" {
				rel = "@"
			}
			return "", false, fmt.Errorf("%q ends with the zone's name: write it relative (%q) or fully qualified (%q)", name, rel, l+".")
		}
		fqdn = l + "." + origin
	}
	if err := checkName(fqdn); err != nil {
		return "", false, fmt.Errorf("%q: %w", name, err)
	}
	return fqdn, dns.IsSubDomain(origin, fqdn), nil
}

// checkName accepts host-like names: labels of letters, digits, '-' and
// '_', none empty or longer than 63 bytes, 253 bytes in all.
func checkName(fqdn string) error {
	if fqdn == "." {
		return nil
	}
	if len(fqdn) > 254 {
		return errors.New("name is longer than 253 bytes")
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(fqdn, "."), ".") {
		if label == "" {
			return errors.New("empty label")
		}
		if len(label) > 63 {
			return fmt.Errorf("label %q is longer than 63 bytes", label)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				if r == '*' {
					return errors.New("wildcards are not supported")
				}
				return fmt.Errorf("label %q has %q: only letters, digits, '-' and '_' are allowed", label, r)
			}
		}
	}
	return nil
}

// addName records that fqdn exists, with its ancestors up to the apex as
// empty non-terminals.
func (c *compiler) addName(fqdn string) *node {
	n := c.z.names[fqdn]
	if n == nil {
		n = &node{}
		c.z.names[fqdn] = n
	}
	for p := fqdn; p != c.z.origin; {
		i, _ := dns.NextLabel(p, 0)
		p = p[i:]
		if p == "" || c.z.names[p] != nil {
			break
		}
		c.z.names[p] = &node{}
	}
	return n
}

// nameServers builds the SOA, the apex NS records and the name servers'
// addresses.
func (c *compiler) nameServers(serial uint32) {
	o := c.o
	nsTTL, _ := ttlSeconds(o.NSTTL)
	var firstNS string
	for i, ns := range o.NameServers {
		fqdn, inZone, err := c.qualify(ns.Name)
		if err != nil || ns.Name == "" {
			if err == nil {
				err = errors.New("empty name")
			}
			c.errorf("Options.NameServers[%d]: %v", i, err)
			continue
		}
		if firstNS == "" {
			firstNS = fqdn
		}
		c.z.ns = append(c.z.ns, &dns.NS{Hdr: hdr(o.Zone, dns.TypeNS, nsTTL), Ns: fqdn})
		if len(ns.Addrs) == 0 {
			continue
		}
		if !inZone {
			c.errorf("Options.NameServers[%d]: %s is outside the zone: it cannot have addresses here", i, fqdn)
			continue
		}
		n := c.addName(fqdn)
		for _, a := range ns.Addrs {
			var rr dns.RR
			var t uint16
			switch {
			case !a.IsValid():
				c.errorf("Options.NameServers[%d]: invalid address", i)
				continue
			case a.Unmap().Is4():
				rr, t = &dns.A{A: net.IP(a.Unmap().AsSlice())}, dns.TypeA
			default:
				rr, t = &dns.AAAA{AAAA: net.IP(a.AsSlice())}, dns.TypeAAAA
			}
			if n.sets == nil {
				n.sets = map[uint16]*set{}
			}
			s := n.sets[t]
			if s == nil {
				s = &set{name: fqdn, rrtype: t, typ: dns.TypeToString[t], ttl: nsTTL, policy: PolicySimple, records: []*record{{}}}
				n.sets[t] = s
				c.nsAddrs[s] = true
			}
			s.records[0].rrs = append(s.records[0].rrs, rr)
			c.z.glue = append(c.z.glue, withHeader(rr, fqdn, nsTTL))
		}
	}
	primary := firstNS
	if o.SOA.Primary != "" {
		p, _, err := c.qualify(o.SOA.Primary)
		if err != nil {
			c.errorf("Options.SOA.Primary: %v", err)
		}
		primary = p
	}
	mbox := o.SOA.Mailbox
	if local, domain, ok := strings.Cut(mbox, "@"); ok {
		mbox = strings.ReplaceAll(local, ".", `\.`) + "." + dns.Fqdn(domain)
	} else if !strings.HasSuffix(mbox, ".") {
		mbox += "." + o.Zone
	}
	if _, ok := dns.IsDomainName(mbox); !ok {
		c.errorf("Options.SOA.Mailbox %q is not a mailbox", o.SOA.Mailbox)
	}
	sec := func(d time.Duration) uint32 { s, _ := ttlSeconds(d); return s }
	c.z.soa = &dns.SOA{
		Hdr: hdr(o.Zone, dns.TypeSOA, sec(o.SOA.TTL)), Ns: primary, Mbox: strings.ToLower(mbox), Serial: serial,
		Refresh: sec(o.SOA.Refresh), Retry: sec(o.SOA.Retry), Expire: sec(o.SOA.Expire), Minttl: sec(o.SOA.Minimum),
	}
	neg := *c.z.soa
	neg.Hdr.Ttl = min(neg.Hdr.Ttl, neg.Minttl)
	c.z.negSOA = &neg
}

// set compiles the i-th record set.
func (c *compiler) set(i int, rs RecordSet) {
	where := fmt.Sprintf("record set %d (%s %s)", i, rs.Name, rs.Type)
	bad := func(format string, args ...any) { c.errorf(where+": "+format, args...) }

	fqdn, inZone, err := c.qualify(rs.Name)
	switch {
	case err != nil:
		bad("name %v", err)
	case !inZone:
		bad("name %s is outside the zone %s", fqdn, c.z.origin)
	}
	typ := strings.ToUpper(rs.Type)
	rrtype, ok := supportedTypes[typ]
	if !ok {
		bad("type %q is not one of A, AAAA, CNAME, TXT", rs.Type)
	}
	ttl := rs.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	ttlSec, err := ttlSeconds(ttl)
	if err != nil {
		bad("TTL %v", err)
	}
	policy := strings.ToLower(rs.Policy)
	if policy == "" {
		policy = PolicySimple
	}
	switch policy {
	case PolicySimple, PolicyWeighted, PolicyLatency, PolicyFailover, PolicyMultivalue:
	default:
		bad("policy %q is not one of simple, weighted, latency, failover, multivalue", rs.Policy)
	}
	s := &set{name: fqdn, rrtype: rrtype, typ: typ, ttl: ttlSec, policy: policy}
	norm := RecordSet{Name: fqdn, Type: typ, TTL: ttl, Policy: policy}

	switch n := len(rs.Records); {
	case n == 0:
		bad("has no records")
	case policy == PolicySimple && n != 1:
		bad("a simple record set has exactly one record (with any number of values); it has %d", n)
	}
	if rrtype == dns.TypeCNAME && policy == PolicyMultivalue {
		bad("a CNAME record set cannot be multivalue")
	}
	ids, regions := map[string]bool{}, map[string]bool{}
	var primaries, secondaries int
	for j, r := range rs.Records {
		rwhere := fmt.Sprintf("record %d", j)
		if r.ID != "" {
			rwhere = fmt.Sprintf("record %q", r.ID)
		}
		rbad := func(format string, args ...any) { bad(rwhere+": "+format, args...) }
		rec := &record{id: r.ID, eth: r.EvaluateTargetHealth, check: r.HealthCheck, region: r.Region, weight: r.Weight}
		nr := r
		nr.Failover = strings.ToUpper(r.Failover)

		if policy != PolicySimple {
			switch {
			case r.ID == "":
				rbad("a %s record needs an ID", policy)
			case ids[r.ID]:
				rbad("duplicate ID")
			}
			ids[r.ID] = true
		}
		switch {
		case len(r.Values) > 0 && r.Alias != "":
			rbad("has both values and an alias")
		case len(r.Values) == 0 && r.Alias == "":
			rbad("has neither values nor an alias")
		case r.Alias != "":
			target, inZone, err := c.qualify(r.Alias)
			switch {
			case err != nil:
				rbad("alias %v", err)
			case !inZone:
				rbad("alias %s is outside the zone", target)
			case policy == PolicyMultivalue:
				rbad("multivalue records cannot be aliases")
			}
			rec.aliasName, nr.Alias = target, target
		default:
			rec.rrs, nr.Values = c.values(rrtype, r.Values, rbad)
		}
		if r.EvaluateTargetHealth && r.Alias == "" {
			rbad("EvaluateTargetHealth applies to aliases only")
		}
		if policy == PolicySimple {
			if r.HealthCheck != "" {
				rbad("simple records have no health check (use another policy)")
			}
			if r.Region != "" {
				rbad("simple records have no region (use another policy)")
			}
		}
		if r.Region != "" {
			if policy == PolicyLatency && c.o.Geo != nil && !knownRegion(c.o.Geo, r.Region) {
				rbad("region %q is not one of Options.Geo's regions", r.Region)
			}
			if policy == PolicyLatency && regions[r.Region] {
				rbad("another record of the set is in region %q", r.Region)
			}
			regions[r.Region] = true
		} else if policy == PolicyLatency {
			rbad("a latency record needs a region")
		}
		if policy == PolicyLatency && c.o.Geo == nil && j == 0 {
			bad("latency records need Options.Geo")
		}
		switch {
		case policy == PolicyWeighted && (r.Weight < 0 || r.Weight > 255):
			rbad("weight %d is outside 0..255", r.Weight)
		case policy != PolicyWeighted && r.Weight != 0:
			rbad("weight applies to weighted records only")
		}
		switch nr.Failover {
		case "":
			if policy == PolicyFailover {
				rbad("a failover record is PRIMARY or SECONDARY")
			}
		case Primary, Secondary:
			if policy != PolicyFailover {
				rbad("failover role applies to failover records only")
			}
			if nr.Failover == Primary {
				primaries++
				rec.primary = true
			} else {
				secondaries++
			}
		default:
			rbad("failover %q is not PRIMARY or SECONDARY", r.Failover)
		}
		s.records = append(s.records, rec)
		norm.Records = append(norm.Records, nr)
	}
	if policy == PolicyFailover && len(rs.Records) > 0 && (primaries != 1 || secondaries > 1) {
		bad("a failover set has one PRIMARY and at most one SECONDARY; it has %d and %d", primaries, secondaries)
	}
	if policy == PolicyFailover && len(rs.Records) > 0 && !s.records[0].primary {
		// Keep the primary first: choose relies on it.
		slices.SortStableFunc(s.records, func(a, b *record) int {
			switch {
			case a.primary == b.primary:
				return 0
			case a.primary:
				return -1
			}
			return 1
		})
	}
	if fqdn == "" || rrtype == 0 {
		return
	}
	if fqdn == c.z.origin && rrtype == dns.TypeCNAME {
		bad("the zone's apex cannot have a CNAME (it has SOA and NS records)")
	}
	n := c.addName(fqdn)
	if n.sets == nil {
		n.sets = map[uint16]*set{}
	}
	switch {
	case c.nsAddrs[n.sets[rrtype]]:
		bad("%s already has %s records: the name server's addresses (Options.NameServers)", fqdn, typ)
	case n.sets[rrtype] != nil:
		bad("another record set has the same name and type")
	case rrtype == dns.TypeCNAME && len(n.sets) > 0, rrtype != dns.TypeCNAME && n.sets[dns.TypeCNAME] != nil:
		bad("a name with a CNAME record set has no other record set")
	}
	if n.sets[rrtype] == nil {
		n.sets[rrtype] = s
	}
	c.z.sets = append(c.z.sets, norm)
}

// knownRegion reports whether region is one of t's regions: the default
// location has a round trip to each of them.
func knownRegion(t *geo.Table, region string) bool {
	_, ok := t.RTT(t.Default(), region)
	return ok
}

// values parses a record's values into resource records with empty
// headers, and returns them normalised for display.
func (c *compiler) values(rrtype uint16, values []string, bad func(string, ...any)) ([]dns.RR, []string) {
	var rrs []dns.RR
	norm := make([]string, 0, len(values))
	seen := map[string]bool{}
	for _, v := range values {
		var rr dns.RR
		n := v
		switch rrtype {
		case dns.TypeA:
			ip, err := netip.ParseAddr(v)
			if err != nil || !ip.Is4() {
				bad("%q is not an IPv4 address", v)
				continue
			}
			rr, n = &dns.A{A: net.IP(ip.AsSlice())}, ip.String()
		case dns.TypeAAAA:
			ip, err := netip.ParseAddr(v)
			if err != nil || !ip.Is6() || ip.Is4In6() || ip.Zone() != "" {
				bad("%q is not an IPv6 address", v)
				continue
			}
			rr, n = &dns.AAAA{AAAA: net.IP(ip.AsSlice())}, ip.String()
		case dns.TypeCNAME:
			n = strings.ToLower(dns.Fqdn(v))
			if err := checkName(n); err != nil || n == "." {
				bad("CNAME target %q is not a host name", v)
				continue
			}
			rr = &dns.CNAME{Target: n}
		case dns.TypeTXT:
			rr = &dns.TXT{Txt: txtStrings(v)}
		}
		if seen[n] {
			bad("duplicate value %q", v)
			continue
		}
		seen[n] = true
		rrs = append(rrs, rr)
		norm = append(norm, n)
	}
	if rrtype == dns.TypeCNAME && len(values) != 1 {
		bad("a CNAME record has exactly one value; it has %d", len(values))
	}
	return rrs, norm
}

// txtStrings splits a TXT value into character strings of at most 255
// bytes, escaped for miekg/dns, which reads backslashes as escapes.
func txtStrings(v string) []string {
	var out []string
	for {
		chunk := v[:min(len(v), 255)]
		out = append(out, strings.ReplaceAll(chunk, `\`, `\\`))
		v = v[len(chunk):]
		if v == "" {
			return out
		}
	}
}

// aliases resolves alias targets and refuses missing targets, type
// mismatches and loops.
func (c *compiler) aliases() {
	for _, n := range c.z.names {
		for _, s := range n.sets {
			for _, r := range s.records {
				if r.aliasName == "" {
					continue
				}
				tn := c.z.names[r.aliasName]
				if tn == nil || tn.sets[s.rrtype] == nil {
					c.errorf("record set %s %s: record %q: alias target %s has no %s record set", s.name, s.typ, r.id, r.aliasName, s.typ)
					continue
				}
				r.alias = tn.sets[s.rrtype]
			}
		}
	}
	// Depth-first search for loops; state 1 is on the path, 2 is done.
	state := map[*set]int{}
	var visit func(s *set) bool
	visit = func(s *set) bool {
		switch state[s] {
		case 1:
			return false
		case 2:
			return true
		}
		state[s] = 1
		for _, r := range s.records {
			if r.alias != nil && !visit(r.alias) {
				return false
			}
		}
		state[s] = 2
		return true
	}
	var looped []string
	for _, n := range c.z.names {
		for _, s := range n.sets {
			if state[s] == 0 && !visit(s) {
				looped = append(looped, s.name+" "+s.typ)
			}
		}
	}
	slices.Sort(looped)
	for _, l := range looped {
		c.errorf("record set %s: aliases form a loop", l)
	}
}

// hdr returns a resource record header of class IN.
func hdr(owner string, rrtype uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: owner, Rrtype: rrtype, Class: dns.ClassINET, Ttl: ttl}
}

// withHeader returns a copy of a compiled record value with its owner and
// TTL set. The data (addresses, strings) is shared: answers are only read.
func withHeader(rr dns.RR, owner string, ttl uint32) dns.RR {
	switch v := rr.(type) {
	case *dns.A:
		return &dns.A{Hdr: hdr(owner, dns.TypeA, ttl), A: v.A}
	case *dns.AAAA:
		return &dns.AAAA{Hdr: hdr(owner, dns.TypeAAAA, ttl), AAAA: v.AAAA}
	case *dns.CNAME:
		return &dns.CNAME{Hdr: hdr(owner, dns.TypeCNAME, ttl), Target: v.Target}
	case *dns.TXT:
		return &dns.TXT{Hdr: hdr(owner, dns.TypeTXT, ttl), Txt: v.Txt}
	}
	panic(fmt.Sprintf("dnsserver: compiled record of unexpected type %T", rr))
}
