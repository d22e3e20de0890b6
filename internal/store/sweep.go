package store

import (
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/hlc"
)

// The sweeper runs every TTLInterval. It deletes items whose time-to-live
// has passed, and collects tombstones older than the tombstone horizon.

// ttlMaxAge is how far in the past an expiry time may lie and still count:
// DynamoDB ignores expiry times more than five years old, which are almost
// always milliseconds or garbage rather than seconds.
const ttlMaxAge = 5 * 365 * 24 * time.Hour

func (db *DB) sweepLoop() {
	defer db.bg.Done()
	t := time.NewTicker(db.opts.TTLInterval)
	defer t.Stop()
	cursors := map[uint32][]byte{}
	for {
		select {
		case <-db.ctx.Done():
			return
		case <-t.C:
		}
		db.sweepOnce(cursors)
	}
}

// sweepOnce runs one pass; panics are logged rather than taking the region
// down.
func (db *DB) sweepOnce(cursors map[uint32][]byte) {
	defer func() {
		if r := recover(); r != nil {
			db.log.Error("sweeper panicked", "panic", r)
		}
	}()
	for _, name := range db.TableNames() {
		t, err := db.Table(name)
		if err != nil || !t.TTL.Enabled {
			continue
		}
		next, err := db.expire(t, cursors[t.ID])
		if err != nil {
			if db.ctx.Err() == nil && !errors.Is(err, ErrStorageFailing) {
				db.log.Error("expiring items", "table", name, "err", err)
			}
			continue
		}
		cursors[t.ID] = next
	}
	if err := db.collectTombstones(db.tombstoneHorizon()); err != nil && db.ctx.Err() == nil && !errors.Is(err, ErrStorageFailing) {
		db.log.Error("collecting tombstones", "err", err)
	}
}

// ExpireNow runs one time-to-live pass over every table at once, for tests
// and tools that must not wait for the interval.
func (db *DB) ExpireNow() error {
	for _, name := range db.TableNames() {
		t, err := db.Table(name)
		if err != nil || !t.TTL.Enabled {
			continue
		}
		var cursor []byte
		for {
			if cursor, err = db.expire(t, cursor); err != nil {
				return err
			}
			if cursor == nil {
				break
			}
		}
	}
	return nil
}

// expire examines up to TTLBatch items of t from cursor on and deletes the
// expired ones. It returns where the next pass should start (nil: from the
// beginning).
func (db *DB) expire(t *Table, cursor []byte) ([]byte, error) {
	span := spanPrefix(prefixItem, t.ID)
	lower := span
	if cursor != nil {
		lower = cursor
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(span)})
	if err != nil {
		return nil, err
	}
	now := db.opts.Now()
	var expired []attr.Item
	var next []byte
	n := 0
	for it.First(); it.Valid(); it.Next() {
		if n == db.opts.TTLBatch {
			next = slices.Clone(it.Key())
			break
		}
		n++
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return nil, err
		}
		r, err := decodeRecord(v)
		if err != nil || r.Tombstone {
			continue
		}
		if isExpired(r.Item, t.TTL.Attribute, now) {
			expired = append(expired, keyAttrs(t.Key, r.Item))
		}
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	for _, key := range expired {
		_, err := db.Write([]Op{{
			Table: t.Name,
			Key:   key,
			Apply: func(cur attr.Item) (attr.Item, Action, error) {
				// The item may have been rewritten since the scan.
				if cur == nil || !isExpired(cur, t.TTL.Attribute, db.opts.Now()) {
					return nil, Keep, nil
				}
				return nil, Delete, nil
			},
		}}, WriteOptions{Expiry: true})
		if err != nil {
			return nil, err
		}
	}
	return next, nil
}

// isExpired reports whether item's time-to-live attribute, a Number of
// seconds since the epoch, lies in the past (but not more than five years).
func isExpired(item attr.Item, name string, now time.Time) bool {
	v, ok := item[name]
	if !ok || v.Type != attr.Number {
		return false
	}
	if attr.CompareNumbers(v.Str, strconv.FormatInt(now.Unix(), 10)) > 0 {
		return false
	}
	return attr.CompareNumbers(v.Str, strconv.FormatInt(now.Add(-ttlMaxAge).Unix(), 10)) >= 0
}

// tombstoneHorizon is the timestamp below which tombstones are no longer
// needed. A region with no replicas needs none.
func (db *DB) tombstoneHorizon() hlc.Timestamp {
	if f := db.horizon.Load(); f != nil {
		return (*f)()
	}
	return db.opts.Clock.Now()
}

// SetTombstoneHorizon sets the function that gives the timestamp below
// which tombstones may be collected: every replica has applied past it. A
// replicator with peers sets it; without one, tombstones older than the
// clock's current time are collected, right for a region without replicas.
func (db *DB) SetTombstoneHorizon(f func() hlc.Timestamp) {
	db.horizon.Store(&f)
}

// collectTombstones removes tombstones whose version is below horizon,
// unless the item has been written again since.
func (db *DB) collectTombstones(horizon hlc.Timestamp) error {
	lower := []byte{prefixTomb}
	upper := binary.BigEndian.AppendUint64([]byte{prefixTomb}, uint64(horizon))
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	var keys [][]byte
	for it.First(); it.Valid() && len(keys) < 10000; it.Next() {
		keys = append(keys, slices.Clone(it.Key()))
	}
	if err := it.Close(); err != nil {
		return err
	}
	for _, tk := range keys {
		if err := db.collectTombstone(tk); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) collectTombstone(tk []byte) error {
	ts := hlc.Timestamp(binary.BigEndian.Uint64(tk[1:9]))
	pk := tk[9:]
	locked := db.lockItems(make([]int, 1), func(int) []byte { return pk })
	defer db.unlockItems(locked)
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := b.Delete(tk, nil); err != nil {
		return err
	}
	r, found, err := db.readRecord(pk)
	if err != nil {
		return err
	}
	if found && r.Tombstone && r.Version.TS == ts {
		if err := b.Delete(pk, nil); err != nil {
			return err
		}
	}
	return db.commitBatch(b, pebble.NoSync)
}
