package repl

import (
	"context"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/gyre-dev/gyre/internal/store"
)

// handleTick moves time on, firing every timer that falls due on the way
// in order: a link's acks and stall watchdog (pullCore.tick), an idle pull
// handler's heartbeat, a redial.
func (e *simEnv) handleTick(d *datadriven.TestData) error {
	step := time.Second
	if p := positional(d); len(p) > 0 {
		var err error
		if step, err = durationArg(p[0]); err != nil {
			return err
		}
	}
	target := e.clock.Now().Add(step)
	for {
		next, ok := e.nextTimer()
		if !ok || next.After(target) {
			break
		}
		e.clock.set(next)
		e.fire(next)
	}
	e.clock.set(target)
	return nil
}

// nextTimer returns when the next timer falls due.
func (e *simEnv) nextTimer() (time.Time, bool) {
	var next time.Time
	found := false
	take := func(t time.Time) {
		if !found || t.Before(next) {
			next, found = t, true
		}
	}
	for _, l := range e.sortedLinks(nil) {
		if !l.open {
			take(l.redialAt)
			continue
		}
		if t, ok := l.core.deadline(); ok {
			take(t)
		}
		if l.src != nil && l.idle {
			take(l.idleAt.Add(e.opts.HeartbeatInterval))
		}
	}
	return next, found
}

// fire runs the timers due at now.
func (e *simEnv) fire(now time.Time) {
	for _, l := range e.sortedLinks(nil) {
		if !l.open {
			if !now.Before(l.redialAt) {
				if err := e.dial(l); err != nil {
					e.t.Fatal(err)
				}
			}
			continue
		}
		for _, a := range l.core.tick(now) {
			switch a := a.(type) {
			case dropStream:
				e.printf("%s: nothing from %s for %v: the watchdog drops the stream", l.dest, l.origin, a.idle)
				e.ended(l, context.Canceled)
			case sendAck:
				e.sendAck(l, a.cursor)
			}
		}
		if l.open && l.src != nil && l.idle && !now.Before(l.idleAt.Add(e.opts.HeartbeatInterval)) {
			l.idle = false
			e.pump(l)
		}
	}
}

// sendAck puts an ack in flight from l's destination to its origin, as
// Replicator.sendAck posts one; across a partition it fails at once.
func (e *simEnv) sendAck(l *simLink, c store.Cursor) {
	if e.cut(l.origin, l.dest) == "partition" {
		return
	}
	dest := e.regions[l.dest]
	l.acks = append(l.acks, ackRequest{
		Peer: l.dest, Incarnation: c.Incarnation, Seq: c.Seq,
		Applied: appliedVector(dest.db, e.peersOf(dest.name), len(dest.backfills) > 0),
	})
}
