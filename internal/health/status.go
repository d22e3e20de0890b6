package health

import (
	"encoding/json"
	"fmt"
	"time"
)

// Status is what is known of a target's health.
type Status uint8

// The statuses. The zero value is StatusUnknown.
const (
	// StatusUnknown: no opinion yet, or none that is fresh. Routing treats
	// it as healthy (see Status.Routable and the package documentation).
	StatusUnknown Status = iota
	// StatusHealthy: the target passes its check.
	StatusHealthy
	// StatusUnhealthy: the target fails its check.
	StatusUnhealthy
)

// String returns "unknown", "healthy" or "unhealthy".
func (s Status) String() string {
	switch s {
	case StatusUnknown:
		return "unknown"
	case StatusHealthy:
		return "healthy"
	case StatusUnhealthy:
		return "unhealthy"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Routable reports whether traffic may be sent to a target with this
// status: true unless it is StatusUnhealthy. An unknown target is treated
// as healthy, as Route 53 treats a health check it has no data for yet:
// failing open keeps a region in service when the checkers themselves are
// what is broken, and routing by health needs positive evidence of
// failure before it takes a region out.
func (s Status) Routable() bool { return s != StatusUnhealthy }

// invert swaps healthy and unhealthy; unknown stays unknown.
func (s Status) invert() Status {
	switch s {
	case StatusHealthy:
		return StatusUnhealthy
	case StatusUnhealthy:
		return StatusHealthy
	}
	return s
}

// gauge is the value of the status metrics: 1 healthy, 0 unhealthy, -1
// unknown.
func (s Status) gauge() float64 {
	switch s {
	case StatusHealthy:
		return 1
	case StatusUnhealthy:
		return 0
	}
	return -1
}

// MarshalJSON writes the status as its String.
func (s Status) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a status String.
func (s *Status) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("health: status %s is not a string", b)
	}
	switch v {
	case "unknown":
		*s = StatusUnknown
	case "healthy":
		*s = StatusHealthy
	case "unhealthy":
		*s = StatusUnhealthy
	default:
		return fmt.Errorf("health: unknown status %q", v)
	}
	return nil
}

// Outcome classifies a probe's result, for people and for the result label
// of gyre_health_probes_total.
type Outcome string

// The outcomes of a probe.
const (
	OutcomeOK       Outcome = "ok"       // passed
	OutcomeTimeout  Outcome = "timeout"  // no answer within Check.Timeout
	OutcomeConnect  Outcome = "connect"  // the connection could not be opened (refused, partitioned, unreachable)
	OutcomeStatus   Outcome = "status"   // the HTTP status was not 2xx or 3xx
	OutcomeMismatch Outcome = "mismatch" // the search string was not in the first 5,120 bytes of the body
	OutcomeError    Outcome = "error"    // anything else: TLS, a broken response, a reset
)

// Result is the outcome of one probe from one vantage point.
type Result struct {
	// Time is when the probe finished, by the prober's clock.
	Time time.Time `json:"time"`
	// Outcome classifies the result; OutcomeOK when the probe passed.
	Outcome Outcome `json:"outcome"`
	// StatusCode is the HTTP status, 0 when there was none (TCP, or no
	// response).
	StatusCode int `json:"status_code,omitempty"`
	// Latency is how long the probe took, from the start of the dial to
	// the verdict (response headers, or the searched body).
	Latency Duration `json:"latency"`
	// Error says why the probe failed; empty when it passed.
	Error string `json:"error,omitempty"`
}

// OK reports whether the probe passed, before Check.Inverted is applied.
func (r *Result) OK() bool { return r.Outcome == OutcomeOK }

// Transition is one change of status.
type Transition struct {
	// Time of the change: the time of the result that caused it, or of
	// the evaluation that found it.
	Time time.Time `json:"time"`
	// From and To are the statuses before and after.
	From Status `json:"from"`
	To   Status `json:"to"`
	// Reason says why, e.g. "3 consecutive failures: HTTP 503".
	Reason string `json:"reason"`
}

// CheckState is one vantage point's view of one check: what its state
// machine (Tracker) holds. It is plain data; the caller owns it.
type CheckState struct {
	// Check is the check's id.
	Check string `json:"check"`
	// Status is the vantage point's opinion: unknown until the first
	// probe has finished.
	Status Status `json:"status"`
	// Since is the time of the last transition; zero before the first.
	Since time.Time `json:"since,omitzero"`
	// ConsecutiveSuccesses and ConsecutiveFailures count the results in a
	// row that say healthy and unhealthy, after Check.Inverted is applied.
	// One of them is zero.
	ConsecutiveSuccesses int `json:"consecutive_successes"`
	ConsecutiveFailures  int `json:"consecutive_failures"`
	// Probes counts the results observed.
	Probes uint64 `json:"probes"`
	// Last is the latest result; nil before the first.
	Last *Result `json:"last,omitempty"`
	// Transitions counts every transition; History holds the latest,
	// oldest first, at most the tracker's history limit.
	Transitions uint64       `json:"transitions"`
	History     []Transition `json:"history"`
}

// Report is a vantage point's view of every check it probes, as Prober.Report
// returns it and GET /health/report serves it. It is plain data; the
// caller owns it.
type Report struct {
	// Vantage names the vantage point: a region, or the router.
	Vantage string `json:"vantage"`
	// Time is when the report was made, by the vantage point's clock. A
	// Monitor compares it only with the times of results in the same
	// report, never with its own clock, so clock skew between processes
	// does not make reports look fresh or stale.
	Time time.Time `json:"time"`
	// Checks holds a state per probed check, ordered by id.
	Checks []CheckState `json:"checks"`
}

// Duration is a time.Duration that JSON writes and reads as a Go duration
// string, such as "31ms".
type Duration time.Duration

// String formats d as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string such as "40ms". Numbers are
// refused: a bare 40 is too easily meant as milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("health: duration %s is not a string such as \"40ms\"", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("health: bad duration %q: want a string such as \"40ms\"", s)
	}
	*d = Duration(v)
	return nil
}
