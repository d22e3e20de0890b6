package repl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gyre-dev/gyre/internal/store"
)

// pullCore is the replication state machine of one inbound link: it follows
// one origin's log into this region. It decides everything a puller does —
// where to resume, which incarnation the entries belong to, when to apply
// what has arrived, when to acknowledge, when a stream is dead, when to
// catch up from snapshots, how long to wait before reconnecting — and does
// none of it: it has no goroutines, sockets or clock. Its owner feeds it
// what happened (a frame arrived, nothing more is buffered, a batch was
// applied, the time is now, the stream ended) and carries out the actions it
// returns, in order, as etcd raft's node drives its RawNode.
//
// A stream's life, as the owner drives it:
//
//	req := c.dial(durableCursor)   // POST req to the origin's /repl/pull
//	c.connected(now)               // the origin answered 200
//	c.receive(frame, now)          // for each frame read
//	c.idle()                       // whenever nothing more is buffered
//	c.tick(now)                    // by deadline(): acks and the stall watchdog
//	c.applied(result, now)         // after carrying out an applyBatch
//	c.caughtUp()                   // after carrying out a catchUp
//	c.ended(err)                   // the stream or the dial is over
//
// An applyBatch is always the last action of those a call returns: the
// owner answers it with applied (or ends the stream when the apply fails)
// before it gives the core anything but ticks. A pullCore is not safe for
// concurrent use.
type pullCore struct {
	cfg pullConfig
	// replicates reports whether an entry concerns a table this region
	// holds: only those count for lag.
	replicates func(store.LogEntry) bool
	lag        *window

	state     string
	lastErr   string
	head      uint64       // the origin's log head, as last heard
	cursor    store.Cursor // how far this region has applied the origin's log
	lastApply time.Time
	retry     backoff

	s    pullStream // the stream open now, if any
	lags []time.Duration
}

// pullConfig is what a pullCore needs of the Options.
type pullConfig struct {
	region, origin     string // this region, and the one whose log it follows
	batchSize          int
	stallTimeout       time.Duration
	ackInterval        time.Duration
	retryMin, retryMax time.Duration
}

func pullConfigOf(o *Options, region, origin string) pullConfig {
	return pullConfig{
		region: region, origin: origin, batchSize: o.BatchSize, stallTimeout: o.StallTimeout,
		ackInterval: o.AckInterval, retryMin: o.RetryMin, retryMax: o.RetryMax,
	}
}

// pullStream is the state of one stream.
type pullStream struct {
	open bool
	// incarnation is the origin's, as the stream's first frame names it.
	incarnation string
	batch       []store.LogEntry
	applying    bool   // an applyBatch is out
	held        *frame // a frame that arrived behind the batch being applied
	progressed  bool   // something was applied, or a catch-up finished
	lastFrame   time.Time
	nextAck     time.Time
	stalled     bool
}

func newPullCore(cfg pullConfig, replicates func(store.LogEntry) bool) *pullCore {
	return &pullCore{
		cfg: cfg, replicates: replicates, lag: newWindow(time.Minute),
		state: LinkConnecting, retry: backoff{min: cfg.retryMin, max: cfg.retryMax},
	}
}

// The actions a pullCore hands its owner.
type (
	// action is one of the types below.
	action interface{ isAction() }

	// linkChanged: the link's state changed (the link_up gauge follows it).
	linkChanged struct{ state string }
	// applyBatch: apply entries of the origin's log, in order, with
	// store.DB.ApplyRemote, then call applied; the entries are the core's
	// until then.
	applyBatch struct {
		incarnation string
		entries     []store.LogEntry
	}
	// batchApplied: a batch was applied; lags are the replication lags of
	// the entries that concern tables this region holds, valid until the
	// next call.
	batchApplied struct {
		result store.ApplyResult
		lags   []time.Duration
	}
	// sendAck: tell the origin how far this region has applied its log.
	sendAck struct{ cursor store.Cursor }
	// dropStream: end the stream now (it has carried nothing for too long).
	dropStream struct{ idle time.Duration }
	// catchUp: the origin cannot serve the cursor from its log: catch up
	// from snapshots, then call caughtUp and end the stream.
	catchUp struct{ reset reset }
	// redial: the stream is over; dial again after this long.
	redial struct{ after time.Duration }
)

func (linkChanged) isAction()  {}
func (applyBatch) isAction()   {}
func (batchApplied) isAction() {}
func (sendAck) isAction()      {}
func (dropStream) isAction()   {}
func (catchUp) isAction()      {}
func (redial) isAction()       {}

// dial starts an attempt to open a stream from cursor, this region's durable
// position in the origin's log, and returns the request that opens it.
func (c *pullCore) dial(cursor store.Cursor) pullRequest {
	c.cursor = cursor
	c.s = pullStream{}
	return pullRequest{Peer: c.cfg.region, Incarnation: cursor.Incarnation, After: cursor.Seq}
}

// connected: the origin accepted the stream at now.
func (c *pullCore) connected(now time.Time) []action {
	c.s = pullStream{open: true, lastFrame: now, nextAck: now.Add(c.cfg.ackInterval)}
	c.state, c.lastErr = LinkConnected, ""
	return []action{linkChanged{LinkConnected}}
}

// receive takes one frame the stream carried, read at now. Its payload need
// only be valid during the call. An error ends the stream.
func (c *pullCore) receive(f frame, now time.Time) ([]action, error) {
	c.s.lastFrame = now
	if f.kind != frameEntry && len(c.s.batch) > 0 {
		// What came before the frame is applied before the frame counts.
		held := frame{kind: f.kind, payload: bytes.Clone(f.payload)}
		c.s.held = &held
		return c.flush(), nil
	}
	return c.take(f)
}

func (c *pullCore) take(f frame) ([]action, error) {
	switch f.kind {
	case frameEntry:
		if c.s.incarnation == "" {
			return nil, fmt.Errorf("repl: %s sent entries before naming its incarnation", c.cfg.origin)
		}
		// The entry is decoded into fresh memory, so the payload can be
		// reused for the next frame.
		e, err := store.DecodeLogEntry(f.payload)
		if err != nil {
			return nil, err
		}
		c.s.batch = append(c.s.batch, e)
		c.noteHead(e.Seq)
		if len(c.s.batch) >= c.cfg.batchSize {
			return c.flush(), nil
		}
		return nil, nil
	case frameHeartbeat:
		var hb heartbeat
		if err := json.Unmarshal(f.payload, &hb); err != nil {
			return nil, err
		}
		c.s.incarnation = hb.Incarnation
		if c.cursor.Incarnation != hb.Incarnation {
			// The origin serves this incarnation from its start.
			c.cursor = store.Cursor{Incarnation: hb.Incarnation}
		}
		c.noteHead(hb.Head)
		return nil, nil
	case frameReset:
		var rs reset
		if err := json.Unmarshal(f.payload, &rs); err != nil {
			return nil, err
		}
		c.state = LinkCatchingUp
		return []action{linkChanged{LinkCatchingUp}, catchUp{rs}}, nil
	default:
		return nil, fmt.Errorf("repl: unexpected frame %q from %s", f.kind, c.cfg.origin)
	}
}

func (c *pullCore) noteHead(seq uint64) {
	if seq > c.head {
		c.head = seq
	}
}

// flush hands out the batch, if there is one and none is out already.
func (c *pullCore) flush() []action {
	if len(c.s.batch) == 0 || c.s.applying {
		return nil
	}
	c.s.applying = true
	return []action{applyBatch{incarnation: c.s.incarnation, entries: c.s.batch}}
}

// idle: the owner has nothing more buffered. What has arrived is applied
// before it waits for more.
func (c *pullCore) idle() []action { return c.flush() }

// applied: the batch handed out was applied at now, with result r. The
// cursor moves to its last entry, and a frame that arrived behind the batch
// is taken now.
func (c *pullCore) applied(r store.ApplyResult, now time.Time) ([]action, error) {
	batch := c.s.batch
	if !c.s.applying || len(batch) == 0 {
		panic("repl: pullCore.applied without a batch out")
	}
	c.lags = c.lags[:0]
	for _, e := range batch {
		// Only the entries this region replicates count: every local write
		// is shipped, including those to tables other regions lack.
		if !c.replicates(e) {
			continue
		}
		lag := now.Sub(e.Committed)
		c.lag.add(now, lag)
		c.lags = append(c.lags, lag)
	}
	last := batch[len(batch)-1]
	c.cursor = store.Cursor{Incarnation: c.s.incarnation, Seq: last.Seq, TS: last.Version.TS}
	c.lastApply = now
	c.s.progressed = true
	c.s.batch, c.s.applying = batch[:0], false
	acts := []action{batchApplied{result: r, lags: c.lags}}
	if h := c.s.held; h != nil {
		c.s.held = nil
		more, err := c.take(*h)
		return append(acts, more...), err
	}
	return acts, nil
}

// caughtUp: the catch-up asked for has finished; the owner ends the stream
// next.
func (c *pullCore) caughtUp() { c.s.progressed = true }

// tick tells the core the time is now. While a stream is open it asks for an
// ack every AckInterval, and drops a stream that has carried nothing, not
// even heartbeats, for StallTimeout: a partition that dropped packets rather
// than connections.
func (c *pullCore) tick(now time.Time) []action {
	if !c.s.open {
		return nil
	}
	var acts []action
	if idle := now.Sub(c.s.lastFrame); !c.s.stalled && idle >= c.cfg.stallTimeout {
		c.s.stalled = true
		acts = append(acts, dropStream{idle: idle})
	}
	if !now.Before(c.s.nextAck) {
		acts = append(acts, sendAck{c.cursor})
		// Acks missed while the owner was busy are not made up.
		c.s.nextAck = c.s.nextAck.Add(c.cfg.ackInterval)
		if c.cfg.ackInterval > 0 && !now.Before(c.s.nextAck) {
			c.s.nextAck = c.s.nextAck.Add((now.Sub(c.s.nextAck)/c.cfg.ackInterval + 1) * c.cfg.ackInterval)
		}
	}
	return acts
}

// deadline returns when tick next has something to do, and false when no
// stream is open.
func (c *pullCore) deadline() (time.Time, bool) {
	if !c.s.open {
		return time.Time{}, false
	}
	if c.s.stalled {
		return c.s.nextAck, true
	}
	stall := c.s.lastFrame.Add(c.cfg.stallTimeout)
	if stall.Before(c.s.nextAck) {
		return stall, true
	}
	return c.s.nextAck, true
}

// ended: the stream, or the attempt to open one, is over; err says why (nil
// after a catch-up). The core says how long to wait before dialling again:
// RetryMin after a stream that made progress, then twice as long after each
// failure, up to RetryMax.
func (c *pullCore) ended(err error) []action {
	if c.s.progressed {
		c.retry.reset()
	}
	c.state = LinkDown
	if err != nil {
		c.lastErr = err.Error()
	}
	c.s = pullStream{}
	return []action{linkChanged{LinkDown}, redial{after: c.retry.next()}}
}

// backoff is a delay that doubles from min up to max with each use.
type backoff struct {
	min, max time.Duration
	cur      time.Duration // 0: min
}

// next returns the delay to wait now and doubles the next one.
func (b *backoff) next() time.Duration {
	d := b.cur
	if d == 0 {
		d = b.min
	}
	b.cur = min(2*d, b.max)
	return d
}

// reset makes the next delay min again.
func (b *backoff) reset() { b.cur = 0 }
