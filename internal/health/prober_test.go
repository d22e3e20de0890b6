package health

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// signal wakes a waiter each time something happened; waits are bounded by
// a deadline, never by sleeping.
type signal struct{ ch chan struct{} }

func newSignal() *signal { return &signal{ch: make(chan struct{}, 1)} }

func (s *signal) notify() {
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

// wait returns once cond holds, checking it at each notify.
func (s *signal) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-s.ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// switchable is a backend whose health the test sets.
type switchable struct {
	code     atomic.Int64
	requests atomic.Int64
}

func (b *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.requests.Add(1)
	w.WriteHeader(int(b.code.Load()))
	w.Write([]byte("gyre ok"))
}

// fastCheck is an HTTP check on target probed every 50ms.
func fastCheck(id, target string) Check {
	return Check{ID: id, Target: target, Region: "us-east-1", Interval: 50 * time.Millisecond,
		Timeout: 50 * time.Millisecond, FailureThreshold: 2, SearchString: "ok"}
}

// slowCheck is fastCheck probed every 500ms, for tests decided by first
// results, which come within the initial jitter: the long timeout keeps
// a loaded machine from failing probes.
func slowCheck(id, target string) Check {
	c := fastCheck(id, target)
	c.Interval, c.Timeout = 500*time.Millisecond, 500*time.Millisecond
	return c
}

// startProber starts a prober feeding mon (if not nil) and published.
func startProber(t *testing.T, opts ProberOptions, mon *Monitor, published *signal) *Prober {
	t.Helper()
	if opts.Dial == nil {
		opts.Dial = plainDial
	}
	opts.Publish = func(r Report) {
		if mon != nil {
			mon.Update(r)
		}
		if published != nil {
			published.notify()
		}
	}
	p, err := NewProber(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return p
}

// stateOf returns the report's state for check id.
func stateOf(r Report, id string) (CheckState, bool) {
	for _, st := range r.Checks {
		if st.Check == id {
			return st, true
		}
	}
	return CheckState{}, false
}

func TestProberFeedsMonitor(t *testing.T) {
	backend := &switchable{}
	backend.code.Store(200)
	srv := httptest.NewServer(backend)
	defer srv.Close()

	checks := []Check{
		fastCheck("app", hostPort(srv.URL)),
		{ID: "any", Type: TypeCalculated, Children: []string{"app"}},
	}
	// Stale after 6 intervals, so that a prober starved by a loaded
	// machine does not drop out.
	mon, err := NewMonitor(MonitorOptions{Checks: checks, RefreshInterval: 5 * time.Millisecond, StaleIntervals: 6})
	if err != nil {
		t.Fatal(err)
	}
	if err := mon.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer mon.Shutdown(context.Background())
	reg := prometheus.NewRegistry()
	published := newSignal()
	p1 := startProber(t, ProberOptions{Vantage: "us-east-1", Checks: checks, Registerer: reg}, mon, published)
	p2 := startProber(t, ProberOptions{Vantage: "eu-west-1", Checks: checks}, mon, published)
	bothSay := func(s Status) func() bool {
		return func() bool {
			st1, _ := stateOf(p1.Report(), "app")
			st2, _ := stateOf(p2.Report(), "app")
			return st1.Status == s && st2.Status == s
		}
	}

	published.wait(t, "both vantage points to see app healthy", bothSay(StatusHealthy))
	waitChanged(t, mon, "app healthy", func() bool { return mon.Status("app") == StatusHealthy && mon.Status("any") == StatusHealthy })
	backend.code.Store(503)
	// One healthy vantage point of two is enough: the Monitor turns when
	// both have.
	waitChanged(t, mon, "app unhealthy", func() bool { return mon.Status("app") == StatusUnhealthy })
	if mon.Healthy("app") || mon.Status("any") != StatusUnhealthy {
		t.Errorf("app unhealthy: Healthy %v, any %v; want false, unhealthy", mon.Healthy("app"), mon.Status("any"))
	}
	backend.code.Store(302)
	waitChanged(t, mon, "app healthy again", func() bool { return mon.Status("app") == StatusHealthy })
	published.wait(t, "both vantage points to see app healthy again", bothSay(StatusHealthy))

	// Each vantage point took two failures to turn, and two successes to
	// come back. (On a loaded machine a probe may also time out now and
	// then, so only the last two transitions are certain.)
	for _, p := range []*Prober{p1, p2} {
		st, ok := stateOf(p.Report(), "app")
		if !ok {
			t.Fatalf("%s's report has no app", p.Vantage())
		}
		h := st.History
		if len(h) < 3 || h[len(h)-2].To != StatusUnhealthy || !strings.HasPrefix(h[len(h)-2].Reason, "2 consecutive failures: ") ||
			h[len(h)-1].To != StatusHealthy || h[len(h)-1].Reason != "2 consecutive successes: HTTP 302" {
			t.Errorf("%s's transitions %+v: want healthy, then unhealthy after 2 failures, then healthy after 2 successes (HTTP 302)", p.Vantage(), h)
		}
	}
	if _, ok := stateOf(p1.Report(), "any"); ok {
		t.Error("the prober reports a calculated check it cannot probe")
	}

	if v, ok := metricValue(t, reg, "gyre_health_probes_total", map[string]string{"check": "app", "vantage": "us-east-1", "result": "ok", "region": "us-east-1"}); !ok || v < 3 {
		t.Errorf("gyre_health_probes_total{result=ok} = %v, want at least 3", v)
	}
	if v, ok := metricValue(t, reg, "gyre_health_probe_duration_seconds", map[string]string{"check": "app"}); !ok || v < 4 {
		t.Errorf("gyre_health_probe_duration_seconds count = %v, want at least 4", v)
	}
	if v, _ := metricValue(t, reg, "gyre_health_transitions_total", map[string]string{"check": "app", "to": "unhealthy"}); v < 1 {
		t.Errorf("gyre_health_transitions_total{to=unhealthy} = %v, want at least 1", v)
	}

	// A vantage point that stops reporting goes stale; with both gone the
	// check is unknown.
	p1.Shutdown(context.Background())
	p2.Shutdown(context.Background())
	waitChanged(t, mon, "app unknown once the probers stopped", func() bool { return mon.Status("app") == StatusUnknown })
	if !mon.Healthy("app") {
		t.Error("unknown must be treated as healthy")
	}
}

// countedConn calls release once when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

func TestProberOneProbeInFlight(t *testing.T) {
	// A server that answers nothing: each probe waits for its timeout,
	// half an interval, and the next one follows at once if the schedule
	// allows. The probes in flight are counted on the vantage point's
	// side, from the start of each dial to the close of its connection:
	// the server sees an abandoned connection close only some time after
	// the prober closed it.
	var total atomic.Int64
	arrived := newSignal()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		total.Add(1)
		arrived.notify()
		<-r.Context().Done()
	}))
	defer srv.Close()
	var open, most atomic.Int64
	dial := func(ctx context.Context, region, network, addr string) (net.Conn, error) {
		n := open.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		conn, err := plainDial(ctx, region, network, addr)
		if err != nil {
			open.Add(-1)
			return nil, err
		}
		return &countedConn{Conn: conn, release: func() { open.Add(-1) }}, nil
	}

	c := Check{ID: "slow", Target: hostPort(srv.URL), Interval: 30 * time.Millisecond, Timeout: 30 * time.Millisecond, FailureThreshold: 1}
	published := newSignal()
	p := startProber(t, ProberOptions{Vantage: "v", Checks: []Check{c}, Dial: dial, Jitter: 0.5}, nil, published)
	arrived.wait(t, "3 probes", func() bool { return total.Load() >= 3 })
	// Redefinitions that keep the check (a nudge) and change its probe
	// (a new generation) must not start a second probe; nor must removing
	// the check and adding it back while a probe is in flight.
	c.FailureThreshold = 2
	if err := p.SetChecks([]Check{c}); err != nil {
		t.Fatal(err)
	}
	c.Path = "/other"
	if err := p.SetChecks([]Check{c}); err != nil {
		t.Fatal(err)
	}
	arrived.wait(t, "6 probes", func() bool { return total.Load() >= 6 })
	if err := p.SetChecks(nil); err != nil {
		t.Fatal(err)
	}
	if err := p.SetChecks([]Check{c}); err != nil {
		t.Fatal(err)
	}
	arrived.wait(t, "9 probes", func() bool { return total.Load() >= 9 })
	published.wait(t, "a timeout in the report", func() bool {
		st, _ := stateOf(p.Report(), "slow")
		return st.Last != nil && st.Last.Outcome == OutcomeTimeout
	})
	if m := most.Load(); m != 1 {
		t.Errorf("%d probes of one check were in flight at once, want 1", m)
	}
}

func TestProberTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	})
	defer wg.Wait()
	defer ln.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := free.Addr().String()
	free.Close()

	checks := []Check{
		{ID: "open", Type: TypeTCP, Target: ln.Addr().String(), Interval: 500 * time.Millisecond},
		{ID: "refused", Type: TypeTCP, Target: refused, Interval: 500 * time.Millisecond},
		{ID: "refused-inverted", Type: TypeTCP, Target: refused, Interval: 500 * time.Millisecond, Inverted: true},
	}
	mon, err := NewMonitor(MonitorOptions{Checks: checks})
	if err != nil {
		t.Fatal(err)
	}
	startProber(t, ProberOptions{Vantage: "v", Checks: checks}, mon, nil)
	waitChanged(t, mon, "every check decided", func() bool {
		return mon.Status("open") == StatusHealthy && mon.Status("refused") == StatusUnhealthy && mon.Status("refused-inverted") == StatusHealthy
	})
	snap := mon.Snapshot()
	for _, c := range snap.Checks {
		if c.Check.ID == "refused" {
			if last := c.Vantages[0].Last; last == nil || last.Outcome != OutcomeConnect || !strings.Contains(last.Error, "refused") {
				t.Errorf("refused's last result %+v, want connect refused", last)
			}
		}
	}
}

func TestProberSetChecks(t *testing.T) {
	backend := &switchable{}
	backend.code.Store(200)
	srv := httptest.NewServer(backend)
	defer srv.Close()
	down := &switchable{}
	down.code.Store(500)
	srvDown := httptest.NewServer(down)
	defer srvDown.Close()

	reg := prometheus.NewRegistry()
	published := newSignal()
	p := startProber(t, ProberOptions{Vantage: "v", Registerer: reg}, nil, published)
	if r := p.Report(); len(r.Checks) != 0 || r.Vantage != "v" {
		t.Errorf("report with no checks: %+v", r)
	}
	status := func(id string) Status {
		st, _ := stateOf(p.Report(), id)
		return st.Status
	}

	// Each change is decided by the first result, within the initial
	// jitter; the interval only needs to be long enough not to time out.
	a := slowCheck("a", hostPort(srv.URL))
	if err := p.SetChecks([]Check{a}); err != nil {
		t.Fatal(err)
	}
	published.wait(t, "a healthy", func() bool { return status("a") == StatusHealthy })

	// Pointing a at a failing server starts it again from unknown.
	a.Target = hostPort(srvDown.URL)
	if err := p.SetChecks([]Check{a}); err != nil {
		t.Fatal(err)
	}
	published.wait(t, "a unhealthy", func() bool { return status("a") == StatusUnhealthy })
	st, _ := stateOf(p.Report(), "a")
	var reasons []string
	for _, tr := range st.History {
		reasons = append(reasons, tr.To.String()+": "+tr.Reason)
	}
	if len(reasons) != 3 || reasons[1] != "unknown: check redefined" || reasons[2] != "unhealthy: first result: HTTP 500" {
		t.Errorf("a's history after redefinition %q, want healthy, unknown (redefined), unhealthy (HTTP 500)", reasons)
	}

	if err := p.SetChecks([]Check{{ID: "bad", Target: "nope"}}); err == nil {
		t.Error("SetChecks accepted a bad check")
	}
	if _, ok := stateOf(p.Report(), "a"); !ok {
		t.Error("a failed SetChecks removed a")
	}

	// Removing a stops it and drops its series; adding it back starts
	// afresh.
	if err := p.SetChecks(nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := stateOf(p.Report(), "a"); ok {
		t.Error("a removed check is still reported")
	}
	if _, ok := metricValue(t, reg, "gyre_health_vantage_status", map[string]string{"check": "a"}); ok {
		t.Error("a removed check's metrics are still exported")
	}
	a.Target = hostPort(srv.URL)
	if err := p.SetChecks([]Check{a}); err != nil {
		t.Fatal(err)
	}
	published.wait(t, "a back and healthy", func() bool { return status("a") == StatusHealthy })
	if st, _ := stateOf(p.Report(), "a"); st.History[0].From != StatusUnknown || !strings.HasPrefix(st.History[0].Reason, "first result") {
		t.Errorf("a added back carries history %+v, want a fresh start", st.History)
	}
}

func TestProberShutdownCutsProbesShort(t *testing.T) {
	var arrived atomic.Int64
	sig := newSignal()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		sig.notify()
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := Check{ID: "hang", Target: hostPort(srv.URL), Interval: time.Minute, Timeout: time.Minute}
	p, err := NewProber(ProberOptions{Vantage: "v", Checks: []Check{c}, Dial: plainDial, Jitter: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Errorf("second Start: %v", err)
	}
	sig.wait(t, "the probe to arrive", func() bool { return arrived.Load() == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a probe in flight: %v", err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if st, _ := stateOf(p.Report(), "hang"); st.Probes != 0 {
		t.Errorf("the probe cut short by Shutdown was recorded: %+v", st)
	}
	if err := p.Start(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("Start after Shutdown: %v, want ErrStopped", err)
	}
	if err := p.SetChecks(nil); !errors.Is(err, ErrStopped) {
		t.Errorf("SetChecks after Shutdown: %v, want ErrStopped", err)
	}
}

func TestProberRecoversPanics(t *testing.T) {
	var dials atomic.Int64
	published := newSignal()
	c := Check{ID: "c", Type: TypeTCP, Target: "127.0.0.1:9", Interval: 10 * time.Millisecond}
	p := startProber(t, ProberOptions{Vantage: "v", Checks: []Check{c}, Dial: func(context.Context, string, string, string) (net.Conn, error) {
		dials.Add(1)
		panic("dialer bug")
	}}, nil, published)
	published.wait(t, "two probes", func() bool {
		st, _ := stateOf(p.Report(), "c")
		return st.Probes >= 2
	})
	st, _ := stateOf(p.Report(), "c")
	if st.Status != StatusUnhealthy || st.Last.Outcome != OutcomeError || !strings.Contains(st.Last.Error, "probe panicked: dialer bug") {
		t.Errorf("state after panics %+v (last %+v): want unhealthy, the panic as the error", st, st.Last)
	}
}

func TestProberOptions(t *testing.T) {
	_, err := NewProber(ProberOptions{Jitter: 0.6, Checks: []Check{{ID: "x"}}})
	if err == nil {
		t.Fatal("NewProber accepted bad options")
	}
	for _, want := range []string{"Vantage is empty", "Dial is nil", "Jitter 0.6", `check "x": Target is empty`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestReportHandlerAndFetch(t *testing.T) {
	backend := &switchable{}
	backend.code.Store(200)
	srv := httptest.NewServer(backend)
	defer srv.Close()
	published := newSignal()
	p := startProber(t, ProberOptions{Vantage: "eu-west-1", Checks: []Check{slowCheck("app", hostPort(srv.URL))}}, nil, published)
	published.wait(t, "a result", func() bool {
		st, _ := stateOf(p.Report(), "app")
		return st.Status == StatusHealthy
	})

	const token = "s3cret"
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		p.Handler().ServeHTTP(w, r)
	}))
	defer admin.Close()
	ctx := context.Background()

	rep, err := FetchReport(ctx, admin.Client(), admin.URL+ReportPath, token)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := stateOf(rep, "app")
	if rep.Vantage != "eu-west-1" || rep.Time.IsZero() || !ok || st.Status != StatusHealthy || st.Last == nil ||
		st.Last.StatusCode != 200 || st.Last.Latency <= 0 || len(st.History) == 0 {
		t.Errorf("fetched report %+v (app %+v): want eu-west-1 with app healthy, its last result and history", rep, st)
	}

	// A fetched report drives a Monitor as an in-process one does.
	mon, err := NewMonitor(MonitorOptions{Checks: []Check{slowCheck("app", hostPort(srv.URL))}})
	if err != nil {
		t.Fatal(err)
	}
	if err := mon.Update(rep); err != nil {
		t.Fatal(err)
	}
	if mon.Status("app") != StatusHealthy {
		t.Errorf("monitor fed a fetched report: %v, want healthy", mon.Status("app"))
	}

	if _, err := FetchReport(ctx, admin.Client(), admin.URL+ReportPath, "wrong"); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("fetch with a wrong token: %v, want HTTP 401", err)
	}
	if _, err := FetchReport(ctx, admin.Client(), admin.URL+"/health/nothing", token); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("fetch of another path: %v, want HTTP 404", err)
	}
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) }))
	defer notJSON.Close()
	if _, err := FetchReport(ctx, nil, notJSON.URL, ""); !errors.Is(err, ErrBadReport) {
		t.Errorf("fetch of a non-report: %v, want ErrBadReport", err)
	}
	noVantage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"checks":[]}`)) }))
	defer noVantage.Close()
	if _, err := FetchReport(ctx, nil, noVantage.URL, ""); !errors.Is(err, ErrBadReport) {
		t.Errorf("fetch of a report without a vantage point: %v, want ErrBadReport", err)
	}
	http.DefaultClient.CloseIdleConnections()

	req, _ := http.NewRequest(http.MethodDelete, admin.URL+ReportPath, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := admin.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("DELETE %s: %d Allow %q, want 405 GET, HEAD", ReportPath, resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// TestProberUsesItsClock checks that results, transitions and the report
// are stamped by ProberOptions.Clock, not the machine's clock.
func TestProberUsesItsClock(t *testing.T) {
	backend := &switchable{}
	backend.code.Store(200)
	srv := httptest.NewServer(backend)
	defer srv.Close()
	fake := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	published := newSignal()
	p := startProber(t, ProberOptions{Vantage: "v", Checks: []Check{slowCheck("app", hostPort(srv.URL))},
		Clock: func() time.Time { return fake }}, nil, published)
	published.wait(t, "the first result", func() bool {
		st, _ := stateOf(p.Report(), "app")
		return st.Probes >= 1
	})
	r := p.Report()
	st, _ := stateOf(r, "app")
	if !r.Time.Equal(fake) || !st.Last.Time.Equal(fake) || !st.Since.Equal(fake) || len(st.History) == 0 || !st.History[0].Time.Equal(fake) {
		t.Errorf("report at %v, result at %v, transition at %v (history %+v); want every time %v, the fake clock's",
			r.Time, st.Last.Time, st.Since, st.History, fake)
	}
}
