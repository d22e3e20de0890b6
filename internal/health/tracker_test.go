package health

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// t0 is the fake clock's origin.
var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func pass(at time.Time) Result {
	return Result{Time: at, Outcome: OutcomeOK, StatusCode: 200}
}

func fail(at time.Time) Result {
	return Result{Time: at, Outcome: OutcomeStatus, StatusCode: 503, Error: "HTTP 503"}
}

// feed runs results given as a string of '+' (passed) and '-' (failed)
// through tr, one second apart, and returns the status after each as a
// string of 'H', 'U' and '?'.
func feed(tr *Tracker, start time.Time, results string) string {
	var b strings.Builder
	for i, c := range results {
		at := start.Add(time.Duration(i) * time.Second)
		if c == '+' {
			tr.Observe(pass(at))
		} else {
			tr.Observe(fail(at))
		}
		b.WriteByte("?HU"[tr.Status()])
	}
	return b.String()
}

func TestTrackerThresholds(t *testing.T) {
	tests := []struct {
		name      string
		threshold int
		inverted  bool
		results   string
		want      string
	}{
		{"the first success decides", 3, false, "+", "H"},
		{"the first failure decides", 3, false, "-", "U"},
		{"healthy to unhealthy after three failures in a row", 3, false, "+--+---+", "HHHHHHUU"},
		{"unhealthy to healthy after three successes in a row", 3, false, "-++-+++-", "UUUUUUHH"},
		{"both ways", 2, false, "+--++--", "HHUUHHU"},
		{"threshold 1 follows every result", 1, false, "+-+-", "HUHU"},
		{"inverted: a failing target is healthy", 3, true, "-", "H"},
		{"inverted: passes count as failures", 2, true, "--++-", "HHHUU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(Check{ID: "c", FailureThreshold: tt.threshold, Inverted: tt.inverted}, 0)
			if got := tr.Status(); got != StatusUnknown {
				t.Fatalf("before any result: %v, want unknown", got)
			}
			if got := feed(tr, t0, tt.results); got != tt.want {
				t.Errorf("results %s with threshold %d: statuses %s, want %s", tt.results, tt.threshold, got, tt.want)
			}
		})
	}
}

func TestTrackerState(t *testing.T) {
	tr := NewTracker(Check{ID: "c", FailureThreshold: 2}, 0)
	feed(tr, t0, "+--")
	st := tr.State()
	if st.Check != "c" || st.Status != StatusUnhealthy || st.ConsecutiveFailures != 2 || st.ConsecutiveSuccesses != 0 || st.Probes != 3 {
		t.Errorf("state %+v: want c unhealthy after 2 consecutive failures of 3 probes", st)
	}
	if st.Last == nil || st.Last.StatusCode != 503 || !st.Last.Time.Equal(t0.Add(2*time.Second)) {
		t.Errorf("last result %+v: want the 503 at t0+2s", st.Last)
	}
	want := []Transition{
		{Time: t0, From: StatusUnknown, To: StatusHealthy, Reason: "first result: HTTP 200"},
		{Time: t0.Add(2 * time.Second), From: StatusHealthy, To: StatusUnhealthy, Reason: "2 consecutive failures: HTTP 503"},
	}
	if fmt.Sprint(st.History) != fmt.Sprint(want) {
		t.Errorf("history:\n got %v\nwant %v", st.History, want)
	}
	if !st.Since.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("since %v, want the last transition's time", st.Since)
	}
	// The copy is the caller's.
	st.History[0].Reason = "changed"
	st.Last.StatusCode = 1
	if again := tr.State(); again.History[0].Reason == "changed" || again.Last.StatusCode == 1 {
		t.Error("State returned slices or pointers shared with the tracker")
	}
}

func TestTrackerHistoryBounded(t *testing.T) {
	tr := NewTracker(Check{ID: "c", FailureThreshold: 1}, 4)
	feed(tr, t0, strings.Repeat("+-", 10)) // 20 transitions
	st := tr.State()
	if st.Transitions != 20 {
		t.Errorf("Transitions %d, want 20", st.Transitions)
	}
	if len(st.History) != 4 {
		t.Fatalf("history holds %d transitions, want the limit 4", len(st.History))
	}
	for i, tr := range st.History {
		if want := t0.Add(time.Duration(16+i) * time.Second); !tr.Time.Equal(want) {
			t.Errorf("history[%d] at %v, want %v (the latest four, oldest first)", i, tr.Time, want)
		}
	}
	if cap(st.History) > 8 {
		t.Errorf("history capacity %d grew without bound", cap(st.History))
	}
}

func TestTrackerReconfigure(t *testing.T) {
	old := Check{ID: "c", Type: TypeHTTP, Target: "h:1", Path: "/", FailureThreshold: 3}

	t.Run("a new threshold keeps the counts", func(t *testing.T) {
		tr := NewTracker(old, 0)
		feed(tr, t0, "+--")
		c := old
		c.FailureThreshold = 2
		if _, ok := tr.Reconfigure(c, t0.Add(time.Minute)); ok {
			t.Error("changing the threshold made a transition")
		}
		if got := feed(tr, t0.Add(time.Hour), "-"); got != "U" {
			t.Errorf("third failure in a row under threshold 2: %s, want U", got)
		}
	})
	t.Run("a new target starts again from unknown", func(t *testing.T) {
		tr := NewTracker(old, 0)
		feed(tr, t0, "+")
		c := old
		c.Target = "h:2"
		tr2, ok := tr.Reconfigure(c, t0.Add(time.Minute))
		if !ok || tr2.To != StatusUnknown || tr2.Reason != "check redefined" {
			t.Errorf("Reconfigure = %+v, %v: want a transition to unknown", tr2, ok)
		}
		if st := tr.State(); st.Last != nil || st.ConsecutiveSuccesses != 0 {
			t.Errorf("state after redefinition %+v: want no result and no counts", st)
		}
		if got := feed(tr, t0.Add(time.Hour), "-"); got != "U" {
			t.Errorf("first result after redefinition: %s, want it to decide (U)", got)
		}
	})
}
