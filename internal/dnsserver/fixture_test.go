package dnsserver

import (
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gyre-dev/gyre/internal/geo"
)

// switches is a test's health checks or routing controls: everything is
// on until turned off.
type switches struct {
	mu  sync.Mutex
	off map[string]bool
}

func newSwitches() *switches { return &switches{off: map[string]bool{}} }

func (s *switches) set(name string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.off[name] = !on
}

func (s *switches) on(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.off[name]
}

// Addresses of the fixture's records.
const (
	wwwA1, wwwA2      = "192.0.2.1", "192.0.2.2"
	latUSE1, latEUW1  = "192.0.2.10", "192.0.2.20"
	latAPNE1          = "192.0.2.30"
	foPrimary         = "192.0.2.100"
	foSecondary       = "192.0.2.200"
	wA, wB, wZ        = "192.0.2.41", "192.0.2.42", "192.0.2.49"
	edgeSecondary     = "192.0.2.250"
	bigValues         = 100
	multivalueRecords = 10
)

var fixtureRegions = []string{"us-east-1", "eu-west-1", "ap-northeast-1"}

// fixtureGeo locates the default networks (10.5.0.0/16 is tokyo, ...),
// and two loopback sources: 127.0.0.2 in tokyo, 127.0.0.3 in dublin.
func fixtureGeo(t testing.TB) *geo.Table {
	t.Helper()
	g, err := geo.New(geo.Options{
		Regions: fixtureRegions,
		Networks: append(slices.Clone(geo.DefaultNetworks),
			geo.Network{Prefix: netip.MustParsePrefix("127.0.0.2/32"), Location: "tokyo"},
			geo.Network{Prefix: netip.MustParsePrefix("127.0.0.3/32"), Location: "dublin"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// fixtureSets is a zone with a record set of every policy.
func fixtureSets() []RecordSet {
	var mv []Record
	for i := 1; i <= multivalueRecords; i++ {
		mv = append(mv, Record{ID: fmt.Sprintf("m%02d", i), Values: []string{fmt.Sprintf("192.0.2.%d", 50+i)}, HealthCheck: fmt.Sprintf("hc-m%02d", i)})
	}
	var big []string
	for i := 1; i <= bigValues; i++ {
		big = append(big, fmt.Sprintf("198.51.100.%d", i))
	}
	return []RecordSet{
		{Name: "@", Type: "A", Records: []Record{{Alias: "www"}}},
		{Name: "www", Type: "A", TTL: 300 * time.Second, Records: []Record{{Values: []string{wwwA1, wwwA2}}}},
		{Name: "www", Type: "AAAA", TTL: 300 * time.Second, Records: []Record{{Values: []string{"2001:db8::1"}}}},
		{Name: "lat", Type: "A", TTL: 30 * time.Second, Policy: "latency", Records: []Record{
			{ID: "use1", Values: []string{latUSE1}, Region: "us-east-1", HealthCheck: "hc-use1"},
			{ID: "euw1", Values: []string{latEUW1}, Region: "eu-west-1", HealthCheck: "hc-euw1"},
			{ID: "apne1", Values: []string{latAPNE1}, Region: "ap-northeast-1", HealthCheck: "hc-apne1"},
		}},
		{Name: "fo", Type: "A", Policy: "failover", Records: []Record{
			{ID: "secondary", Values: []string{foSecondary}, HealthCheck: "hc-secondary", Failover: "secondary"},
			{ID: "primary", Values: []string{foPrimary}, HealthCheck: "hc-primary", Failover: "PRIMARY"},
		}},
		{Name: "w", Type: "A", Policy: "weighted", Records: []Record{
			{ID: "a", Values: []string{wA}, Weight: 1, HealthCheck: "hc-a"},
			{ID: "b", Values: []string{wB}, Weight: 3, HealthCheck: "hc-b"},
			{ID: "z", Values: []string{wZ}, Weight: 0, HealthCheck: "hc-z"},
		}},
		{Name: "mv", Type: "A", Policy: "multivalue", Records: mv},
		{Name: "app", Type: "A", Records: []Record{{Alias: "lat.gyre.test."}}},
		{Name: "edge", Type: "A", Policy: "failover", Records: []Record{
			{ID: "lat", Alias: "lat", EvaluateTargetHealth: true, Failover: Primary},
			{ID: "static", Values: []string{edgeSecondary}, Failover: Secondary},
		}},
		{Name: "docs", Type: "CNAME", Records: []Record{{Values: []string{"www.gyre.test"}}}},
		{Name: "ext", Type: "CNAME", Records: []Record{{Values: []string{"example.net."}}}},
		{Name: "a.b.deep", Type: "TXT", Records: []Record{{Values: []string{"hello", `back\slash "quoted"`}}}},
		{Name: "big", Type: "A", Records: []Record{{Values: big}}},
	}
}

// fixture returns the options of the fixture zone and its health checks
// and routing controls.
func fixture(t testing.TB) (Options, *switches, *switches) {
	health, controls := newSwitches(), newSwitches()
	return Options{
		Addr:       "127.0.0.1:0",
		RecordSets: fixtureSets(),
		Healthy:    health.on,
		RegionOn:   controls.on,
		Geo:        fixtureGeo(t),
		NameServers: []NameServer{
			{Name: "ns1", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}},
			{Name: "ns.example.net."},
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, health, controls
}

// newFixture builds a server of the fixture zone, not started.
func newFixture(t testing.TB) (*Server, *switches, *switches) {
	t.Helper()
	o, health, controls := fixture(t)
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s, health, controls
}

// scripted is a Rand that returns its values in turn (modulo n), then
// zeros.
type scripted struct{ vals []int }

func (r *scripted) IntN(n int) int {
	if len(r.vals) == 0 {
		return 0
	}
	v := r.vals[0]
	r.vals = r.vals[1:]
	return v % n
}
