package health

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Type is the kind of a health check.
type Type string

// The types of check, named as Route 53 names them.
const (
	// TypeHTTP passes when an HTTP GET of Path answers 2xx or 3xx within
	// the timeout (and, with a SearchString, the body holds it).
	TypeHTTP Type = "HTTP"
	// TypeHTTPS is TypeHTTP over TLS. The certificate is not verified, as
	// Route 53 does not verify it: a health check asks whether the
	// endpoint answers, not whether its certificate is valid.
	TypeHTTPS Type = "HTTPS"
	// TypeTCP passes when a TCP connection to the target opens within the
	// timeout.
	TypeTCP Type = "TCP"
	// TypeCalculated is not probed: its status is computed from the
	// aggregated status of its children.
	TypeCalculated Type = "CALCULATED"
)

// Defaults of Check, applied by EnsureDefaults to fields left zero.
const (
	// DefaultInterval is Gyre's development default. Route 53's is 30s
	// (10s for its "fast" checks); set Interval for production.
	DefaultInterval = time.Second
	// DefaultMaxTimeout caps the default Timeout: Route 53 gives an
	// endpoint 2s to answer once connected.
	DefaultMaxTimeout = 2 * time.Second
	// DefaultFailureThreshold is Route 53's.
	DefaultFailureThreshold = 3
	// DefaultHealthyFraction is Route 53's rule: a target is healthy when
	// more than 18% of the health checkers consider it healthy.
	DefaultHealthyFraction = 0.18
	// DefaultPath is the HTTP(S) path probed when Path is empty.
	DefaultPath = "/"
)

// Limits checked by Validate.
const (
	// SearchWindow is how much of a response body is searched for
	// SearchString, as Route 53 searches the first 5,120 bytes.
	SearchWindow = 5120
	// MaxSearchString is the longest SearchString, Route 53's limit.
	MaxSearchString = 255
	// MaxFailureThreshold is the largest FailureThreshold, Route 53's
	// limit.
	MaxFailureThreshold = 10
)

// Check defines one health check. Build a list of them, call Validate (or
// let NewProber, NewMonitor or SetChecks do it); the package copies what it
// is given and fills in defaults (EnsureDefaults). JSON writes durations as
// strings such as "1s".
type Check struct {
	// ID names the check; DNS records and the front door refer to it.
	// Required; unique within a list; no spaces or control characters.
	ID string

	// Type is HTTP, HTTPS, TCP or CALCULATED. Default HTTP.
	Type Type

	// Target is the host:port probed. Required for HTTP, HTTPS and TCP;
	// not allowed for CALCULATED.
	Target string

	// Region is the region the target is in. Every probe is dialed
	// through the caller's Dial with this region as the destination, so
	// that it crosses the simulated WAN from the vantage point to here.
	// Empty for a target outside Gyre's regions: Dial then gets "" and
	// should dial directly. Not allowed for CALCULATED.
	Region string

	// Path is the path of the HTTP(S) request, with its query if any.
	// Default "/"; must start with "/". Ignored for TCP.
	Path string

	// Host is the Host header of the HTTP(S) request, and the TLS server
	// name for HTTPS. Default: Target. Ignored for TCP.
	Host string

	// SearchString, when set, must appear in the first SearchWindow
	// (5,120) bytes of the response body for the probe to pass. HTTP and
	// HTTPS only; at most MaxSearchString bytes.
	SearchString string

	// Inverted reports the opposite of what the probes (or, for
	// CALCULATED, the children) say. Unknown stays unknown.
	Inverted bool

	// Interval is the time between the starts of two probes from one
	// vantage point, before jitter. Default DefaultInterval (1s); must be
	// positive. Not used for CALCULATED.
	Interval time.Duration

	// Timeout bounds a whole probe: dial (through the WAN), TLS
	// handshake, request, response headers, and the body when a
	// SearchString is set. A probe that takes longer fails. Default
	// min(Interval, 2s); must be positive and at most Interval, so that
	// every interval ends with a result. Route 53 allows 4s to connect
	// and 2s more to answer; on Gyre's WAN the farthest pair of regions
	// needs three round trips (~0.7s) for an HTTPS probe, well within
	// the default.
	Timeout time.Duration

	// FailureThreshold is the number of consecutive failed probes that
	// make a vantage point consider a healthy target unhealthy, and of
	// consecutive passed probes that make it healthy again. Default 3;
	// 1 to 10. Not used for CALCULATED.
	FailureThreshold int

	// HealthyFraction: the target is healthy when more than this
	// fraction of the vantage points with a fresh opinion consider it
	// healthy. Default 0.18 (Route 53's rule: with up to five vantage
	// points, one healthy one is enough). Must be in (0, 1); zero means
	// the default, so to need just one vantage point among any number,
	// use a small value such as 0.0001. Not used for CALCULATED.
	HealthyFraction float64

	// Children are the ids of the checks a CALCULATED check combines.
	// Required for CALCULATED (at least one, no repeats, no cycles),
	// not allowed otherwise. A child may itself be CALCULATED.
	Children []string

	// HealthThreshold: a CALCULATED check is healthy when at least this
	// many children are healthy. Default: all of them; 1 to
	// len(Children).
	HealthThreshold int
}

// probed reports whether vantage points probe the check (it is not
// CALCULATED).
func (c *Check) probed() bool { return c.Type != TypeCalculated }

// EnsureDefaults fills the fields left zero with their defaults (see each
// field). It leaves fields that do not apply to the check's Type alone.
func (c *Check) EnsureDefaults() {
	if c.Type == "" {
		c.Type = TypeHTTP
	}
	if c.Type == TypeCalculated {
		if c.HealthThreshold == 0 {
			c.HealthThreshold = len(c.Children)
		}
		return
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout == 0 {
		c.Timeout = min(c.Interval, DefaultMaxTimeout)
	}
	if c.FailureThreshold == 0 {
		c.FailureThreshold = DefaultFailureThreshold
	}
	if c.HealthyFraction == 0 {
		c.HealthyFraction = DefaultHealthyFraction
	}
	if (c.Type == TypeHTTP || c.Type == TypeHTTPS) && c.Path == "" {
		c.Path = DefaultPath
	}
}

// Validate reports every problem with the check at once, as it stands (call
// EnsureDefaults first), joined into one error. It does not look at other
// checks: Validate(checks) also checks ids are unique and children exist.
func (c *Check) Validate() error {
	return errors.Join(c.problems()...)
}

func (c *Check) problems() []error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("health: check %q: "+format, append([]any{c.ID}, args...)...))
	}
	switch {
	case c.ID == "":
		add("ID is empty")
	case strings.ContainsFunc(c.ID, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		add("ID has a space or control character")
	}
	switch c.Type {
	case TypeHTTP, TypeHTTPS, TypeTCP:
		c.probeProblems(add)
	case TypeCalculated:
		if c.Target != "" {
			add("Target is for HTTP, HTTPS and TCP checks, not CALCULATED")
		}
		if c.Region != "" {
			add("Region is for HTTP, HTTPS and TCP checks, not CALCULATED")
		}
		if c.SearchString != "" {
			add("SearchString is for HTTP and HTTPS checks, not CALCULATED")
		}
		if len(c.Children) == 0 {
			add("a CALCULATED check needs Children")
		}
		seen := make(map[string]bool, len(c.Children))
		for _, ch := range c.Children {
			switch {
			case ch == c.ID:
				add("is its own child")
			case seen[ch]:
				add("names child %q twice", ch)
			}
			seen[ch] = true
		}
		if c.HealthThreshold < 1 || c.HealthThreshold > len(c.Children) {
			add("HealthThreshold %d is not between 1 and the number of children (%d)", c.HealthThreshold, len(c.Children))
		}
	default:
		add("Type %q is not HTTP, HTTPS, TCP or CALCULATED", c.Type)
	}
	return errs
}

// probeProblems checks the fields of an HTTP, HTTPS or TCP check.
func (c *Check) probeProblems(add func(string, ...any)) {
	if c.Target == "" {
		add("Target is empty: want host:port")
	} else if host, port, err := net.SplitHostPort(c.Target); err != nil {
		add("Target %q is not host:port", c.Target)
	} else {
		if host == "" {
			add("Target %q has no host", c.Target)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			add("Target %q has no port between 1 and 65535", c.Target)
		}
	}
	if c.Type != TypeTCP {
		if !strings.HasPrefix(c.Path, "/") {
			add("Path %q does not start with /", c.Path)
		} else if _, err := url.Parse("http://" + c.Target + c.Path); err != nil {
			add("Path %q with Target %q is not a URL: %v", c.Path, c.Target, err)
		}
		if strings.ContainsFunc(c.Host, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '/' }) {
			add("Host %q has a space, slash or control character", c.Host)
		}
		if len(c.SearchString) > MaxSearchString {
			add("SearchString is %d bytes, more than %d", len(c.SearchString), MaxSearchString)
		}
	} else if c.SearchString != "" {
		add("SearchString is for HTTP and HTTPS checks, not TCP")
	}
	if c.Interval <= 0 {
		add("Interval %v is not positive", c.Interval)
	}
	switch {
	case c.Timeout <= 0:
		add("Timeout %v is not positive", c.Timeout)
	case c.Interval > 0 && c.Timeout > c.Interval:
		add("Timeout %v is longer than Interval %v", c.Timeout, c.Interval)
	}
	if c.FailureThreshold < 1 || c.FailureThreshold > MaxFailureThreshold {
		add("FailureThreshold %d is not between 1 and %d", c.FailureThreshold, MaxFailureThreshold)
	}
	if !(c.HealthyFraction > 0 && c.HealthyFraction < 1) {
		add("HealthyFraction %v is not between 0 and 1 (exclusive)", c.HealthyFraction)
	}
	if len(c.Children) > 0 || c.HealthThreshold != 0 {
		add("Children and HealthThreshold are for CALCULATED checks")
	}
}

// Validate fills in the defaults of copies of checks and reports every
// problem of the list at once: each check's own (Check.Validate), ids
// that repeat, children that name no check, and cycles among calculated
// checks. It returns nil when the list is good.
func Validate(checks []Check) error {
	_, err := prepare(checks)
	return err
}

// prepare returns a defaulted copy of checks, sorted by id, or every
// problem with them.
func prepare(checks []Check) ([]Check, error) {
	out := make([]Check, len(checks))
	var errs []error
	byID := make(map[string]*Check, len(checks))
	for i := range checks {
		c := &out[i]
		*c = checks[i]
		c.Children = slices.Clone(c.Children)
		c.EnsureDefaults()
		errs = append(errs, c.problems()...)
		if c.ID == "" {
			continue
		}
		if byID[c.ID] != nil {
			errs = append(errs, fmt.Errorf("health: check %q is defined twice", c.ID))
			continue
		}
		byID[c.ID] = c
	}
	for i := range out {
		c := &out[i]
		for _, ch := range c.Children {
			if ch != c.ID && byID[ch] == nil {
				errs = append(errs, fmt.Errorf("health: check %q: child %q is not a check", c.ID, ch))
			}
		}
	}
	errs = append(errs, cycles(out, byID)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(out, func(a, b Check) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// cycles reports each cycle among calculated checks once (a check that is
// its own child is reported by Check.Validate).
func cycles(checks []Check, byID map[string]*Check) []error {
	const (
		unvisited = iota
		visiting
		done
	)
	state := make(map[string]int, len(checks))
	var errs []error
	var path []string
	var visit func(id string)
	visit = func(id string) {
		c := byID[id]
		if c == nil || state[id] == done {
			return
		}
		if state[id] == visiting {
			i := slices.Index(path, id)
			errs = append(errs, fmt.Errorf("health: calculated checks form a cycle: %s -> %s", strings.Join(path[i:], " -> "), id))
			return
		}
		state[id] = visiting
		path = append(path, id)
		for _, ch := range c.Children {
			if ch != id {
				visit(ch)
			}
		}
		path = path[:len(path)-1]
		state[id] = done
	}
	for i := range checks {
		visit(checks[i].ID)
	}
	return errs
}

// sameProbe reports whether a and b probe the same thing the same way, so
// that results of one still say something about the other.
func sameProbe(a, b *Check) bool {
	return a.Type == b.Type && a.Target == b.Target && a.Region == b.Region &&
		a.Path == b.Path && a.Host == b.Host && a.SearchString == b.SearchString &&
		a.Inverted == b.Inverted
}

// checkJSON is Check's JSON form: snake_case keys, durations as strings.
type checkJSON struct {
	ID               string   `json:"id"`
	Type             Type     `json:"type"`
	Target           string   `json:"target,omitempty"`
	Region           string   `json:"region,omitempty"`
	Path             string   `json:"path,omitempty"`
	Host             string   `json:"host,omitempty"`
	SearchString     string   `json:"search_string,omitempty"`
	Inverted         bool     `json:"inverted,omitempty"`
	Interval         Duration `json:"interval,omitzero"`
	Timeout          Duration `json:"timeout,omitzero"`
	FailureThreshold int      `json:"failure_threshold,omitempty"`
	HealthyFraction  float64  `json:"healthy_fraction,omitempty"`
	Children         []string `json:"children,omitempty"`
	HealthThreshold  int      `json:"health_threshold,omitempty"`
}

// MarshalJSON writes c with snake_case keys and durations as strings.
func (c Check) MarshalJSON() ([]byte, error) {
	return json.Marshal(checkJSON{
		ID: c.ID, Type: c.Type, Target: c.Target, Region: c.Region, Path: c.Path, Host: c.Host,
		SearchString: c.SearchString, Inverted: c.Inverted, Interval: Duration(c.Interval),
		Timeout: Duration(c.Timeout), FailureThreshold: c.FailureThreshold,
		HealthyFraction: c.HealthyFraction, Children: c.Children, HealthThreshold: c.HealthThreshold,
	})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Check) UnmarshalJSON(b []byte) error {
	var j checkJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Check{
		ID: j.ID, Type: j.Type, Target: j.Target, Region: j.Region, Path: j.Path, Host: j.Host,
		SearchString: j.SearchString, Inverted: j.Inverted, Interval: time.Duration(j.Interval),
		Timeout: time.Duration(j.Timeout), FailureThreshold: j.FailureThreshold,
		HealthyFraction: j.HealthyFraction, Children: j.Children, HealthThreshold: j.HealthThreshold,
	}
	return nil
}
