package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gyre-dev/gyre/internal/hlc"
)

// Options configure a DB.
type Options struct {
	// Dir is the directory holding the database. Required; created if
	// missing.
	Dir string
	// FS is the filesystem. Default vfs.Default; tests use vfs.NewMem().
	FS vfs.FS
	// Region names this region; it is the origin of local writes.
	// Default "local".
	Region string
	// Clock stamps every write. Default: an hlc.Clock reading Now.
	Clock *hlc.Clock
	// Now is the wall clock: it tells when items expire and transaction
	// tokens lapse, stamps tables' creation times and the commit time of
	// change log entries (by which replication lag is measured, so it must
	// not be skewed as Clock may be), and paces the storage health log.
	// Default time.Now.
	Now func() time.Time
	// Logger receives background errors and lifecycle events. Default
	// slog.Default().
	Logger *slog.Logger
	// CacheSize is Pebble's block cache size in bytes. Default 64 MiB.
	CacheSize int64
	// TTLInterval is how often expired items are looked for. Default 1s.
	TTLInterval time.Duration
	// TTLBatch bounds the items examined per table in one TTL pass, so a
	// large table is swept over several passes. Default 10000; must be
	// positive.
	TTLBatch int
	// MinFreeBytes is the free space the data directory's filesystem must
	// have for writes to be accepted: below it they are refused with
	// ErrStorageFailing, leaving Pebble room to flush and compact what it
	// has accepted, and accepted again once there is a quarter more.
	// Default DefaultMinFreeBytes.
	MinFreeBytes uint64
}

// DefaultMinFreeBytes is the default of Options.MinFreeBytes: room for two
// of Pebble's memtables (4 MiB each) to be flushed.
const DefaultMinFreeBytes = 8 << 20

func (o *Options) ensureDefaults() {
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.Region == "" {
		o.Region = "local"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Clock == nil {
		o.Clock = hlc.NewClock(o.Now, 0)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.CacheSize == 0 {
		o.CacheSize = 64 << 20
	}
	if o.TTLInterval == 0 {
		o.TTLInterval = time.Second
	}
	if o.MinFreeBytes == 0 {
		o.MinFreeBytes = DefaultMinFreeBytes
	}
	if o.TTLBatch == 0 {
		o.TTLBatch = 10000
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("store: Options.Dir is required"))
	}
	if o.TTLInterval < 0 {
		errs = append(errs, fmt.Errorf("store: Options.TTLInterval %v is negative", o.TTLInterval))
	}
	if o.TTLBatch < 0 {
		errs = append(errs, fmt.Errorf("store: Options.TTLBatch %d is negative", o.TTLBatch))
	}
	if o.CacheSize < 0 {
		errs = append(errs, fmt.Errorf("store: Options.CacheSize %d is negative", o.CacheSize))
	}
	return errors.Join(errs...)
}

// DB is one region's tables. It is safe for concurrent use.
type DB struct {
	opts Options
	pdb  *pebble.DB
	log  *slog.Logger

	// locks serialize writers of one item from read to commit. An item's
	// lock is chosen by hashing its Pebble key; a schema change takes all
	// of them (see barrier).
	locks [lockStripes]sync.Mutex

	mu struct {
		sync.RWMutex
		tables map[string]*Table
		lastID uint32
		closed bool
	}

	horizon     atomic.Pointer[func() hlc.Timestamp] // see SetTombstoneHorizon
	clog        logState                             // the change log's sequence numbers (log.go)
	incarnation string

	ctx    context.Context // canceled by Close; bounds background work
	cancel context.CancelFunc
	bg     sync.WaitGroup

	health *health // whether writes can be made durable (health.go)

	// applied, when set, is given the Changes of each batch of replicated
	// writes once it is durable, with the items' locks still held, so it
	// sees each item's writes in the order they committed; it must not call
	// the DB. Local writes are in the change log; this is the seam where a
	// stream of this region's tables will be fed the writes made elsewhere,
	// which are not. Only tests set it so far.
	applied func([]Change)

	// knobs let tests run code at points where a race would otherwise
	// need luck; nil outside tests.
	knobs struct {
		beforeApplyLocks func() // in applyWrites, before taking the locks
	}
}

const lockStripes = 4096

// Open opens (or creates) the database in o.Dir, loads its tables and starts
// the background work (TTL expiry, index backfills left unfinished by an
// earlier run). The caller must Close it.
func Open(o Options) (_ *DB, err error) {
	o.ensureDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := checkWritable(o.FS, o.Dir); err != nil {
		return nil, err
	}
	db := &DB{opts: o, log: o.Logger.With("component", "store")}
	db.health = newHealth(db.log, o.Now)
	db.ctx, db.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			db.cancel()
		}
	}()
	cache := pebble.NewCache(o.CacheSize)
	defer cache.Unref()
	popts := &pebble.Options{
		FS:                 o.FS,
		Cache:              cache,
		Merger:             counterMerger,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             pebbleLogger{o.Logger},
		EventListener:      db.eventListener(),
	}
	pdb, err := pebble.Open(o.Dir, popts)
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) {
		// Pebble's LOCK file is held: another process has the directory.
		return nil, fmt.Errorf("%w: %s is open in another process (a gyre already running on this data directory?); stop it, or choose another data directory", ErrInUse, o.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", o.Dir, err)
	}
	db.pdb = pdb
	defer func() {
		if err != nil {
			pdb.Close()
		}
	}()
	db.mu.tables = map[string]*Table{}
	if err := db.load(); err != nil {
		return nil, err
	}
	if err := db.openLog(); err != nil {
		return nil, err
	}
	if err := db.restoreClock(); err != nil {
		return nil, err
	}
	for _, t := range db.mu.tables {
		for _, ix := range t.Indexes {
			if ix.Status == StatusCreating {
				db.startBackfill(t.Name, ix.Name)
			}
		}
	}
	db.checkSpace()
	db.bg.Add(2)
	go db.sweepLoop()
	go db.watchSpace()
	return db, nil
}

// load reads the table metadata.
func (db *DB) load() error {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: metaTablePrefix, UpperBound: prefixEnd(metaTablePrefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		t := &Table{}
		if err := json.Unmarshal(it.Value(), t); err != nil {
			return fmt.Errorf("store: decoding metadata of table %q: %w", it.Key()[len(metaTablePrefix):], err)
		}
		db.mu.tables[t.Name] = t
	}
	if err := it.Error(); err != nil {
		return err
	}
	v, closer, err := db.pdb.Get(metaLastID)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
	case err != nil:
		return err
	default:
		db.mu.lastID = binary.BigEndian.Uint32(v)
		closer.Close()
	}
	return nil
}

// Close stops background work and closes the database. Writes in progress
// finish first. Close is idempotent.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.mu.closed {
		db.mu.Unlock()
		return nil
	}
	db.mu.closed = true
	db.mu.Unlock()
	db.cancel()
	db.bg.Wait()
	// Take every item lock so no write is between its read and its commit.
	db.lockAll()
	defer db.unlockAll()
	return db.pdb.Close()
}

// Region returns the name of the region this database belongs to.
func (db *DB) Region() string { return db.opts.Region }

// Clock returns the clock that stamps this database's writes.
func (db *DB) Clock() *hlc.Clock { return db.opts.Clock }

// Table returns the table's current schema and settings, a snapshot the
// caller must not modify.
func (db *DB) Table(name string) (*Table, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.tableLocked(name)
}

// tableLocked returns the table named name, with db.mu held (for reading
// or writing). It fails with ErrClosed once the DB is closed, and with a
// *NotFoundError wrapping ErrTableNotFound when there is no such table.
func (db *DB) tableLocked(name string) (*Table, error) {
	if db.mu.closed {
		return nil, ErrClosed
	}
	t, ok := db.mu.tables[name]
	if !ok {
		return nil, tableNotFound(name)
	}
	return t, nil
}

// newTableLocked gives t, a table new to this region, its local state: ids
// for it and its indexes (ACTIVE: a new table has no items to index), its
// creation time and status. db.mu must be held.
func (db *DB) newTableLocked(t *Table, status Status) {
	t.ID = db.nextIDLocked()
	for i := range t.Indexes {
		t.Indexes[i].ID = db.nextIDLocked()
		t.Indexes[i].Status = StatusActive
	}
	t.Created = db.opts.Now().UTC()
	t.Status = status
}

// TableNames returns the names of all tables in byte order.
func (db *DB) TableNames() []string {
	db.mu.RLock()
	defer db.mu.RUnlock()
	names := make([]string, 0, len(db.mu.tables))
	for n := range db.mu.tables {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// CreateTable creates a table from t's Name, Key, Attributes, Indexes and
// settings; it assigns the ids and the creation time and returns the stored
// table. The caller validates the schema against DynamoDB's rules.
func (db *DB) CreateTable(t *Table) (*Table, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return nil, ErrClosed
	}
	if _, ok := db.mu.tables[t.Name]; ok {
		return nil, &ExistsError{Name: t.Name}
	}
	t = t.clone()
	db.newTableLocked(t, StatusActive)
	if t.UUID == "" {
		t.UUID = newTableUUID()
	}
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := db.putMeta(b, t); err != nil {
		return nil, err
	}
	if err := db.commitBatch(b, pebble.Sync); err != nil {
		return nil, err
	}
	db.mu.tables[t.Name] = t
	return t, nil
}

// checkWritable makes sure dir exists and a file can be written and synced
// there, so that a directory Gyre cannot use is reported as such before
// Pebble fails on it in its own words.
func checkWritable(fs vfs.FS, dir string) error {
	fail := func(err error) error {
		return fmt.Errorf("%w: %s: %v; fix its permissions or free space, or choose another data directory", ErrNotWritable, dir, err)
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	probe := fs.PathJoin(dir, ".gyre-write-probe")
	f, err := fs.Create(probe, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fail(err)
	}
	_, err = f.Write([]byte("gyre"))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := fs.Remove(probe); err == nil {
		err = rerr
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// newTableUUID returns a random version 4 UUID for a TableId.
func newTableUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (db *DB) nextIDLocked() uint32 {
	db.mu.lastID++
	return db.mu.lastID
}

// putMeta writes t's metadata and the id counter into b.
func (db *DB) putMeta(b *pebble.Batch, t *Table) error {
	js, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if err := b.Set(tableMetaKey(t.Name), js, nil); err != nil {
		return err
	}
	return b.Set(metaLastID, binary.BigEndian.AppendUint32(nil, db.mu.lastID), nil)
}

// DeleteTable deletes the table, its items and its indexes, and returns its
// last schema. For a global table it deletes this region's replica and
// tells the other replicas so.
func (db *DB) DeleteTable(name string) (*Table, error) {
	db.lockAll()
	defer db.unlockAll()
	db.mu.Lock()
	defer db.mu.Unlock()
	t, err := db.tableLocked(name)
	if err != nil {
		return nil, err
	}
	var e *LogEntry
	c := t.clone()
	if mine := c.Replica(db.opts.Region); mine != nil {
		seq, v := db.nextLogPosition()
		defer db.logDone(seq)
		mine.Status, mine.Version = StatusDeleting, v
		e = &LogEntry{Seq: seq, Version: v, Schema: c}
	}
	if err := db.dropLocked(nil, c, e); err != nil {
		return nil, err
	}
	gone := c.clone()
	gone.Status = StatusDeleting
	return gone, nil
}

// dropLocked deletes a table's items, indexes, statistics and metadata in
// one batch (with whatever b holds, and the log entry e if any). db.mu and
// every item lock must be held.
func (db *DB) dropLocked(b *pebble.Batch, t *Table, e *LogEntry) error {
	if b == nil {
		b = db.pdb.NewBatch()
		defer b.Close()
	}
	ids := []uint32{t.ID}
	spans := [][]byte{spanPrefix(prefixItem, t.ID)}
	for _, ix := range t.Indexes {
		ids = append(ids, ix.ID)
		spans = append(spans, spanPrefix(prefixIndex, ix.ID))
	}
	for _, s := range spans {
		if err := b.DeleteRange(s, prefixEnd(s), nil); err != nil {
			return err
		}
	}
	for _, id := range ids {
		if err := b.Delete(counterKey(id), nil); err != nil {
			return err
		}
	}
	if err := b.Delete(tableMetaKey(t.Name), nil); err != nil {
		return err
	}
	var entry LogEntry
	if e != nil {
		entry = *e
	}
	if err := db.commit(b, entry); err != nil {
		return err
	}
	delete(db.mu.tables, t.Name)
	return nil
}

// UpdateTable changes a table's settings: fn receives a copy of the table to
// modify (billing mode, throughput, stream, TTL, deletion protection; not
// keys or indexes) and the result is stored.
func (db *DB) UpdateTable(name string, fn func(t *Table) error) (*Table, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	t, err := db.tableLocked(name)
	if err != nil {
		return nil, err
	}
	c := t.clone()
	if err := fn(c); err != nil {
		return nil, err
	}
	if c.Name != t.Name || c.ID != t.ID || c.Key != t.Key || len(c.Indexes) != len(t.Indexes) {
		panic("store: UpdateTable callback changed the table's identity, key or indexes")
	}
	// A change that changes nothing is not stored, nor shipped to the
	// other replicas of a global table.
	before, _ := json.Marshal(t)
	after, _ := json.Marshal(c)
	if bytes.Equal(before, after) {
		return t, nil
	}
	if err := db.commitTableLocked(nil, c, true); err != nil {
		return nil, err
	}
	return c, nil
}

// Stats returns the item count and size of a table, and of each of its
// indexes by name.
func (db *DB) Stats(t *Table) (Stats, map[string]Stats, error) {
	ts, err := db.readStats(t.ID)
	if err != nil {
		return Stats{}, nil, err
	}
	ixs := map[string]Stats{}
	for _, ix := range t.Indexes {
		s, err := db.readStats(ix.ID)
		if err != nil {
			return Stats{}, nil, err
		}
		ixs[ix.Name] = s
	}
	return ts, ixs, nil
}

func (db *DB) readStats(id uint32) (Stats, error) {
	v, closer, err := db.pdb.Get(counterKey(id))
	if errors.Is(err, pebble.ErrNotFound) {
		return Stats{}, nil
	}
	if err != nil {
		return Stats{}, err
	}
	defer closer.Close()
	return decodeStats(v), nil
}

// lockAll takes every item lock, in order, so that no write is in progress;
// schema changes use it as a barrier.
func (db *DB) lockAll() {
	for i := range db.locks {
		db.locks[i].Lock()
	}
}

func (db *DB) unlockAll() {
	for i := range db.locks {
		db.locks[i].Unlock()
	}
}

// pebbleLogger sends Pebble's log lines to slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	panic(fmt.Sprintf("pebble: "+format, args...))
}
