// Package hlc is a hybrid logical clock: timestamps that follow wall-clock
// time closely yet never go backwards and always order an event after every
// event it could have seen.
//
// A Timestamp packs milliseconds since the Unix epoch into its high 48 bits
// and a logical counter into its low 16 bits, so timestamps compare as plain
// integers. A Clock issues a timestamp for each local event (Now) and is
// advanced past every timestamp it receives from elsewhere (Observe); an event
// that follows an observed one therefore always carries a larger timestamp,
// whatever the wall clocks say.
package hlc

import (
	"fmt"
	"sync"
	"time"
)

// Timestamp is a hybrid logical clock reading: wall milliseconds << 16 |
// logical counter. The zero Timestamp is earlier than every reading.
type Timestamp uint64

const logicalBits = 16

// Make returns the Timestamp for wall milliseconds ms and logical counter l.
func Make(ms int64, l uint16) Timestamp {
	if ms < 0 {
		ms = 0
	}
	return Timestamp(uint64(ms)<<logicalBits | uint64(l))
}

// WallMillis returns the wall-clock part in milliseconds since the epoch.
func (t Timestamp) WallMillis() int64 { return int64(t >> logicalBits) }

// Logical returns the logical counter.
func (t Timestamp) Logical() uint16 { return uint16(t) }

// Time returns the wall-clock part as a time.Time.
func (t Timestamp) Time() time.Time { return time.UnixMilli(t.WallMillis()) }

// String formats t as wall-ms.logical, e.g. 1700000000123.4.
func (t Timestamp) String() string { return fmt.Sprintf("%d.%d", t.WallMillis(), t.Logical()) }

// Clock issues Timestamps. It is safe for concurrent use.
type Clock struct {
	wall func() time.Time
	skew time.Duration

	mu   sync.Mutex
	last Timestamp
}

// NewClock returns a Clock reading wall (time.Now when nil) shifted by skew,
// which lets a test or a drill give a region a clock that runs ahead or
// behind.
func NewClock(wall func() time.Time, skew time.Duration) *Clock {
	if wall == nil {
		wall = time.Now
	}
	return &Clock{wall: wall, skew: skew}
}

// Now returns a timestamp for a local event, greater than every timestamp
// this clock has issued or observed.
func (c *Clock) Now() Timestamp {
	pt := Make(c.wall().Add(c.skew).UnixMilli(), 0)
	c.mu.Lock()
	defer c.mu.Unlock()
	if pt > c.last {
		c.last = pt
	} else {
		// Overflowing the logical counter carries into the wall part,
		// which is harmless: the clock stays ahead of physical time by a
		// millisecond until physical time catches up.
		c.last++
	}
	return c.last
}

// Observe advances the clock past t, a timestamp seen on a message from
// elsewhere, so that the next local event orders after it.
func (c *Clock) Observe(t Timestamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t > c.last {
		c.last = t
	}
}

// Skew returns the offset this clock adds to the wall clock.
func (c *Clock) Skew() time.Duration { return c.skew }
