package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// closed reports whether ch is closed.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func newTestMonitor(t *testing.T, clock *fakeClock, reg *prometheus.Registry, checks ...Check) *Monitor {
	t.Helper()
	opts := MonitorOptions{Checks: checks, Clock: clock.Now, Region: "router"}
	if reg != nil {
		opts.Registerer = reg
	}
	m, err := NewMonitor(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown(context.Background()) })
	return m
}

func TestMonitorStatusAndChanges(t *testing.T) {
	clock := &fakeClock{now: t0}
	reg := prometheus.NewRegistry()
	m := newTestMonitor(t, clock, reg, probedCheck("a"), probedCheck("b"),
		Check{ID: "both", Type: TypeCalculated, Children: []string{"a", "b"}})

	for _, id := range []string{"a", "both", "no-such-check"} {
		if !m.Healthy(id) || m.Status(id) != StatusUnknown {
			t.Errorf("%s before any report: healthy %v, status %v; want unknown, treated as healthy", id, m.Healthy(id), m.Status(id))
		}
	}
	if _, ok := m.Lookup("no-such-check"); ok {
		t.Error("Lookup found a check that does not exist")
	}
	if s, ok := m.Lookup("a"); !ok || s != StatusUnknown {
		t.Errorf("Lookup(a) = %v, %v; want unknown, true", s, ok)
	}

	ch, gen := m.Changed(), m.Generation()
	report := func(vantage string, a, b Status) Report {
		now := clock.Now()
		return Report{Vantage: vantage, Time: now, Checks: []CheckState{opinion("a", a, now), opinion("b", b, now)}}
	}
	if err := m.Update(report("v1", StatusHealthy, StatusUnhealthy)); err != nil {
		t.Fatal(err)
	}
	if !closed(ch) || m.Generation() != gen+1 {
		t.Fatalf("a change did not signal: closed %v, generation %d -> %d", closed(ch), gen, m.Generation())
	}
	if m.Status("a") != StatusHealthy || m.Status("b") != StatusUnhealthy || m.Healthy("b") || m.Status("both") != StatusUnhealthy {
		t.Errorf("after v1: a %v, b %v, both %v; want healthy, unhealthy, unhealthy", m.Status("a"), m.Status("b"), m.Status("both"))
	}

	// A second vantage point agreeing changes nothing aggregated: no signal.
	ch, gen = m.Changed(), m.Generation()
	clock.Advance(time.Second)
	m.Update(report("v2", StatusHealthy, StatusUnhealthy))
	if closed(ch) || m.Generation() != gen {
		t.Error("a report that changed no aggregated status signalled a change")
	}
	// One of two saying healthy is more than 18%: b is healthy.
	clock.Advance(time.Second)
	m.Update(report("v2", StatusHealthy, StatusHealthy))
	if !closed(ch) || m.Status("b") != StatusHealthy || m.Status("both") != StatusHealthy {
		t.Errorf("after v2 saw b healthy: signalled %v, b %v, both %v; want a signal, healthy, healthy", closed(ch), m.Status("b"), m.Status("both"))
	}

	// Silence: once every result is over 4s old, everything is unknown,
	// and still routable.
	ch = m.Changed()
	clock.Advance(3 * time.Second) // v1's results are 5s old, v2's 3s
	m.Refresh()
	if closed(ch) || m.Status("b") != StatusHealthy {
		t.Errorf("with v1 stale and v2 fresh: signalled %v, b %v; want no change, healthy", closed(ch), m.Status("b"))
	}
	clock.Advance(2 * time.Second)
	m.Refresh()
	if !closed(ch) || m.Status("a") != StatusUnknown || m.Status("both") != StatusUnknown || !m.Healthy("a") {
		t.Errorf("with every report stale: a %v, both %v, healthy(a) %v; want unknown, unknown, true", m.Status("a"), m.Status("both"), m.Healthy("a"))
	}

	snap := m.Snapshot()
	var a CheckSnapshot
	for _, c := range snap.Checks {
		if c.Check.ID == "a" {
			a = c
		}
	}
	if len(snap.Checks) != 3 || a.Status != StatusUnknown || len(a.Vantages) != 2 || !a.Vantages[0].Stale || !a.Vantages[1].Stale {
		t.Fatalf("snapshot %+v: want 3 checks, a unknown with two stale vantage points", snap)
	}
	wantHistory := []struct {
		at       time.Duration
		from, to Status
		reason   string
	}{
		{0, StatusUnknown, StatusHealthy, "1 of 1 fresh vantage points healthy"},
		{7 * time.Second, StatusHealthy, StatusUnknown, "no fresh opinion from any vantage point (2 stale"},
	}
	if len(a.History) != len(wantHistory) || a.Transitions != uint64(len(wantHistory)) {
		t.Fatalf("a's history %+v: want %d transitions", a.History, len(wantHistory))
	}
	for i, w := range wantHistory {
		h := a.History[i]
		if !h.Time.Equal(t0.Add(w.at)) || h.From != w.from || h.To != w.to || !strings.HasPrefix(h.Reason, w.reason) {
			t.Errorf("a's transition %d: %+v; want at t0+%v %v -> %v, reason %q...", i, h, w.at, w.from, w.to, w.reason)
		}
	}
	if !a.Since.Equal(t0.Add(7 * time.Second)) {
		t.Errorf("a since %v, want t0+7s", a.Since)
	}

	if got, _ := metricValue(t, reg, "gyre_health_status", map[string]string{"check": "b", "region": "router"}); got != -1 {
		t.Errorf("gyre_health_status{check=b} = %v, want -1 (unknown)", got)
	}
	if got, _ := metricValue(t, reg, "gyre_health_status_changes_total", map[string]string{"check": "b", "to": "healthy"}); got != 1 {
		t.Errorf("gyre_health_status_changes_total{check=b,to=healthy} = %v, want 1", got)
	}

	// Forget drops a vantage point at once.
	clock.Advance(time.Second)
	m.Update(report("v1", StatusUnhealthy, StatusUnhealthy))
	m.Update(report("v2", StatusHealthy, StatusHealthy))
	if m.Status("a") != StatusHealthy {
		t.Fatalf("a is %v with v2 healthy, want healthy", m.Status("a"))
	}
	m.Forget("v2")
	if m.Status("a") != StatusUnhealthy {
		t.Errorf("after forgetting v2, a is %v; want unhealthy (v1 alone)", m.Status("a"))
	}
}

func TestMonitorSetChecks(t *testing.T) {
	clock := &fakeClock{now: t0}
	m := newTestMonitor(t, clock, nil, probedCheck("a"))
	m.Update(Report{Vantage: "v", Time: t0, Checks: []CheckState{opinion("a", StatusUnhealthy, t0), opinion("b", StatusUnhealthy, t0)}})
	if _, ok := m.Lookup("b"); ok {
		t.Error("a state for a check the Monitor does not have made it appear")
	}
	ch := m.Changed()
	if err := m.SetChecks([]Check{probedCheck("a"), probedCheck("b")}); err != nil {
		t.Fatal(err)
	}
	if !closed(ch) || m.Status("b") != StatusUnhealthy || m.Status("a") != StatusUnhealthy {
		t.Errorf("after adding b: signalled %v, a %v, b %v; want a signal and both unhealthy from the report held", closed(ch), m.Status("a"), m.Status("b"))
	}
	if err := m.SetChecks([]Check{{ID: "bad", Type: TypeCalculated, Children: []string{"x"}}}); err == nil {
		t.Error("SetChecks accepted a calculated check with an unknown child")
	}
	if m.Status("a") != StatusUnhealthy {
		t.Error("a failed SetChecks changed the checks")
	}
	m.SetChecks([]Check{probedCheck("b")})
	if _, ok := m.Lookup("a"); ok {
		t.Error("a removed check is still there")
	}

	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if err := m.Update(Report{Vantage: "v", Time: t0}); !errors.Is(err, ErrStopped) {
		t.Errorf("Update after Shutdown: %v, want ErrStopped", err)
	}
	if err := m.SetChecks(nil); !errors.Is(err, ErrStopped) {
		t.Errorf("SetChecks after Shutdown: %v, want ErrStopped", err)
	}
	if err := m.Start(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("Start after Shutdown: %v, want ErrStopped", err)
	}
	if m.Status("b") != StatusUnhealthy {
		t.Error("statuses are not readable after Shutdown")
	}
}

func TestMonitorRefreshLoop(t *testing.T) {
	// The real clock: the loop must notice on its own that a report went
	// stale.
	c := probedCheck("a")
	c.Interval, c.Timeout = 10*time.Millisecond, 10*time.Millisecond
	m, err := NewMonitor(MonitorOptions{Checks: []Check{c}, RefreshInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Errorf("second Start: %v", err)
	}
	defer m.Shutdown(context.Background())
	now := time.Now()
	m.Update(Report{Vantage: "v", Time: now, Checks: []CheckState{opinion("a", StatusUnhealthy, now)}})
	waitChanged(t, m, "a to go stale", func() bool { return m.Status("a") == StatusUnknown })
}

// waitChanged waits, on the Monitor's change signal, for cond.
func waitChanged(t *testing.T, m *Monitor, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		ch := m.Changed()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; snapshot: %+v", what, m.Snapshot())
		}
	}
}

func TestMonitorHandler(t *testing.T) {
	clock := &fakeClock{now: t0}
	m := newTestMonitor(t, clock, nil, probedCheck("a"), Check{ID: "calc", Type: TypeCalculated, Children: []string{"a"}})
	m.Update(Report{Vantage: "v", Time: t0, Checks: []CheckState{opinion("a", StatusHealthy, t0)}})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + StatusPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var snap Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || len(snap.Checks) != 2 || snap.Checks[0].Status != StatusHealthy ||
		snap.Checks[0].Check.Interval != time.Second || snap.Checks[1].Children[0].Status != StatusHealthy ||
		snap.Checks[0].Vantages[0].Last.StatusCode != 200 || len(snap.Vantages) != 1 {
		t.Errorf("GET %s: %d %+v", StatusPath, resp.StatusCode, snap)
	}
	for path, want := range map[string]int{"/health/other": 404, "/": 404} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	resp, err = http.Post(srv.URL+StatusPath, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST %s: %d, want 405", StatusPath, resp.StatusCode)
	}
}

func TestMonitorOptions(t *testing.T) {
	_, err := NewMonitor(MonitorOptions{StaleIntervals: -1, RefreshInterval: -1, Checks: []Check{{ID: "x", Type: "UDP"}}})
	if err == nil {
		t.Fatal("NewMonitor accepted bad options")
	}
	for _, want := range []string{"StaleIntervals -1", "RefreshInterval -1ns", `Type "UDP"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func BenchmarkMonitorHealthy(b *testing.B) {
	for _, n := range []int{4, 64, 1024} {
		checks := make([]Check, n)
		states := make([]CheckState, n)
		for i := range checks {
			checks[i] = probedCheck("check-" + strconv.Itoa(i))
			states[i] = opinion(checks[i].ID, StatusHealthy, t0)
		}
		clock := &fakeClock{now: t0}
		m, err := NewMonitor(MonitorOptions{Checks: checks, Clock: clock.Now})
		if err != nil {
			b.Fatal(err)
		}
		m.Update(Report{Vantage: "v", Time: t0, Checks: states})
		id := checks[n/2].ID
		b.Run("checks="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !m.Healthy(id) {
					b.Fatal("unhealthy")
				}
			}
		})
		b.Run("checks="+strconv.Itoa(n)+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if !m.Healthy(id) {
						b.Fatal("unhealthy")
					}
				}
			})
		})
	}
}
