package supervisor

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that tests move by hand. Every timer made is sent
// on timers, where the test takes it to see the delay asked for and fire
// it when it chooses.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers chan *fakeTimer
}

func newFakeClock() *fakeClock {
	return &fakeClock{
		now:    time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		timers: make(chan *fakeTimer, 64),
	}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{clock: c, d: d, c: make(chan time.Time, 1)}
	c.timers <- t
	return t
}

// nextTimer waits for the supervisor to ask for a timer, which it does
// once a run has ended and been reaped, its output logged.
func (c *fakeClock) nextTimer(t *testing.T, rec *recorder) *fakeTimer {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	select {
	case tm := <-c.timers:
		return tm
	case <-deadline.C:
		t.Fatalf("the supervisor asked for no restart timer; the records:\n%s", rec.Dump())
		return nil
	}
}

type fakeTimer struct {
	clock *fakeClock
	d     time.Duration
	c     chan time.Time

	mu             sync.Mutex
	fired, stopped bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	wasActive := !t.fired && !t.stopped
	t.stopped = true
	return wasActive
}

// Fire moves the clock to the timer's deadline and fires it.
func (t *fakeTimer) Fire() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fired || t.stopped {
		return
	}
	t.fired = true
	t.clock.Advance(t.d)
	t.c <- t.clock.Now()
}

func (t *fakeTimer) wasStopped() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stopped
}
