package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gyre-dev/gyre/internal/attr"
)

// writeIndexEntry adds to b the change to one index that replacing old with
// new (either may be nil) makes. Items without the index's key attributes
// are not in the index (sparse indexes).
func (db *DB) writeIndexEntry(b *pebble.Batch, t *Table, ix *Index, tk encodedKey, old, new attr.Item, deltas map[uint32]*Stats) error {
	var oldKey, newKey []byte
	var oldProj, newProj attr.Item
	if old != nil {
		if k, ok, err := encodeKey(ix.Key, old, ix.Name); err == nil && ok {
			oldKey = indexKey(ix.ID, k, tk)
			oldProj = project(t, ix, old)
		}
	}
	if new != nil {
		k, ok, err := encodeKey(ix.Key, new, ix.Name)
		if err != nil {
			return err
		}
		if ok {
			newKey = indexKey(ix.ID, k, tk)
			newProj = project(t, ix, new)
		}
	}
	if oldKey != nil && !bytes.Equal(oldKey, newKey) {
		if err := b.Delete(oldKey, nil); err != nil {
			return err
		}
	}
	if newKey != nil {
		if err := b.Set(newKey, attr.AppendItem(nil, newProj), nil); err != nil {
			return err
		}
	}
	addDelta(deltas, ix.ID, oldProj, newProj)
	return nil
}

// project returns the attributes of item that index ix stores.
func project(t *Table, ix *Index, item attr.Item) attr.Item {
	if ix.Projection.Type == ProjectAll {
		return item
	}
	p := attr.Item{}
	for _, ks := range []KeySchema{t.Key, ix.Key} {
		for _, n := range ks.Names() {
			if v, ok := item[n]; ok {
				p[n] = v
			}
		}
	}
	if ix.Projection.Type == ProjectInclude {
		for _, n := range ix.Projection.NonKeyAttributes {
			if v, ok := item[n]; ok {
				p[n] = v
			}
		}
	}
	return p
}

// CreateIndex adds a global secondary index to a table and starts filling
// it from the table's items in the background. The index is CREATING, and
// cannot be read, until the backfill finishes; writes made meanwhile are
// indexed as they commit. attrs are attribute definitions for the index's
// key attributes that the table does not have yet.
func (db *DB) CreateIndex(table string, ix Index, attrs []KeyAttr) (*Table, error) {
	db.lockAll()
	defer db.unlockAll()
	db.mu.Lock()
	defer db.mu.Unlock()
	t, err := db.tableLocked(table)
	if err != nil {
		return nil, err
	}
	if t.Index(ix.Name) != nil {
		return nil, fmt.Errorf("%w: %s", ErrIndexExists, ix.Name)
	}
	for _, other := range t.Indexes {
		if other.Status != StatusActive {
			return nil, ErrTableBusy
		}
	}
	c := t.clone()
	for _, a := range attrs {
		if !c.isKeyAttr(a.Name) {
			c.Attributes = append(c.Attributes, a)
		}
	}
	ix.ID = db.nextIDLocked()
	ix.Status = StatusCreating
	ix.Local = false
	c.Indexes = append(c.Indexes, ix)
	if err := db.commitTableLocked(nil, c, true); err != nil {
		return nil, err
	}
	db.startBackfill(table, ix.Name)
	return c, nil
}

// DeleteIndex removes a global secondary index and its entries.
func (db *DB) DeleteIndex(table, name string) (*Table, error) {
	db.lockAll()
	defer db.unlockAll()
	db.mu.Lock()
	defer db.mu.Unlock()
	t, err := db.tableLocked(table)
	if err != nil {
		return nil, err
	}
	ix := t.Index(name)
	if ix == nil || ix.Local {
		return nil, indexNotFound(name)
	}
	c := t.clone()
	c.Indexes = slices.DeleteFunc(c.Indexes, func(x Index) bool { return x.Name == name })
	// Attribute definitions used only by the dropped index go with it.
	c.Attributes = slices.DeleteFunc(c.Attributes, func(a KeyAttr) bool {
		return !usesAttr(c, a.Name)
	})
	b := db.pdb.NewBatch()
	defer b.Close()
	span := spanPrefix(prefixIndex, ix.ID)
	if err := b.DeleteRange(span, prefixEnd(span), nil); err != nil {
		return nil, err
	}
	if err := b.Delete(counterKey(ix.ID), nil); err != nil {
		return nil, err
	}
	if err := db.commitTableLocked(b, c, true); err != nil {
		return nil, err
	}
	return c, nil
}

func usesAttr(t *Table, name string) bool {
	if slices.Contains(t.Key.Names(), name) {
		return true
	}
	for _, ix := range t.Indexes {
		if slices.Contains(ix.Key.Names(), name) {
			return true
		}
	}
	return false
}

// startBackfill fills an index in the background. While the storage
// refuses writes it waits and starts again, which is safe (see backfill).
func (db *DB) startBackfill(table, index string) {
	db.bg.Add(1)
	go func() {
		defer db.bg.Done()
		for {
			err := db.backfill(table, index)
			if err == nil || db.ctx.Err() != nil {
				return
			}
			if !errors.Is(err, ErrStorageFailing) {
				db.log.Error("index backfill failed", "table", table, "index", index, "err", err)
				return
			}
			t := time.NewTimer(time.Second)
			select {
			case <-db.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
}

// backfill indexes every item of the table, then marks the index ACTIVE.
// Each item is re-read under its lock so that a write racing the scan is
// never overwritten by the stale version the scan saw. Restarting it is
// harmless: index entries are a pure function of the items.
func (db *DB) backfill(table, index string) error {
	t, err := db.Table(table)
	if err != nil {
		return err
	}
	span := spanPrefix(prefixItem, t.ID)
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: span, UpperBound: prefixEnd(span)})
	if err != nil {
		return err
	}
	var keys [][]byte
	for it.First(); it.Valid(); it.Next() {
		keys = append(keys, slices.Clone(it.Key()))
		if len(keys) == 256 {
			if err := db.backfillKeys(table, index, keys); err != nil {
				it.Close()
				return err
			}
			keys = keys[:0]
		}
		if db.ctx.Err() != nil {
			it.Close()
			return db.ctx.Err()
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	if err := db.backfillKeys(table, index, keys); err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	cur, ok := db.mu.tables[table]
	if !ok || cur.ID != t.ID || cur.Index(index) == nil {
		return nil // table or index dropped meanwhile
	}
	c := cur.clone()
	c.Index(index).Status = StatusActive
	return db.commitLocalLocked(nil, c)
}

// backfillKeys indexes the items stored under the given Pebble keys.
func (db *DB) backfillKeys(table, index string, keys [][]byte) error {
	for _, pk := range keys {
		if err := db.backfillKey(table, index, pk); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) backfillKey(table, index string, pk []byte) error {
	locked := db.lockItems(make([]int, 1), func(int) []byte { return pk })
	defer db.unlockItems(locked)
	t, err := db.Table(table)
	if err != nil {
		return err
	}
	ix := t.Index(index)
	if ix == nil {
		return nil
	}
	r, found, err := db.readRecord(pk)
	if err != nil || !found || r.Tombstone {
		return err
	}
	tk, err := itemKeyOf(t, r.Item)
	if err != nil {
		return err
	}
	k, ok, err := encodeKey(ix.Key, r.Item, ix.Name)
	if err != nil || !ok {
		// Items without the index's key attributes, or with the wrong
		// type for them, stay out of the index, as in DynamoDB.
		return nil
	}
	ik := indexKey(ix.ID, k, tk)
	// Every write since the index was added maintains its entry under this
	// same lock, so an entry that exists is current.
	_, closer, err := db.pdb.Get(ik)
	if err == nil {
		return closer.Close()
	}
	if !errors.Is(err, pebble.ErrNotFound) {
		return err
	}
	proj := project(t, ix, r.Item)
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := b.Set(ik, attr.AppendItem(nil, proj), nil); err != nil {
		return err
	}
	if err := b.Merge(counterKey(ix.ID), Stats{Items: 1, Bytes: int64(proj.Size())}.encode(), nil); err != nil {
		return err
	}
	// Index entries can be rebuilt from the items, so the backfill need
	// not sync each one; marking the index ACTIVE is synced.
	return db.commitBatch(b, pebble.NoSync)
}
