package health

import (
	"fmt"
	"slices"
	"time"
)

// DefaultHistory is how many transitions a Tracker keeps when given 0.
const DefaultHistory = 16

// Tracker is the state machine of one check seen from one vantage point:
// it is fed probe results, in order, and turns them into a status with the
// check's failure threshold, as Route 53's health checkers do.
//
//   - Before the first result the status is unknown.
//   - The first result decides at once: healthy if it passed, unhealthy if
//     not (as Envoy treats a new host), so a target that is down when
//     checking starts is not reported healthy for threshold intervals.
//   - After that, a healthy target becomes unhealthy after FailureThreshold
//     consecutive failures, and an unhealthy one healthy after
//     FailureThreshold consecutive successes.
//
// Inverted checks count a passed probe as a failure and the reverse. Each
// change of status is kept in a bounded history with its time and reason.
//
// A Tracker is deterministic: it has no clock and no goroutines; times come
// from the results. It is not safe for concurrent use.
type Tracker struct {
	check     Check
	threshold int
	limit     int
	st        CheckState
}

// NewTracker returns the tracker of check c (its ID, FailureThreshold and
// Inverted) that keeps the latest historyLimit transitions (0 means
// DefaultHistory). c should have its defaults (Check.EnsureDefaults); a
// threshold below 1 counts as 1.
func NewTracker(c Check, historyLimit int) *Tracker {
	if historyLimit <= 0 {
		historyLimit = DefaultHistory
	}
	t := &Tracker{limit: historyLimit}
	t.st.Check = c.ID
	t.configure(c)
	return t
}

func (t *Tracker) configure(c Check) {
	t.check = c
	t.threshold = max(c.FailureThreshold, 1)
}

// Observe feeds the tracker the next result and returns the transition it
// caused, if any. Results should come in the order of their times.
func (t *Tracker) Observe(r Result) (Transition, bool) {
	st := &t.st
	st.Probes++
	st.Last = &r
	healthy := r.OK() != t.check.Inverted
	if healthy {
		st.ConsecutiveSuccesses++
		st.ConsecutiveFailures = 0
	} else {
		st.ConsecutiveFailures++
		st.ConsecutiveSuccesses = 0
	}
	var to Status
	var reason string
	switch {
	case st.Status == StatusUnknown && healthy:
		to, reason = StatusHealthy, "first result: "+t.describe(&r)
	case st.Status == StatusUnknown:
		to, reason = StatusUnhealthy, "first result: "+t.describe(&r)
	case st.Status == StatusUnhealthy && st.ConsecutiveSuccesses >= t.threshold:
		to, reason = StatusHealthy, fmt.Sprintf("%d consecutive successes: %s", st.ConsecutiveSuccesses, t.describe(&r))
	case st.Status == StatusHealthy && st.ConsecutiveFailures >= t.threshold:
		to, reason = StatusUnhealthy, fmt.Sprintf("%d consecutive failures: %s", st.ConsecutiveFailures, t.describe(&r))
	default:
		return Transition{}, false
	}
	return t.transition(r.Time, to, reason), true
}

// describe says what a result was, for transition reasons.
func (t *Tracker) describe(r *Result) string {
	s := string(r.Outcome)
	switch {
	case r.Error != "":
		s = r.Error
	case r.StatusCode != 0:
		s = fmt.Sprintf("HTTP %d", r.StatusCode)
	}
	if t.check.Inverted {
		s += " (inverted)"
	}
	return s
}

func (t *Tracker) transition(at time.Time, to Status, reason string) Transition {
	st := &t.st
	tr := Transition{Time: at, From: st.Status, To: to, Reason: reason}
	st.Status = to
	st.Since = at
	st.Transitions++
	if len(st.History) >= t.limit {
		// Shift rather than reslice, so the backing array stays bounded.
		n := copy(st.History, st.History[len(st.History)-t.limit+1:])
		st.History = st.History[:n]
	}
	st.History = append(st.History, tr)
	return tr
}

// Reconfigure applies a new definition of the check, with the same ID. If
// it still probes the same thing the same way (same type, target, region,
// path, host, search string and inversion), only the threshold changes
// and the counts carry on; otherwise the old results say nothing about the
// new check, so the counts are cleared and the status returns to unknown,
// with a transition at time now if it was known.
func (t *Tracker) Reconfigure(c Check, now time.Time) (Transition, bool) {
	old := t.check
	t.configure(c)
	if sameProbe(&old, &c) {
		return Transition{}, false
	}
	st := &t.st
	st.ConsecutiveSuccesses, st.ConsecutiveFailures = 0, 0
	st.Last = nil
	if st.Status == StatusUnknown {
		return Transition{}, false
	}
	return t.transition(now, StatusUnknown, "check redefined"), true
}

// Status returns the current status.
func (t *Tracker) Status() Status { return t.st.Status }

// State returns a copy of the tracker's state, which the caller owns.
func (t *Tracker) State() CheckState {
	st := t.st
	st.History = slices.Clone(st.History)
	if st.History == nil {
		st.History = []Transition{}
	}
	if st.Last != nil {
		last := *st.Last
		st.Last = &last
	}
	return st
}
