package health

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// DefaultStaleIntervals is how many check intervals (plus one timeout) a
// vantage point's latest result may age before it is left out.
const DefaultStaleIntervals = 3

// Aggregator decides each check's status from the latest report of every
// vantage point. It is deterministic: the caller passes the time reports
// were received and the time of each evaluation. It is not safe for
// concurrent use (Monitor wraps it for that).
//
// A probed check's status, at time now:
//
//  1. From each vantage point, take its state for the check. Leave it out
//     if the vantage point has no opinion (unknown), or if its latest
//     result is stale: older than StaleIntervals × Interval + Timeout.
//     The age is measured without comparing clocks across processes: a
//     report made at T (reporter's clock) and received at R (ours) says
//     that a result it holds from time T−a was current at R−a (the
//     report's transit time is counted as fresh, a round trip at most).
//  2. With no vantage point left, the status is unknown.
//  3. Otherwise the check is healthy when more than HealthyFraction of
//     them say healthy (Route 53's 18% rule), unhealthy if not.
//
// A calculated check counts its children's aggregated statuses: healthy
// when at least HealthThreshold are healthy, unhealthy when that many
// cannot be healthy even if every unknown child is, and unknown between
// the two (the answer depends on children nobody knows about). Inverted
// swaps healthy and unhealthy, last.
type Aggregator struct {
	// StaleIntervals sets when a result is stale (see above). Zero means
	// DefaultStaleIntervals.
	StaleIntervals int

	checks   []Check // sorted by id, with defaults
	byID     map[string]*Check
	vantages map[string]*received
}

// received is the latest report of one vantage point.
type received struct {
	report Report
	at     time.Time
	states map[string]*CheckState
}

// Verdict is the aggregated status of one check at one evaluation, with
// what it was decided from. The states in Vantages share their History and
// Last with the reports the Aggregator holds: treat them as read-only
// (Monitor.Snapshot returns copies).
type Verdict struct {
	// Check is the check's id.
	Check string `json:"check"`
	// Status is the aggregated status.
	Status Status `json:"status"`
	// Reason says how Status was reached, e.g. "2 of 3 fresh vantage
	// points healthy, more than 18% needed".
	Reason string `json:"reason"`
	// Vantages holds every vantage point's state for a probed check,
	// ordered by vantage; those left out are marked Stale or have status
	// unknown.
	Vantages []VantageState `json:"vantages,omitempty"`
	// Children holds the aggregated status of a calculated check's
	// children, in the check's order.
	Children []ChildStatus `json:"children,omitempty"`
}

// VantageState is one vantage point's state for one check, as an
// aggregation saw it.
type VantageState struct {
	// Vantage names the vantage point.
	Vantage string `json:"vantage"`
	// Stale is true when the vantage point's latest result was too old to
	// count.
	Stale bool `json:"stale"`
	// Age is how old the latest result was at the evaluation, by the
	// evaluator's clock; zero when there is none.
	Age Duration `json:"age"`
	// CheckState is what the vantage point reported.
	CheckState
}

// ChildStatus is the status of one child of a calculated check.
type ChildStatus struct {
	// Check is the child's id, Status its aggregated status.
	Check  string `json:"check"`
	Status Status `json:"status"`
}

// NewAggregator returns an aggregator with no checks and no reports.
func NewAggregator() *Aggregator {
	return &Aggregator{byID: map[string]*Check{}, vantages: map[string]*received{}}
}

// SetChecks replaces the checks to aggregate. They are validated as
// Validate does; on error nothing changes. Reports already held are kept:
// states they carry for checks no longer defined are ignored.
func (a *Aggregator) SetChecks(checks []Check) error {
	cs, err := prepare(checks)
	if err != nil {
		return err
	}
	a.setPrepared(cs)
	return nil
}

func (a *Aggregator) setPrepared(cs []Check) {
	a.checks = cs
	a.byID = make(map[string]*Check, len(cs))
	for i := range a.checks {
		a.byID[a.checks[i].ID] = &a.checks[i]
	}
}

// Checks returns the checks, with their defaults, ordered by id.
func (a *Aggregator) Checks() []Check { return slices.Clone(a.checks) }

// Add records r as its vantage point's latest report, received at time at
// (the aggregator's clock). A report made earlier (by its own Time) than
// the one held for the vantage point is ignored, so reports fetched
// concurrently may arrive out of order. It reports whether r was kept.
// The aggregator keeps r; the caller must not change it afterwards.
func (a *Aggregator) Add(r Report, at time.Time) bool {
	if old := a.vantages[r.Vantage]; old != nil && r.Time.Before(old.report.Time) {
		return false
	}
	rv := &received{report: r, at: at, states: make(map[string]*CheckState, len(r.Checks))}
	for i := range r.Checks {
		rv.states[r.Checks[i].Check] = &r.Checks[i]
	}
	a.vantages[r.Vantage] = rv
	return true
}

// Forget drops the vantage point's report: it no longer counts, even
// before it would have gone stale.
func (a *Aggregator) Forget(vantage string) { delete(a.vantages, vantage) }

// Vantages returns the names of the vantage points with a report, sorted.
func (a *Aggregator) Vantages() []string {
	return slices.Sorted(maps.Keys(a.vantages))
}

// Evaluate returns every check's verdict at time now, ordered by check id.
func (a *Aggregator) Evaluate(now time.Time) []Verdict {
	out := make([]Verdict, len(a.checks))
	names := a.Vantages()
	done := make(map[string]*Verdict, len(a.checks))
	var eval func(c *Check) *Verdict
	eval = func(c *Check) *Verdict {
		if v := done[c.ID]; v != nil {
			return v
		}
		i, _ := slices.BinarySearchFunc(a.checks, c.ID, func(x Check, id string) int { return strings.Compare(x.ID, id) })
		v := &out[i]
		done[c.ID] = v
		if c.probed() {
			a.probedVerdict(c, names, now, v)
			return v
		}
		v.Check = c.ID
		v.Children = make([]ChildStatus, len(c.Children))
		for j, id := range c.Children {
			// prepare rejects cycles and unknown children.
			v.Children[j] = ChildStatus{Check: id, Status: eval(a.byID[id]).Status}
		}
		v.Status, v.Reason = calculated(c, v.Children)
		return v
	}
	for i := range a.checks {
		eval(&a.checks[i])
	}
	return out
}

// probedVerdict fills v, the verdict of probed check c at time now from
// the reports of the named vantage points.
func (a *Aggregator) probedVerdict(c *Check, names []string, now time.Time, v *Verdict) {
	v.Check = c.ID
	staleAfter := time.Duration(a.staleIntervals())*c.Interval + c.Timeout
	var healthy, counted, stale, unknown int
	for _, name := range names {
		rv := a.vantages[name]
		st := rv.states[c.ID]
		if st == nil {
			continue
		}
		vs := VantageState{Vantage: name, CheckState: *st}
		if st.Last != nil {
			// The result was current at rv.at minus its age in the report.
			seen := rv.at.Add(-rv.report.Time.Sub(st.Last.Time))
			vs.Age = Duration(max(now.Sub(seen), 0))
			vs.Stale = time.Duration(vs.Age) > staleAfter
		}
		v.Vantages = append(v.Vantages, vs)
		switch {
		case vs.Stale:
			stale++
		case st.Status == StatusUnknown:
			unknown++
		default:
			counted++
			if st.Status == StatusHealthy {
				healthy++
			}
		}
	}
	if counted == 0 {
		v.Status = StatusUnknown
		v.Reason = "no fresh opinion from any vantage point"
		if n := stale + unknown; n > 0 {
			v.Reason += fmt.Sprintf(" (%d stale, %d without a result yet)", stale, unknown)
		}
	} else {
		v.Status = StatusUnhealthy
		if float64(healthy) > c.HealthyFraction*float64(counted) {
			v.Status = StatusHealthy
		}
		v.Reason = fmt.Sprintf("%d of %d fresh vantage points healthy, more than %g%% needed", healthy, counted, c.HealthyFraction*100)
		if stale > 0 {
			v.Reason += fmt.Sprintf("; %d stale left out", stale)
		}
	}
	if c.Inverted {
		// The vantage points have already inverted their results.
		v.Reason += " (inverted)"
	}
}

// calculated decides a calculated check from its children.
func calculated(c *Check, children []ChildStatus) (Status, string) {
	var healthy, unknown int
	for _, ch := range children {
		switch ch.Status {
		case StatusHealthy:
			healthy++
		case StatusUnknown:
			unknown++
		}
	}
	var s Status
	switch {
	case healthy >= c.HealthThreshold:
		s = StatusHealthy
	case healthy+unknown < c.HealthThreshold:
		s = StatusUnhealthy
	default:
		s = StatusUnknown
	}
	reason := fmt.Sprintf("%d of %d children healthy", healthy, len(children))
	if unknown > 0 {
		reason += fmt.Sprintf(", %d unknown", unknown)
	}
	reason += fmt.Sprintf("; %d needed", c.HealthThreshold)
	if c.Inverted {
		s = s.invert()
		reason += " (inverted)"
	}
	return s, reason
}

func (a *Aggregator) staleIntervals() int {
	if a.StaleIntervals > 0 {
		return a.StaleIntervals
	}
	return DefaultStaleIntervals
}
