package dnsserver

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestNewRefusesBadRecordSets(t *testing.T) {
	g := fixtureGeo(t)
	tests := []struct {
		name string
		sets []RecordSet
		want []string // substrings of the error, every one of them
	}{
		{"unknown type", []RecordSet{{Name: "a", Type: "MX", Records: []Record{{Values: []string{"x"}}}}}, []string{`type "MX"`}},
		{"unknown policy", []RecordSet{{Name: "a", Type: "A", Policy: "geo", Records: []Record{{ID: "x", Values: []string{"192.0.2.1"}}}}}, []string{`policy "geo"`}},
		{"name outside the zone", []RecordSet{{Name: "a.example.com.", Type: "A", Records: []Record{{Values: []string{"192.0.2.1"}}}}}, []string{"outside the zone"}},
		{"ambiguous name", []RecordSet{{Name: "api.gyre.test", Type: "A", Records: []Record{{Values: []string{"192.0.2.1"}}}}}, []string{`write it relative ("api") or fully qualified ("api.gyre.test.")`}},
		{"wildcard", []RecordSet{{Name: "*.a", Type: "A", Records: []Record{{Values: []string{"192.0.2.1"}}}}}, []string{"wildcards are not supported"}},
		{"bad label", []RecordSet{{Name: "a b", Type: "A", Records: []Record{{Values: []string{"192.0.2.1"}}}}}, []string{"only letters, digits"}},
		{"no records", []RecordSet{{Name: "a", Type: "A"}}, []string{"has no records"}},
		{"simple with two records", []RecordSet{{Name: "a", Type: "A", Records: []Record{{Values: []string{"192.0.2.1"}}, {Values: []string{"192.0.2.2"}}}}}, []string{"exactly one record"}},
		{"simple with a health check and region", []RecordSet{{Name: "a", Type: "A", Records: []Record{{Values: []string{"192.0.2.1"}, HealthCheck: "hc", Region: "us-east-1"}}}}, []string{"simple records have no health check", "simple records have no region"}},
		{"bad addresses", []RecordSet{
			{Name: "a", Type: "A", Records: []Record{{Values: []string{"2001:db8::1", "192.0.2.300", "192.0.2.1", "192.0.2.1"}}}},
			{Name: "a", Type: "AAAA", Records: []Record{{Values: []string{"192.0.2.1", "::ffff:192.0.2.1"}}}},
		}, []string{`"2001:db8::1" is not an IPv4 address`, `"192.0.2.300" is not an IPv4 address`, `duplicate value "192.0.2.1"`, `"192.0.2.1" is not an IPv6 address`, `"::ffff:192.0.2.1" is not an IPv6 address`}},
		{"values and alias", []RecordSet{{Name: "a", Type: "A", Records: []Record{{Values: []string{"192.0.2.1"}, Alias: "b"}}}}, []string{"both values and an alias"}},
		{"neither values nor alias", []RecordSet{{Name: "a", Type: "A", Records: []Record{{}}}}, []string{"neither values nor an alias"}},
		{"missing IDs", []RecordSet{{Name: "a", Type: "A", Policy: "weighted", Records: []Record{{Values: []string{"192.0.2.1"}, Weight: 1}, {ID: "x", Values: []string{"192.0.2.2"}}, {ID: "x", Values: []string{"192.0.2.3"}}}}}, []string{"a weighted record needs an ID", `record "x": duplicate ID`}},
		{"weights", []RecordSet{
			{Name: "a", Type: "A", Policy: "weighted", Records: []Record{{ID: "x", Values: []string{"192.0.2.1"}, Weight: 256}, {ID: "y", Values: []string{"192.0.2.2"}, Weight: -1}}},
			{Name: "b", Type: "A", Policy: "failover", Records: []Record{{ID: "x", Values: []string{"192.0.2.1"}, Weight: 1, Failover: "primary"}}},
		}, []string{"weight 256 is outside 0..255", "weight -1 is outside 0..255", "weight applies to weighted records only"}},
		{"latency without regions, duplicate, unknown", []RecordSet{{Name: "a", Type: "A", Policy: "latency", Records: []Record{
			{ID: "x", Values: []string{"192.0.2.1"}},
			{ID: "y", Values: []string{"192.0.2.2"}, Region: "us-east-1"},
			{ID: "z", Values: []string{"192.0.2.3"}, Region: "us-east-1"},
			{ID: "w", Values: []string{"192.0.2.4"}, Region: "mars-north-1"},
		}}}, []string{"a latency record needs a region", `another record of the set is in region "us-east-1"`, `region "mars-north-1" is not one of Options.Geo's regions`}},
		{"failover roles", []RecordSet{
			{Name: "a", Type: "A", Policy: "failover", Records: []Record{{ID: "x", Values: []string{"192.0.2.1"}, Failover: "secondary"}}},
			{Name: "b", Type: "A", Policy: "failover", Records: []Record{{ID: "x", Values: []string{"192.0.2.1"}, Failover: "primary"}, {ID: "y", Values: []string{"192.0.2.2"}, Failover: "primary"}}},
			{Name: "c", Type: "A", Policy: "failover", Records: []Record{{ID: "x", Values: []string{"192.0.2.1"}, Failover: "tertiary"}, {ID: "y", Values: []string{"192.0.2.2"}}}},
			{Name: "d", Type: "A", Policy: "weighted", Records: []Record{{ID: "x", Values: []string{"192.0.2.1"}, Failover: "primary"}}},
		}, []string{"one PRIMARY and at most one SECONDARY; it has 0 and 1", "it has 2 and 0", `failover "tertiary" is not PRIMARY or SECONDARY`, "a failover record is PRIMARY or SECONDARY", "failover role applies to failover records only"}},
		{"multivalue alias and CNAME", []RecordSet{
			{Name: "a", Type: "A", Policy: "multivalue", Records: []Record{{ID: "x", Alias: "b"}}},
			{Name: "b", Type: "A", Records: []Record{{Values: []string{"192.0.2.1"}}}},
			{Name: "c", Type: "CNAME", Policy: "multivalue", Records: []Record{{ID: "x", Values: []string{"b.gyre.test."}}}},
		}, []string{"multivalue records cannot be aliases", "a CNAME record set cannot be multivalue"}},
		{"CNAME rules", []RecordSet{
			{Name: "@", Type: "CNAME", Records: []Record{{Values: []string{"x.example."}}}},
			{Name: "a", Type: "CNAME", Records: []Record{{Values: []string{"x.example.", "y.example."}}}},
			{Name: "b", Type: "CNAME", Records: []Record{{Values: []string{"x.example."}}}},
			{Name: "b", Type: "A", Records: []Record{{Values: []string{"192.0.2.1"}}}},
		}, []string{"apex cannot have a CNAME", "a CNAME record has exactly one value; it has 2", "a name with a CNAME record set has no other record set"}},
		{"duplicate set", []RecordSet{
			{Name: "a", Type: "A", Records: []Record{{Values: []string{"192.0.2.1"}}}},
			{Name: "A.gyre.test.", Type: "a", Records: []Record{{Values: []string{"192.0.2.2"}}}},
		}, []string{"another record set has the same name and type"}},
		{"the name server's address", []RecordSet{{Name: "ns1", Type: "A", Records: []Record{{Values: []string{"192.0.2.1"}}}}}, []string{"the name server's addresses"}},
		{"aliases", []RecordSet{
			{Name: "a", Type: "A", Records: []Record{{Alias: "missing"}}},
			{Name: "b", Type: "A", Records: []Record{{Alias: "c"}}},
			{Name: "c", Type: "AAAA", Records: []Record{{Values: []string{"2001:db8::1"}}}},
			{Name: "d", Type: "A", Records: []Record{{Alias: "e"}}},
			{Name: "e", Type: "A", Records: []Record{{Alias: "d"}}},
			{Name: "f", Type: "A", Records: []Record{{Alias: "f"}}},
			{Name: "g", Type: "A", Records: []Record{{Values: []string{"192.0.2.1"}, EvaluateTargetHealth: true}}},
		}, []string{"alias target missing.gyre.test. has no A record set", "alias target c.gyre.test. has no A record set", "aliases form a loop", "f.gyre.test. A: aliases form a loop", "EvaluateTargetHealth applies to aliases only"}},
		{"TTLs", []RecordSet{
			{Name: "a", Type: "A", TTL: 1500 * time.Millisecond, Records: []Record{{Values: []string{"192.0.2.1"}}}},
			{Name: "b", Type: "A", TTL: -time.Second, Records: []Record{{Values: []string{"192.0.2.1"}}}},
		}, []string{"not a whole number of seconds", "is negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Options{RecordSets: tt.sets, Geo: g})
			if err == nil {
				t.Fatalf("New accepted %+v", tt.sets)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	// A bad zone is reported alone: every name would be wrong with it.
	_, err := New(Options{Zone: "bad..zone", RecordSets: []RecordSet{{Name: "a"}}})
	if err == nil || err.Error() != `dnsserver: Options.Zone "bad..zone." is not a domain name` {
		t.Errorf("bad zone: %v", err)
	}
	_, err = New(Options{
		Addr:        "no-port",
		MaxUDPSize:  100,
		NSTTL:       -time.Second,
		SOA:         SOA{Minimum: time.Millisecond},
		NameServers: []NameServer{{Name: "ns.example.net.", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
		RecordSets:  []RecordSet{{Name: "lat", Type: "A", Policy: "latency", Records: []Record{{ID: "x", Values: []string{"192.0.2.1"}, Region: "us-east-1"}}}},
	})
	if err == nil {
		t.Fatal("New accepted bad options")
	}
	for _, w := range []string{"Options.Addr", "Options.MaxUDPSize 100", "Options.NSTTL", "Options.SOA.Minimum", "outside the zone: it cannot have addresses", "latency records need Options.Geo"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not mention %q:\n%v", w, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := s.Resolve(Question{Name: "gyre.test.", Type: dns.TypeSOA})
	if got, want := rrStrings(r.Answer), []string{"gyre.test. 900 SOA ns1.gyre.test. hostmaster.gyre.test. 1 7200 900 1209600 60"}; !equalStrings(got, want) {
		t.Errorf("default SOA %q, want %q", got, want)
	}
	// The default name server has Addr's address.
	r = s.Resolve(Question{Name: "ns1.gyre.test.", Type: dns.TypeA})
	if got, want := rrStrings(r.Answer), []string{"ns1.gyre.test. 172800 A 127.0.0.1"}; !equalStrings(got, want) {
		t.Errorf("default name server address %q, want %q", got, want)
	}
}

func TestMailbox(t *testing.T) {
	s, err := New(Options{Zone: "Example.Test.", SOA: SOA{Mailbox: "dns.admin@example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	soa := s.Resolve(Question{Name: "example.test.", Type: dns.TypeSOA}).Answer[0].(*dns.SOA)
	if soa.Mbox != `dns\.admin.example.test.` {
		t.Errorf("mailbox %q, want %q", soa.Mbox, `dns\.admin.example.test.`)
	}
}

func TestSetRecordSets(t *testing.T) {
	s, _, _ := newFixture(t)
	serial := func() uint32 {
		return s.Resolve(Question{Name: "gyre.test.", Type: dns.TypeSOA}).Answer[0].(*dns.SOA).Serial
	}
	if got := serial(); got != 1 {
		t.Fatalf("serial %d, want 1", got)
	}
	err := s.SetRecordSets([]RecordSet{{Name: "new", Type: "A", Records: []Record{{Alias: "missing"}}}})
	if err == nil {
		t.Fatal("SetRecordSets accepted an alias to nothing")
	}
	if r := s.Resolve(Question{Name: "www.gyre.test.", Type: dns.TypeA}); len(r.Answer) != 2 {
		t.Errorf("a refused SetRecordSets changed the zone: www has %d answers", len(r.Answer))
	}
	if err := s.SetRecordSets([]RecordSet{{Name: "New", Type: "a", Records: []Record{{Values: []string{"192.0.2.7"}}}}}); err != nil {
		t.Fatal(err)
	}
	if got := serial(); got != 2 {
		t.Errorf("serial %d after SetRecordSets, want 2", got)
	}
	if r := s.Resolve(Question{Name: "www.gyre.test.", Type: dns.TypeA}); r.Rcode != dns.RcodeNameError {
		t.Errorf("www is %s after it was removed, want NXDOMAIN", dns.RcodeToString[r.Rcode])
	}
	if r := s.Resolve(Question{Name: "new.gyre.test.", Type: dns.TypeA}); len(r.Answer) != 1 {
		t.Errorf("new has %d answers, want 1", len(r.Answer))
	}
	got := s.RecordSets()
	want := RecordSet{Name: "new.gyre.test.", Type: "A", TTL: DefaultTTL, Policy: PolicySimple, Records: []Record{{Values: []string{"192.0.2.7"}}}}
	if len(got) != 1 || got[0].Name != want.Name || got[0].Type != want.Type || got[0].TTL != want.TTL || got[0].Policy != want.Policy || !equalStrings(got[0].Records[0].Values, want.Records[0].Values) {
		t.Errorf("RecordSets() = %+v, want [%+v]", got, want)
	}
	// Latency sets need a geo table the server was given.
	s2, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.SetRecordSets(fixtureSets()); err == nil || !strings.Contains(err.Error(), "latency records need Options.Geo") {
		t.Errorf("SetRecordSets with latency sets and no Geo: %v", err)
	}
}

func equalStrings(a, b []string) bool { return slices.Equal(a, b) }
