package topology

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-dev/gyre/internal/dnsserver"
)

// Routing is the routing plane: the DNS server and HTTP front door that
// send clients to the nearest healthy region, the health checks they go by,
// the client locations latency routing needs, and the routing controls that
// take a region out of service on purpose.
type Routing struct {
	// Zone is the DNS zone Gyre is authoritative for. Default gyre.test.
	Zone string `yaml:"zone"`
	// DNS is the address of the authoritative DNS server, UDP and TCP.
	// Default 127.0.0.1:8053.
	DNS string `yaml:"dns"`
	// FrontDoor is the address of the HTTP front door, which proxies each
	// request to the nearest healthy region. Default 127.0.0.1:8080.
	FrontDoor string `yaml:"front_door"`
	// FrontDoorHTTPS is where the front door also serves HTTPS, with a
	// certificate for the zone's names. Default 127.0.0.1:8443. Not used
	// when tls.disabled is set.
	FrontDoorHTTPS string `yaml:"front_door_https"`
	// Admin is the address of the router's admin API (health, locations).
	// Default 127.0.0.1:9000.
	Admin string `yaml:"admin"`
	// Location is where the router is: the location of clients that no
	// network matches, and the router's vantage point for health checks.
	// Default virginia.
	Location string `yaml:"location"`
	// LatencyMode is table (round trips from the locations table) or active
	// (the router measures its round trip to each region and uses that for
	// its own location, for deployments across real hosts). Default table.
	LatencyMode string `yaml:"latency_mode"`

	// HealthChecks are Route 53-style health checks, run from every region
	// and from the router. Default: one HTTP check per region, id the
	// region's name, on its public endpoint's /health.
	HealthChecks []HealthCheck `yaml:"health_checks"`
	// RecordSets are the zone's DNS record sets. Default: "api", a latency
	// record set with one A record per region (its public address) tied
	// to the region's health check.
	RecordSets []RecordSet `yaml:"record_sets"`
	// Locations add client locations, or change built-in ones: round-trip
	// times to regions. Built in: virginia, ohio, california, oregon,
	// montreal, sao-paulo, dublin, london, paris, berlin, stockholm, mumbai,
	// singapore, sydney, tokyo, seoul.
	Locations []Location `yaml:"locations"`
	// Networks map client networks (of DNS queries, EDNS client subnets and
	// front door requests) to locations. Default: 10.1.0.0/16 virginia,
	// 10.2.0.0/16 oregon, 10.3.0.0/16 dublin, 10.4.0.0/16 berlin,
	// 10.5.0.0/16 tokyo, 10.6.0.0/16 sydney, 10.7.0.0/16 sao-paulo.
	Networks []Network `yaml:"networks"`
	// Controls configure the routing controls (one per region) and their
	// safety rules.
	Controls Controls `yaml:"controls"`
}

// HealthCheck is a Route 53-style health check.
type HealthCheck struct {
	// ID names the check; records refer to it. Required, unique.
	ID string `yaml:"id"`
	// Type is HTTP, HTTPS, TCP or CALCULATED. Default HTTP.
	Type string `yaml:"type"`
	// Region is the region the target is in. With no Target, the check
	// targets this region's public endpoint.
	Region string `yaml:"region,omitempty"`
	// Target is host:port to check. Default: the region's public endpoint.
	Target string `yaml:"target,omitempty"`
	// Path is the HTTP(S) path. Default /health.
	Path string `yaml:"path,omitempty"`
	// SearchString, when set, must appear in the first 5,120 bytes of an
	// HTTP(S) response body.
	SearchString string `yaml:"search_string,omitempty"`
	// Inverted reports healthy when the check fails, and the reverse.
	Inverted bool `yaml:"inverted,omitempty"`
	// Interval is the time between checks from each vantage point.
	// Default 1s (Route 53's is 30s).
	Interval time.Duration `yaml:"interval"`
	// Timeout bounds one check. Default: the health package's.
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// FailureThreshold is how many consecutive results it takes to change
	// state. Default 3.
	FailureThreshold int `yaml:"failure_threshold"`
	// HealthyFraction: the target is healthy when more than this fraction
	// of the vantage points report it healthy. Default 0.18 (Route 53).
	HealthyFraction float64 `yaml:"healthy_fraction"`
	// Children and HealthThreshold define a CALCULATED check: healthy when
	// at least HealthThreshold of the children are.
	Children        []string `yaml:"children,flow,omitempty"`
	HealthThreshold int      `yaml:"health_threshold,omitempty"`
}

// RecordSet is a DNS record set of the zone. The DNS server's rules for
// record sets apply (Route 53's; see dnsserver.RecordSet), and a file that
// breaks them does not load.
type RecordSet struct {
	// Name is relative to the zone ("api", "@" for the zone itself) or
	// fully qualified with a trailing dot ("api.gyre.test."). Required.
	Name string `yaml:"name"`
	// Type is A, AAAA, CNAME or TXT, in any case. Default A.
	Type string `yaml:"type"`
	// TTL of the answers. Default 5s.
	TTL time.Duration `yaml:"ttl"`
	// Policy is simple, latency, failover, weighted or multivalue, in any
	// case. Default simple.
	Policy string `yaml:"policy"`
	// Records of the set: exactly one in a simple set, at least one in
	// the others.
	Records []Record `yaml:"records"`
}

// Record is one record of a set.
type Record struct {
	// ID is the set identifier, unique in the set. Default: the region's
	// name, else record-N.
	ID string `yaml:"id,omitempty"`
	// Region is the region the record points at: needed for latency
	// records; its routing control applies. With no Values, an A record's
	// value is the region's public address.
	Region string `yaml:"region,omitempty"`
	// Values are the record's values (addresses, a CNAME target, text).
	Values []string `yaml:"values,flow,omitempty"`
	// Alias names another record set of the zone to answer with instead.
	Alias string `yaml:"alias,omitempty"`
	// EvaluateTargetHealth makes an alias unhealthy when its target set
	// has no healthy record.
	EvaluateTargetHealth bool `yaml:"evaluate_target_health,omitempty"`
	// HealthCheck ties the record to a health check by id.
	HealthCheck string `yaml:"health_check,omitempty"`
	// Weight of a weighted record, 0 to 255.
	Weight int `yaml:"weight,omitempty"`
	// Failover is PRIMARY or SECONDARY, in any case, for a failover
	// record: a failover set has one PRIMARY and at most one SECONDARY.
	Failover string `yaml:"failover,omitempty"`
}

// Location is a client location with its round trips to regions.
type Location struct {
	// Name of the location. Required, unique.
	Name string `yaml:"name"`
	// RTT maps region names to round-trip times from this location.
	// Regions left out take the built-in figure (or 250ms).
	RTT map[string]time.Duration `yaml:"rtt"`
}

// Network maps a client network to a location.
type Network struct {
	// CIDR is the network, e.g. 10.5.0.0/16. Required.
	CIDR string `yaml:"cidr"`
	// Location the network's clients are in. Required.
	Location string `yaml:"location"`
}

// Controls configure the routing controls: one on/off switch per region,
// held by a Raft group with one voter per region.
type Controls struct {
	// Panel names the control panel. Default "default".
	Panel string `yaml:"panel"`
	// Rules are the safety rules a change must keep. Default: one
	// assertion rule, at least one region on.
	Rules []Rule `yaml:"rules"`
}

// Rule is a safety rule of the routing controls.
type Rule struct {
	// Name of the rule. Required, unique.
	Name string `yaml:"name"`
	// Type is assertion (at least MinOn of Controls must stay on) or gating
	// (Controls may change only while at least MinOn of GatingControls are
	// on). Default assertion.
	Type string `yaml:"type"`
	// Controls the rule asserts on, or gates. Default: every region.
	Controls []string `yaml:"controls,flow"`
	// GatingControls of a gating rule.
	GatingControls []string `yaml:"gating_controls,flow,omitempty"`
	// MinOn is the least number of controls that must be on. Default 1.
	MinOn int `yaml:"min_on"`
}

// Defaults of the routing section.
const (
	DefaultZone            = "gyre.test"
	DefaultDNS             = "127.0.0.1:8053"
	DefaultFrontDoor       = "127.0.0.1:8080"
	DefaultRouterAdmin     = "127.0.0.1:9000"
	DefaultRouterLocation  = "virginia"
	DefaultPublicPort      = 8080
	DefaultControlPort     = 7001
	DefaultCheckInterval   = time.Second
	DefaultCheckThreshold  = 3
	DefaultHealthyFraction = 0.18
	DefaultRecordTTL       = 5 * time.Second
)

// regionAnchors are the built-in client locations next to AWS regions, for
// a region's default location.
var regionAnchors = map[string]string{
	"us-east-1": "virginia", "us-east-2": "ohio", "us-west-1": "california", "us-west-2": "oregon",
	"ca-central-1": "montreal", "sa-east-1": "sao-paulo", "eu-west-1": "dublin", "eu-west-2": "london",
	"eu-west-3": "paris", "eu-central-1": "berlin", "eu-north-1": "stockholm", "ap-south-1": "mumbai",
	"ap-southeast-1": "singapore", "ap-southeast-2": "sydney", "ap-northeast-1": "tokyo", "ap-northeast-2": "seoul",
}

// PublicIP returns the IP of a region's public address, what DNS answers.
func (r *Region) PublicIP() string {
	host, _, err := net.SplitHostPort(r.Public)
	if err != nil {
		return ""
	}
	return host
}

// ensureRoutingDefaults fills the routing section, one part after another.
func (t *Topology) ensureRoutingDefaults() {
	rt := &t.Routing
	rt.ensureAddressDefaults()
	// Defaults derived from the regions use each named region once, so
	// that a mistake in regions is reported there and not again here.
	names := distinctNames(t.RegionNames())
	if rt.HealthChecks == nil {
		for _, name := range names {
			rt.HealthChecks = append(rt.HealthChecks, HealthCheck{ID: name, Region: name})
		}
	}
	for i := range rt.HealthChecks {
		t.ensureHealthCheckDefaults(&rt.HealthChecks[i])
	}
	if rt.RecordSets == nil {
		rs := RecordSet{Name: "api", Policy: "latency"}
		for _, name := range names {
			rs.Records = append(rs.Records, Record{Region: name, HealthCheck: name})
		}
		rt.RecordSets = []RecordSet{rs}
	}
	for i := range rt.RecordSets {
		t.ensureRecordSetDefaults(&rt.RecordSets[i])
	}
	if len(rt.Locations) == 0 {
		rt.Locations = nil // so that a printed and re-read topology is equal to this one
	}
	if len(rt.Networks) == 0 {
		rt.Networks = nil
	}
	rt.Controls.ensureDefaults(names)
}

// ensureAddressDefaults fills the zone, the router's addresses, its
// location and its latency mode.
func (rt *Routing) ensureAddressDefaults() {
	if rt.Zone == "" {
		rt.Zone = DefaultZone
	}
	rt.Zone = strings.TrimSuffix(rt.Zone, ".")
	if rt.DNS == "" {
		rt.DNS = DefaultDNS
	}
	if rt.FrontDoor == "" {
		rt.FrontDoor = DefaultFrontDoor
	}
	if rt.FrontDoorHTTPS == "" {
		rt.FrontDoorHTTPS = DefaultFrontDoorHTTPS
	}
	if rt.Admin == "" {
		rt.Admin = DefaultRouterAdmin
	}
	if rt.Location == "" {
		rt.Location = DefaultRouterLocation
	}
	if rt.LatencyMode == "" {
		rt.LatencyMode = "table"
	}
}

// ensureHealthCheckDefaults fills a health check; a check of a region
// targets the region's public endpoint.
func (t *Topology) ensureHealthCheckDefaults(hc *HealthCheck) {
	if hc.Type == "" {
		hc.Type = "HTTP"
	}
	if hc.Type != "CALCULATED" {
		if hc.Target == "" {
			if r, ok := t.Region(hc.Region); ok {
				hc.Target = r.Public
				if hc.Type == "HTTPS" && !t.TLS.Disabled {
					hc.Target = r.PublicHTTPS
				}
			}
		}
		if hc.Path == "" && hc.Type != "TCP" {
			hc.Path = "/health"
		}
	}
	if hc.Interval == 0 {
		hc.Interval = DefaultCheckInterval
	}
	if hc.FailureThreshold == 0 {
		hc.FailureThreshold = DefaultCheckThreshold
	}
	if hc.HealthyFraction == 0 {
		hc.HealthyFraction = DefaultHealthyFraction
	}
	if len(hc.Children) == 0 {
		hc.Children = nil
	}
}

// ensureRecordSetDefaults fills a record set and its records, and spells
// a valid type, policy or failover role as the DNS server does. An address
// record of a region and no values gets the region's public IP.
func (t *Topology) ensureRecordSetDefaults(rs *RecordSet) {
	rs.Type = dnsserver.CanonicalType(rs.Type)
	if rs.Type == "" {
		rs.Type = "A"
	}
	if rs.TTL == 0 {
		rs.TTL = DefaultRecordTTL
	}
	rs.Policy = dnsserver.CanonicalPolicy(rs.Policy)
	if rs.Policy == "" {
		rs.Policy = "simple"
	}
	for j := range rs.Records {
		rec := &rs.Records[j]
		if rec.ID == "" {
			if rec.Region != "" {
				rec.ID = rec.Region
			} else {
				rec.ID = "record-" + strconv.Itoa(j+1)
			}
		}
		rec.Failover = dnsserver.CanonicalFailover(rec.Failover)
		if len(rec.Values) == 0 && rec.Alias == "" && rec.Region != "" && (rs.Type == "A" || rs.Type == "AAAA") {
			if r, ok := t.Region(rec.Region); ok && r.PublicIP() != "" {
				rec.Values = []string{r.PublicIP()}
			}
		}
		if len(rec.Values) == 0 {
			rec.Values = nil
		}
	}
}

// ensureDefaults fills the routing controls. names are the regions' names,
// each once: the controls a rule asserts on unless it names its own.
func (c *Controls) ensureDefaults(names []string) {
	if c.Panel == "" {
		c.Panel = "default"
	}
	if c.Rules == nil {
		c.Rules = []Rule{{Name: "at-least-one-region", Type: "assertion", Controls: names, MinOn: 1}}
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.Type == "" {
			r.Type = "assertion"
		}
		if len(r.Controls) == 0 {
			r.Controls = names
		}
		if r.MinOn == 0 {
			r.MinOn = 1
		}
		if len(r.GatingControls) == 0 {
			r.GatingControls = nil
		}
	}
}

// ensureRegionRoutingDefaults fills a region's routing fields; i is its
// position.
func (r *Region) ensureRoutingDefaults(i int) {
	if r.Public == "" {
		r.Public = net.JoinHostPort(fmt.Sprintf("127.0.%d.1", i+1), strconv.Itoa(DefaultPublicPort))
	}
	if r.Control == "" {
		r.Control = loopback(DefaultControlPort + i)
	}
	if r.Location == "" {
		r.Location = regionAnchors[r.Name]
	}
}

// routing checks the routing section, one part after another.
func (v *validator) routing() {
	v.routingAddresses()
	locations := v.locations()
	v.networks(locations)
	checks := v.healthChecks()
	v.recordSets(checks)
	v.controls()
}

// routingAddresses checks the zone, the router's addresses and its
// latency mode.
func (v *validator) routingAddresses() {
	rt := &v.t.Routing
	if !isZoneName(rt.Zone) {
		v.add("routing.zone", "zone %q is not a DNS name", rt.Zone)
	}
	v.address("routing.dns", rt.DNS)
	v.address("routing.front_door", rt.FrontDoor)
	if !v.t.TLS.Disabled {
		v.address("routing.front_door_https", rt.FrontDoorHTTPS)
	}
	v.address("routing.admin", rt.Admin)
	if rt.LatencyMode != "table" && rt.LatencyMode != "active" {
		v.add("routing.latency_mode", "latency mode %q is not table or active", rt.LatencyMode)
	}
}

// isZoneName reports whether zone has the shape of a host name, the first
// check of the zone; the DNS server has the last (see recordSets).
func isZoneName(zone string) bool {
	return zone != "" && hostnameRE.MatchString(zone)
}

// locations checks the client locations, and that the router and every
// region are at a location there is. It returns the locations' names,
// built-in ones included.
func (v *validator) locations() map[string]bool {
	rt := &v.t.Routing
	locations := map[string]bool{}
	for name := range regionAnchors {
		locations[regionAnchors[name]] = true
	}
	for i, l := range rt.Locations {
		p := fmt.Sprintf("routing.locations[%d]", i)
		if l.Name == "" {
			v.add(p+".name", "must not be empty")
		}
		for region, d := range l.RTT {
			if v.known(p+".rtt."+region, region) {
				v.nonNegative(p+".rtt."+region, d)
			}
		}
		locations[l.Name] = true
	}
	if !locations[rt.Location] {
		v.add("routing.location", "no location named %q", rt.Location)
	}
	for i, r := range v.t.Regions {
		if r.Location != "" && !locations[r.Location] {
			v.add(fmt.Sprintf("regions[%d].location", i), "no location named %q", r.Location)
		}
	}
	return locations
}

// networks checks the client networks against the locations' names.
func (v *validator) networks(locations map[string]bool) {
	for i, n := range v.t.Routing.Networks {
		p := fmt.Sprintf("routing.networks[%d]", i)
		if _, err := netip.ParsePrefix(n.CIDR); err != nil {
			v.add(p+".cidr", "%q is not a CIDR network such as 10.5.0.0/16", n.CIDR)
		}
		if !locations[n.Location] {
			v.add(p+".location", "no location named %q", n.Location)
		}
	}
}

// healthChecks checks the health checks and returns their ids.
func (v *validator) healthChecks() map[string]bool {
	checks := map[string]bool{}
	for i, hc := range v.t.Routing.HealthChecks {
		p := fmt.Sprintf("routing.health_checks[%d]", i)
		switch {
		case hc.ID == "":
			v.add(p+".id", "must not be empty")
		case checks[hc.ID]:
			v.add(p+".id", "health check %q is already defined", hc.ID)
		}
		checks[hc.ID] = true
	}
	for i, hc := range v.t.Routing.HealthChecks {
		v.healthCheck(fmt.Sprintf("routing.health_checks[%d]", i), hc, checks)
	}
	return checks
}

// healthCheck checks the health check at YAML path p; checks are the ids
// of all of them, a CALCULATED check's possible children.
func (v *validator) healthCheck(p string, hc HealthCheck, checks map[string]bool) {
	switch hc.Type {
	case "HTTP", "HTTPS", "TCP":
		if hc.Target == "" {
			v.add(p+".target", "a %s check needs a target or a region with a public address", hc.Type)
		}
		if hc.Region != "" {
			v.known(p+".region", hc.Region)
		}
	case "CALCULATED":
		if len(hc.Children) == 0 {
			v.add(p+".children", "a CALCULATED check needs children")
		}
		for j, c := range hc.Children {
			if !checks[c] {
				v.add(fmt.Sprintf("%s.children[%d]", p, j), "no health check %q", c)
			}
		}
		if hc.HealthThreshold < 0 || hc.HealthThreshold > len(hc.Children) {
			v.add(p+".health_threshold", "must be between 0 and the number of children (%d)", len(hc.Children))
		}
	default:
		v.add(p+".type", "check type %q is not HTTP, HTTPS, TCP or CALCULATED", hc.Type)
	}
	if hc.Interval < 0 || hc.Timeout < 0 {
		v.add(p+".interval", "intervals and timeouts must not be negative")
	}
	if hc.FailureThreshold < 1 || hc.FailureThreshold > 10 {
		v.add(p+".failure_threshold", "must be 1 to 10, not %d", hc.FailureThreshold)
	}
	if hc.HealthyFraction <= 0 || hc.HealthyFraction >= 1 {
		v.add(p+".healthy_fraction", "must be between 0 and 1, not %v", hc.HealthyFraction)
	}
}

// controls checks the routing controls' safety rules.
func (v *validator) controls() {
	rules := map[string]bool{}
	for i, r := range v.t.Routing.Controls.Rules {
		p := fmt.Sprintf("routing.controls.rules[%d]", i)
		switch {
		case r.Name == "":
			v.add(p+".name", "must not be empty")
		case rules[r.Name]:
			v.add(p+".name", "rule %q is already defined", r.Name)
		}
		rules[r.Name] = true
		if r.Type != "assertion" && r.Type != "gating" {
			v.add(p+".type", "rule type %q is not assertion or gating", r.Type)
		}
		for j, c := range r.Controls {
			v.known(fmt.Sprintf("%s.controls[%d]", p, j), c)
		}
		for j, c := range r.GatingControls {
			v.known(fmt.Sprintf("%s.gating_controls[%d]", p, j), c)
		}
		if r.Type == "gating" && len(r.GatingControls) == 0 {
			v.add(p+".gating_controls", "a gating rule needs gating controls")
		}
		limit := len(r.Controls)
		if r.Type == "gating" {
			limit = len(r.GatingControls)
		}
		if r.MinOn < 1 || r.MinOn > limit {
			v.add(p+".min_on", "must be between 1 and %d, not %d", limit, r.MinOn)
		}
	}
}

// clone returns a deep copy of rt.
func (rt Routing) clone() Routing {
	c := rt
	c.HealthChecks = append([]HealthCheck(nil), rt.HealthChecks...)
	for i := range c.HealthChecks {
		c.HealthChecks[i].Children = append([]string(nil), rt.HealthChecks[i].Children...)
	}
	c.RecordSets = append([]RecordSet(nil), rt.RecordSets...)
	for i := range c.RecordSets {
		rs := &c.RecordSets[i]
		rs.Records = append([]Record(nil), rt.RecordSets[i].Records...)
		for j := range rs.Records {
			rs.Records[j].Values = append([]string(nil), rs.Records[j].Values...)
		}
	}
	c.Locations = append([]Location(nil), rt.Locations...)
	for i := range c.Locations {
		m := map[string]time.Duration{}
		for k, v := range rt.Locations[i].RTT {
			m[k] = v
		}
		c.Locations[i].RTT = m
	}
	c.Networks = append([]Network(nil), rt.Networks...)
	c.Controls.Rules = append([]Rule(nil), rt.Controls.Rules...)
	for i := range c.Controls.Rules {
		r := &c.Controls.Rules[i]
		r.Controls = append([]string(nil), rt.Controls.Rules[i].Controls...)
		r.GatingControls = append([]string(nil), rt.Controls.Rules[i].GatingControls...)
	}
	return c
}

// distinctNames returns the non-empty names, each once, in order.
func distinctNames(names []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
