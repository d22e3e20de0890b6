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

// CanonicalType returns a supported record set type as the server spells
// it, upper case as Route 53 writes types ("a" is A: types match in any
// case), and any other string as it is.
func CanonicalType(typ string) string {
	if u := strings.ToUpper(typ); supportedTypes[u] != 0 {
		return u
	}
	return typ
}

// CanonicalPolicy returns a routing policy as the server spells it, lower
// case like the Policy constants (policies match in any case), and any
// other string, the empty one included, as it is.
func CanonicalPolicy(policy string) string {
	switch l := strings.ToLower(policy); l {
	case PolicySimple, PolicyWeighted, PolicyLatency, PolicyFailover, PolicyMultivalue:
		return l
	}
	return policy
}

// CanonicalFailover returns a failover role as the server spells it, upper
// case like Primary and Secondary, Route 53's spelling (roles match in any
// case), and any other string as it is.
func CanonicalFailover(role string) string {
	switch u := strings.ToUpper(role); u {
	case Primary, Secondary:
		return u
	}
	return role
}

// Problem is one thing wrong with a record set, as CheckRecordSets reports
// it: where it is, by index and field name, and what it is.
type Problem struct {
	// Set is the index of the record set in the slice checked.
	Set int
	// Record is the index of the record in the set's Records, or -1 when
	// the problem is the set's.
	Record int
	// Field is the name of the field at fault, in RecordSet when Record
	// is -1 and in Record otherwise ("Type", "Weight"), with an index for
	// one of the Values ("Values[2]"). Empty when no one field is.
	Field string
	// Msg says what is wrong, with the bad value when there is one.
	Msg string
}

// CheckRecordSets reports every problem with sets as the record sets of
// zone (written as Options.Zone; empty is DefaultZone), in the words New
// and SetRecordSets use, with the set, record and field of each. It checks
// the sets by themselves and against one another, which is every rule but
// those that depend on the rest of the Options: New and SetRecordSets also
// refuse latency records of regions Options.Geo lacks, and sets that
// collide with the name servers' addresses. The problems come set by set,
// then those of aliases (a missing target, a loop). It returns an error,
// and no problems, when zone is not a domain name.
func CheckRecordSets(zone string, sets []RecordSet) ([]Problem, error) {
	o := Options{Zone: zoneName(zone)}
	if !validZone(o.Zone) {
		return nil, fmt.Errorf("dnsserver: zone %q is not a domain name", o.Zone)
	}
	c := newCompiler(&o, true)
	c.recordSets(sets)
	return c.problems, nil
}

// compile validates the record sets, against the rest of the options too,
// and builds the zone, reporting every problem at once. serial is the SOA
// serial to answer.
func compile(o *Options, sets []RecordSet, serial uint32) (*zone, error) {
	c := newCompiler(o, false)
	c.nameServers(serial)
	c.recordSets(sets)
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	return c.z, nil
}

// compiler builds a zone, collecting every problem on the way: as the
// errors New returns and, for the record sets, as Problems too.
type compiler struct {
	o        *Options
	alone    bool // the record sets are checked by themselves: o has no Geo or name servers to check them against
	z        *zone
	nsAddrs  map[*set]bool   // the name servers' address sets
	placed   []*set          // the record sets in the zone, in the order given
	index    map[*set]int    // the index of each placed set among those given
	recIndex map[*record]int // the index of each record in its set as given
	errs     []error
	problems []Problem
}

func newCompiler(o *Options, alone bool) *compiler {
	c := &compiler{
		o: o, alone: alone, z: &zone{origin: o.Zone, names: map[string]*node{}},
		nsAddrs: map[*set]bool{}, index: map[*set]int{}, recIndex: map[*record]int{},
	}
	c.z.names[o.Zone] = &node{}
	return c
}

func (c *compiler) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("dnsserver: "+format, args...))
}

// report records a record set problem; where names the set (and record)
// in the error New returns, such as `record set 2 (api A): record "x"`.
func (c *compiler) report(where string, p Problem) {
	c.problems = append(c.problems, p)
	c.errs = append(c.errs, fmt.Errorf("dnsserver: %s: %s", where, p.Msg))
}

// recordSets compiles the record sets, then resolves their aliases.
func (c *compiler) recordSets(sets []RecordSet) {
	for i := range sets {
		c.set(i, sets[i])
	}
	c.aliases()
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

// setCompiler compiles one record set: the state its steps share.
type setCompiler struct {
	c    *compiler
	i    int       // the set's index among those given
	rs   RecordSet // the set as given
	s    *set      // the set compiled
	norm RecordSet // the set as accepted, for Server.RecordSets

	ids, regions           map[string]bool // of the records so far
	primaries, secondaries int
}

// set compiles the i-th record set, in steps: its own fields, the number
// of its records, each record, its failover roles, and its place in the
// zone.
func (c *compiler) set(i int, rs RecordSet) {
	sc := &setCompiler{c: c, i: i, rs: rs, ids: map[string]bool{}, regions: map[string]bool{}}
	sc.fields()
	sc.count()
	for j, r := range rs.Records {
		sc.record(j, r)
	}
	sc.failoverRoles()
	sc.place()
}

// bad reports a problem with field of the set, or of its j-th record when
// j >= 0.
func (sc *setCompiler) bad(j int, field, format string, args ...any) {
	where := fmt.Sprintf("record set %d (%s %s)", sc.i, sc.rs.Name, sc.rs.Type)
	if j >= 0 {
		if id := sc.rs.Records[j].ID; id != "" {
			where += fmt.Sprintf(": record %q", id)
		} else {
			where += fmt.Sprintf(": record %d", j)
		}
	}
	sc.c.report(where, Problem{Set: sc.i, Record: j, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// fields checks and normalises the set's name, type, TTL and policy.
func (sc *setCompiler) fields() {
	rs := sc.rs
	fqdn, inZone, err := sc.c.qualify(rs.Name)
	switch {
	case err != nil:
		sc.bad(-1, "Name", "name %v", err)
	case !inZone:
		sc.bad(-1, "Name", "name %s is outside the zone %s", fqdn, sc.c.z.origin)
	}
	typ := CanonicalType(rs.Type)
	rrtype, ok := supportedTypes[typ]
	if !ok {
		sc.bad(-1, "Type", "record type %q is not A, AAAA, CNAME or TXT", rs.Type)
	}
	ttl := rs.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	ttlSec, err := ttlSeconds(ttl)
	if err != nil {
		sc.bad(-1, "TTL", "TTL %v", err)
	}
	policy := CanonicalPolicy(rs.Policy)
	if policy == "" {
		policy = PolicySimple
	}
	switch policy {
	case PolicySimple, PolicyWeighted, PolicyLatency, PolicyFailover, PolicyMultivalue:
	default:
		sc.bad(-1, "Policy", "policy %q is not simple, latency, failover, weighted or multivalue", rs.Policy)
	}
	sc.s = &set{name: fqdn, rrtype: rrtype, typ: typ, ttl: ttlSec, policy: policy}
	sc.norm = RecordSet{Name: fqdn, Type: typ, TTL: ttl, Policy: policy}
}

// count checks the number of records against the policy, and the policy
// against the type.
func (sc *setCompiler) count() {
	switch n := len(sc.rs.Records); {
	case n == 0:
		sc.bad(-1, "Records", "a record set needs at least one record; this one has no records")
	case sc.s.policy == PolicySimple && n != 1:
		sc.bad(-1, "Records", "a simple record set has exactly one record (with any number of values); it has %d", n)
	}
	if sc.s.rrtype == dns.TypeCNAME && sc.s.policy == PolicyMultivalue {
		sc.bad(-1, "Policy", "a CNAME record set cannot be multivalue")
	}
}

// record compiles the j-th record of the set, in steps: its ID, its data
// (values or an alias), its health fields, its region, its weight and its
// failover role.
func (sc *setCompiler) record(j int, r Record) {
	rec := &record{id: r.ID, eth: r.EvaluateTargetHealth, check: r.HealthCheck, region: r.Region, weight: r.Weight}
	nr := r
	nr.Failover = CanonicalFailover(r.Failover)
	sc.id(j, r)
	sc.data(j, r, rec, &nr)
	sc.health(j, r)
	sc.region(j, r)
	sc.weight(j, r)
	sc.failover(j, r, nr.Failover, rec)
	sc.s.records = append(sc.s.records, rec)
	sc.c.recIndex[rec] = j
	sc.norm.Records = append(sc.norm.Records, nr)
}

// id checks that every record but a simple one has an ID of its own.
func (sc *setCompiler) id(j int, r Record) {
	if sc.s.policy == PolicySimple {
		return
	}
	switch {
	case r.ID == "":
		sc.bad(j, "ID", "a %s record needs an ID", sc.s.policy)
	case sc.ids[r.ID]:
		sc.bad(j, "ID", "duplicate ID %q: another record of the set has it", r.ID)
	}
	sc.ids[r.ID] = true
}

// data compiles the record's values or its alias, exactly one of which it
// has; nr gets them normalised.
func (sc *setCompiler) data(j int, r Record, rec *record, nr *Record) {
	switch {
	case len(r.Values) > 0 && r.Alias != "":
		sc.bad(j, "Alias", "has both values and an alias")
	case len(r.Values) == 0 && r.Alias == "":
		sc.bad(j, "Values", "has neither values nor an alias")
	case r.Alias != "":
		target, inZone, err := sc.c.qualify(r.Alias)
		switch {
		case err != nil:
			sc.bad(j, "Alias", "alias %v", err)
		case !inZone:
			sc.bad(j, "Alias", "alias %s is outside the zone", target)
		case sc.s.policy == PolicyMultivalue:
			sc.bad(j, "Alias", "multivalue records cannot be aliases")
		}
		rec.aliasName, nr.Alias = target, target
	default:
		rec.rrs, nr.Values = values(sc.s.rrtype, r.Values, func(k int, format string, args ...any) {
			field := "Values"
			if k >= 0 {
				field = fmt.Sprintf("Values[%d]", k)
			}
			sc.bad(j, field, format, args...)
		})
	}
}

// health checks the fields health checking reads: EvaluateTargetHealth is
// for aliases, and simple records are not health checked at all.
func (sc *setCompiler) health(j int, r Record) {
	if r.EvaluateTargetHealth && r.Alias == "" {
		sc.bad(j, "EvaluateTargetHealth", "EvaluateTargetHealth applies to aliases only")
	}
	if sc.s.policy == PolicySimple {
		if r.HealthCheck != "" {
			sc.bad(j, "HealthCheck", "simple records have no health check (use another policy)")
		}
		if r.Region != "" {
			sc.bad(j, "Region", "simple records have no region (use another policy)")
		}
	}
}

// region checks the record's region: each latency record has one, its
// own within the set, and one of Options.Geo's.
func (sc *setCompiler) region(j int, r Record) {
	latency := sc.s.policy == PolicyLatency
	againstGeo := latency && !sc.c.alone
	g := sc.c.o.Geo
	if r.Region != "" {
		if againstGeo && g != nil && !knownRegion(g, r.Region) {
			sc.bad(j, "Region", "region %q is not one of Options.Geo's regions", r.Region)
		}
		if latency && sc.regions[r.Region] {
			sc.bad(j, "Region", "another record of the set is in region %q", r.Region)
		}
		sc.regions[r.Region] = true
	} else if latency {
		sc.bad(j, "Region", "a latency record needs a region")
	}
	if againstGeo && g == nil && j == 0 {
		sc.bad(-1, "Policy", "latency records need Options.Geo")
	}
}

// weight checks the record's weight: 0..255 in a weighted set, 0
// elsewhere.
func (sc *setCompiler) weight(j int, r Record) {
	switch weighted := sc.s.policy == PolicyWeighted; {
	case weighted && (r.Weight < 0 || r.Weight > 255):
		sc.bad(j, "Weight", "weight %d is outside 0..255", r.Weight)
	case !weighted && r.Weight != 0:
		sc.bad(j, "Weight", "weight applies to weighted records only; this %s record has weight %d", sc.s.policy, r.Weight)
	}
}

// failover checks the record's failover role (role, in canonical case):
// PRIMARY or SECONDARY in a failover set, none elsewhere. It counts the
// roles for failoverRoles.
func (sc *setCompiler) failover(j int, r Record, role string, rec *record) {
	failover := sc.s.policy == PolicyFailover
	switch role {
	case "":
		if failover {
			sc.bad(j, "Failover", "a failover record is PRIMARY or SECONDARY")
		}
	case Primary, Secondary:
		if !failover {
			sc.bad(j, "Failover", "failover role applies to failover records only; this %s record has %q", sc.s.policy, r.Failover)
		}
		if role == Primary {
			sc.primaries++
			rec.primary = true
		} else {
			sc.secondaries++
		}
	default:
		sc.bad(j, "Failover", "failover %q is not PRIMARY or SECONDARY", r.Failover)
	}
}

// failoverRoles checks that a failover set has one PRIMARY and at most one
// SECONDARY, and puts the PRIMARY first: choose relies on it.
func (sc *setCompiler) failoverRoles() {
	if sc.s.policy != PolicyFailover || len(sc.rs.Records) == 0 {
		return
	}
	if sc.primaries != 1 || sc.secondaries > 1 {
		sc.bad(-1, "Records", "a failover set has one PRIMARY and at most one SECONDARY; it has %d and %d", sc.primaries, sc.secondaries)
	}
	if !sc.s.records[0].primary {
		slices.SortStableFunc(sc.s.records, func(a, b *record) int {
			switch {
			case a.primary == b.primary:
				return 0
			case a.primary:
				return -1
			}
			return 1
		})
	}
}

// place adds the set to the zone, refusing a CNAME at the apex, a second
// set of the same name and type, and any other set beside a CNAME.
func (sc *setCompiler) place() {
	c, s := sc.c, sc.s
	if s.name == "" || s.rrtype == 0 {
		return
	}
	if s.name == c.z.origin && s.rrtype == dns.TypeCNAME {
		sc.bad(-1, "Type", "the zone's apex cannot have a CNAME (it has SOA and NS records)")
	}
	n := c.addName(s.name)
	if n.sets == nil {
		n.sets = map[uint16]*set{}
	}
	switch {
	case c.nsAddrs[n.sets[s.rrtype]]:
		sc.bad(-1, "Name", "%s already has %s records: the name server's addresses (Options.NameServers)", s.name, s.typ)
	case n.sets[s.rrtype] != nil:
		sc.bad(-1, "Name", "another record set has the same name and type")
	case s.rrtype == dns.TypeCNAME && len(n.sets) > 0, s.rrtype != dns.TypeCNAME && n.sets[dns.TypeCNAME] != nil:
		sc.bad(-1, "Name", "a name with a CNAME record set has no other record set")
	}
	if n.sets[s.rrtype] == nil {
		n.sets[s.rrtype] = s
		c.placed = append(c.placed, s)
		c.index[s] = sc.i
	}
	c.z.sets = append(c.z.sets, sc.norm)
}

// knownRegion reports whether region is one of t's regions: the default
// location has a round trip to each of them.
func knownRegion(t *geo.Table, region string) bool {
	_, ok := t.RTT(t.Default(), region)
	return ok
}

// values parses a record's values into resource records with empty
// headers, and returns them normalised for display. It reports a problem
// with the k-th value to bad, or with the values as a whole as k = -1.
func values(rrtype uint16, values []string, bad func(k int, format string, args ...any)) ([]dns.RR, []string) {
	var rrs []dns.RR
	norm := make([]string, 0, len(values))
	seen := map[string]bool{}
	for k, v := range values {
		var rr dns.RR
		n := v
		switch rrtype {
		case dns.TypeA:
			ip, err := netip.ParseAddr(v)
			if err != nil || !ip.Is4() {
				bad(k, "%q is not an IPv4 address", v)
				continue
			}
			rr, n = &dns.A{A: net.IP(ip.AsSlice())}, ip.String()
		case dns.TypeAAAA:
			ip, err := netip.ParseAddr(v)
			if err != nil || !ip.Is6() || ip.Is4In6() || ip.Zone() != "" {
				bad(k, "%q is not an IPv6 address", v)
				continue
			}
			rr, n = &dns.AAAA{AAAA: net.IP(ip.AsSlice())}, ip.String()
		case dns.TypeCNAME:
			n = strings.ToLower(dns.Fqdn(v))
			if err := checkName(n); err != nil || n == "." {
				bad(k, "CNAME target %q is not a host name", v)
				continue
			}
			rr = &dns.CNAME{Target: n}
		case dns.TypeTXT:
			rr = &dns.TXT{Txt: txtStrings(v)}
		}
		if seen[n] {
			bad(k, "duplicate value %q", v)
			continue
		}
		seen[n] = true
		rrs = append(rrs, rr)
		norm = append(norm, n)
	}
	if rrtype == dns.TypeCNAME && len(values) != 1 {
		bad(-1, "a CNAME record has exactly one value; it has %d", len(values))
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
// mismatches and loops. Only record sets have aliases: the name servers'
// address sets are targets at most.
func (c *compiler) aliases() {
	for _, s := range c.placed {
		for _, r := range s.records {
			if r.aliasName == "" {
				continue
			}
			tn := c.z.names[r.aliasName]
			if tn == nil || tn.sets[s.rrtype] == nil {
				c.report(fmt.Sprintf("record set %s %s: record %q", s.name, s.typ, r.id), Problem{
					Set: c.index[s], Record: c.recIndex[r], Field: "Alias",
					Msg: fmt.Sprintf("alias target %s has no %s record set", r.aliasName, s.typ),
				})
				continue
			}
			r.alias = tn.sets[s.rrtype]
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
	var looped []*set
	for _, s := range c.placed {
		if state[s] == 0 && !visit(s) {
			looped = append(looped, s)
		}
	}
	slices.SortFunc(looped, func(a, b *set) int { return strings.Compare(a.name+" "+a.typ, b.name+" "+b.typ) })
	for _, s := range looped {
		c.report("record set "+s.name+" "+s.typ, Problem{Set: c.index[s], Record: -1, Msg: "aliases form a loop"})
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
