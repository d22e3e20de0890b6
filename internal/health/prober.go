package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ProberOptions configure a Prober.
type ProberOptions struct {
	// Vantage names the vantage point the probes run from: the region the
	// Prober runs in, or the router. It is the Report's Vantage and the
	// metrics' vantage label. Required.
	Vantage string

	// Checks are the checks to run. CALCULATED checks are accepted, so one
	// list can serve the Prober and the Monitor, and ignored: there is
	// nothing to probe. Validated as Validate does. Default none; change
	// them at run time with SetChecks.
	Checks []Check

	// Dial opens every probe's connection, from this vantage point to the
	// check's Region: give it the WAN (see DialFunc). Required.
	Dial DialFunc

	// Publish, when set, is called with the vantage point's Report after
	// every probe and after SetChecks, one call at a time and in order, so
	// an in-process Monitor can be fed directly (Monitor.Update). It must
	// not block: the probes of this vantage point wait for it.
	Publish func(Report)

	// Jitter spreads the probes in time: each interval is drawn uniformly
	// from Interval × [1−Jitter, 1+Jitter], and the first probe of a check
	// starts within Jitter × Interval of Start. Default 0.1; must be in
	// [0, 0.5]; a negative value means none.
	Jitter float64

	// HistoryLimit is how many transitions each check's state keeps.
	// Default DefaultHistory (16).
	HistoryLimit int

	// Region is the region label of the metrics: the node the Prober runs
	// in. Default Vantage.
	Region string

	// Clock tells the time: of each probe's start (from which the next is
	// scheduled), of each result, of check changes and of the Report.
	// Default time.Now. Tests pass a fake. Timers and each probe's latency
	// still run on the machine's clock.
	Clock func() time.Time

	// Logger receives status changes at info level and recovered panics
	// at error level, with component=health. Default slog.Default().
	Logger *slog.Logger

	// Registerer receives the metrics (see metrics.go). Default none.
	Registerer prometheus.Registerer
}

// DefaultJitter is ProberOptions.Jitter's default.
const DefaultJitter = 0.1

// Prober runs the checks from one vantage point: each HTTP, HTTPS and TCP
// check on its own interval, with jitter, never more than one probe of a
// check in flight (a probe that runs long delays the next one rather than
// overlapping it), every connection dialed through ProberOptions.Dial.
// Each result feeds the check's Tracker; Report returns them all.
//
// Build it with NewProber, call Start, and Shutdown when done. It is safe
// for concurrent use.
type Prober struct {
	opts    ProberOptions
	log     *slog.Logger
	metrics *proberMetrics

	ctx    context.Context // ends at Shutdown; parent of the workers'
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// pubMu orders Publish calls.
	pubMu sync.Mutex

	mu struct {
		sync.Mutex
		started, stopped bool
		workers          map[string]*worker
		// retired holds the done channels of removed workers, so that a
		// check removed and added again does not run two probes at once.
		retired map[string]<-chan struct{}
	}
}

// worker runs one check. The fields but done, nudge and prev are guarded
// by Prober.mu.
type worker struct {
	check   Check
	tracker *Tracker
	// gen counts redefinitions that change how the check probes; results
	// of a probe of an older generation are dropped.
	gen uint64

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	nudge  chan struct{} // the definition changed: reschedule
	prev   <-chan struct{}
}

// NewProber returns a Prober that has not started. It reports every
// problem with opts at once.
func NewProber(opts ProberOptions) (*Prober, error) {
	var errs []error
	if opts.Vantage == "" {
		errs = append(errs, errors.New("health: ProberOptions.Vantage is empty"))
	}
	if opts.Dial == nil {
		errs = append(errs, errors.New("health: ProberOptions.Dial is nil"))
	}
	switch {
	case opts.Jitter == 0:
		opts.Jitter = DefaultJitter
	case opts.Jitter < 0:
		opts.Jitter = 0
	case opts.Jitter > 0.5:
		errs = append(errs, fmt.Errorf("health: ProberOptions.Jitter %v is more than 0.5", opts.Jitter))
	}
	if opts.HistoryLimit <= 0 {
		opts.HistoryLimit = DefaultHistory
	}
	if opts.Region == "" {
		opts.Region = opts.Vantage
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	checks, err := prepare(opts.Checks)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	p := &Prober{
		opts:    opts,
		log:     opts.Logger.With("component", "health", "vantage", opts.Vantage),
		metrics: newProberMetrics(opts.Registerer, opts.Region),
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.mu.workers = map[string]*worker{}
	p.mu.retired = map[string]<-chan struct{}{}
	p.setLocked(checks, opts.Clock())
	return p, nil
}

// Vantage returns the vantage point's name.
func (p *Prober) Vantage() string { return p.opts.Vantage }

// Start starts probing. ctx bounds Start itself, not the probes: they run
// until Shutdown. Calling Start again is a no-op; after Shutdown it returns
// ErrStopped.
func (p *Prober) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.stopped {
		return ErrStopped
	}
	if p.mu.started {
		return nil
	}
	p.mu.started = true
	for _, id := range slices.Sorted(maps.Keys(p.mu.workers)) {
		p.launchLocked(p.mu.workers[id])
	}
	return nil
}

// Shutdown stops every probe, cutting short those in flight (their results
// are dropped), and waits for the goroutines to end or ctx to be done,
// whichever comes first. It is idempotent. Report still works afterwards.
func (p *Prober) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.mu.stopped = true
	p.mu.Unlock()
	p.cancel()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SetChecks replaces the checks. They are validated as Validate does; on
// error nothing changes. A check that keeps its id and probes the same
// thing the same way keeps its state (a new FailureThreshold applies from
// the next result, a new Interval at once, counted from the last probe's
// start); one whose probe changed (type, target, region, path, host,
// search string, inversion) starts again from unknown and is probed within
// Jitter × Interval, and the result of a probe of the old definition still
// in flight is dropped. Removed checks stop at once, their probe in flight
// cut short; a check removed and added back waits for that probe to end.
func (p *Prober) SetChecks(checks []Check) error {
	cs, err := prepare(checks)
	if err != nil {
		return err
	}
	p.mu.Lock()
	if p.mu.stopped {
		p.mu.Unlock()
		return ErrStopped
	}
	p.setLocked(cs, p.opts.Clock())
	started := p.mu.started
	p.mu.Unlock()
	if started {
		p.publish()
	}
	return nil
}

// setLocked applies prepared checks at time now.
func (p *Prober) setLocked(cs []Check, now time.Time) {
	keep := make(map[string]bool, len(cs))
	for _, c := range cs {
		if !c.probed() {
			continue
		}
		keep[c.ID] = true
		if w := p.mu.workers[c.ID]; w != nil {
			old := w.check
			if !sameProbe(&old, &c) || old.Timeout != c.Timeout {
				w.gen++
			}
			w.check = c
			if tr, ok := w.tracker.Reconfigure(c, now); ok {
				p.transitioned(c.ID, tr)
			}
			select {
			case w.nudge <- struct{}{}:
			default:
			}
			continue
		}
		w := &worker{
			check:   c,
			tracker: NewTracker(c, p.opts.HistoryLimit),
			done:    make(chan struct{}),
			nudge:   make(chan struct{}, 1),
			prev:    p.mu.retired[c.ID],
		}
		delete(p.mu.retired, c.ID)
		p.mu.workers[c.ID] = w
		p.metrics.status.WithLabelValues(c.ID, p.opts.Vantage).Set(StatusUnknown.gauge())
		if p.mu.started {
			p.launchLocked(w)
		}
	}
	for id, done := range p.mu.retired {
		select {
		case <-done:
			delete(p.mu.retired, id) // nothing left to wait for
		default:
		}
	}
	for id, w := range p.mu.workers {
		if keep[id] {
			continue
		}
		delete(p.mu.workers, id)
		if w.cancel != nil {
			w.cancel()
			p.mu.retired[id] = w.done
		}
		p.metrics.forget(id)
	}
}

func (p *Prober) launchLocked(w *worker) {
	w.ctx, w.cancel = context.WithCancel(p.ctx)
	p.wg.Add(1)
	go p.run(w)
}

// run is a worker's loop: wait for the next start time, probe, repeat.
// The probe runs in the loop itself, so there is never more than one in
// flight per check.
func (p *Prober) run(w *worker) {
	defer p.wg.Done()
	defer close(w.done)
	defer w.cancel()
	if w.prev != nil {
		select {
		case <-w.prev:
		case <-w.ctx.Done():
			return
		}
	}
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	var pr *probe
	var prGen uint64

	c, _ := p.current(w)
	timer := time.NewTimer(time.Duration(rng.Float64() * p.opts.Jitter * float64(c.Interval)))
	defer timer.Stop()
	var lastStart time.Time
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.nudge:
			if lastStart.IsZero() {
				continue
			}
			var gen uint64
			c, gen = p.current(w)
			if gen != prGen {
				// A new probe starts from unknown: decide it soon, as at
				// Start.
				timer.Reset(time.Duration(rng.Float64() * p.opts.Jitter * float64(c.Interval)))
				continue
			}
			// The interval may have changed: count it from the last start.
			timer.Reset(p.until(lastStart.Add(p.jittered(rng, c.Interval))))
			continue
		case <-timer.C:
		}
		var gen uint64
		c, gen = p.current(w)
		if pr == nil || prGen != gen {
			pr, prGen = newProbe(c, p.opts.Dial), gen
		}
		lastStart = p.opts.Clock()
		if r, ok := p.probeOnce(w, pr); ok {
			p.observe(w, gen, r)
		}
		timer.Reset(p.until(lastStart.Add(p.jittered(rng, c.Interval))))
	}
}

// current returns the worker's check and its generation.
func (p *Prober) current(w *worker) (Check, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return w.check, w.gen
}

// until is how long from now, by the Prober's clock, until t.
func (p *Prober) until(t time.Time) time.Duration { return t.Sub(p.opts.Clock()) }

func (p *Prober) jittered(rng *rand.Rand, interval time.Duration) time.Duration {
	f := 1 + p.opts.Jitter*(2*rng.Float64()-1)
	return time.Duration(f * float64(interval))
}

// probeOnce runs one probe. A panic in it (in Dial, say) is logged and
// counts as a failed probe: the vantage point cannot vouch for the target.
func (p *Prober) probeOnce(w *worker, pr *probe) (r Result, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("health probe panicked", "check", pr.check.ID, "panic", v, "stack", string(debug.Stack()))
			r, ok = Result{Time: p.opts.Clock(), Outcome: OutcomeError, Error: fmt.Sprintf("probe panicked: %v", v)}, w.ctx.Err() == nil
		}
	}()
	return pr.run(w.ctx, p.opts.Clock)
}

// observe feeds r to the worker's tracker, unless the check has since been
// removed or its probe redefined, and publishes the new report. A panic
// in it is logged, and the loop carries on.
func (p *Prober) observe(w *worker, gen uint64, r Result) {
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("health result panicked", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	if p.record(w, gen, r) {
		p.publish()
	}
}

// record feeds r to the worker's tracker and reports whether it did.
func (p *Prober) record(w *worker, gen uint64, r Result) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.workers[w.check.ID] != w || w.gen != gen {
		return false
	}
	id := w.check.ID
	p.metrics.probes.WithLabelValues(id, p.opts.Vantage, string(r.Outcome)).Inc()
	p.metrics.latency.WithLabelValues(id, p.opts.Vantage).Observe(time.Duration(r.Latency).Seconds())
	if tr, ok := w.tracker.Observe(r); ok {
		p.transitioned(id, tr)
	}
	return true
}

// transitioned records a tracker's transition. p.mu is held.
func (p *Prober) transitioned(id string, tr Transition) {
	p.metrics.status.WithLabelValues(id, p.opts.Vantage).Set(tr.To.gauge())
	p.metrics.transitions.WithLabelValues(id, p.opts.Vantage, tr.To.String()).Inc()
	p.log.Info("health check status changed", "check", id, "from", tr.From, "to", tr.To, "reason", tr.Reason)
}

// publish hands the current report to ProberOptions.Publish.
func (p *Prober) publish() {
	if p.opts.Publish == nil {
		return
	}
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("health report publisher panicked", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	p.opts.Publish(p.Report())
}

// Report returns the vantage point's current state of every probed check,
// ordered by id. The caller owns it.
func (p *Prober) Report() Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := Report{Vantage: p.opts.Vantage, Checks: make([]CheckState, 0, len(p.mu.workers))}
	for _, id := range slices.Sorted(maps.Keys(p.mu.workers)) {
		r.Checks = append(r.Checks, p.mu.workers[id].tracker.State())
	}
	r.Time = p.opts.Clock()
	return r
}
