package dnsserver

import (
	"strings"
	"testing"
)

func TestCheckRecordSets(t *testing.T) {
	v4 := func(id string, values ...string) Record { return Record{ID: id, Values: values} }
	tests := []struct {
		name string
		sets []RecordSet
		want []Problem // Msg is a substring of the problem's
	}{
		{"types, policies and failover roles in any case", []RecordSet{
			{Name: "a", Type: "a", Policy: "Latency", Records: []Record{{ID: "x", Region: "us-east-1", Values: []string{"192.0.2.1"}}}},
			{Name: "b", Type: "aaaa", Policy: "FAILOVER", Records: []Record{
				{ID: "p", Failover: "primary", Values: []string{"2001:db8::1"}},
				{ID: "s", Failover: "Secondary", Values: []string{"2001:db8::2"}},
			}},
			{Name: "c", Type: "Txt", Policy: "weighted", Records: []Record{{ID: "x", Weight: 255, Values: []string{"v"}}}},
			{Name: "d", Type: "cname", Records: []Record{{Values: []string{"c.gyre.test."}}}},
		}, nil},
		{"unknown type", []RecordSet{{Name: "a", Type: "mx", Records: []Record{v4("", "x")}}},
			[]Problem{{0, -1, "Type", `record type "mx" is not A, AAAA, CNAME or TXT`}}},
		{"unknown policy", []RecordSet{{Name: "a", Type: "A", Policy: "geo", Records: []Record{v4("x", "192.0.2.1")}}},
			[]Problem{{0, -1, "Policy", `policy "geo" is not simple, latency, failover, weighted or multivalue`}}},
		{"no records", []RecordSet{{Name: "a", Type: "A"}},
			[]Problem{{0, -1, "Records", "has no records"}}},
		{"bad names", []RecordSet{
			{Name: "a.gyre.test", Type: "A", Records: []Record{v4("", "192.0.2.1")}},
			{Name: "b.example.", Type: "A", Records: []Record{v4("", "192.0.2.1")}},
		}, []Problem{{0, -1, "Name", "ends with the zone's name"}, {1, -1, "Name", "outside the zone"}}},
		{"weights", []RecordSet{
			{Name: "a", Type: "A", Policy: "weighted", Records: []Record{{ID: "x", Weight: 256, Values: []string{"192.0.2.1"}}}},
			{Name: "b", Type: "A", Policy: "latency", Records: []Record{{ID: "x", Region: "us-east-1", Weight: 3, Values: []string{"192.0.2.1"}}}},
		}, []Problem{
			{0, 0, "Weight", "weight 256 is outside 0..255"},
			{1, 0, "Weight", "weight applies to weighted records only; this latency record has weight 3"},
		}},
		{"failover roles", []RecordSet{
			{Name: "a", Type: "A", Policy: "failover", Records: []Record{{ID: "x", Failover: "tertiary", Values: []string{"192.0.2.1"}}}},
			{Name: "b", Type: "A", Policy: "latency", Records: []Record{{ID: "x", Region: "us-east-1", Failover: "primary", Values: []string{"192.0.2.1"}}}},
		}, []Problem{
			{0, 0, "Failover", `failover "tertiary" is not PRIMARY or SECONDARY`},
			{0, -1, "Records", "one PRIMARY and at most one SECONDARY; it has 0 and 0"},
			{1, 0, "Failover", `failover role applies to failover records only; this latency record has "primary"`},
		}},
		{"latency records need a region", []RecordSet{{Name: "a", Type: "A", Policy: "latency", Records: []Record{v4("x", "192.0.2.1")}}},
			[]Problem{{0, 0, "Region", "a latency record needs a region"}}},
		{"values", []RecordSet{
			{Name: "a", Type: "A", Records: []Record{v4("", "192.0.2.1", "2001:db8::1")}},
			{Name: "b", Type: "AAAA", Records: []Record{v4("", "::ffff:192.0.2.1")}},
			{Name: "c", Type: "A", Policy: "multivalue", Records: []Record{v4("x"), {ID: "y", Alias: "a", Values: []string{"192.0.2.1"}}}},
		}, []Problem{
			{0, 0, "Values[1]", `"2001:db8::1" is not an IPv4 address`},
			{1, 0, "Values[0]", `"::ffff:192.0.2.1" is not an IPv6 address`},
			{2, 0, "Values", "has neither values nor an alias"},
			{2, 1, "Alias", "has both values and an alias"},
		}},
		{"aliases", []RecordSet{
			{Name: "a", Type: "A", Records: []Record{{Alias: "missing"}}},
			{Name: "b", Type: "A", Records: []Record{{Alias: "b"}}},
		}, []Problem{
			{0, 0, "Alias", "alias target missing.gyre.test. has no A record set"},
			{1, -1, "", "aliases form a loop"},
		}},
		{"the same name and type twice", []RecordSet{
			{Name: "a", Type: "A", Records: []Record{v4("", "192.0.2.1")}},
			{Name: "A.gyre.test.", Type: "a", Records: []Record{v4("", "192.0.2.2")}},
		}, []Problem{{1, -1, "Name", "another record set has the same name and type"}}},
	}
	g := fixtureGeo(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckRecordSets("gyre.test", tt.sets)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("CheckRecordSets = %+v, want %d problems like %+v", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if p := got[i]; p.Set != w.Set || p.Record != w.Record || p.Field != w.Field || !strings.Contains(p.Msg, w.Msg) {
					t.Errorf("problem %d is %+v, want %+v", i, p, w)
				}
			}
			// New refuses the sets for exactly these problems, in the same words.
			_, err = New(Options{RecordSets: tt.sets, Geo: g})
			if len(got) == 0 {
				if err != nil {
					t.Errorf("CheckRecordSets found nothing, New refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckRecordSets found %+v, New accepted", got)
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(got) {
				t.Errorf("New found %d problems, CheckRecordSets %d:\n%v", n, len(got), err)
			}
			for _, p := range got {
				if !strings.Contains(err.Error(), ": "+p.Msg) {
					t.Errorf("New's error does not say %q:\n%v", p.Msg, err)
				}
			}
		})
	}
}

// TestCheckRecordSetsLeavesOptionsToNew shows the rules that need the rest
// of the Options: New applies them, CheckRecordSets cannot.
func TestCheckRecordSetsLeavesOptionsToNew(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"a region Geo lacks", Options{Geo: fixtureGeo(t)}, `region "mars-north-1" is not one of Options.Geo's regions`},
		{"no Geo", Options{}, "latency records need Options.Geo"},
	}
	sets := []RecordSet{{Name: "a", Type: "A", Policy: "latency", Records: []Record{{ID: "x", Region: "mars-north-1", Values: []string{"192.0.2.1"}}}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ps, err := CheckRecordSets(tt.o.Zone, sets); len(ps) != 0 || err != nil {
				t.Errorf("CheckRecordSets = %+v, %v; want no problems", ps, err)
			}
			tt.o.RecordSets = sets
			if _, err := New(tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want %q", err, tt.want)
			}
		})
	}
	// A name server's address is a name New knows of, CheckRecordSets not.
	ns := []RecordSet{{Name: "ns1", Type: "A", Records: []Record{{Values: []string{"192.0.2.1"}}}}}
	if ps, err := CheckRecordSets("", ns); len(ps) != 0 || err != nil {
		t.Errorf("CheckRecordSets of ns1 = %+v, %v; want no problems", ps, err)
	}
	if _, err := New(Options{RecordSets: ns}); err == nil || !strings.Contains(err.Error(), "the name server's addresses") {
		t.Errorf("New with a set of ns1: %v, want the name server's addresses refused", err)
	}
}

func TestCheckRecordSetsRefusesABadZone(t *testing.T) {
	for _, zone := range []string{"bad..zone", "."} {
		if ps, err := CheckRecordSets(zone, []RecordSet{{Name: "a"}}); err == nil || ps != nil {
			t.Errorf("CheckRecordSets(%q) = %+v, %v; want an error", zone, ps, err)
		}
	}
}
