package repl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gyre-dev/gyre/internal/store"
)

// Link states, as Status reports them.
const (
	LinkConnecting = "connecting"
	LinkConnected  = "connected"
	LinkDown       = "down"
	LinkCatchingUp = "catching-up"
)

// puller follows one peer's log: it owns the pull stream's HTTP connection,
// its stall watchdog and its ack sender, and carries out what its pullCore
// decides.
type puller struct {
	r    *Replicator
	peer Peer

	mu struct {
		sync.Mutex
		core *pullCore
	}
}

func newPuller(r *Replicator, p Peer) *puller {
	pl := &puller{r: r, peer: p}
	pl.mu.core = newPullCore(pullConfigOf(&r.opts, r.region, p.Name), r.replicates)
	return pl
}

// locked runs fn on the core under the lock.
func (p *puller) locked(fn func(c *pullCore)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p.mu.core)
}

// cursor returns how far this region has applied the peer's log.
func (p *puller) cursor() (c store.Cursor) {
	p.locked(func(core *pullCore) { c = core.cursor })
	return c
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// run keeps a stream open to the peer until ctx is done, reconnecting with
// the core's backoff.
func (p *puller) run(ctx context.Context) {
	for ctx.Err() == nil {
		wait, ok := p.attempt(ctx)
		if !ok {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// attempt opens one stream from the durable cursor and follows it until it
// ends. It returns how long to wait before the next, and false when ctx is
// done.
func (p *puller) attempt(ctx context.Context) (time.Duration, bool) {
	err := p.safeStream(ctx)
	if ctx.Err() != nil {
		return 0, false
	}
	var acts []action
	p.locked(func(c *pullCore) { acts = c.ended(err) })
	return p.execEnded(acts), true
}

// safeStream dials from the durable cursor and follows the stream; a panic
// is logged and ends the stream like an error.
func (p *puller) safeStream(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			p.r.log.Error("replication puller panicked", "peer", p.peer.Name, "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("repl: puller panicked: %v", v)
		}
	}()
	cursor, err := p.r.db.Cursor(p.peer.Name)
	if err != nil {
		p.r.log.Error("reading cursor", "peer", p.peer.Name, "err", err)
	}
	var pr pullRequest
	p.locked(func(c *pullCore) { pr = c.dial(cursor) })
	return p.stream(ctx, pr)
}

// stream holds one pull stream open and applies what it carries, with a
// stall watchdog and an ack sender beside it.
func (p *puller) stream(ctx context.Context, pr pullRequest) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := p.open(ctx, pr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var acts []action
	p.locked(func(c *pullCore) { acts = c.connected(p.r.opts.Now()) })
	if _, err := p.exec(ctx, acts); err != nil {
		return err
	}
	acks := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		p.watch(ctx, cancel, acks)
	}()
	go func() {
		defer wg.Done()
		p.ackLoop(ctx, acks)
	}()
	defer func() { cancel(); wg.Wait() }()
	return p.follow(ctx, resp.Body)
}

// open sends the pull request and checks the answer.
func (p *puller) open(ctx context.Context, pr pullRequest) (*http.Response, error) {
	body, _ := json.Marshal(pr)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.peer.URL+"/repl/pull", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.r.opts.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.r.opts.Client(p.peer.Name).Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("repl: %s answered %s: %s", p.peer.Name, resp.Status, bytes.TrimSpace(msg))
	}
	return resp, nil
}

// follow reads frames until the stream ends, handing them to the core.
func (p *puller) follow(ctx context.Context, body io.Reader) error {
	br := bufio.NewReaderSize(body, 64<<10)
	var buf []byte
	for {
		if br.Buffered() == 0 {
			// Apply what has arrived before waiting for more.
			if done, err := p.exec(ctx, p.idle()); done || err != nil {
				return err
			}
		}
		kind, payload, err := readFrame(br, buf)
		if err != nil {
			return err
		}
		buf = payload[:0]
		acts, err := p.receive(frame{kind: kind, payload: payload})
		if err != nil {
			return err
		}
		if done, err := p.exec(ctx, acts); done || err != nil {
			return err
		}
	}
}

// idle tells the core nothing more is buffered.
func (p *puller) idle() []action {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.core.idle()
}

// receive hands the core a frame read now.
func (p *puller) receive(f frame) ([]action, error) {
	now := p.r.opts.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mu.core.receive(f, now)
}

// exec carries out the core's actions in order. It reports whether the
// stream is over (a catch-up ends it).
func (p *puller) exec(ctx context.Context, acts []action) (done bool, err error) {
	for len(acts) > 0 {
		a := acts[0]
		acts = acts[1:]
		switch a := a.(type) {
		case linkChanged:
			p.r.metrics.linkUp.WithLabelValues(p.peer.Name).Set(boolGauge(a.state == LinkConnected))
		case applyBatch:
			res, err := p.r.db.ApplyRemote(p.peer.Name, a.incarnation, a.entries)
			if err != nil {
				return false, err
			}
			// A new replica is backfilling before the cursor that covers
			// its creation moves (and is acknowledged), so that Status
			// never shows the creation applied and no backfill under way.
			for _, t := range res.Created {
				p.r.startBackfill(t)
			}
			var more []action
			p.locked(func(c *pullCore) { more, err = c.applied(res, p.r.opts.Now()) })
			if err != nil {
				return false, err
			}
			acts = append(more, acts...)
		case batchApplied:
			for _, lag := range a.lags {
				p.r.metrics.latency.WithLabelValues(p.peer.Name).Observe(lag.Seconds())
			}
			p.r.metrics.applied.WithLabelValues(p.peer.Name, "applied").Add(float64(a.result.Applied))
			p.r.metrics.applied.WithLabelValues(p.peer.Name, "stale").Add(float64(a.result.Stale))
			p.r.metrics.applied.WithLabelValues(p.peer.Name, "skipped").Add(float64(a.result.Skipped))
		case catchUp:
			if err := p.r.catchUp(ctx, p.peer, a.reset); err != nil {
				return false, err
			}
			p.locked((*pullCore).caughtUp)
			return true, nil
		default:
			panic(fmt.Sprintf("repl: puller cannot carry out %T while streaming", a))
		}
	}
	return false, nil
}

// execEnded carries out the core's answer to a stream's end and returns how
// long to wait before dialling again.
func (p *puller) execEnded(acts []action) (wait time.Duration) {
	for _, a := range acts {
		switch a := a.(type) {
		case linkChanged:
			p.r.metrics.linkUp.WithLabelValues(p.peer.Name).Set(boolGauge(a.state == LinkConnected))
		case redial:
			wait = a.after
		default:
			panic(fmt.Sprintf("repl: puller cannot carry out %T after a stream", a))
		}
	}
	return wait
}

// watch ticks the core at its deadlines while the stream is open: it ends a
// stalled stream and hands acks to the ack sender (an ack still being sent
// makes it skip one, as a ticker does). A panic is logged and ends the
// stream.
func (p *puller) watch(ctx context.Context, cancel context.CancelFunc, acks chan<- struct{}) {
	defer func() {
		if v := recover(); v != nil {
			p.r.log.Error("replication stall watchdog panicked", "peer", p.peer.Name, "panic", v, "stack", string(debug.Stack()))
			cancel()
		}
	}()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		var next time.Time
		var open bool
		p.locked(func(c *pullCore) { next, open = c.deadline() })
		if !open {
			return
		}
		t.Reset(next.Sub(p.r.opts.Now()))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var acts []action
		p.locked(func(c *pullCore) { acts = c.tick(p.r.opts.Now()) })
		for _, a := range acts {
			switch a.(type) {
			case dropStream:
				cancel()
				return
			case sendAck:
				select {
				case acks <- struct{}{}:
				default:
				}
			}
		}
	}
}

// ackLoop sends the acks the watchdog hands it while the stream is open.
func (p *puller) ackLoop(ctx context.Context, acks <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-acks:
		}
		p.ackOnce(ctx)
	}
}

// ackOnce sends one ack; a panic is logged, and the next ack is sent as
// usual. A failed ack is not retried: the next one says more.
func (p *puller) ackOnce(ctx context.Context) {
	defer func() {
		if v := recover(); v != nil {
			p.r.log.Error("replication ack sender panicked", "peer", p.peer.Name, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	p.r.sendAck(ctx, p.peer)
}

// sendAck reports to a peer how far this region has applied its log and
// every origin's writes.
func (r *Replicator) sendAck(ctx context.Context, peer Peer) error {
	c := r.pullers[peer.Name].cursor()
	body, _ := json.Marshal(ackRequest{Peer: r.region, Incarnation: c.Incarnation, Seq: c.Seq, Applied: r.appliedVector()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, peer.URL+"/repl/ack", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.opts.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.opts.Client(peer.Name).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("repl: ack to %s: %s", peer.Name, resp.Status)
	}
	return nil
}

// replicates reports whether an entry concerns a table this region holds.
func (r *Replicator) replicates(e store.LogEntry) bool { return replicatedBy(r.db, e) }

// replicatedBy reports whether an entry concerns a table db holds.
func replicatedBy(db *store.DB, e store.LogEntry) bool {
	if e.Schema != nil {
		return true
	}
	for _, c := range e.Changes {
		if _, err := db.Table(c.Table); err == nil {
			return true
		}
	}
	return false
}
