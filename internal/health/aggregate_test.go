package health

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// opinion is a vantage point's state for a check, its last result at
// resultAt (by the vantage point's clock).
func opinion(check string, s Status, resultAt time.Time) CheckState {
	st := CheckState{Check: check, Status: s, History: []Transition{}}
	if s != StatusUnknown {
		r := pass(resultAt)
		if s == StatusUnhealthy {
			r = fail(resultAt)
		}
		st.Last = &r
	}
	return st
}

// statuses evaluates a at now and returns each check's status.
func statuses(a *Aggregator, now time.Time) map[string]Status {
	out := map[string]Status{}
	for _, v := range a.Evaluate(now) {
		out[v.Check] = v.Status
	}
	return out
}

func newAggregator(t *testing.T, checks ...Check) *Aggregator {
	t.Helper()
	a := NewAggregator()
	if err := a.SetChecks(checks); err != nil {
		t.Fatal(err)
	}
	return a
}

// probedCheck is an HTTP check with a 1s interval and timeout, so a result
// is stale after 3 × 1s + 1s = 4s.
func probedCheck(id string) Check {
	return Check{ID: id, Target: "127.0.0.1:80", Interval: time.Second, Timeout: time.Second}
}

func TestAggregateVantageRule(t *testing.T) {
	tests := []struct {
		vantages string // one letter per vantage point: H healthy, U unhealthy, ? no result yet, S stale healthy, s stale unhealthy
		fraction float64
		want     Status
	}{
		{"H", 0, StatusHealthy},
		{"U", 0, StatusUnhealthy},
		{"HU", 0, StatusHealthy},
		{"UU", 0, StatusUnhealthy},
		{"HUU", 0, StatusHealthy},
		{"HUUU", 0, StatusHealthy}, // 1/4 = 25% > 18%
		{"UUUU", 0, StatusUnhealthy},
		{"HUUUU", 0, StatusHealthy},    // 20% > 18%
		{"HUUUUU", 0, StatusUnhealthy}, // 16.7% is not more than 18%
		{"HHUUUU", 0, StatusHealthy},
		{"HHUU", 0.5, StatusUnhealthy}, // exactly half is not more than half
		{"HHHU", 0.5, StatusHealthy},
		// Stale and silent vantage points are left out.
		{"sssH", 0, StatusHealthy},
		{"SSSU", 0, StatusUnhealthy},
		{"??U", 0, StatusUnhealthy},
		{"?", 0, StatusUnknown},
		{"Ss", 0, StatusUnknown},
		{"", 0, StatusUnknown},
	}
	now := t0.Add(time.Hour)
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.vantages, tt.fraction), func(t *testing.T) {
			c := probedCheck("c")
			c.HealthyFraction = tt.fraction
			a := newAggregator(t, c)
			for i, v := range tt.vantages {
				st, resultAt := StatusHealthy, now.Add(-time.Second)
				switch v {
				case 'U':
					st = StatusUnhealthy
				case '?':
					st = StatusUnknown
				case 'S':
					resultAt = now.Add(-5 * time.Second)
				case 's':
					st, resultAt = StatusUnhealthy, now.Add(-5*time.Second)
				}
				a.Add(Report{Vantage: fmt.Sprint("v", i), Time: now, Checks: []CheckState{opinion("c", st, resultAt)}}, now)
			}
			v := a.Evaluate(now)[0]
			if v.Status != tt.want {
				t.Errorf("vantage points %q: %v (%s), want %v", tt.vantages, v.Status, v.Reason, tt.want)
			}
			if len(v.Vantages) != len(tt.vantages) {
				t.Errorf("verdict lists %d vantage points, want %d", len(v.Vantages), len(tt.vantages))
			}
		})
	}
}

func TestAggregateStaleness(t *testing.T) {
	a := newAggregator(t, probedCheck("c"))
	a.Add(Report{Vantage: "v", Time: t0, Checks: []CheckState{opinion("c", StatusUnhealthy, t0)}}, t0)
	// 3 intervals + 1 timeout = 4s.
	if got := statuses(a, t0.Add(4*time.Second))["c"]; got != StatusUnhealthy {
		t.Errorf("a result 4s old: %v, want still counted (unhealthy)", got)
	}
	v := a.Evaluate(t0.Add(4*time.Second + time.Nanosecond))[0]
	if v.Status != StatusUnknown || !v.Vantages[0].Stale {
		t.Errorf("a result just over 4s old: %v, stale %v; want unknown, stale", v.Status, v.Vantages[0].Stale)
	}
	if !strings.Contains(v.Reason, "1 stale") {
		t.Errorf("reason %q does not mention the stale vantage point", v.Reason)
	}

	a.StaleIntervals = 10
	if got := statuses(a, t0.Add(10*time.Second))["c"]; got != StatusUnhealthy {
		t.Errorf("with StaleIntervals 10, a result 10s old: %v, want still counted", got)
	}
}

func TestAggregateIgnoresClockSkew(t *testing.T) {
	a := newAggregator(t, probedCheck("c"))
	// The vantage point's clock is an hour fast: its report says it was
	// made at t0+1h, with a result from half a second before that. We
	// receive it at t0 by our clock.
	skewed := t0.Add(time.Hour)
	a.Add(Report{Vantage: "fast", Time: skewed, Checks: []CheckState{opinion("c", StatusHealthy, skewed.Add(-500*time.Millisecond))}}, t0)
	// Our clock is an hour fast the other way for another vantage point.
	slow := t0.Add(-time.Hour)
	a.Add(Report{Vantage: "slow", Time: slow, Checks: []CheckState{opinion("c", StatusHealthy, slow.Add(-500*time.Millisecond))}}, t0)

	v := a.Evaluate(t0.Add(time.Second))[0]
	if v.Status != StatusHealthy {
		t.Errorf("skewed but fresh reports: %v (%s), want healthy", v.Status, v.Reason)
	}
	for _, vs := range v.Vantages {
		if time.Duration(vs.Age) != 1500*time.Millisecond || vs.Stale {
			t.Errorf("%s: age %v stale %v, want 1.5s by our clock, fresh", vs.Vantage, vs.Age, vs.Stale)
		}
	}
	if got := statuses(a, t0.Add(4*time.Second))["c"]; got != StatusUnknown {
		t.Errorf("4.5s after the results: %v, want unknown (stale)", got)
	}
}

func TestAggregateKeepsNewestReport(t *testing.T) {
	a := newAggregator(t, probedCheck("c"))
	newer := Report{Vantage: "v", Time: t0.Add(time.Second), Checks: []CheckState{opinion("c", StatusUnhealthy, t0.Add(time.Second))}}
	older := Report{Vantage: "v", Time: t0, Checks: []CheckState{opinion("c", StatusHealthy, t0)}}
	if !a.Add(newer, t0.Add(time.Second)) {
		t.Fatal("the first report was not kept")
	}
	if a.Add(older, t0.Add(2*time.Second)) {
		t.Error("a report older than the one held was kept")
	}
	if got := statuses(a, t0.Add(2*time.Second))["c"]; got != StatusUnhealthy {
		t.Errorf("status %v, want the newer report's (unhealthy)", got)
	}
	a.Forget("v")
	if got := statuses(a, t0.Add(2*time.Second))["c"]; got != StatusUnknown {
		t.Errorf("after Forget: %v, want unknown", got)
	}
}

func TestAggregateCalculated(t *testing.T) {
	checks := []Check{
		probedCheck("a"), probedCheck("b"), probedCheck("c"), probedCheck("d"),
		{ID: "two", Type: TypeCalculated, Children: []string{"a", "b", "c"}, HealthThreshold: 2},
		{ID: "not-two", Type: TypeCalculated, Children: []string{"a", "b", "c"}, HealthThreshold: 2, Inverted: true},
		{ID: "all", Type: TypeCalculated, Children: []string{"a", "b", "c"}},
		{ID: "nested", Type: TypeCalculated, Children: []string{"two", "d"}, HealthThreshold: 1},
	}
	tests := []struct {
		children string // statuses of a, b, c, d: H, U or ? (no report)
		want     map[string]Status
	}{
		{"HHUU", map[string]Status{"two": StatusHealthy, "not-two": StatusUnhealthy, "all": StatusUnhealthy, "nested": StatusHealthy}},
		{"HHHU", map[string]Status{"two": StatusHealthy, "all": StatusHealthy, "nested": StatusHealthy}},
		{"HUUU", map[string]Status{"two": StatusUnhealthy, "not-two": StatusHealthy, "all": StatusUnhealthy, "nested": StatusUnhealthy}},
		// One healthy, one unknown: two are healthy only if the unknown one is.
		{"H?UU", map[string]Status{"two": StatusUnknown, "not-two": StatusUnknown, "all": StatusUnhealthy, "nested": StatusUnknown}},
		{"H?UH", map[string]Status{"two": StatusUnknown, "nested": StatusHealthy}},
		// Even if the unknown one is healthy, one is not enough.
		{"U?UU", map[string]Status{"two": StatusUnhealthy, "all": StatusUnhealthy, "nested": StatusUnhealthy}},
		{"????", map[string]Status{"two": StatusUnknown, "all": StatusUnknown, "nested": StatusUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.children, func(t *testing.T) {
			a := newAggregator(t, checks...)
			var states []CheckState
			for i, s := range tt.children {
				st := map[rune]Status{'H': StatusHealthy, 'U': StatusUnhealthy}[s]
				if s != '?' {
					states = append(states, opinion(string(rune('a'+i)), st, t0))
				}
			}
			a.Add(Report{Vantage: "v", Time: t0, Checks: states}, t0)
			got := statuses(a, t0)
			for id, want := range tt.want {
				if got[id] != want {
					t.Errorf("children %s: %s is %v, want %v", tt.children, id, got[id], want)
				}
			}
		})
	}
}

func TestAggregateReasons(t *testing.T) {
	a := newAggregator(t, probedCheck("a"), probedCheck("b"),
		Check{ID: "calc", Type: TypeCalculated, Children: []string{"a", "b"}, HealthThreshold: 1})
	a.Add(Report{Vantage: "v1", Time: t0, Checks: []CheckState{opinion("a", StatusHealthy, t0), opinion("b", StatusUnhealthy, t0)}}, t0)
	a.Add(Report{Vantage: "v2", Time: t0, Checks: []CheckState{opinion("a", StatusUnhealthy, t0)}}, t0)
	got := map[string]Verdict{}
	for _, v := range a.Evaluate(t0) {
		got[v.Check] = v
	}
	for id, want := range map[string]string{
		"a":    "1 of 2 fresh vantage points healthy, more than 18% needed",
		"b":    "0 of 1 fresh vantage points healthy, more than 18% needed",
		"calc": "1 of 2 children healthy; 1 needed",
	} {
		if got[id].Reason != want {
			t.Errorf("%s: reason %q, want %q", id, got[id].Reason, want)
		}
	}
	if cs := got["calc"].Children; len(cs) != 2 || cs[0] != (ChildStatus{"a", StatusHealthy}) || cs[1] != (ChildStatus{"b", StatusUnhealthy}) {
		t.Errorf("calc's children %+v, want a healthy, b unhealthy", cs)
	}
}
