package supervisor

import "time"

// backoff decides how long to wait before each restart. It is
// deterministic and owns no timer: the caller tells it how long each run
// lasted and waits the delay it returns.
type backoff struct {
	min, max, stableAfter time.Duration
	// last is the previous delay; 0 before the first.
	last time.Duration
}

// next returns the delay before the restart that follows a run that lasted
// ran: min after the first run and after a run of at least stableAfter,
// otherwise twice the previous delay, capped at max.
func (b *backoff) next(ran time.Duration) time.Duration {
	switch {
	case b.last == 0 || ran >= b.stableAfter:
		b.last = b.min
	case b.last > b.max/2:
		b.last = b.max
	default:
		b.last *= 2
	}
	return b.last
}
