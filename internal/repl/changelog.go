package repl

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/gyre-dev/gyre/internal/store"
)

// Log is this region's change log as its consumers read it: replication
// peers now, streams, triggers and point-in-time recovery next. Each
// consumer keeps its own durable cursor, and the log keeps what the
// furthest-behind consumer still needs, up to LogOptions.MaxRetained. See
// the package documentation for what a consumer must do, in order. A Log is
// safe for concurrent use.
type Log struct {
	db   *store.DB
	opts LogOptions

	mu struct {
		sync.Mutex
		consumers map[string]*consumerState
	}
}

// LogOptions configure a Log.
type LogOptions struct {
	// MaxRetained bounds how many entries the log keeps for consumers that
	// have fallen behind: Truncate lets go of entries older than the newest
	// MaxRetained even if a consumer has not acknowledged them. That
	// consumer then reads store.ErrLogTruncated and must start again from
	// a snapshot (a replication peer catches up from every replica's).
	// Default 0: no bound, the log keeps whatever its slowest consumer
	// needs.
	MaxRetained uint64
}

// consumerState is what the log knows of one consumer.
type consumerState struct {
	local bool // its cursor is kept in this region's store
	// acked is false until the consumer has acknowledged a position; pos
	// is the last one it acknowledged.
	acked bool
	pos   store.Cursor
}

// Errors of consumer registration.
var (
	// ErrConsumerExists is returned by Log.Register and Log.Follow when the
	// name is taken by a consumer of the other kind.
	ErrConsumerExists = errors.New("repl: a log consumer of another kind has this name")
	// ErrUnknownConsumer is returned by Consumer methods after the consumer
	// was unregistered.
	ErrUnknownConsumer = errors.New("repl: no such log consumer")
)

// NewLog returns the change log of db. Local consumers registered before
// (their cursors are durable in db) hold the log from the start, before
// they register again.
func NewLog(db *store.DB, o LogOptions) (*Log, error) {
	l := &Log{db: db, opts: o}
	l.mu.consumers = map[string]*consumerState{}
	durable, err := db.LogConsumers()
	if err != nil {
		return nil, fmt.Errorf("repl: reading the change log's consumers: %w", err)
	}
	for name, c := range durable {
		l.mu.consumers[name] = &consumerState{local: true, acked: true, pos: c}
	}
	return l, nil
}

// Consumer is one registered reader of the log. Its methods are safe for
// concurrent use.
type Consumer struct {
	log  *Log
	name string
}

// Register adds a consumer in this region, whose cursor the log keeps
// durably in the store, or returns the one registered under name before
// (also before a restart), at its last acknowledged position. A new
// consumer starts at the log's head: it reads the entries committed after
// it registered. From now on the log keeps every entry after its position.
func (l *Log) Register(name string) (*Consumer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.mu.consumers[name]; ok {
		if !c.local {
			return nil, fmt.Errorf("%w: %q", ErrConsumerExists, name)
		}
		return &Consumer{log: l, name: name}, nil
	}
	pos := store.Cursor{Incarnation: l.db.Incarnation(), Seq: l.db.LogHead()}
	if err := l.db.SetLogConsumer(name, pos); err != nil {
		return nil, fmt.Errorf("repl: registering log consumer %q: %w", name, err)
	}
	l.mu.consumers[name] = &consumerState{local: true, acked: true, pos: pos}
	return &Consumer{log: l, name: name}, nil
}

// Follow adds a consumer in another region, a replication peer, or returns
// the one following under name already. The peer keeps its cursor durably
// itself and reports it with Acknowledge; until it has acknowledged a
// position in this incarnation of the log, it holds the whole log.
func (l *Log) Follow(name string) (*Consumer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.mu.consumers[name]
	if ok && c.local {
		return nil, fmt.Errorf("%w: %q", ErrConsumerExists, name)
	}
	if !ok {
		l.mu.consumers[name] = &consumerState{}
	}
	return &Consumer{log: l, name: name}, nil
}

// Unregister removes a consumer, and a local one's durable cursor: the log
// no longer keeps anything for it. It is not an error if there is none.
func (l *Log) Unregister(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.mu.consumers[name]
	if !ok {
		return nil
	}
	if c.local {
		if err := l.db.DeleteLogConsumer(name); err != nil {
			return fmt.Errorf("repl: unregistering log consumer %q: %w", name, err)
		}
	}
	delete(l.mu.consumers, name)
	return nil
}

// Name returns the consumer's name.
func (c *Consumer) Name() string { return c.name }

// Position returns the last position the consumer acknowledged, and false
// if it has acknowledged none (a peer that has not reported yet).
func (c *Consumer) Position() (store.Cursor, bool, error) {
	c.log.mu.Lock()
	defer c.log.mu.Unlock()
	s, ok := c.log.mu.consumers[c.name]
	if !ok {
		return store.Cursor{}, false, ErrUnknownConsumer
	}
	return s.pos, s.acked, nil
}

// Acknowledge records that the consumer has durably handled every entry up
// to pos: the log may let go of them. A local consumer's position is
// stored durably before Acknowledge returns. A peer may acknowledge a
// position in another incarnation of this region's log (one from before its
// data was lost): it then holds the whole log, as one that has not reported.
func (c *Consumer) Acknowledge(pos store.Cursor) error {
	c.log.mu.Lock()
	defer c.log.mu.Unlock()
	s, ok := c.log.mu.consumers[c.name]
	if !ok {
		return ErrUnknownConsumer
	}
	if s.local {
		if pos.Incarnation != c.log.db.Incarnation() {
			return fmt.Errorf("repl: log consumer %q acknowledged a position in incarnation %q, not this log's %q", c.name, pos.Incarnation, c.log.db.Incarnation())
		}
		if err := c.log.db.SetLogConsumer(c.name, pos); err != nil {
			return fmt.Errorf("repl: acknowledging for log consumer %q: %w", c.name, err)
		}
	}
	s.pos, s.acked = pos, true
	return nil
}

// Reader returns a reader of the entries after the consumer's last
// acknowledged position.
func (c *Consumer) Reader() (*LogReader, error) {
	pos, _, err := c.Position()
	if err != nil {
		return nil, err
	}
	return c.log.ReaderFrom(pos), nil
}

// LogReader reads the log in order from a position on. It is not safe for
// concurrent use; each consumer's loop has its own.
type LogReader struct {
	db          *store.DB
	incarnation string
	after       uint64
}

// ReaderFrom returns a reader of the entries after pos. A position in
// another incarnation of this region's log (its data was lost since) means
// nothing now: the reader starts from the beginning.
func (l *Log) ReaderFrom(pos store.Cursor) *LogReader {
	inc := l.db.Incarnation()
	after := pos.Seq
	if pos.Incarnation != inc {
		after = 0
	}
	return &LogReader{db: l.db, incarnation: inc, after: after}
}

// Position returns the reader's position: the last entry Next returned.
func (rd *LogReader) Position() store.Cursor {
	return store.Cursor{Incarnation: rd.incarnation, Seq: rd.after}
}

// Truncated reports whether entries after the reader's position have been
// truncated, so that Next can only fail.
func (rd *LogReader) Truncated() bool { return rd.after < rd.db.LogFloor() }

// Next returns up to max entries after the reader's position and moves past
// them; none when it has read everything committed. It returns
// store.ErrLogTruncated when entries it needs are gone: the consumer must
// start again from a snapshot.
func (rd *LogReader) Next(max int) ([]store.LogEntry, error) {
	entries, err := rd.db.ReadLog(rd.after, max)
	if len(entries) > 0 {
		rd.after = entries[len(entries)-1].Seq
	}
	return entries, err
}

// Wait blocks until the log has entries after the reader's position, ctx is
// done (ctx.Err()) or the store is closed (store.ErrClosed).
func (rd *LogReader) Wait(ctx context.Context) error {
	_, err := rd.db.WaitLog(ctx, rd.after)
	return err
}

// Retention is what the log keeps and for whom.
type Retention struct {
	// Head is the last readable entry, Floor the last truncated one.
	Head, Floor uint64
	// Through is how far Truncate may drop entries: as far as every
	// consumer has acknowledged, or the head when there are none, but no
	// further behind the head than MaxRetained.
	Through uint64
	// HeldBy names the furthest-behind consumer, the one that keeps the
	// log from being truncated further ("" when none does).
	HeldBy string
	// Capped is true when MaxRetained lets go of entries HeldBy has not
	// acknowledged.
	Capped bool
	// Consumers describes every consumer, by name.
	Consumers []ConsumerRetention
}

// ConsumerRetention is one consumer's hold on the log.
type ConsumerRetention struct {
	Name string
	// Local is true for a consumer in this region, false for a peer.
	Local bool
	// Known is false until the consumer has acknowledged a position in
	// this incarnation of the log; until then it holds the whole log.
	Known bool
	// Acked is the last position it acknowledged, Backlog the entries
	// after it up to the head.
	Acked, Backlog uint64
}

// Retention reports what the log keeps, and for whom.
func (l *Log) Retention() Retention {
	inc := l.db.Incarnation()
	r := Retention{Head: l.db.LogHead(), Floor: l.db.LogFloor()}
	r.Through = r.Head
	l.mu.Lock()
	names := make([]string, 0, len(l.mu.consumers))
	for name := range l.mu.consumers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c := l.mu.consumers[name]
		cr := ConsumerRetention{Name: name, Local: c.local}
		if c.acked && c.pos.Incarnation == inc {
			cr.Known, cr.Acked = true, c.pos.Seq
		}
		if r.Head > cr.Acked {
			cr.Backlog = r.Head - cr.Acked
		}
		if cr.Acked < r.Through {
			r.Through, r.HeldBy = cr.Acked, name
		}
		r.Consumers = append(r.Consumers, cr)
	}
	l.mu.Unlock()
	if m := l.opts.MaxRetained; m > 0 && r.Head > m && r.Through < r.Head-m {
		r.Through, r.Capped = r.Head-m, true
	}
	return r
}

// Truncate drops the entries no consumer needs any more (see Retention) and
// reports what the log keeps.
func (l *Log) Truncate() (Retention, error) {
	r := l.Retention()
	if r.Through <= r.Floor {
		return r, nil
	}
	if err := l.db.TruncateLog(r.Through); err != nil {
		return r, err
	}
	r.Floor = r.Through
	return r, nil
}
