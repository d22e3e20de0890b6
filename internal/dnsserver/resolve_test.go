package dnsserver

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// rrString prints a record compactly: "owner ttl TYPE rdata".
func rrString(rr dns.RR) string {
	f := strings.Fields(rr.String())
	if len(f) > 2 && f[2] == "IN" {
		f = append(f[:2], f[3:]...)
	}
	return strings.Join(f, " ")
}

func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, rrString(rr))
	}
	return out
}

const negSOA = "gyre.test. 60 SOA ns1.gyre.test. hostmaster.gyre.test. 1 7200 900 1209600 60"

func TestResolve(t *testing.T) {
	tokyo := netip.MustParsePrefix("10.5.0.0/24")
	dublin := netip.MustParsePrefix("10.3.7.0/24")
	virginia := netip.MustParsePrefix("10.1.0.0/24")
	nowhere := netip.MustParsePrefix("192.168.1.0/24")
	tests := []struct {
		name      string
		q         Question
		down      []string // health checks that fail
		off       []string // regions whose routing control is off
		rcode     int
		answer    []string
		authority []string
		extra     []string
		scope     int
		policy    string
	}{
		{name: "simple: every value, the question's case", q: Question{Name: "WWW.Gyre.Test.", Type: dns.TypeA},
			answer: []string{"WWW.Gyre.Test. 300 A " + wwwA1, "WWW.Gyre.Test. 300 A " + wwwA2}, policy: "simple"},
		{name: "simple AAAA, name without the final dot", q: Question{Name: "www.gyre.test", Type: dns.TypeAAAA},
			answer: []string{"www.gyre.test. 300 AAAA 2001:db8::1"}, policy: "simple"},
		{name: "apex alias to www", q: Question{Name: "gyre.test.", Type: dns.TypeA},
			answer: []string{"gyre.test. 300 A " + wwwA1, "gyre.test. 300 A " + wwwA2}, policy: "simple"},
		{name: "NODATA: the name has other types", q: Question{Name: "www.gyre.test.", Type: dns.TypeTXT},
			authority: []string{negSOA}, policy: "none"},
		{name: "NODATA: empty non-terminal", q: Question{Name: "b.deep.gyre.test.", Type: dns.TypeA},
			authority: []string{negSOA}, policy: "none"},
		{name: "NODATA: empty non-terminal, two up", q: Question{Name: "deep.gyre.test.", Type: dns.TypeTXT},
			authority: []string{negSOA}, policy: "none"},
		{name: "NXDOMAIN", q: Question{Name: "nope.gyre.test.", Type: dns.TypeA},
			rcode: dns.RcodeNameError, authority: []string{negSOA}, policy: "none"},
		{name: "NXDOMAIN below a name with records", q: Question{Name: "x.www.gyre.test.", Type: dns.TypeA},
			rcode: dns.RcodeNameError, authority: []string{negSOA}, policy: "none"},
		{name: "REFUSED outside the zone", q: Question{Name: "example.com.", Type: dns.TypeA},
			rcode: dns.RcodeRefused, policy: "none"},
		{name: "REFUSED for the parent", q: Question{Name: "test.", Type: dns.TypeSOA},
			rcode: dns.RcodeRefused, policy: "none"},
		{name: "REFUSED for a zone that only ends the same", q: Question{Name: "xgyre.test.", Type: dns.TypeA},
			rcode: dns.RcodeRefused, policy: "none"},
		{name: "SOA", q: Question{Name: "Gyre.Test.", Type: dns.TypeSOA},
			answer: []string{"Gyre.Test. 900 SOA ns1.gyre.test. hostmaster.gyre.test. 1 7200 900 1209600 60"}, policy: "none"},
		{name: "NS with glue", q: Question{Name: "gyre.test.", Type: dns.TypeNS},
			answer: []string{"gyre.test. 172800 NS ns1.gyre.test.", "gyre.test. 172800 NS ns.example.net."},
			extra:  []string{"ns1.gyre.test. 172800 A 127.0.0.1"}, policy: "none"},
		{name: "name server address", q: Question{Name: "ns1.gyre.test.", Type: dns.TypeA},
			answer: []string{"ns1.gyre.test. 172800 A 127.0.0.1"}, policy: "simple"},
		{name: "NS below the apex is NODATA", q: Question{Name: "www.gyre.test.", Type: dns.TypeNS},
			authority: []string{negSOA}, policy: "none"},

		{name: "latency: tokyo by subnet", q: Question{Name: "lat.gyre.test.", Type: dns.TypeA, Subnet: tokyo},
			answer: []string{"lat.gyre.test. 30 A " + latAPNE1}, scope: 16, policy: "latency"},
		{name: "latency: dublin by subnet", q: Question{Name: "lat.gyre.test.", Type: dns.TypeA, Subnet: dublin},
			answer: []string{"lat.gyre.test. 30 A " + latEUW1}, scope: 16, policy: "latency"},
		{name: "latency: virginia's network has the default's location: scope is the subnet", q: Question{Name: "lat.gyre.test.", Type: dns.TypeA, Subnet: virginia},
			answer: []string{"lat.gyre.test. 30 A " + latUSE1}, scope: 24, policy: "latency"},
		{name: "latency: unknown subnet is at the default location", q: Question{Name: "lat.gyre.test.", Type: dns.TypeA, Subnet: nowhere},
			answer: []string{"lat.gyre.test. 30 A " + latUSE1}, scope: 24, policy: "latency"},
		{name: "latency: tokyo by source address, scope 0", q: Question{Name: "lat.gyre.test.", Type: dns.TypeA, Source: netip.MustParseAddr("127.0.0.2")},
			answer: []string{"lat.gyre.test. 30 A " + latAPNE1}, policy: "latency"},
		{name: "latency: a /0 subnet defers to the source", q: Question{Name: "lat.gyre.test.", Type: dns.TypeA, Subnet: netip.MustParsePrefix("0.0.0.0/0"), Source: netip.MustParseAddr("127.0.0.3")},
			answer: []string{"lat.gyre.test. 30 A " + latEUW1}, policy: "latency"},
		{name: "latency: the subnet wins over the source", q: Question{Name: "lat.gyre.test.", Type: dns.TypeA, Subnet: tokyo, Source: netip.MustParseAddr("127.0.0.3")},
			answer: []string{"lat.gyre.test. 30 A " + latAPNE1}, scope: 16, policy: "latency"},
		{name: "latency: nearest unhealthy, next nearest", q: Question{Name: "lat.gyre.test.", Type: dns.TypeA, Subnet: tokyo}, down: []string{"hc-apne1"},
			answer: []string{"lat.gyre.test. 30 A " + latUSE1}, scope: 16, policy: "latency"},
		{name: "latency: routing control off", q: Question{Name: "lat.gyre.test.", Type: dns.TypeA, Subnet: tokyo}, off: []string{"ap-northeast-1"},
			answer: []string{"lat.gyre.test. 30 A " + latUSE1}, scope: 16, policy: "latency"},
		{name: "latency: one healthy record does not depend on location", q: Question{Name: "lat.gyre.test.", Type: dns.TypeA, Subnet: tokyo}, down: []string{"hc-apne1", "hc-use1"},
			answer: []string{"lat.gyre.test. 30 A " + latEUW1}, policy: "latency"},
		{name: "latency: all unhealthy answers as if all healthy", q: Question{Name: "lat.gyre.test.", Type: dns.TypeA, Subnet: tokyo}, down: []string{"hc-apne1", "hc-use1", "hc-euw1"},
			answer: []string{"lat.gyre.test. 30 A " + latAPNE1}, scope: 16, policy: "latency"},
		{name: "latency: all controls off answers as if all healthy", q: Question{Name: "lat.gyre.test.", Type: dns.TypeA, Subnet: dublin}, off: fixtureRegions,
			answer: []string{"lat.gyre.test. 30 A " + latEUW1}, scope: 16, policy: "latency"},

		{name: "failover: primary", q: Question{Name: "fo.gyre.test.", Type: dns.TypeA},
			answer: []string{"fo.gyre.test. 60 A " + foPrimary}, policy: "failover"},
		{name: "failover: primary unhealthy", q: Question{Name: "fo.gyre.test.", Type: dns.TypeA}, down: []string{"hc-primary"},
			answer: []string{"fo.gyre.test. 60 A " + foSecondary}, policy: "failover"},
		{name: "failover: both unhealthy, primary", q: Question{Name: "fo.gyre.test.", Type: dns.TypeA}, down: []string{"hc-primary", "hc-secondary"},
			answer: []string{"fo.gyre.test. 60 A " + foPrimary}, policy: "failover"},
		{name: "failover: secondary unhealthy", q: Question{Name: "fo.gyre.test.", Type: dns.TypeA}, down: []string{"hc-secondary"},
			answer: []string{"fo.gyre.test. 60 A " + foPrimary}, policy: "failover"},

		{name: "weighted: draw 0 of 4 is a", q: Question{Name: "w.gyre.test.", Type: dns.TypeA, Rand: &scripted{[]int{0}}},
			answer: []string{"w.gyre.test. 60 A " + wA}, policy: "weighted"},
		{name: "weighted: draw 1 of 4 is b", q: Question{Name: "w.gyre.test.", Type: dns.TypeA, Rand: &scripted{[]int{1}}},
			answer: []string{"w.gyre.test. 60 A " + wB}, policy: "weighted"},
		{name: "weighted: draw 3 of 4 is b", q: Question{Name: "w.gyre.test.", Type: dns.TypeA, Rand: &scripted{[]int{3}}},
			answer: []string{"w.gyre.test. 60 A " + wB}, policy: "weighted"},
		{name: "weighted: a unhealthy", q: Question{Name: "w.gyre.test.", Type: dns.TypeA, Rand: &scripted{[]int{0}}}, down: []string{"hc-a"},
			answer: []string{"w.gyre.test. 60 A " + wB}, policy: "weighted"},
		{name: "weighted: positive weights unhealthy, weight 0", q: Question{Name: "w.gyre.test.", Type: dns.TypeA}, down: []string{"hc-a", "hc-b"},
			answer: []string{"w.gyre.test. 60 A " + wZ}, policy: "weighted"},
		{name: "weighted: all unhealthy, positive weights again", q: Question{Name: "w.gyre.test.", Type: dns.TypeA, Rand: &scripted{[]int{2}}}, down: []string{"hc-a", "hc-b", "hc-z"},
			answer: []string{"w.gyre.test. 60 A " + wB}, policy: "weighted"},

		{name: "alias: answered with the target's answer and TTL", q: Question{Name: "App.gyre.test.", Type: dns.TypeA, Subnet: dublin},
			answer: []string{"App.gyre.test. 30 A " + latEUW1}, scope: 16, policy: "simple"},
		{name: "alias evaluating target health: target healthy", q: Question{Name: "edge.gyre.test.", Type: dns.TypeA, Subnet: tokyo},
			answer: []string{"edge.gyre.test. 30 A " + latAPNE1}, scope: 16, policy: "failover"},
		{name: "alias evaluating target health: one target record healthy is enough", q: Question{Name: "edge.gyre.test.", Type: dns.TypeA, Subnet: tokyo}, down: []string{"hc-apne1", "hc-use1"},
			answer: []string{"edge.gyre.test. 30 A " + latEUW1}, policy: "failover"},
		{name: "alias evaluating target health: target all unhealthy", q: Question{Name: "edge.gyre.test.", Type: dns.TypeA, Subnet: tokyo}, down: []string{"hc-apne1", "hc-use1", "hc-euw1"},
			answer: []string{"edge.gyre.test. 60 A " + edgeSecondary}, policy: "failover"},
		{name: "alias evaluating target health: regions off", q: Question{Name: "edge.gyre.test.", Type: dns.TypeA}, off: fixtureRegions,
			answer: []string{"edge.gyre.test. 60 A " + edgeSecondary}, policy: "failover"},

		{name: "CNAME followed in the zone", q: Question{Name: "docs.gyre.test.", Type: dns.TypeA},
			answer: []string{"docs.gyre.test. 60 CNAME www.gyre.test.", "www.gyre.test. 300 A " + wwwA1, "www.gyre.test. 300 A " + wwwA2}, policy: "simple"},
		{name: "CNAME to a NODATA", q: Question{Name: "docs.gyre.test.", Type: dns.TypeTXT},
			answer: []string{"docs.gyre.test. 60 CNAME www.gyre.test."}, authority: []string{negSOA}, policy: "simple"},
		{name: "CNAME asked for", q: Question{Name: "docs.gyre.test.", Type: dns.TypeCNAME},
			answer: []string{"docs.gyre.test. 60 CNAME www.gyre.test."}, policy: "simple"},
		{name: "CNAME out of the zone is not followed", q: Question{Name: "ext.gyre.test.", Type: dns.TypeA},
			answer: []string{"ext.gyre.test. 60 CNAME example.net."}, policy: "simple"},
		{name: "TXT", q: Question{Name: "a.b.deep.gyre.test.", Type: dns.TypeTXT},
			answer: []string{`a.b.deep.gyre.test. 60 TXT "hello"`, `a.b.deep.gyre.test. 60 TXT "back\\slash \"quoted\""`}, policy: "simple"},

		{name: "ANY: one set", q: Question{Name: "www.gyre.test.", Type: dns.TypeANY},
			answer: []string{"www.gyre.test. 300 A " + wwwA1, "www.gyre.test. 300 A " + wwwA2}, policy: "simple"},
		{name: "ANY at the apex: SOA", q: Question{Name: "gyre.test.", Type: dns.TypeANY},
			answer: []string{"gyre.test. 900 SOA ns1.gyre.test. hostmaster.gyre.test. 1 7200 900 1209600 60"}, policy: "none"},
		{name: "ANY of an empty non-terminal", q: Question{Name: "deep.gyre.test.", Type: dns.TypeANY},
			authority: []string{negSOA}, policy: "none"},
		{name: "ANY of nothing", q: Question{Name: "nope.gyre.test.", Type: dns.TypeANY},
			rcode: dns.RcodeNameError, authority: []string{negSOA}, policy: "none"},
		{name: "unsupported type of an existing name", q: Question{Name: "www.gyre.test.", Type: dns.TypeMX},
			authority: []string{negSOA}, policy: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, health, controls := newFixture(t)
			for _, c := range tt.down {
				health.set(c, false)
			}
			for _, r := range tt.off {
				controls.set(r, false)
			}
			got := s.Resolve(tt.q)
			if got.Rcode != tt.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[tt.rcode])
			}
			for _, sec := range []struct {
				name      string
				got, want []string
			}{{"answer", rrStrings(got.Answer), tt.answer}, {"authority", rrStrings(got.Authority), tt.authority}, {"additional", rrStrings(got.Additional), tt.extra}} {
				if !slices.Equal(sec.got, sec.want) {
					t.Errorf("%s section:\n got %q\nwant %q", sec.name, sec.got, sec.want)
				}
			}
			if got.Scope != tt.scope {
				t.Errorf("scope %d, want %d", got.Scope, tt.scope)
			}
			if got.Policy != tt.policy {
				t.Errorf("policy %q, want %q", got.Policy, tt.policy)
			}
		})
	}
}

func TestResolveMultivalue(t *testing.T) {
	s, health, _ := newFixture(t)
	ask := func() []string {
		var out []string
		for _, rr := range s.Resolve(Question{Name: "mv.gyre.test.", Type: dns.TypeA}).Answer {
			out = append(out, rr.(*dns.A).A.String())
		}
		return out
	}
	all := map[string]bool{}
	for i := 1; i <= multivalueRecords; i++ {
		all[fmt.Sprintf("192.0.2.%d", 50+i)] = true
	}
	check := func(what string, got []string, n int, allowed map[string]bool) {
		t.Helper()
		if len(got) != n {
			t.Errorf("%s: %d records %v, want %d", what, len(got), got, n)
		}
		seen := map[string]bool{}
		for _, a := range got {
			if !allowed[a] || seen[a] {
				t.Errorf("%s: %v has %s, which is a duplicate or not allowed", what, got, a)
			}
			seen[a] = true
		}
	}
	// All healthy: eight of the ten, in differing combinations.
	combos := map[string]bool{}
	for range 50 {
		got := ask()
		check("all healthy", got, maxMultivalue, all)
		combos[strings.Join(got, ",")] = true
	}
	if len(combos) < 2 {
		t.Errorf("50 multivalue answers were all the same: %v", combos)
	}
	// Three healthy: exactly those three.
	healthy := map[string]bool{}
	for i := 1; i <= multivalueRecords; i++ {
		if i <= 3 {
			healthy[fmt.Sprintf("192.0.2.%d", 50+i)] = true
		} else {
			health.set(fmt.Sprintf("hc-m%02d", i), false)
		}
	}
	check("three healthy", ask(), 3, healthy)
	// None healthy: eight of all.
	for i := 1; i <= 3; i++ {
		health.set(fmt.Sprintf("hc-m%02d", i), false)
	}
	check("none healthy", ask(), maxMultivalue, all)
}

func TestResolveWeightedDistribution(t *testing.T) {
	s, _, _ := newFixture(t)
	counts := map[string]int{}
	const n = 4000
	for range n {
		counts[s.Resolve(Question{Name: "w.gyre.test.", Type: dns.TypeA}).Answer[0].(*dns.A).A.String()]++
	}
	// a has weight 1 of 4: expect 1000, standard deviation ~27.
	if a := counts[wA]; a < 850 || a > 1150 {
		t.Errorf("a answered %d of %d times, want about %d", a, n, n/4)
	}
	if z := counts[wZ]; z != 0 {
		t.Errorf("z (weight 0) answered %d times while others are healthy", z)
	}
}

func TestResolvePicks(t *testing.T) {
	s, _, _ := newFixture(t)
	got := s.Resolve(Question{Name: "edge.gyre.test.", Type: dns.TypeA, Subnet: netip.MustParsePrefix("10.5.0.0/24")}).Picks
	want := []Pick{{Name: "edge.gyre.test.", Type: "A", ID: "lat"}, {Name: "lat.gyre.test.", Type: "A", ID: "apne1", Region: "ap-northeast-1"}}
	if !slices.Equal(got, want) {
		t.Errorf("picks %+v, want %+v", got, want)
	}
}

func TestScope(t *testing.T) {
	g := fixtureGeo(t)
	for _, tt := range []struct {
		subnet string
		want   int
	}{
		{"10.5.0.0/24", 16},
		{"10.5.0.0/16", 16},
		{"10.5.0.0/17", 16},
		{"10.5.3.4/32", 16},
		{"127.0.0.2/32", 32},
		{"10.1.0.0/24", 24}, // virginia, like the default: cannot tell
		{"10.0.0.0/8", 8},   // no network holds it: the default
		{"2001:db8::/56", 56},
	} {
		p := netip.MustParsePrefix(tt.subnet)
		if got := scope(g, p, g.LocatePrefix(p)); got != tt.want {
			t.Errorf("scope(%s) = %d, want %d", p, got, tt.want)
		}
	}
}
