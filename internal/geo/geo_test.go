package geo

import (
	"net/netip"
	"testing"
	"time"
)

func TestBuiltinLocationsRankTheirAnchorFirst(t *testing.T) {
	regions := []string{"us-east-1", "us-west-2", "eu-west-1"}
	tb, err := New(Options{Regions: regions})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ location, nearest string }{
		{"virginia", "us-east-1"}, {"oregon", "us-west-2"}, {"dublin", "eu-west-1"},
		{"berlin", "eu-west-1"}, {"tokyo", "us-west-2"}, {"sydney", "us-west-2"}, {"sao-paulo", "us-east-1"},
	} {
		if got := tb.Rank(tc.location, regions)[0]; got != tc.nearest {
			t.Errorf("nearest region to %s = %s, want %s", tc.location, got, tc.nearest)
		}
	}
	if d, _ := tb.RTT("virginia", "us-east-1"); d != LastMile {
		t.Errorf("virginia to us-east-1 = %v, want the last mile %v", d, LastMile)
	}
}

func TestLocate(t *testing.T) {
	tb, err := New(Options{
		Regions:  []string{"us-east-1"},
		Networks: append([]Network{{netip.MustParsePrefix("10.5.7.0/24"), "sydney"}}, DefaultNetworks...),
		Default:  "dublin",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ addr, want string }{
		{"10.5.1.1", "tokyo"}, {"10.5.7.9", "sydney"}, {"127.0.0.1", "dublin"}, {"::ffff:10.2.0.1", "oregon"},
	} {
		if got := tb.Locate(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Locate(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
	if got := tb.LocatePrefix(netip.MustParsePrefix("10.5.7.0/24")); got != "sydney" {
		t.Errorf("LocatePrefix(10.5.7.0/24) = %s", got)
	}
	// A subnet wider than every network matches none.
	if got := tb.LocatePrefix(netip.MustParsePrefix("10.0.0.0/8")); got != "dublin" {
		t.Errorf("LocatePrefix(10.0.0.0/8) = %s, want the default", got)
	}
}

func TestMeasuredOverridesTable(t *testing.T) {
	tb, _ := New(Options{Regions: []string{"us-east-1", "eu-west-1"}})
	if got := tb.Rank("virginia", []string{"us-east-1", "eu-west-1"})[0]; got != "us-east-1" {
		t.Fatalf("precondition: %s", got)
	}
	tb.SetMeasured("virginia", "us-east-1", 500*time.Millisecond)
	if got := tb.Rank("virginia", []string{"us-east-1", "eu-west-1"})[0]; got != "eu-west-1" {
		t.Errorf("after measuring us-east-1 slow, nearest = %s", got)
	}
}

func TestNewReportsProblems(t *testing.T) {
	_, err := New(Options{Regions: []string{"r"}, Networks: []Network{{netip.MustParsePrefix("10.0.0.0/8"), "atlantis"}}, Default: "lemuria"})
	if err == nil {
		t.Fatal("unknown locations accepted")
	}
}
