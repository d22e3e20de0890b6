package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// MonitorOptions configure a Monitor.
type MonitorOptions struct {
	// Checks are the checks to aggregate, CALCULATED ones included.
	// Validated as Validate does. Default none; change them at run time
	// with SetChecks.
	Checks []Check

	// StaleIntervals: a vantage point's state for a check is left out
	// once its latest result is older than StaleIntervals × Interval +
	// Timeout. Default DefaultStaleIntervals (3); must not be negative.
	StaleIntervals int

	// RefreshInterval is how often the loop Start runs re-evaluates every
	// check, so that reports that stop arriving go stale. Default 100ms;
	// must not be negative.
	RefreshInterval time.Duration

	// HistoryLimit is how many aggregated transitions each check keeps.
	// Default DefaultHistory (16).
	HistoryLimit int

	// Clock tells the time reports arrive and evaluations happen. Default
	// time.Now. Tests pass a fake and call Refresh.
	Clock func() time.Time

	// Region is the region label of the metrics: the node the Monitor runs
	// in (a region, or the router). Default empty.
	Region string

	// Logger receives aggregated status changes at info level, with
	// component=health. Default slog.Default().
	Logger *slog.Logger

	// Registerer receives the metrics (see metrics.go). Default none.
	Registerer prometheus.Registerer
}

// DefaultRefreshInterval is MonitorOptions.RefreshInterval's default.
const DefaultRefreshInterval = 100 * time.Millisecond

// StatusPath is where Monitor.Handler serves the Snapshot.
const StatusPath = "/health/status"

// Monitor aggregates the reports of every vantage point into one status
// per check (see Aggregator for the rules) and answers the routing plane's
// questions: Healthy on every DNS query and proxied request, Changed to
// react at once, Snapshot for people.
//
// Feed it with Update: from in-process Probers through
// ProberOptions.Publish, and from other processes with FetchReport. Call
// Start to re-evaluate periodically (reports that stop arriving go stale
// only when evaluated), and Shutdown at the end. A Monitor is safe for
// concurrent use; Healthy, Status, Lookup, Changed and Generation take no
// lock.
type Monitor struct {
	opts    MonitorOptions
	log     *slog.Logger
	metrics *monitorMetrics
	view    atomic.Pointer[view]

	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu struct {
		sync.Mutex
		started, stopped bool
		agg              *Aggregator
		states           map[string]*aggState
		verdicts         []Verdict
	}
}

// view is what the lock-free readers see; it is replaced, never changed,
// and its changed channel is closed when it is replaced.
type view struct {
	generation uint64
	status     map[string]Status
	changed    chan struct{}
}

// aggState is a check's aggregated status and its history.
type aggState struct {
	status      Status
	since       time.Time
	transitions uint64
	history     []Transition
}

// NewMonitor returns a Monitor with every check unknown. It reports every
// problem with opts at once.
func NewMonitor(opts MonitorOptions) (*Monitor, error) {
	var errs []error
	if opts.StaleIntervals < 0 {
		errs = append(errs, fmt.Errorf("health: MonitorOptions.StaleIntervals %d is negative", opts.StaleIntervals))
	}
	if opts.RefreshInterval < 0 {
		errs = append(errs, fmt.Errorf("health: MonitorOptions.RefreshInterval %v is negative", opts.RefreshInterval))
	}
	checks, err := prepare(opts.Checks)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if opts.StaleIntervals == 0 {
		opts.StaleIntervals = DefaultStaleIntervals
	}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = DefaultRefreshInterval
	}
	if opts.HistoryLimit <= 0 {
		opts.HistoryLimit = DefaultHistory
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	m := &Monitor{
		opts:    opts,
		log:     opts.Logger.With("component", "health"),
		metrics: newMonitorMetrics(opts.Registerer, opts.Region),
	}
	m.view.Store(&view{status: map[string]Status{}, changed: make(chan struct{})})
	m.mu.agg = NewAggregator()
	m.mu.agg.StaleIntervals = opts.StaleIntervals
	m.mu.states = map[string]*aggState{}
	m.setLocked(checks, opts.Clock())
	return m, nil
}

// Start starts the loop that re-evaluates every RefreshInterval. ctx bounds
// Start itself, not the loop, which runs until Shutdown. Calling Start
// again is a no-op; after Shutdown it returns ErrStopped.
func (m *Monitor) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.stopped {
		return ErrStopped
	}
	if m.mu.started {
		return nil
	}
	m.mu.started = true
	lctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.wg.Add(1)
	go m.loop(lctx)
	return nil
}

func (m *Monitor) loop(ctx context.Context) {
	defer m.wg.Done()
	t := time.NewTicker(m.opts.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.safeRefresh()
		}
	}
}

func (m *Monitor) safeRefresh() {
	defer func() {
		if v := recover(); v != nil {
			m.log.Error("health monitor refresh panicked", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	m.Refresh()
}

// Shutdown stops the refresh loop and waits for it, or for ctx. It is
// idempotent. Afterwards Update and SetChecks return ErrStopped; the last
// statuses stay readable.
func (m *Monitor) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	m.mu.stopped = true
	cancel := m.cancel
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Update records r as its vantage point's latest report, received now, and
// re-evaluates. A report older (by its Time) than the one held for the
// vantage point is ignored. The Monitor keeps r: the caller must not
// change it afterwards.
func (m *Monitor) Update(r Report) error {
	if r.Vantage == "" {
		return fmt.Errorf("%w: no vantage point", ErrBadReport)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.stopped {
		return ErrStopped
	}
	now := m.opts.Clock()
	m.mu.agg.Add(r, now)
	m.evaluateLocked(now)
	return nil
}

// Forget drops a vantage point's report at once, as when the process
// hosting it is removed on purpose, and re-evaluates.
func (m *Monitor) Forget(vantage string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mu.agg.Forget(vantage)
	m.evaluateLocked(m.opts.Clock())
}

// Refresh re-evaluates every check now. The loop Start runs calls it.
func (m *Monitor) Refresh() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.evaluateLocked(m.opts.Clock())
}

// SetChecks replaces the checks, as Validate validates them; on error
// nothing changes. A check that stays keeps its aggregated status and
// history until the next evaluation, which happens at once.
func (m *Monitor) SetChecks(checks []Check) error {
	cs, err := prepare(checks)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.stopped {
		return ErrStopped
	}
	m.setLocked(cs, m.opts.Clock())
	return nil
}

func (m *Monitor) setLocked(cs []Check, now time.Time) {
	m.mu.agg.setPrepared(cs)
	keep := make(map[string]bool, len(cs))
	for _, c := range cs {
		keep[c.ID] = true
		if m.mu.states[c.ID] == nil {
			m.mu.states[c.ID] = &aggState{}
			m.metrics.status.WithLabelValues(c.ID).Set(StatusUnknown.gauge())
		}
	}
	for id := range m.mu.states {
		if !keep[id] {
			delete(m.mu.states, id)
			m.metrics.forget(id)
		}
	}
	m.evaluateLocked(now)
	m.publishLocked() // the set of checks changed, or might have
}

// evaluateLocked re-evaluates at time now, records the changes and
// publishes a new view if there were any.
func (m *Monitor) evaluateLocked(now time.Time) {
	vs := m.mu.agg.Evaluate(now)
	m.mu.verdicts = vs
	changed := false
	for i := range vs {
		v := &vs[i]
		st := m.mu.states[v.Check]
		if st.status == v.Status {
			continue
		}
		tr := Transition{Time: now, From: st.status, To: v.Status, Reason: v.Reason}
		st.status, st.since = v.Status, now
		st.transitions++
		if len(st.history) >= m.opts.HistoryLimit {
			n := copy(st.history, st.history[len(st.history)-m.opts.HistoryLimit+1:])
			st.history = st.history[:n]
		}
		st.history = append(st.history, tr)
		m.metrics.status.WithLabelValues(v.Check).Set(v.Status.gauge())
		m.metrics.changes.WithLabelValues(v.Check, v.Status.String()).Inc()
		m.log.Info("health status changed", "check", v.Check, "from", tr.From, "to", tr.To, "reason", tr.Reason)
		changed = true
	}
	if changed {
		m.publishLocked()
	}
}

// publishLocked replaces the view and wakes Changed's waiters.
func (m *Monitor) publishLocked() {
	old := m.view.Load()
	nv := &view{
		generation: old.generation + 1,
		status:     make(map[string]Status, len(m.mu.states)),
		changed:    make(chan struct{}),
	}
	for id, st := range m.mu.states {
		nv.status[id] = st.status
	}
	m.view.Store(nv)
	close(old.changed)
}

// Healthy reports whether traffic may go to the target of check id: false
// only when the check's aggregated status is unhealthy. Unknown (no fresh
// opinion from any vantage point, or an id the Monitor does not know) is
// healthy, as Route 53 treats a check without data (see Status.Routable).
// It takes no lock and does not allocate.
func (m *Monitor) Healthy(id string) bool {
	return m.view.Load().status[id] != StatusUnhealthy
}

// Status returns the aggregated status of check id; StatusUnknown for an
// id the Monitor does not know (use Lookup to tell the two apart).
func (m *Monitor) Status(id string) Status {
	return m.view.Load().status[id]
}

// Lookup returns the aggregated status of check id, and false when there
// is no such check.
func (m *Monitor) Lookup(id string) (Status, bool) {
	s, ok := m.view.Load().status[id]
	return s, ok
}

// Changed returns a channel that is closed at the next change of any
// check's aggregated status, or of the set of checks. To follow the
// statuses without missing a change, take the channel before reading the
// statuses it is to invalidate:
//
//	for {
//		ch := m.Changed()
//		apply(m.Status("us-east-1"))
//		<-ch
//	}
//
// Per-vantage changes that leave the aggregated status alone do not
// signal.
func (m *Monitor) Changed() <-chan struct{} { return m.view.Load().changed }

// Generation counts the changes Changed signals.
func (m *Monitor) Generation() uint64 { return m.view.Load().generation }

// Snapshot is everything a Monitor knows, for `gyre health`, the dashboard
// and drill reports. It is plain data; the caller owns it.
type Snapshot struct {
	// Time is when it was taken, by the Monitor's clock.
	Time time.Time `json:"time"`
	// Generation is Monitor.Generation at that time.
	Generation uint64 `json:"generation"`
	// Vantages names the vantage points with a report, sorted.
	Vantages []string `json:"vantages"`
	// Checks holds every check, ordered by id.
	Checks []CheckSnapshot `json:"checks"`
}

// CheckSnapshot is one check in a Snapshot.
type CheckSnapshot struct {
	// Check is the definition, with its defaults.
	Check Check `json:"check"`
	// Status is the aggregated status, Reason how it was reached.
	Status Status `json:"status"`
	Reason string `json:"reason"`
	// Since is the time of the last aggregated transition; zero if none.
	Since time.Time `json:"since,omitzero"`
	// Vantages holds each vantage point's state of a probed check, with
	// its last result and its own history.
	Vantages []VantageState `json:"vantages,omitempty"`
	// Children holds the statuses of a calculated check's children.
	Children []ChildStatus `json:"children,omitempty"`
	// Transitions counts the aggregated transitions; History holds the
	// latest, oldest first.
	Transitions uint64       `json:"transitions"`
	History     []Transition `json:"history"`
}

// Snapshot re-evaluates every check now and returns the result.
func (m *Monitor) Snapshot() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Clock()
	m.evaluateLocked(now)
	s := Snapshot{
		Time:       now,
		Generation: m.view.Load().generation,
		Vantages:   m.mu.agg.Vantages(),
		Checks:     make([]CheckSnapshot, len(m.mu.verdicts)),
	}
	checks := m.mu.agg.checks
	for i, v := range m.mu.verdicts {
		st := m.mu.states[v.Check]
		cs := CheckSnapshot{
			Check:       checks[i],
			Status:      v.Status,
			Reason:      v.Reason,
			Since:       st.since,
			Vantages:    v.Vantages,
			Children:    v.Children,
			Transitions: st.transitions,
			History:     slices.Clone(st.history),
		}
		cs.Check.Children = slices.Clone(cs.Check.Children)
		// The states share slices with the reports the aggregator holds.
		cs.Vantages = slices.Clone(cs.Vantages)
		for j := range cs.Vantages {
			vs := &cs.Vantages[j]
			vs.History = slices.Clone(vs.History)
			if vs.Last != nil {
				last := *vs.Last
				vs.Last = &last
			}
		}
		if cs.History == nil {
			cs.History = []Transition{}
		}
		s.Checks[i] = cs
	}
	return s
}

// Handler returns the Monitor's admin endpoint:
//
//	GET /health/status   the Snapshot, as JSON
//
// Other paths answer 404 and other methods 405, with {"error", "code"}.
// The handler does no authentication; the caller wraps it.
func (m *Monitor) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != StatusPath {
			writeError(w, http.StatusNotFound, "not_found", "health: no endpoint "+r.URL.Path)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "health: "+r.Method+" is not allowed on "+StatusPath)
			return
		}
		writeJSON(w, http.StatusOK, m.Snapshot())
	})
}
