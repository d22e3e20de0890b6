// Package geo models where clients are, for latency routing: named client
// locations with their round-trip time to each region, a table mapping
// client networks (CIDR prefixes) to locations, and measured round-trip
// times that override the table when the router probes regions itself.
//
// The built-in locations are anchored at an AWS region each (virginia at
// us-east-1, tokyo at ap-northeast-1, ...): a location's round-trip time to
// a region is the public round-trip time between its anchor and that region
// (the WAN layer's table, CloudPing 2023) plus a last-mile allowance. A
// Table is safe for concurrent use.
package geo

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/gyre-dev/gyre/internal/wan"
)

// LastMile is added to the anchor region's round trip for a built-in
// location: the client's own distance to its nearest region.
const LastMile = 2 * time.Millisecond

// unknownRTT is the round trip assumed for a region no figure covers.
const unknownRTT = 250 * time.Millisecond

// Anchors are the built-in locations and the AWS region each sits next to.
var Anchors = map[string]string{
	"virginia":   "us-east-1",
	"ohio":       "us-east-2",
	"california": "us-west-1",
	"oregon":     "us-west-2",
	"montreal":   "ca-central-1",
	"sao-paulo":  "sa-east-1",
	"dublin":     "eu-west-1",
	"london":     "eu-west-2",
	"paris":      "eu-west-3",
	"berlin":     "eu-central-1",
	"stockholm":  "eu-north-1",
	"mumbai":     "ap-south-1",
	"singapore":  "ap-southeast-1",
	"sydney":     "ap-southeast-2",
	"tokyo":      "ap-northeast-1",
	"seoul":      "ap-northeast-2",
}

// BuiltinRTT returns a built-in location's round-trip time to a region, and
// false when the location is not built in or the region is not an AWS
// region the latency table knows.
func BuiltinRTT(location, region string) (time.Duration, bool) {
	anchor, ok := Anchors[location]
	if !ok {
		return 0, false
	}
	oneWay, ok := wan.DefaultLatency(anchor, region)
	if !ok {
		return 0, false
	}
	return 2*oneWay + LastMile, true
}

// Network maps a client network to a location.
type Network struct {
	Prefix   netip.Prefix
	Location string
}

// DefaultNetworks are the client networks of the built-in table: one
// private /16 per principal location, so that a test or a demo can claim to
// be anywhere (dig +subnet=10.5.0.0/24 asks from tokyo).
var DefaultNetworks = []Network{
	{netip.MustParsePrefix("10.1.0.0/16"), "virginia"},
	{netip.MustParsePrefix("10.2.0.0/16"), "oregon"},
	{netip.MustParsePrefix("10.3.0.0/16"), "dublin"},
	{netip.MustParsePrefix("10.4.0.0/16"), "berlin"},
	{netip.MustParsePrefix("10.5.0.0/16"), "tokyo"},
	{netip.MustParsePrefix("10.6.0.0/16"), "sydney"},
	{netip.MustParsePrefix("10.7.0.0/16"), "sao-paulo"},
}

// Options configure a Table.
type Options struct {
	// Regions are the regions to route between. Required.
	Regions []string
	// Locations gives round-trip times from named locations to regions,
	// overriding or extending the built-in locations. A region a location
	// leaves out takes the built-in figure, else 250ms.
	Locations map[string]map[string]time.Duration
	// Networks map client networks to locations; the longest matching
	// prefix wins. Default DefaultNetworks. Every location must be known.
	Networks []Network
	// Default is the location of an address no network matches (the
	// router's own location). Default "virginia".
	Default string
}

// Table answers where a client is and how far each region is from it.
type Table struct {
	regions  []string
	rtt      map[string]map[string]time.Duration
	networks []Network
	def      string

	mu       sync.RWMutex
	measured map[string]map[string]time.Duration // location -> region -> measured RTT
}

// New builds a Table, reporting every problem with o at once.
func New(o Options) (*Table, error) {
	var errs []error
	if len(o.Regions) == 0 {
		errs = append(errs, errors.New("geo: at least one region is required"))
	}
	if o.Networks == nil {
		o.Networks = DefaultNetworks
	}
	if o.Default == "" {
		o.Default = "virginia"
	}
	t := &Table{regions: slices.Clone(o.Regions), rtt: map[string]map[string]time.Duration{}, def: o.Default, measured: map[string]map[string]time.Duration{}}
	names := map[string]bool{}
	for name := range Anchors {
		names[name] = true
	}
	for name := range o.Locations {
		names[name] = true
	}
	for name := range names {
		row := map[string]time.Duration{}
		for _, r := range o.Regions {
			d, ok := o.Locations[name][r]
			if !ok {
				if d, ok = BuiltinRTT(name, r); !ok {
					d = unknownRTT
				}
			}
			if d < 0 {
				errs = append(errs, fmt.Errorf("geo: location %s: negative round trip %v to %s", name, d, r))
			}
			row[r] = d
		}
		t.rtt[name] = row
	}
	for _, n := range o.Networks {
		if !n.Prefix.IsValid() {
			errs = append(errs, fmt.Errorf("geo: invalid network for location %s", n.Location))
			continue
		}
		if !names[n.Location] {
			errs = append(errs, fmt.Errorf("geo: network %s names unknown location %q", n.Prefix, n.Location))
		}
		t.networks = append(t.networks, Network{Prefix: n.Prefix.Masked(), Location: n.Location})
	}
	if !names[o.Default] {
		errs = append(errs, fmt.Errorf("geo: default location %q is not a known location", o.Default))
	}
	// Longest prefix first, so the first match is the most specific.
	slices.SortStableFunc(t.networks, func(a, b Network) int { return b.Prefix.Bits() - a.Prefix.Bits() })
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// Default returns the location of clients no network matches.
func (t *Table) Default() string { return t.def }

// Known reports whether location is a location of the table.
func (t *Table) Known(location string) bool {
	_, ok := t.rtt[location]
	return ok
}

// Locations returns the table's locations, sorted.
func (t *Table) Locations() []string {
	out := make([]string, 0, len(t.rtt))
	for name := range t.rtt {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Locate returns the location of a client address: the location of the
// longest network that contains it, else the default location.
func (t *Table) Locate(addr netip.Addr) string {
	addr = addr.Unmap()
	for _, n := range t.networks {
		if n.Prefix.Contains(addr) {
			return n.Location
		}
	}
	return t.def
}

// LocatePrefix returns the location of a client subnet (an EDNS client
// subnet): the longest network that contains the whole subnet, else the
// default location.
func (t *Table) LocatePrefix(p netip.Prefix) string {
	p = p.Masked()
	for _, n := range t.networks {
		if n.Prefix.Bits() <= p.Bits() && n.Prefix.Contains(p.Addr()) {
			return n.Location
		}
	}
	return t.def
}

// RTT returns the round-trip time from a location to a region: a measured
// figure when there is one, else the table's.
func (t *Table) RTT(location, region string) (time.Duration, bool) {
	t.mu.RLock()
	if d, ok := t.measured[location][region]; ok {
		t.mu.RUnlock()
		return d, true
	}
	t.mu.RUnlock()
	d, ok := t.rtt[location][region]
	return d, ok
}

// Rank orders regions by round-trip time from location, nearest first;
// ties go by name. Regions the location has no figure for come last.
func (t *Table) Rank(location string, regions []string) []string {
	out := slices.Clone(regions)
	rtt := func(r string) time.Duration {
		d, ok := t.RTT(location, r)
		if !ok {
			return 1 << 62
		}
		return d
	}
	slices.SortStableFunc(out, func(a, b string) int {
		da, db := rtt(a), rtt(b)
		switch {
		case da < db:
			return -1
		case da > db:
			return 1
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	})
	return out
}

// SetMeasured records a measured round-trip time from location to region,
// which then takes precedence over the table (active latency mode).
func (t *Table) SetMeasured(location, region string, rtt time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.measured[location] == nil {
		t.measured[location] = map[string]time.Duration{}
	}
	t.measured[location][region] = rtt
}

// Row is one location's round-trip times, for display.
type Row struct {
	Location string                   `json:"location"`
	RTT      map[string]time.Duration `json:"rtt"`
	Measured bool                     `json:"measured,omitempty"`
}

// Snapshot returns every location's current round-trip times.
func (t *Table) Snapshot() []Row {
	var rows []Row
	for _, loc := range t.Locations() {
		r := Row{Location: loc, RTT: map[string]time.Duration{}}
		for _, reg := range t.regions {
			d, _ := t.RTT(loc, reg)
			r.RTT[reg] = d
		}
		t.mu.RLock()
		r.Measured = len(t.measured[loc]) > 0
		t.mu.RUnlock()
		rows = append(rows, r)
	}
	return rows
}
