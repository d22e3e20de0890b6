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

// Change describes one committed item write. Every write passes through
// DB.commit with its Changes; replication and streams are fed from there.
// A delete of an item that was absent has Old and New nil: it changed
// nothing here, so a stream shows no record of it, but replication ships
// its version.
type Change struct {
	Table   string
	Key     attr.Item // the item's key attributes
	Old     attr.Item // nil when the item did not exist
	New     attr.Item // nil for a delete
	Version Version
	// Expiry is set on deletes made by time-to-live expiry.
	Expiry bool
}

type prepared struct {
	table  *Table
	key    encodedKey
	pkey   []byte // Pebble key of the item
	stripe int
	old    record
	exists bool // a live item (not a tombstone) was read
}

// Write applies ops atomically: it locks their items, reads them, calls each
// Op's Apply, and commits every resulting write in one durable batch. When an
// Apply fails nothing is written: with one Op (and no wo.Transaction) its
// error is returned as is, otherwise a *CanceledError holds each Op's error. Invalid keys or items
// are reported as *attr.ValidationError before anything is written.
func (db *DB) Write(ops []Op, wo WriteOptions) ([]Outcome, error) {
	for {
		out, retry, err := db.write(ops, wo)
		if !retry {
			return out, err
		}
	}
}

func (db *DB) write(ops []Op, wo WriteOptions) (_ []Outcome, retry bool, _ error) {
	if err := db.health.err(); err != nil {
		return nil, false, err // refused before it takes locks or a log position
	}
	preps := make([]prepared, len(ops))
	for i, op := range ops {
		t, err := db.Table(op.Table)
		if err != nil {
			return nil, false, err
		}
		k, err := itemKeyOf(t, op.Key)
		if err != nil {
			return nil, false, err
		}
		pk := itemKey(t.ID, k)
		for j := range i {
			if preps[j].table == t && bytes.Equal(preps[j].pkey, pk) {
				return nil, false, attr.Invalidf("Transaction request cannot include multiple operations on one item")
			}
		}
		preps[i] = prepared{table: t, key: k, pkey: pk, stripe: stripeOf(pk)}
	}
	stripes := make([]int, len(preps))
	for i := range preps {
		stripes[i] = preps[i].stripe
	}
	slices.Sort(stripes)
	stripes = slices.Compact(stripes)
	for _, s := range stripes {
		db.locks[s].Lock()
	}
	defer func() {
		for _, s := range stripes {
			db.locks[s].Unlock()
		}
	}()

	// A schema change may have happened between reading the schema and
	// taking the locks (schema changes take every lock); start over then.
	db.mu.RLock()
	closed := db.mu.closed
	for i := range preps {
		if db.mu.tables[preps[i].table.Name] != preps[i].table {
			retry = true
		}
	}
	db.mu.RUnlock()
	if closed {
		return nil, false, ErrClosed
	}
	if retry {
		return nil, true, nil
	}

	if wo.Token != "" {
		replayed, err := db.checkToken(wo.Token, wo.RequestHash)
		if err != nil || replayed {
			return nil, false, err
		}
	}

	for i := range preps {
		p := &preps[i]
		r, found, err := db.readRecord(p.pkey)
		if err != nil {
			return nil, false, err
		}
		p.old = r
		p.exists = found && !r.Tombstone
		if found {
			// The write replaces this version (an item or a tombstone), so
			// it must carry a later one, or every other replica would keep
			// the old item while this one keeps the new: the clock may not
			// have observed it (it starts afresh when the region restarts).
			db.opts.Clock.Observe(r.Version.TS)
		}
	}

	outcomes := make([]Outcome, len(ops))
	actions := make([]Action, len(ops))
	var reasons []error
	for i, op := range ops {
		var cur attr.Item
		if preps[i].exists {
			cur = preps[i].old.Item
		}
		next, act, err := op.Apply(cur)
		if err != nil {
			if len(ops) == 1 && !wo.Transaction {
				return nil, false, err
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
			if err := checkItem(preps[i].table, op.Key, next); err != nil {
				return nil, false, err
			}
		}
		outcomes[i].Old = cur
		switch act {
		case Put:
			outcomes[i].New = next
		case Keep:
			outcomes[i].New = cur
		}
		actions[i] = act
	}
	if reasons != nil {
		return nil, false, &CanceledError{Reasons: reasons}
	}

	b := db.pdb.NewBatch()
	defer b.Close()
	hasWrites := slices.ContainsFunc(actions, func(a Action) bool { return a != Keep })
	var seq uint64
	var version Version
	if hasWrites {
		seq, version = db.nextLogPosition()
		defer db.logDone(seq)
	}
	deltas := map[uint32]*Stats{}
	var changes []Change
	for i := range preps {
		if actions[i] == Keep {
			continue
		}
		p := &preps[i]
		o := outcomes[i]
		key := keyAttrs(p.table.Key, ops[i].Key)
		if err := db.writeItem(b, p.table, p.key, p.pkey, key, o.Old, o.New, version, deltas); err != nil {
			return nil, false, err
		}
		changes = append(changes, Change{
			Table: p.table.Name, Key: key,
			Old: o.Old, New: o.New, Version: version, Expiry: wo.Expiry,
		})
	}
	if err := writeDeltas(b, deltas); err != nil {
		return nil, false, err
	}
	if wo.Token != "" {
		if err := b.Set(tokenKey(wo.Token), tokenValue(wo.RequestHash, db.opts.Now()), nil); err != nil {
			return nil, false, err
		}
	}
	if len(changes) == 0 && wo.Token == "" {
		return outcomes, false, nil
	}
	if err := db.commit(b, LogEntry{Seq: seq, Version: version, Changes: changes}); err != nil {
		return nil, false, err
	}
	return outcomes, false, nil
}

// commit makes a batch of local writes durable, with the change log entry
// that describes them (an entry without changes or schema is not logged).
// It is the one place every local write passes through.
func (db *DB) commit(b *pebble.Batch, e LogEntry) error {
	if len(e.Changes) > 0 || e.Schema != nil {
		e.Committed = time.Now()
		enc, err := e.Encode()
		if err != nil {
			return err
		}
		if err := b.Set(logKey(e.Seq), enc, nil); err != nil {
			return err
		}
	}
	err := db.commitBatch(b, pebble.Sync)
	if errors.Is(err, errCommitFailed) && (len(e.Changes) > 0 || e.Schema != nil) {
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

// writeItem adds to b the writes that replace old with new (nil new: a
// delete) for the item with key attributes key: its record, a tombstone for
// a delete, its index entries and the statistics deltas. When lenient, an
// index whose key the new item does not fit leaves it out instead of
// failing (replicated writes must be stored whatever this region's indexes
// say).
func (db *DB) writeItem(b *pebble.Batch, t *Table, tk encodedKey, pk []byte, key, old, new attr.Item, v Version, deltas map[uint32]*Stats, lenient ...bool) error {
	rec := record{Version: v, Item: new, Tombstone: new == nil}
	if rec.Tombstone {
		rec.Key = key
		if err := b.Set(tombKey(v.TS, pk), nil, nil); err != nil {
			return err
		}
	}
	if err := b.Set(pk, rec.encode(), nil); err != nil {
		return err
	}
	addDelta(deltas, t.ID, old, new)
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		n := new
		if n != nil && len(lenient) > 0 && lenient[0] {
			if _, _, err := encodeKey(ix.Key, n, ix.Name); err != nil {
				n = nil
			}
		}
		if err := db.writeIndexEntry(b, t, ix, tk, old, n, deltas); err != nil {
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

// itemKeyOf encodes the table key held in key, which must hold the key
// attributes with the schema's types.
func itemKeyOf(t *Table, key attr.Item) (encodedKey, error) {
	k, ok, err := encodeKey(t.Key, key, "")
	if err != nil {
		return k, err
	}
	if !ok {
		missing := t.Key.Hash.Name
		if _, has := key[missing]; has {
			missing = t.Key.Range.Name
		}
		return k, attr.Invalidf("One or more parameter values were invalid: Missing the key %s in the item", missing)
	}
	return k, nil
}

// checkItem validates an item about to be stored: its key is the one the Op
// named, it is within the size limit and nesting depth, and its index keys
// have the right types.
func checkItem(t *Table, key attr.Item, item attr.Item) error {
	for _, name := range t.Key.Names() {
		if v, ok := item[name]; !ok || !attr.Equal(v, key[name]) {
			panic("store: Apply returned an item whose key differs from the Op's key " + name)
		}
	}
	if item.Size() > MaxItemSize {
		return attr.Invalidf("Item size has exceeded the maximum allowed size")
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
