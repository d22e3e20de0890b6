package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/hlc"
)

// The change log. Every local write batch is appended to it, in the same
// Pebble batch as the write itself, as one LogEntry with the next sequence
// number: no write without its entry, no entry without its write. Peers read
// it to replicate this region's writes (only this region's: writes applied
// from peers are not logged again).
//
// Sequence numbers and version timestamps are assigned together under
// logMu, so entries are in timestamp order. Batches commit concurrently, so
// an entry may become durable before an earlier one; readers see entries
// only up to the watermark, the highest sequence number below which every
// entry has committed.
//
// Each database has an incarnation: a random id made when it is created. A
// peer's position in this log is (incarnation, sequence number); a peer
// holding a position in another incarnation (this region's data was lost and
// started afresh) starts again from the beginning.

// LogEntry is one committed local write batch: the item writes of one
// PutItem, transaction or batch, or one schema change of a global table.
type LogEntry struct {
	Seq     uint64
	Version Version
	// Committed is when the entry was committed, by Options.Now (the wall
	// clock, without the simulated skew Clock may have), for measuring
	// replication lag.
	Committed time.Time
	// Changes are the item writes; New is nil for a delete.
	Changes []Change
	// Schema, when set, is a schema change of a global table, and Changes
	// is empty.
	Schema *Table
}

var (
	metaIncarnation = []byte{prefixMeta, 'i', 'n', 'c'}
	metaLogFloor    = []byte{prefixMeta, 'l', 'o', 'g'}
)

func logKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixLog}, seq)
}

func cursorKey(origin string) []byte {
	return append([]byte{prefixCursor}, origin...)
}

// logState tracks sequence numbers: the next to assign, and which of the
// assigned ones have committed.
type logState struct {
	mu        sync.Mutex
	next      uint64          // next sequence number to assign
	watermark uint64          // every entry <= watermark has committed (or failed)
	done      map[uint64]bool // committed entries above the watermark
	floor     uint64          // entries <= floor have been truncated
	changed   chan struct{}   // closed and replaced when the watermark moves
	held      uint64          // when not 0, the watermark stays below it (see holdLog)
}

// openLog loads or creates the incarnation and recovers the sequence
// numbers.
func (db *DB) openLog() error {
	v, closer, err := db.pdb.Get(metaIncarnation)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		var b [8]byte
		rand.Read(b[:])
		db.incarnation = hex.EncodeToString(b[:])
		batch := db.pdb.NewBatch()
		defer batch.Close()
		if err := batch.Set(metaIncarnation, []byte(db.incarnation), nil); err != nil {
			return err
		}
		if err := db.commitBatch(batch, pebble.Sync); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		db.incarnation = string(v)
		closer.Close()
	}
	ls := &db.clog
	ls.done = map[uint64]bool{}
	ls.changed = make(chan struct{})
	if v, closer, err := db.pdb.Get(metaLogFloor); err == nil {
		ls.floor = binary.BigEndian.Uint64(v)
		closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return err
	}
	last := ls.floor
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixLog}, UpperBound: []byte{prefixLog + 1}})
	if err != nil {
		return err
	}
	if it.Last() {
		last = binary.BigEndian.Uint64(it.Key()[1:])
	}
	if err := it.Close(); err != nil {
		return err
	}
	ls.watermark = last
	ls.next = last + 1
	return nil
}

// restoreClock advances the clock past the versions this database stamped
// or applied before it was last closed, as far as they can be found without
// a scan: its own last log entry, how far it had applied each origin's log,
// and its tables' schema and replica versions. A clock starts afresh at
// every Open; on a wall clock that runs behind, it would otherwise stamp
// changes older than ones this region already holds, and the other replicas
// would discard them as stale while this one kept them. (An item write
// also observes the version it replaces; see write.)
func (db *DB) restoreClock() error {
	observe := func(lower, upper []byte, fn func(v []byte) (hlc.Timestamp, error)) error {
		it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
		if err != nil {
			return err
		}
		for it.First(); it.Valid(); it.Next() {
			ts, err := fn(it.Value())
			if err != nil {
				it.Close()
				return err
			}
			db.opts.Clock.Observe(ts)
		}
		return it.Close()
	}
	if err := observe(logKey(db.clog.watermark), logKey(db.clog.watermark+1), func(v []byte) (hlc.Timestamp, error) {
		e, err := DecodeLogEntry(v)
		return e.Version.TS, err
	}); err != nil {
		return err
	}
	if err := observe([]byte{prefixCursor}, []byte{prefixCursor + 1}, func(v []byte) (hlc.Timestamp, error) {
		c, err := decodeCursor(v)
		return c.TS, err
	}); err != nil {
		return err
	}
	for _, t := range db.mu.tables {
		db.opts.Clock.Observe(t.SchemaVersion.TS)
		for _, r := range t.Replicas {
			db.opts.Clock.Observe(r.Version.TS)
		}
	}
	return nil
}

// Incarnation returns the id of this database's incarnation.
func (db *DB) Incarnation() string { return db.incarnation }

// nextLogPosition assigns the sequence number and version of a write batch
// about to be built. The caller must call logDone(seq) once the batch has
// committed or failed.
func (db *DB) nextLogPosition() (uint64, Version) {
	ls := &db.clog
	ls.mu.Lock()
	defer ls.mu.Unlock()
	seq := ls.next
	ls.next++
	return seq, Version{TS: db.opts.Clock.Now(), Origin: db.opts.Region}
}

// holdLog keeps the log's watermark below seq for good: entry seq failed to
// commit but may be readable (see errCommitFailed). After that the store
// takes no writes until it is reopened.
func (db *DB) holdLog(seq uint64) {
	ls := &db.clog
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.held == 0 || seq < ls.held {
		ls.held = seq
	}
}

// logDone records that the batch holding entry seq is no longer pending and
// advances the watermark, never up to a held entry.
func (db *DB) logDone(seq uint64) {
	ls := &db.clog
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.held != 0 && seq >= ls.held {
		return
	}
	ls.done[seq] = true
	moved := false
	for ls.done[ls.watermark+1] {
		delete(ls.done, ls.watermark+1)
		ls.watermark++
		moved = true
	}
	if moved {
		close(ls.changed)
		ls.changed = make(chan struct{})
	}
}

// LogHead returns the watermark: every entry up to it is readable.
func (db *DB) LogHead() uint64 {
	db.clog.mu.Lock()
	defer db.clog.mu.Unlock()
	return db.clog.watermark
}

// LogFloor returns the highest truncated sequence number: entries after it
// can still be read.
func (db *DB) LogFloor() uint64 {
	db.clog.mu.Lock()
	defer db.clog.mu.Unlock()
	return db.clog.floor
}

// WaitLog blocks until the watermark passes after or ctx is done, and
// returns the watermark.
func (db *DB) WaitLog(ctx context.Context, after uint64) (uint64, error) {
	for {
		db.clog.mu.Lock()
		w, ch := db.clog.watermark, db.clog.changed
		db.clog.mu.Unlock()
		if w > after {
			return w, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return w, ctx.Err()
		case <-db.ctx.Done():
			return w, ErrClosed
		}
	}
}

// ErrLogTruncated is returned by ReadLog when entries after the requested
// position have been truncated: the reader must catch up from a snapshot.
var ErrLogTruncated = errors.New("store: log truncated")

// ReadLog returns up to max entries after sequence number after, no further
// than the watermark. It returns ErrLogTruncated if after is below the
// floor.
func (db *DB) ReadLog(after uint64, max int) ([]LogEntry, error) {
	db.clog.mu.Lock()
	head, floor := db.clog.watermark, db.clog.floor
	db.clog.mu.Unlock()
	if after < floor {
		return nil, ErrLogTruncated
	}
	if after >= head {
		return nil, nil
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: logKey(after + 1), UpperBound: logKey(head + 1)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []LogEntry
	for it.First(); it.Valid() && len(out) < max; it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		e, err := DecodeLogEntry(v)
		if err != nil {
			return nil, fmt.Errorf("store: log entry %d: %w", binary.BigEndian.Uint64(it.Key()[1:]), err)
		}
		out = append(out, e)
	}
	return out, it.Error()
}

// TruncateLog deletes entries up to and including through (no further than
// the watermark).
func (db *DB) TruncateLog(through uint64) error {
	db.clog.mu.Lock()
	if through > db.clog.watermark {
		through = db.clog.watermark
	}
	if through <= db.clog.floor {
		db.clog.mu.Unlock()
		return nil
	}
	db.clog.mu.Unlock()
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(logKey(0), logKey(through+1), nil); err != nil {
		return err
	}
	if err := b.Set(metaLogFloor, binary.BigEndian.AppendUint64(nil, through), nil); err != nil {
		return err
	}
	if err := db.commitBatch(b, pebble.NoSync); err != nil {
		return err
	}
	db.clog.mu.Lock()
	if through > db.clog.floor {
		db.clog.floor = through
	}
	db.clog.mu.Unlock()
	return nil
}

// Log entry encoding:
//
//	uvarint seq | uint64 ts | uvarint len origin | varint committed-unix-nanos | kind byte
//	kind 'I': uvarint count { table | key item | flags | [item] }   flags: 1 delete, 2 expiry
//	kind 'S': table JSON
const (
	entryItems  = 'I'
	entrySchema = 'S'
)

// Encode returns the entry's wire and storage form.
func (e LogEntry) Encode() ([]byte, error) {
	b := binary.AppendUvarint(nil, e.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Version.TS))
	b = appendString(b, e.Version.Origin)
	b = binary.AppendVarint(b, e.Committed.UnixNano())
	if e.Schema != nil {
		js, err := e.Schema.marshalReplicated()
		if err != nil {
			return nil, err
		}
		b = append(b, entrySchema)
		return append(b, js...), nil
	}
	b = append(b, entryItems)
	b = binary.AppendUvarint(b, uint64(len(e.Changes)))
	for _, c := range e.Changes {
		b = appendString(b, c.Table)
		b = appendString(b, string(attr.AppendItem(nil, c.Key)))
		var flags byte
		if c.New == nil {
			flags |= 1
		}
		if c.Expiry {
			flags |= 2
		}
		b = append(b, flags)
		if c.New != nil {
			b = appendString(b, string(attr.AppendItem(nil, c.New)))
		}
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// DecodeLogEntry decodes an entry made by Encode.
func DecodeLogEntry(b []byte) (LogEntry, error) {
	d := entryDecoder{b: b}
	var e LogEntry
	e.Seq = d.uvarint()
	e.Version.TS = hlc.Timestamp(d.uint64())
	e.Version.Origin = d.str()
	e.Committed = time.Unix(0, d.varint())
	kind := d.byte()
	if d.err != nil {
		return e, d.err // a truncated header, not an unknown kind
	}
	switch kind {
	case entrySchema:
		t, err := unmarshalReplicated(d.b)
		if err != nil {
			return e, err
		}
		e.Schema = t
		return e, nil
	case entryItems:
	default:
		return e, errors.New("store: unknown log entry kind")
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return e, errors.New("store: corrupt log entry")
	}
	e.Changes = make([]Change, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		var c Change
		c.Table = d.str()
		c.Key = d.item()
		flags := d.byte()
		c.Expiry = flags&2 != 0
		if flags&1 == 0 {
			c.New = d.item()
		}
		c.Version = e.Version
		e.Changes = append(e.Changes, c)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("store: trailing bytes in log entry")
	}
	return e, d.err
}

type entryDecoder struct {
	b   []byte
	err error
}

func (d *entryDecoder) fail() {
	if d.err == nil {
		d.err = errors.New("store: corrupt log entry")
	}
	d.b = nil
}

func (d *entryDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *entryDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *entryDecoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *entryDecoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *entryDecoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *entryDecoder) item() attr.Item {
	s := d.str()
	if d.err != nil {
		return nil
	}
	it, err := attr.DecodeItem([]byte(s))
	if err != nil {
		d.fail()
		return nil
	}
	return it
}

// Cursor is a reader's position in an origin's log.
type Cursor struct {
	Incarnation string
	Seq         uint64
	// TS is the version timestamp of the entry at Seq: every entry of the
	// origin up to TS has been applied.
	TS hlc.Timestamp
}

func (c Cursor) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, c.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(c.TS))
	return append(b, c.Incarnation...)
}

func decodeCursor(b []byte) (Cursor, error) {
	if len(b) < 16 {
		return Cursor{}, errors.New("store: corrupt cursor")
	}
	return Cursor{Seq: binary.BigEndian.Uint64(b), TS: hlc.Timestamp(binary.BigEndian.Uint64(b[8:])), Incarnation: string(b[16:])}, nil
}

// Cursor returns this region's durable position in origin's log.
func (db *DB) Cursor(origin string) (Cursor, error) {
	v, closer, err := db.pdb.Get(cursorKey(origin))
	if errors.Is(err, pebble.ErrNotFound) {
		return Cursor{}, nil
	}
	if err != nil {
		return Cursor{}, err
	}
	defer closer.Close()
	return decodeCursor(v)
}

// SetCursor stores a position in origin's log, after catching up from a
// snapshot.
func (db *DB) SetCursor(origin string, c Cursor) error {
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := b.Set(cursorKey(origin), c.encode(), nil); err != nil {
		return err
	}
	return db.commitBatch(b, pebble.Sync)
}
