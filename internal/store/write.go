package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/hlc"
)

// Action is what an Op's Apply decided to do with its item.
type Action uint8

const (
	// Keep writes nothing: a condition check, or a write not made (the TTL
	// sweeper finding an item no longer expired). An acknowledged client
	// write must not return Keep, or an older write from another region
	// could win over it: one that leaves no item returns Delete.
	Keep Action = iota
	// Put stores the item Apply returned, replacing any current one.
	Put
	// Delete removes the item, leaving a tombstone with the write's
	// version; also when there is no item, so that the delete wins over
	// older writes elsewhere.
	Delete
)

// Op is one item write of a Write call.
type Op struct {
	// Table names the table.
	Table string
	// Key holds the item's key attributes; other attributes are ignored.
	Key attr.Item
	// Apply decides the write from the item's current state (nil when there
	// is none). For Put it returns the complete new item, whose key
	// attributes must equal Key's. It runs with the item locked, must not
	// call the DB, and must not modify current. An error cancels the Write.
	Apply func(current attr.Item) (attr.Item, Action, error)
}

// Outcome is the result of one Op: the item before and after the write
// (nil where there was or is no item).
type Outcome struct {
	Old, New attr.Item
}

// WriteOptions modify a Write.
type WriteOptions struct {
	// Token, when not empty, makes the write idempotent: a second Write
	// with the same Token and RequestHash within IdempotencyWindow succeeds
	// without writing again, and one with a different RequestHash fails
	// with ErrIdempotentMismatch.
	Token       string
	RequestHash [sha256.Size]byte
	// Expiry marks deletes made by time-to-live expiry rather than by a
	// client.
	Expiry bool
	// Transaction reports Apply errors as a *CanceledError even when there
	// is a single Op, as a transaction of one item must.
	Transaction bool
}

// IdempotencyWindow is how long a transaction's token is remembered, as in
// DynamoDB.
const IdempotencyWindow = 10 * time.Minute

// MaxItemSize is DynamoDB's item size limit.
const MaxItemSize = attr.MaxItemSize

// Change describes one committed item write. A local write's Changes pass
// through DB.commit into the change log, which replication ships and
// streams will read; a write applied from another region is described by a
// Change too, with the item it replaced here, but is not logged (see
// applyWrites). A delete of an item that was absent has Old and New nil: it
// changed nothing here, so a stream shows no record of it, but replication
// ships its version.
type Change struct {
	Table   string
	Key     attr.Item // the item's key attributes
	Old     attr.Item // nil when the item did not exist
	New     attr.Item // nil for a delete
	Version Version
	// Expiry is set on deletes made by time-to-live expiry.
	Expiry bool
}

// Write applies ops atomically: it locks their items, reads them, calls each
// Op's Apply, and commits every resulting write in one durable batch. When an
// Apply fails nothing is written: with one Op (and no wo.Transaction) its
// error is returned as is, otherwise a *CanceledError holds each Op's error.
// Keys or items that do not fit the table are reported before anything is
// written: a *KeyError, ErrItemTooLarge, ErrDuplicateItem, or the
// *attr.ValidationError of an item attr does not accept.
func (db *DB) Write(ops []Op, wo WriteOptions) ([]Outcome, error) {
	for {
		out, err := db.write(ops, wo)
		if !errors.Is(err, errSchemaChanged) {
			return out, err
		}
	}
}

// itemWrite is one Op of a Write as it goes through the phases of write:
// where its item is, then the record it replaces, then what Apply made of
// it.
type itemWrite struct {
	ref    itemRef
	old    record // the stored record, read with the item's lock held
	exists bool   // old is a live item, not a tombstone
	action Action
	next   attr.Item // the item a Put stores
}

// current returns the item as it is before the write, nil if there is none.
func (w *itemWrite) current() attr.Item {
	if w.exists {
		return w.old.Item
	}
	return nil
}

// outcome returns the item before and after the write.
func (w *itemWrite) outcome() Outcome {
	o := Outcome{Old: w.current()}
	switch w.action {
	case Put:
		o.New = w.next
	case Keep:
		o.New = o.Old
	}
	return o
}

// write is one attempt at a Write. It fails with errSchemaChanged when a
// table changed between preparing the keys and locking them: Write then
// starts over.
func (db *DB) write(ops []Op, wo WriteOptions) ([]Outcome, error) {
	if err := db.health.err(); err != nil {
		return nil, err // refused before it takes locks or a log position
	}
	ws, err := db.prepareKeys(ops)
	if err != nil {
		return nil, err
	}
	locked := db.lockItems(make([]int, len(ws)), func(i int) []byte { return ws[i].ref.pkey })
	defer db.unlockItems(locked)
	if err := db.checkTables(len(ws), func(i int) *Table { return ws[i].ref.table }); err != nil {
		return nil, err
	}
	if wo.Token != "" {
		replayed, err := db.checkToken(wo.Token, wo.RequestHash)
		if err != nil || replayed {
			return nil, err
		}
	}
	if err := db.readCurrent(ws); err != nil {
		return nil, err
	}
	if err := applyOps(ops, ws, wo.Transaction); err != nil {
		return nil, err
	}
	if err := db.commitWrites(ops, ws, wo); err != nil {
		return nil, err
	}
	outcomes := make([]Outcome, len(ws))
	for i := range ws {
		outcomes[i] = ws[i].outcome()
	}
	return outcomes, nil
}

// prepareKeys looks up each Op's table and locates its item.
func (db *DB) prepareKeys(ops []Op) ([]itemWrite, error) {
	ws := make([]itemWrite, len(ops))
	for i, op := range ops {
		t, err := db.Table(op.Table)
		if err != nil {
			return nil, err
		}
		ref, err := locate(t, op.Key)
		if err != nil {
			return nil, err
		}
		for j := range i {
			if ws[j].ref.table == t && bytes.Equal(ws[j].ref.pkey, ref.pkey) {
				return nil, fmt.Errorf("%w: Ops %d and %d name the same item of table %q", ErrDuplicateItem, j, i, t.Name)
			}
		}
		ws[i].ref = ref
	}
	return ws, nil
}

// readCurrent reads the record each item has now. The items' locks must be
// held.
func (db *DB) readCurrent(ws []itemWrite) error {
	for i := range ws {
		w := &ws[i]
		r, found, err := db.readRecord(w.ref.pkey)
		if err != nil {
			return err
		}
		w.old, w.exists = r, found && !r.Tombstone
		if found {
			// The write replaces this version (an item or a tombstone), so
			// it must carry a later one, or every other replica would keep
			// the old item while this one keeps the new: the clock may not
			// have observed it (it starts afresh when the region restarts).
			db.opts.Clock.Observe(r.Version.TS)
		}
	}
	return nil
}

// applyOps calls each Op's Apply on its item's current state and records
// what it decided; a Put's item is checked against its table. With one Op
// (and not a transaction) an Apply error is returned as is; otherwise every
// Apply runs, and their errors are returned together as a *CanceledError.
func applyOps(ops []Op, ws []itemWrite, transaction bool) error {
	var reasons []error
	for i, op := range ops {
		w := &ws[i]
		next, act, err := op.Apply(w.current())
		if err != nil {
			if len(ops) == 1 && !transaction {
				return err
			}
			if reasons == nil {
				reasons = make([]error, len(ops))
			}
			reasons[i] = err
			continue
		}
		// A delete of an absent item (never written, or deleted by a
		// tombstone from elsewhere) still writes its own tombstone with a
		// fresh version and ships it: it is an acknowledged write, and must
		// win over every older write, wherever it was made.
		if act == Put {
			if err := checkItem(w.ref.table, op.Key, next); err != nil {
				return err
			}
		}
		w.action, w.next = act, next
	}
	if reasons != nil {
		return &CanceledError{Reasons: reasons}
	}
	return nil
}

// commitWrites makes the writes the Ops decided durable, in one batch with
// their change log entry and the transaction's token. A Write of condition
// checks alone, without a token, commits nothing.
func (db *DB) commitWrites(ops []Op, ws []itemWrite, wo WriteOptions) error {
	b := db.pdb.NewBatch()
	defer b.Close()
	var e LogEntry
	if hasWrites(ws) {
		e.Seq, e.Version = db.nextLogPosition()
		defer db.logDone(e.Seq)
	}
	changes, err := db.buildBatch(b, ops, ws, e.Version, wo)
	if err != nil {
		return err
	}
	if len(changes) == 0 && wo.Token == "" {
		return nil
	}
	e.Changes = changes
	return db.commit(b, e)
}

// hasWrites reports whether any Op writes its item.
func hasWrites(ws []itemWrite) bool {
	for i := range ws {
		if ws[i].action != Keep {
			return true
		}
	}
	return false
}

// buildBatch adds to b the item writes of ws, stamped with version v, their
// statistics and the transaction's token, and returns their Changes.
func (db *DB) buildBatch(b *pebble.Batch, ops []Op, ws []itemWrite, v Version, wo WriteOptions) ([]Change, error) {
	deltas := map[uint32]*Stats{}
	var changes []Change
	for i := range ws {
		w := &ws[i]
		if w.action == Keep {
			continue
		}
		o := w.outcome()
		c := Change{
			Table: w.ref.table.Name, Key: keyAttrs(w.ref.table.Key, ops[i].Key),
			Old: o.Old, New: o.New, Version: v, Expiry: wo.Expiry,
		}
		if err := db.writeItem(b, w.ref, c, deltas, refuseMisfits); err != nil {
			return nil, err
		}
		changes = append(changes, c)
	}
	if err := writeDeltas(b, deltas); err != nil {
		return nil, err
	}
	if wo.Token != "" {
		if err := b.Set(tokenKey(wo.Token), tokenValue(wo.RequestHash, db.opts.Now()), nil); err != nil {
			return nil, err
		}
	}
	return changes, nil
}

// commit makes a batch of local writes durable, with the change log entry
// that describes them (an entry without changes or schema is not logged),
// stamped with its commit time. It is the one place every local write
// passes through; writes applied from other regions are not logged, and go
// through commitBatch alone (see applyWrites).
func (db *DB) commit(b *pebble.Batch, e LogEntry) error {
	logged := len(e.Changes) > 0 || e.Schema != nil
	if logged {
		e.Committed = db.opts.Now()
		enc, err := e.Encode()
		if err != nil {
			return err
		}
		if err := b.Set(logKey(e.Seq), enc, nil); err != nil {
			return err
		}
	}
	err := db.commitBatch(b, pebble.Sync)
	if errors.Is(err, errCommitFailed) && logged {
		// The entry may be readable, but the client is told it failed:
		// keep the log's watermark below it, so no peer ever gets it.
		db.holdLog(e.Seq)
	}
	return err
}

// commitBatch commits b, the one way every write reaches Pebble. While the
// storage is failing it refuses the write with ErrStorageFailing and
// touches nothing. A commit that fails (the write-ahead log could not be
// written or synced; Pebble takes no more writes after that, and its next
// write panics) makes the failure permanent until the store is reopened.
func (db *DB) commitBatch(b *pebble.Batch, o *pebble.WriteOptions) (err error) {
	if err := db.health.err(); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("pebble: %v", p)
			db.health.commitFailed(err)
			err = fmt.Errorf("%w: %w: %v", ErrStorageFailing, errCommitFailed, err)
		}
	}()
	if err := b.Commit(o); err != nil {
		if errors.Is(err, pebble.ErrClosed) {
			return ErrClosed
		}
		db.health.commitFailed(err)
		return fmt.Errorf("%w: %w: %v", ErrStorageFailing, errCommitFailed, err)
	}
	return nil
}

// errCommitFailed marks a write that reached Pebble and failed there: it
// may be in Pebble's memtable though it is not durable (Pebble publishes a
// batch whose log sync failed), so its change log entry must never be
// shipped (see DB.commit).
var errCommitFailed = errors.New("store: commit failed")

// misfits says what writeItem does with an item that does not fit one of
// its table's indexes: a value of another type than the index's key
// attribute.
type misfits uint8

const (
	// refuseMisfits fails the write. Local writes are checked before
	// (checkItem), so none fails here.
	refuseMisfits misfits = iota
	// skipMisfits leaves the item out of the indexes it does not fit:
	// replicated writes must be stored whatever this region's indexes say.
	skipMisfits
)

// writeItem adds to b the writes that take the item at ref from c.Old to
// c.New (nil: a delete) at version c.Version: its record, a tombstone for a
// delete, its index entries and the statistics deltas.
func (db *DB) writeItem(b *pebble.Batch, ref itemRef, c Change, deltas map[uint32]*Stats, m misfits) error {
	rec := record{Version: c.Version, Item: c.New, Tombstone: c.New == nil}
	if rec.Tombstone {
		rec.Key = c.Key
		if err := b.Set(tombKey(c.Version.TS, ref.pkey), nil, nil); err != nil {
			return err
		}
	}
	if err := b.Set(ref.pkey, rec.encode(), nil); err != nil {
		return err
	}
	t := ref.table
	addDelta(deltas, t.ID, c.Old, c.New)
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		n := c.New
		if n != nil && m == skipMisfits {
			if _, _, err := encodeKey(ix.Key, n, ix.Name); err != nil {
				n = nil
			}
		}
		if err := db.writeIndexEntry(b, t, ix, ref.key, c.Old, n, deltas); err != nil {
			return err
		}
	}
	return nil
}

func addDelta(deltas map[uint32]*Stats, id uint32, old, new attr.Item) {
	d := deltas[id]
	if d == nil {
		d = &Stats{}
		deltas[id] = d
	}
	if old != nil {
		d.Items--
		d.Bytes -= int64(old.Size())
	}
	if new != nil {
		d.Items++
		d.Bytes += int64(new.Size())
	}
}

func writeDeltas(b *pebble.Batch, deltas map[uint32]*Stats) error {
	for id, d := range deltas {
		if *d == (Stats{}) {
			continue
		}
		if err := b.Merge(counterKey(id), d.encode(), nil); err != nil {
			return err
		}
	}
	return nil
}

// readRecord reads the record stored under an item's Pebble key.
func (db *DB) readRecord(pk []byte) (record, bool, error) {
	v, closer, err := db.pdb.Get(pk)
	if errors.Is(err, pebble.ErrNotFound) {
		return record{}, false, nil
	}
	if err != nil {
		return record{}, false, err
	}
	defer closer.Close()
	r, err := decodeRecord(v)
	return r, err == nil, err
}

// itemRef says where an item is stored: its table, its key encoded, and
// its Pebble key.
type itemRef struct {
	table *Table
	key   encodedKey
	pkey  []byte
}

// locate returns where t stores the item whose key attributes key holds
// (it may hold others), or a *KeyError when they do not fit t's key.
func locate(t *Table, key attr.Item) (itemRef, error) {
	k, err := itemKeyOf(t, key)
	if err != nil {
		return itemRef{}, err
	}
	return itemRef{table: t, key: k, pkey: itemKey(t.ID, k)}, nil
}

// itemKeyOf encodes the table key held in key, which must hold the key
// attributes with the schema's types: a *KeyError says which does not.
func itemKeyOf(t *Table, key attr.Item) (encodedKey, error) {
	k, ok, err := encodeKey(t.Key, key, "")
	if err != nil {
		return k, err
	}
	if !ok {
		missing := &KeyError{Err: ErrKeyMissing, Attr: t.Key.Hash.Name, Want: t.Key.Hash.Type}
		if _, has := key[missing.Attr]; has {
			missing.Attr, missing.Want, missing.Sort = t.Key.Range.Name, t.Key.Range.Type, true
		}
		return k, missing
	}
	return k, nil
}

// checkItem validates an item about to be stored: its key is the one the Op
// named, it is within the size limit (else ErrItemTooLarge) and nesting
// depth, and its index keys have the right types (else a *KeyError).
func checkItem(t *Table, key attr.Item, item attr.Item) error {
	for _, name := range t.Key.Names() {
		if v, ok := item[name]; !ok || !attr.Equal(v, key[name]) {
			panic("store: Apply returned an item whose key differs from the Op's key " + name)
		}
	}
	if n := item.Size(); n > MaxItemSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrItemTooLarge, n, MaxItemSize)
	}
	if err := item.Validate(); err != nil {
		return err
	}
	for i := range t.Indexes {
		if _, _, err := encodeKey(t.Indexes[i].Key, item, t.Indexes[i].Name); err != nil {
			return err
		}
	}
	return nil
}

// keyAttrs returns just the key attributes of item.
func keyAttrs(ks KeySchema, item attr.Item) attr.Item {
	k := attr.Item{ks.Hash.Name: item[ks.Hash.Name]}
	if ks.HasRange() {
		k[ks.Range.Name] = item[ks.Range.Name]
	}
	return k
}

func stripeOf(pk []byte) int {
	h := fnv.New32a()
	h.Write(pk)
	return int(h.Sum32() % lockStripes)
}

// lockItems takes the locks of the items whose Pebble keys pkey(0) to
// pkey(len(stripes)-1) give, and returns the stripes it locked, which the
// caller passes to unlockItems. Each item's lock is a stripe chosen by
// hashing its key; the stripes are taken in ascending order, each once
// however many of the items share it, so that writers of overlapping items
// never deadlock. A schema change takes every stripe (lockAll). The caller
// makes stripes, one per item, so that a small one stays on its stack.
func (db *DB) lockItems(stripes []int, pkey func(i int) []byte) []int {
	for i := range stripes {
		stripes[i] = stripeOf(pkey(i))
	}
	slices.Sort(stripes)
	stripes = slices.Compact(stripes)
	for _, s := range stripes {
		db.locks[s].Lock()
	}
	return stripes
}

// unlockItems releases the locks lockItems took.
func (db *DB) unlockItems(stripes []int) {
	for _, s := range stripes {
		db.locks[s].Unlock()
	}
}

// errSchemaChanged is returned by checkTables, and so by write and
// applyWrites, when a table they were prepared against changed (an index
// added or removed, the table dropped) before they took their items'
// locks: the caller prepares them again.
var errSchemaChanged = errors.New("store: schema changed while writing")

// checkTables returns nil if the tables table(0) to table(n-1), which a
// write was prepared against, are still current, with the write's item
// locks held. Schema changes take every lock, so a table that changed did
// so before: the write must be prepared again (errSchemaChanged), or an
// index made or dropped in between would miss an entry or keep a stale one.
// After Close it returns ErrClosed.
func (db *DB) checkTables(n int, table func(i int) *Table) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.mu.closed {
		return ErrClosed
	}
	for i := range n {
		if t := table(i); db.mu.tables[t.Name] != t {
			return errSchemaChanged
		}
	}
	return nil
}

// checkToken reports whether a transaction with this token and request hash
// already committed within the idempotency window.
func (db *DB) checkToken(token string, hash [sha256.Size]byte) (bool, error) {
	v, closer, err := db.pdb.Get(tokenKey(token))
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer closer.Close()
	h, at, ok := decodeTokenValue(v)
	if !ok || db.opts.Now().Sub(at) > IdempotencyWindow {
		return false, nil
	}
	if h != hash {
		return false, ErrIdempotentMismatch
	}
	return true, nil
}

func tokenValue(hash [sha256.Size]byte, at time.Time) []byte {
	return binary.BigEndian.AppendUint64(hash[:], uint64(at.UnixNano()))
}

func decodeTokenValue(v []byte) (h [sha256.Size]byte, at time.Time, ok bool) {
	if len(v) != sha256.Size+8 {
		return h, at, false
	}
	copy(h[:], v)
	return h, time.Unix(0, int64(binary.BigEndian.Uint64(v[sha256.Size:]))), true
}

// tombKey indexes tombstones by version timestamp so they can be collected
// in order (see sweep.go).
func tombKey(ts hlc.Timestamp, pk []byte) []byte {
	b := make([]byte, 0, 9+len(pk))
	b = append(b, prefixTomb)
	b = binary.BigEndian.AppendUint64(b, uint64(ts))
	return append(b, pk...)
}
