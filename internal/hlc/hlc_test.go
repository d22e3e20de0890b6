package hlc

import (
	"testing"
	"time"
)

type fakeWall struct{ t time.Time }

func (f *fakeWall) now() time.Time { return f.t }

func TestMonotonicWhenWallStandsStillOrGoesBack(t *testing.T) {
	w := &fakeWall{t: time.UnixMilli(1_700_000_000_000)}
	c := NewClock(w.now, 0)
	a := c.Now()
	b := c.Now()
	if b <= a {
		t.Fatalf("second reading %v not after first %v with a frozen wall clock", b, a)
	}
	w.t = w.t.Add(-time.Hour)
	if d := c.Now(); d <= b {
		t.Fatalf("reading %v after the wall clock went back is not after %v", d, b)
	}
	w.t = time.UnixMilli(1_800_000_000_000)
	if e := c.Now(); e != Make(1_800_000_000_000, 0) {
		t.Fatalf("reading after the wall clock moved ahead = %v, want %v", e, Make(1_800_000_000_000, 0))
	}
}

func TestObserveOrdersLaterEventsAfter(t *testing.T) {
	// A region whose clock is an hour behind receives a write stamped by a
	// region an hour ahead; its next local write must still order after.
	w := &fakeWall{t: time.UnixMilli(1_700_000_000_000)}
	behind := NewClock(w.now, -time.Hour)
	ahead := NewClock(w.now, time.Hour)
	remote := ahead.Now()
	if local := behind.Now(); local >= remote {
		t.Fatalf("precondition: the slow clock's reading %v should be before %v", local, remote)
	}
	behind.Observe(remote)
	if next := behind.Now(); next <= remote {
		t.Fatalf("reading %v after observing %v does not order after it", next, remote)
	}
}

func TestLogicalOverflowCarries(t *testing.T) {
	w := &fakeWall{t: time.UnixMilli(7)}
	c := NewClock(w.now, 0)
	prev := c.Now()
	for range 1 << 17 {
		next := c.Now()
		if next <= prev {
			t.Fatalf("reading %v not after %v", next, prev)
		}
		prev = next
	}
	if prev.WallMillis() <= 7 {
		t.Fatalf("after 2^17 readings in one millisecond the wall part is %d; the logical counter should have carried", prev.WallMillis())
	}
}

func BenchmarkNow(b *testing.B) {
	c := NewClock(nil, 0)
	b.ReportAllocs()
	for b.Loop() {
		c.Now()
	}
}
