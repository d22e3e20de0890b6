package dnsserver

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gyre-dev/gyre/internal/geo"
)

// Defaults of Options. The SOA timers are Route 53's, except Minimum
// (Route 53: one day), which is short because Gyre's record sets change at
// run time and a name created a minute after a failed lookup should
// resolve.
const (
	DefaultZone       = "gyre.test"
	DefaultAddr       = "127.0.0.1:8053"
	DefaultTTL        = 60 * time.Second
	DefaultNSTTL      = 48 * time.Hour
	DefaultMaxUDPSize = 1232 // DNS flag day 2020: no IP fragmentation

	defaultSOARefresh = 2 * time.Hour
	defaultSOARetry   = 15 * time.Minute
	defaultSOAExpire  = 14 * 24 * time.Hour
	defaultSOAMinimum = 60 * time.Second
	defaultSOATTL     = 15 * time.Minute
)

// Options configure a Server. The zero value serves an empty gyre.test
// zone on 127.0.0.1:8053.
type Options struct {
	// Zone is the zone the server is authoritative for, such as
	// "gyre.test" (a trailing dot is optional). It answers for the zone's
	// apex and every name under it, and REFUSED for any other name.
	// Default DefaultZone.
	Zone string

	// Addr is the address to listen on, for UDP and TCP alike. Port 0
	// picks a free port, the same one for both protocols; Server.Addr
	// reports it. Default DefaultAddr.
	Addr string

	// RecordSets are the zone's records, validated by New (see RecordSet,
	// and CheckRecordSets for the rules); SetRecordSets replaces them at
	// run time. The SOA and apex NS records
	// are not record sets: they come from SOA and NameServers.
	RecordSets []RecordSet

	// Healthy reports the status of a health check named by
	// Record.HealthCheck. It is called while answering queries, from many
	// goroutines, so it must be fast (a map lookup, not a probe) and safe
	// for concurrent use. Default: every check is healthy.
	Healthy func(checkID string) bool

	// RegionOn reports whether the routing control of a region is on
	// (Route 53 ARC): a record whose Region is off is unhealthy. Same
	// constraints as Healthy. Default: every region is on.
	RegionOn func(region string) bool

	// Geo locates clients and ranks regions by round trip from them.
	// Required when any record set has the latency policy; every latency
	// record's Region must be one of its regions. It is used for the
	// EDNS client subnet of a query when there is one, else the query's
	// source address.
	Geo *geo.Table

	// SOA describes the zone's start of authority.
	SOA SOA

	// NameServers are the apex NS records. Default: one, "ns1" (that is
	// ns1.<zone>), with Addr's IP as its address when Addr names a
	// specific IP.
	NameServers []NameServer

	// NSTTL is the TTL of the apex NS records and of the name servers'
	// addresses. Default DefaultNSTTL (Route 53's two days); whole seconds.
	NSTTL time.Duration

	// MaxUDPSize is the largest UDP response the server sends, and the
	// payload size it advertises in EDNS0; a client's smaller buffer size
	// wins, and 512 is the floor. Must be within 512..65535. Default
	// DefaultMaxUDPSize.
	MaxUDPSize int

	// Rand chooses among weighted records and shuffles multivalue answers.
	// It must be safe for concurrent use when the server serves queries;
	// Question.Rand overrides it for one Resolve. Default: math/rand/v2's
	// global source.
	Rand Rand

	// Region names the region this server runs in, for the region label
	// of its metrics. Default: empty.
	Region string

	// Logger receives start and stop events and errors that are the
	// server's fault; queries are never logged. Default slog.Default().
	Logger *slog.Logger

	// Registerer receives the server's metrics (see metrics.go). Default:
	// none.
	Registerer prometheus.Registerer
}

// SOA is the zone's start of authority record.
type SOA struct {
	// Primary is the primary name server (MNAME). Default: the first
	// NameServers entry. Same name rules as NameServer.Name.
	Primary string
	// Mailbox is the zone administrator's mailbox (RNAME), as an address
	// ("hostmaster@gyre.test") or in DNS form ("hostmaster.gyre.test.").
	// Default hostmaster.<zone>.
	Mailbox string
	// Serial is the zone's serial at New; each successful SetRecordSets
	// adds one. Default 1.
	Serial uint32
	// Refresh, Retry and Expire are the secondary servers' timers. Default
	// 2h, 15m and 336h (two weeks); whole seconds.
	Refresh, Retry, Expire time.Duration
	// Minimum is the negative-caching TTL (RFC 2308): the SOA in the
	// authority section of NXDOMAIN and NODATA answers carries the smaller
	// of Minimum and TTL. Default 60s; whole seconds.
	Minimum time.Duration
	// TTL is the SOA record's own TTL. Default 15m; whole seconds.
	TTL time.Duration
}

// NameServer is one of the zone's name servers.
type NameServer struct {
	// Name is the server's host name: relative to the zone ("ns1") or
	// fully qualified with a trailing dot ("ns1.gyre.test.", or a name
	// outside the zone such as "ns.example.net."). Required.
	Name string
	// Addrs are the server's addresses. For a name inside the zone the
	// server answers A and AAAA queries for it with them and adds them as
	// glue to NS answers; they must be empty for a name outside the zone.
	Addrs []netip.Addr
}

// Rand is a source of random choices. *rand.Rand of math/rand/v2
// satisfies it.
type Rand interface {
	// IntN returns a number in [0, n); n > 0.
	IntN(n int) int
}

// globalRand is math/rand/v2's global source, safe for concurrent use.
type globalRand struct{}

func (globalRand) IntN(n int) int { return rand.IntN(n) }

// ensureDefaults fills the zero fields of o with their defaults.
func (o *Options) ensureDefaults() {
	o.Zone = zoneName(o.Zone)
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.Healthy == nil {
		o.Healthy = func(string) bool { return true }
	}
	if o.RegionOn == nil {
		o.RegionOn = func(string) bool { return true }
	}
	if o.NameServers == nil {
		ns := NameServer{Name: "ns1"}
		if host, _, err := net.SplitHostPort(o.Addr); err == nil {
			if ip, err := netip.ParseAddr(host); err == nil && !ip.IsUnspecified() {
				ns.Addrs = []netip.Addr{ip.Unmap()}
			}
		}
		o.NameServers = []NameServer{ns}
	}
	if o.NSTTL == 0 {
		o.NSTTL = DefaultNSTTL
	}
	if o.MaxUDPSize == 0 {
		o.MaxUDPSize = DefaultMaxUDPSize
	}
	if o.Rand == nil {
		o.Rand = globalRand{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &o.SOA
	if s.Primary == "" && len(o.NameServers) > 0 {
		s.Primary = o.NameServers[0].Name
	}
	if s.Mailbox == "" {
		s.Mailbox = "hostmaster"
	}
	if s.Serial == 0 {
		s.Serial = 1
	}
	for _, d := range []struct {
		p   *time.Duration
		def time.Duration
	}{{&s.Refresh, defaultSOARefresh}, {&s.Retry, defaultSOARetry}, {&s.Expire, defaultSOAExpire}, {&s.Minimum, defaultSOAMinimum}, {&s.TTL, defaultSOATTL}} {
		if *d.p == 0 {
			*d.p = d.def
		}
	}
}

// validate reports every problem with the options other than the record
// sets, which compile checks.
func (o *Options) validate() []error {
	var errs []error
	if !validZone(o.Zone) {
		errs = append(errs, fmt.Errorf("dnsserver: Options.Zone %q is not a domain name", o.Zone))
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		errs = append(errs, fmt.Errorf("dnsserver: Options.Addr %q: %w", o.Addr, err))
	}
	if o.MaxUDPSize < dns.MinMsgSize || o.MaxUDPSize > dns.MaxMsgSize {
		errs = append(errs, fmt.Errorf("dnsserver: Options.MaxUDPSize %d is outside 512..65535", o.MaxUDPSize))
	}
	if len(o.NameServers) == 0 {
		errs = append(errs, errors.New("dnsserver: Options.NameServers is empty: a zone needs a name server"))
	}
	if _, err := ttlSeconds(o.NSTTL); err != nil {
		errs = append(errs, fmt.Errorf("dnsserver: Options.NSTTL: %w", err))
	}
	for name, d := range map[string]time.Duration{"Refresh": o.SOA.Refresh, "Retry": o.SOA.Retry, "Expire": o.SOA.Expire, "Minimum": o.SOA.Minimum, "TTL": o.SOA.TTL} {
		if _, err := ttlSeconds(d); err != nil {
			errs = append(errs, fmt.Errorf("dnsserver: Options.SOA.%s: %w", name, err))
		}
	}
	return errs
}

// zoneName returns a zone as the server keeps it: lower case and fully
// qualified, DefaultZone when empty.
func zoneName(zone string) string {
	if zone == "" {
		zone = DefaultZone
	}
	return strings.ToLower(dns.Fqdn(zone))
}

// validZone reports whether a zone, as zoneName returns it, is a domain
// name other than the root.
func validZone(zone string) bool {
	_, ok := dns.IsDomainName(zone)
	return ok && zone != "."
}

// ttlSeconds converts a TTL to whole seconds, refusing negative values,
// fractions of a second and values beyond RFC 2181's 2^31-1 seconds.
func ttlSeconds(d time.Duration) (uint32, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("%v is negative", d)
	case d%time.Second != 0:
		return 0, fmt.Errorf("%v is not a whole number of seconds", d)
	case d/time.Second > math.MaxInt32:
		return 0, fmt.Errorf("%v is more than 2^31-1 seconds", d)
	}
	return uint32(d / time.Second), nil
}
