package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Storage health. A write that cannot be made durable must fail at once,
// not hang or spin: when the disk is nearly full (less than
// Options.MinFreeBytes free), after a background flush or compaction
// failed (until one succeeds again), or once the write-ahead log has failed
// (until a restart), every write is refused with ErrStorageFailing, while
// reads go on. Writes resume by themselves when the cause goes away. The
// failures are logged once per cause, then summarized at most every
// healthLogInterval, never once per error.

// healthLogInterval is how often continuing storage failures are
// summarized in the log.
const healthLogInterval = 30 * time.Second

// health tracks whether the store can make writes durable. It is safe for
// concurrent use.
type health struct {
	log *slog.Logger
	now func() time.Time // Options.Now
	mu  struct {
		sync.Mutex
		// lowSpace is set while free space is under the threshold.
		lowSpace error
		// background is the last failed flush or compaction's error, until
		// one succeeds.
		background error
		// fatal is a failure of the write-ahead log: Pebble accepts no
		// more writes until it is reopened.
		fatal error
		// since is when writes were last refused after being accepted.
		since time.Time
		// counts and logged are per-cause counts of errors and when each
		// was last logged.
		counts map[string]int
		logged map[string]time.Time
		// streak counts background errors in a row, for the backoff.
		streak int
	}
}

func newHealth(log *slog.Logger, now func() time.Time) *health {
	h := &health{log: log, now: now}
	h.mu.counts = map[string]int{}
	h.mu.logged = map[string]time.Time{}
	return h
}

// err returns why writes are refused, or nil.
func (h *health) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.causeLocked()
}

func (h *health) causeLocked() error {
	switch {
	case h.mu.fatal != nil:
		return fmt.Errorf("%w: the write-ahead log failed (%v); restart the region once the disk is fixed", ErrStorageFailing, h.mu.fatal)
	case h.mu.lowSpace != nil:
		return fmt.Errorf("%w: %v", ErrStorageFailing, h.mu.lowSpace)
	case h.mu.background != nil:
		return fmt.Errorf("%w: %v", ErrStorageFailing, h.mu.background)
	}
	return nil
}

// transition logs a change between accepting and refusing writes; it runs
// with h.mu held, given whether writes were refused before.
func (h *health) transitionLocked(wasFailing bool) {
	cause := h.causeLocked()
	switch {
	case cause != nil && !wasFailing:
		h.mu.since = h.now()
		h.log.Error("storage failing: refusing writes until it recovers; reads go on", "cause", cause)
	case cause == nil && wasFailing:
		h.log.Info("storage recovered: accepting writes again", "after", h.now().Sub(h.mu.since).Round(time.Millisecond))
		clear(h.mu.counts)
		clear(h.mu.logged)
	}
}

// count notes one more error of a kind and says whether to log it now: the
// first of its kind, then at most once per healthLogInterval, with how
// many came since.
func (h *health) countLocked(kind string) (int, bool) {
	h.mu.counts[kind]++
	n := h.mu.counts[kind]
	last, ok := h.mu.logged[kind]
	now := h.now()
	if ok && now.Sub(last) < healthLogInterval {
		return n, false
	}
	h.mu.logged[kind] = now
	h.mu.counts[kind] = 0
	return n, true
}

// errorKind names the cause of a storage error for counting and logging.
func errorKind(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "no space left on device"
	case errors.Is(err, syscall.EIO):
		return "input/output error"
	case errors.Is(err, syscall.EROFS):
		return "read-only file system"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return "other"
}

// backgroundError records a failed flush or compaction, logs it (once per
// kind and interval), and holds the failing goroutine back a little, more
// after each failure in a row, so that Pebble, which retries a failed
// flush at once, does not spin. It returns early when ctx ends.
func (h *health) backgroundError(ctx context.Context, err error) {
	h.mu.Lock()
	was := h.causeLocked() != nil
	h.mu.background = err
	kind := errorKind(err)
	if n, log := h.countLocked(kind); log {
		h.log.Warn("storage background error", "kind", kind, "errors", n, "err", err)
	}
	h.transitionLocked(was)
	h.mu.streak++
	delay := min(50*time.Millisecond<<min(h.mu.streak, 6), 2*time.Second)
	h.mu.Unlock()
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// backgroundOK records a flush or compaction that succeeded.
func (h *health) backgroundOK() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mu.streak = 0
	if h.mu.background == nil {
		return
	}
	was := h.causeLocked() != nil
	h.mu.background = nil
	h.transitionLocked(was)
}

// setLowSpace records the free space check's result: nil when there is
// enough.
func (h *health) setLowSpace(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if (err == nil) == (h.mu.lowSpace == nil) {
		h.mu.lowSpace = err
		return
	}
	was := h.causeLocked() != nil
	h.mu.lowSpace = err
	h.transitionLocked(was)
}

// commitFailed records a failed commit: a write-ahead log failure, after
// which Pebble takes no more writes, or a failed sync.
func (h *health) commitFailed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	was := h.causeLocked() != nil
	if h.mu.fatal == nil {
		h.mu.fatal = err
	}
	h.transitionLocked(was)
}

// eventListener is what Pebble reports storage events to.
func (db *DB) eventListener() *pebble.EventListener {
	return &pebble.EventListener{
		BackgroundError: func(err error) {
			if errors.Is(err, pebble.ErrClosed) || db.ctx.Err() != nil {
				return
			}
			db.health.backgroundError(db.ctx, err)
		},
		FlushEnd: func(info pebble.FlushInfo) {
			if info.Err == nil {
				db.health.backgroundOK()
			}
		},
		CompactionEnd: func(info pebble.CompactionInfo) {
			if info.Err == nil {
				db.health.backgroundOK()
			}
		},
	}
}

// spaceInterval is how often the free space of the data directory is
// checked.
const spaceInterval = 200 * time.Millisecond

// watchSpace checks the data directory's free space until the DB closes.
// Writes are refused below Options.MinFreeBytes, and accepted again once
// there is a quarter more than that, so that they do not flap.
func (db *DB) watchSpace() {
	defer db.bg.Done()
	tick := time.NewTicker(spaceInterval)
	defer tick.Stop()
	for {
		db.checkSpace()
		select {
		case <-db.ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (db *DB) checkSpace() {
	u, err := db.opts.FS.GetDiskUsage(db.opts.Dir)
	if err != nil {
		return // not every filesystem tells (an in-memory one does not)
	}
	min := db.opts.MinFreeBytes
	db.health.mu.Lock()
	low := db.health.mu.lowSpace != nil
	db.health.mu.Unlock()
	switch {
	case u.AvailBytes < min:
		db.health.setLowSpace(fmt.Errorf("no space left on device: %d bytes free in %s, %d needed to accept writes", u.AvailBytes, db.opts.Dir, min))
	case low && u.AvailBytes < min+min/4:
		// Not enough above the threshold yet.
	default:
		db.health.setLowSpace(nil)
	}
}

// Healthy reports whether the store accepts writes: nil, or why it
// refuses them (an error wrapping ErrStorageFailing). Reads are served
// either way.
func (db *DB) Healthy() error { return db.health.err() }
