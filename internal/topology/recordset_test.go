package topology

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gyre-dev/gyre/internal/dnsserver"
	"github.com/gyre-dev/gyre/internal/geo"
)

// TestRecordSetsAgreeWithTheDNSServer gives the same record sets to
// gyre.yaml's validation and to the DNS server, as the router builds it:
// both accept them or both refuse them, for the same reasons. The cases
// include the ones where the two used to differ.
func TestRecordSetsAgreeWithTheDNSServer(t *testing.T) {
	ip := func(region string, more ...func(*Record)) Record {
		r := Record{Region: region, HealthCheck: region}
		for _, m := range more {
			m(&r)
		}
		return r
	}
	weight := func(w int) func(*Record) { return func(r *Record) { r.Weight = w } }
	role := func(f string) func(*Record) { return func(r *Record) { r.Failover = f } }
	values := func(v ...string) func(*Record) { return func(r *Record) { r.Values = v } }
	type problem struct{ path, msg string }
	tests := []struct {
		name string
		set  RecordSet
		want []problem // nil: both accept
		// own is set when the problem is the topology's alone, a field
		// the DNS server does not see (the regions, the health checks).
		own bool
	}{
		// Letter case: gyre.yaml refused these, the DNS server took them.
		{name: "type in lower case", set: RecordSet{Name: "x", Type: "a", Policy: "latency", Records: []Record{ip("us-east-1")}}},
		{name: "policy in upper case", set: RecordSet{Name: "x", Policy: "Latency", Records: []Record{ip("us-east-1"), ip("eu-west-1")}}},
		{name: "failover roles in lower case", set: RecordSet{Name: "x", Policy: "failover", Records: []Record{
			ip("us-east-1", role("primary")), ip("eu-west-1", role("Secondary"))}}},
		{name: "a type in no case", set: RecordSet{Name: "x", Type: "mx", Records: []Record{{Values: []string{"x"}}}},
			want: []problem{{"routing.record_sets[0].type", `record type "mx" is not A, AAAA, CNAME or TXT`}}},
		{name: "a policy in no case", set: RecordSet{Name: "x", Policy: "geo", Records: []Record{ip("us-east-1")}},
			want: []problem{{"routing.record_sets[0].policy", `policy "geo" is not simple, latency, failover, weighted or multivalue`}}},
		{name: "a failover role in no case", set: RecordSet{Name: "x", Policy: "failover", Records: []Record{
			ip("us-east-1", role("primary")), ip("eu-west-1", role("tertiary"))}},
			want: []problem{{"routing.record_sets[0].records[1].failover", `failover "tertiary" is not PRIMARY or SECONDARY`}}},

		// Rules both had.
		{name: "latency record without a region", set: RecordSet{Name: "x", Policy: "latency", Records: []Record{{Values: []string{"192.0.2.1"}}}},
			want: []problem{{"routing.record_sets[0].records[0].region", "a latency record needs a region"}}},
		{name: "weight over 255", set: RecordSet{Name: "x", Policy: "weighted", Records: []Record{ip("us-east-1", weight(256))}},
			want: []problem{{"routing.record_sets[0].records[0].weight", "weight 256 is outside 0..255"}}},
		{name: "not an IPv4 address", set: RecordSet{Name: "x", Records: []Record{{Values: []string{"192.0.2.1", "2001:db8::1"}}}},
			want: []problem{{"routing.record_sets[0].records[0].values[1]", `"2001:db8::1" is not an IPv4 address`}}},
		{name: "no records", set: RecordSet{Name: "x"},
			want: []problem{{"routing.record_sets[0].records", "a record set needs at least one record"}}},
		{name: "neither values nor an alias", set: RecordSet{Name: "x", Type: "TXT", Policy: "latency", Records: []Record{ip("us-east-1")}},
			want: []problem{{"routing.record_sets[0].records[0].values", "has neither values nor an alias"}}},

		// gyre.yaml took these, and the router then failed to start.
		{name: "weight outside a weighted set", set: RecordSet{Name: "x", Policy: "latency", Records: []Record{ip("us-east-1", weight(10))}},
			want: []problem{{"routing.record_sets[0].records[0].weight", "weight applies to weighted records only; this latency record has weight 10"}}},
		{name: "IPv4-mapped AAAA value", set: RecordSet{Name: "x", Type: "AAAA", Records: []Record{{Values: []string{"::ffff:192.0.2.1"}}}},
			want: []problem{{"routing.record_sets[0].records[0].values[0]", `"::ffff:192.0.2.1" is not an IPv6 address`}}},
		{name: "simple set of two records", set: RecordSet{Name: "x", Records: []Record{{Values: []string{"192.0.2.1"}}, {Values: []string{"192.0.2.2"}}}},
			want: []problem{{"routing.record_sets[0].records", "a simple record set has exactly one record"}}},
		{name: "name ending with the zone", set: RecordSet{Name: "x.gyre.test", Records: []Record{{Values: []string{"192.0.2.1"}}}},
			want: []problem{{"routing.record_sets[0].name", `write it relative ("x") or fully qualified ("x.gyre.test.")`}}},
		{name: "alias to nothing", set: RecordSet{Name: "x", Records: []Record{{Alias: "nothing"}}},
			want: []problem{{"routing.record_sets[0].records[0].alias", "alias target nothing.gyre.test. has no A record set"}}},
		{name: "two latency records of a region", set: RecordSet{Name: "x", Policy: "latency", Records: []Record{ip("us-east-1"), ip("us-east-1", values("192.0.2.1"))}},
			want: []problem{
				{"routing.record_sets[0].records[1].id", `duplicate ID "us-east-1"`},
				{"routing.record_sets[0].records[1].region", `another record of the set is in region "us-east-1"`},
			}},
		{name: "failover role outside a failover set", set: RecordSet{Name: "x", Policy: "weighted", Records: []Record{ip("us-east-1", weight(1), role("PRIMARY"))}},
			want: []problem{{"routing.record_sets[0].records[0].failover", "failover role applies to failover records only"}}},

		// A simple record's region and health check only give it its value:
		// the router does not hand them to the DNS server.
		{name: "simple record of a region", set: RecordSet{Name: "x", Records: []Record{ip("us-east-1")}}},

		// The topology's own rules.
		{name: "no such health check", set: RecordSet{Name: "x", Policy: "latency", Records: []Record{{Region: "us-east-1", HealthCheck: "nope"}}},
			want: []problem{{"routing.record_sets[0].records[0].health_check", `no health check "nope"`}}, own: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := Default()
			top.Routing.RecordSets = []RecordSet{tt.set}
			top.EnsureDefaults()
			var got []Problem
			if err := top.Validate(); err != nil {
				got = problemsOf(t, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Validate found %d problems, want %d: %v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				if got[i].Path != w.path || !strings.Contains(got[i].Msg, w.msg) {
					t.Errorf("problem %d is %s, want %s: ...%s...", i, got[i], w.path, w.msg)
				}
			}

			g, err := geo.New(geo.Options{Regions: top.RegionNames()})
			if err != nil {
				t.Fatal(err)
			}
			_, err = dnsserver.New(dnsserver.Options{Zone: top.Routing.Zone, Addr: top.Routing.DNS, RecordSets: top.DNSRecordSets(nil), Geo: g})
			switch {
			case (err == nil) != (len(tt.want) == 0 || tt.own):
				t.Fatalf("the DNS server says %v; gyre.yaml's validation %v", err, got)
			case err != nil:
				for _, p := range got {
					if !strings.Contains(err.Error(), p.Msg) {
						t.Errorf("the DNS server's error does not say %q:\n%v", p.Msg, err)
					}
				}
			}
		})
	}
}

// TestRecordSetProblemsHaveLines shows the DNS server's problems at the
// line of the field in gyre.yaml.
func TestRecordSetProblemsHaveLines(t *testing.T) {
	_, err := Parse([]byte(`routing:
  record_sets:
    - name: x
      type: aaaa
      policy: weighted
      records:
        - id: one
          values: ["::ffff:192.0.2.1"]
          weight: 300
        - id: one
          values: ["2001:db8::1"]
          failover: primary
`))
	want := []Problem{
		{"routing.record_sets[0].records[0].values[0]", 8, `"::ffff:192.0.2.1" is not an IPv6 address`},
		{"routing.record_sets[0].records[0].weight", 9, "weight 300 is outside 0..255"},
		{"routing.record_sets[0].records[1].id", 10, `duplicate ID "one": another record of the set has it`},
		{"routing.record_sets[0].records[1].failover", 12, `failover role applies to failover records only; this weighted record has "PRIMARY"`},
	}
	if got := problemsOf(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("problems\n%v\nwant\n%v", got, want)
	}
}

func TestRecordSetCaseIsTheDNSServers(t *testing.T) {
	top, err := Parse([]byte(`routing:
  record_sets:
    - name: x
      type: aaaa
      policy: Failover
      records:
        - {values: ["2001:db8::1"], failover: primary}
        - {values: ["2001:db8::2"], failover: Secondary}
`))
	if err != nil {
		t.Fatal(err)
	}
	rs := top.Routing.RecordSets[0]
	if rs.Type != "AAAA" || rs.Policy != "failover" || rs.Records[0].Failover != "PRIMARY" || rs.Records[1].Failover != "SECONDARY" {
		t.Errorf("record set spelt %s %s %s %s, want AAAA failover PRIMARY SECONDARY", rs.Type, rs.Policy, rs.Records[0].Failover, rs.Records[1].Failover)
	}
}

// TestRecordSetFieldsAreTheDNSServers checks what recordSetPath relies on:
// every field of the DNS server's record sets and records, which its
// problems name, is a field of gyre.yaml's by the same name.
func TestRecordSetFieldsAreTheDNSServers(t *testing.T) {
	for _, pair := range []struct{ dns, yaml reflect.Type }{
		{reflect.TypeFor[dnsserver.RecordSet](), reflect.TypeFor[RecordSet]()},
		{reflect.TypeFor[dnsserver.Record](), reflect.TypeFor[Record]()},
	} {
		for f := range pair.dns.Fields() {
			if g, ok := pair.yaml.FieldByName(f.Name); !ok || g.Tag.Get("yaml") == "" {
				t.Errorf("%s.%s has no field of that name in %s", pair.dns, f.Name, pair.yaml)
			}
		}
	}
	for _, tt := range []struct {
		p    dnsserver.Problem
		want string
	}{
		{dnsserver.Problem{Set: 2, Record: -1, Field: "TTL"}, "routing.record_sets[2].ttl"},
		{dnsserver.Problem{Set: 0, Record: -1}, "routing.record_sets[0]"},
		{dnsserver.Problem{Set: 1, Record: 3, Field: "EvaluateTargetHealth"}, "routing.record_sets[1].records[3].evaluate_target_health"},
		{dnsserver.Problem{Set: 1, Record: 0, Field: "Values[4]"}, "routing.record_sets[1].records[0].values[4]"},
		{dnsserver.Problem{Set: 1, Record: 0, Field: "Unknown"}, "routing.record_sets[1].records[0]"},
	} {
		if got := recordSetPath(tt.p); got != tt.want {
			t.Errorf("recordSetPath(%+v) = %s, want %s", tt.p, got, tt.want)
		}
	}
}
