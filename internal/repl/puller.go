package repl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// puller follows one peer's log.
type puller struct {
	r    *Replicator
	peer Peer
	lag  *window

	mu struct {
		sync.Mutex
		state     string
		lastErr   string
		head      uint64 // the peer's log head, as last heard
		cursor    store.Cursor
		lastApply time.Time
	}
}

func newPuller(r *Replicator, p Peer) *puller {
	pl := &puller{r: r, peer: p, lag: newWindow(time.Minute)}
	pl.mu.state = LinkConnecting
	return pl
}

func (p *puller) setState(state string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.state = state
	if err != nil {
		p.mu.lastErr = err.Error()
	} else if state == LinkConnected {
		p.mu.lastErr = ""
	}
	p.r.metrics.linkUp.WithLabelValues(p.peer.Name).Set(boolGauge(state == LinkConnected))
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// run keeps a stream open to the peer until ctx is done, reconnecting with
// backoff.
func (p *puller) run(ctx context.Context) {
	backoff := p.r.opts.RetryMin
	for ctx.Err() == nil {
		cursor, err := p.r.db.Cursor(p.peer.Name)
		if err != nil {
			p.r.log.Error("reading cursor", "peer", p.peer.Name, "err", err)
		}
		p.mu.Lock()
		p.mu.cursor = cursor
		p.mu.Unlock()
		progressed, err := p.stream(ctx, cursor)
		if ctx.Err() != nil {
			return
		}
		if progressed {
			backoff = p.r.opts.RetryMin
		}
		p.setState(LinkDown, err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, p.r.opts.RetryMax)
	}
}

// stream holds one pull stream open and applies what it carries. It reports
// whether it made progress before it ended.
func (p *puller) stream(ctx context.Context, cursor store.Cursor) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	body, _ := json.Marshal(pullRequest{Peer: p.r.region, Incarnation: cursor.Incarnation, After: cursor.Seq})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.peer.URL+"/repl/pull", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+p.r.opts.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.r.opts.Client(p.peer.Name).Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return false, fmt.Errorf("repl: %s answered %s: %s", p.peer.Name, resp.Status, bytes.TrimSpace(msg))
	}
	p.setState(LinkConnected, nil)

	// A stream that carries nothing, not even heartbeats, for StallTimeout
	// is dead (a partition that dropped packets rather than connections).
	alive := make(chan struct{}, 1)
	go func() {
		t := time.NewTimer(p.r.opts.StallTimeout)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-alive:
				t.Reset(p.r.opts.StallTimeout)
			case <-t.C:
				cancel()
				return
			}
		}
	}()
	ackDone := make(chan struct{})
	go func() {
		defer close(ackDone)
		p.ackLoop(ctx)
	}()
	defer func() { cancel(); <-ackDone }()

	br := bufio.NewReaderSize(resp.Body, 64<<10)
	var buf []byte
	var batch []store.LogEntry
	// The stream's first frame, a heartbeat, names the incarnation.
	incarnation := ""
	progressed := false
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := p.apply(incarnation, batch); err != nil {
			return err
		}
		progressed = true
		batch = batch[:0]
		return nil
	}
	for {
		// Apply what has arrived before waiting for more, or when the
		// batch is full.
		if br.Buffered() == 0 || len(batch) >= p.r.opts.BatchSize {
			if err := flush(); err != nil {
				return progressed, err
			}
		}
		kind, payload, err := readFrame(br, buf)
		if err != nil {
			return progressed, err
		}
		buf = payload[:0]
		select {
		case alive <- struct{}{}:
		default:
		}
		if kind != frameEntry {
			if err := flush(); err != nil {
				return progressed, err
			}
		}
		switch kind {
		case frameEntry:
			if incarnation == "" {
				return progressed, fmt.Errorf("repl: %s sent entries before naming its incarnation", p.peer.Name)
			}
			e, err := store.DecodeLogEntry(payload)
			if err != nil {
				return progressed, err
			}
			// The entry is decoded into fresh memory, so buf can be
			// reused for the next frame.
			batch = append(batch, e)
			p.noteHead(e.Seq)
		case frameHeartbeat:
			var hb heartbeat
			if err := json.Unmarshal(payload, &hb); err != nil {
				return progressed, err
			}
			incarnation = hb.Incarnation
			p.mu.Lock()
			if p.mu.cursor.Incarnation != incarnation {
				// The origin serves this incarnation from its start.
				p.mu.cursor = store.Cursor{Incarnation: incarnation}
			}
			p.mu.Unlock()
			p.noteHead(hb.Head)
		case frameReset:
			var rs reset
			if err := json.Unmarshal(payload, &rs); err != nil {
				return progressed, err
			}
			p.setState(LinkCatchingUp, nil)
			if err := p.r.catchUp(ctx, p.peer, rs); err != nil {
				return progressed, err
			}
			return true, nil
		default:
			return progressed, fmt.Errorf("repl: unexpected frame %q from %s", kind, p.peer.Name)
		}
	}
}

func (p *puller) noteHead(seq uint64) {
	p.mu.Lock()
	if seq > p.mu.head {
		p.mu.head = seq
	}
	p.mu.Unlock()
}

// apply applies a batch of entries and records their lag.
func (p *puller) apply(incarnation string, batch []store.LogEntry) error {
	res, err := p.r.db.ApplyRemote(p.peer.Name, incarnation, batch)
	if err != nil {
		return err
	}
	now := p.r.opts.Now()
	for _, e := range batch {
		// Only the entries this region replicates count: every local write
		// is shipped, including those to tables other regions lack.
		if !p.r.replicates(e) {
			continue
		}
		lag := now.Sub(e.Committed)
		p.lag.add(now, lag)
		p.r.metrics.latency.WithLabelValues(p.peer.Name).Observe(lag.Seconds())
	}
	p.r.metrics.applied.WithLabelValues(p.peer.Name, "applied").Add(float64(res.Applied))
	p.r.metrics.applied.WithLabelValues(p.peer.Name, "stale").Add(float64(res.Stale))
	p.r.metrics.applied.WithLabelValues(p.peer.Name, "skipped").Add(float64(res.Skipped))
	// A new replica is backfilling before the cursor that covers its
	// creation is acknowledged, so that Status never shows the creation
	// applied and no backfill under way.
	for _, t := range res.Created {
		p.r.startBackfill(t)
	}
	last := batch[len(batch)-1]
	p.mu.Lock()
	p.mu.cursor = store.Cursor{Incarnation: incarnation, Seq: last.Seq, TS: last.Version.TS}
	p.mu.lastApply = now
	p.mu.Unlock()
	return nil
}

// ackLoop reports this region's progress to the peer while a stream is
// open.
func (p *puller) ackLoop(ctx context.Context) {
	t := time.NewTicker(p.r.opts.AckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.r.sendAck(ctx, p.peer)
	}
}

// sendAck reports to a peer how far this region has applied its log and
// every origin's writes.
func (r *Replicator) sendAck(ctx context.Context, peer Peer) error {
	pl := r.pullers[peer.Name]
	pl.mu.Lock()
	c := pl.mu.cursor
	pl.mu.Unlock()
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
func (r *Replicator) replicates(e store.LogEntry) bool {
	if e.Schema != nil {
		return true
	}
	for _, c := range e.Changes {
		if _, err := r.db.Table(c.Table); err == nil {
			return true
		}
	}
	return false
}
