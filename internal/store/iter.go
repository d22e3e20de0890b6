package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gyre-dev/gyre/internal/attr"
)

// RangeOp is a sort key condition of a Query.
type RangeOp uint8

// The sort key conditions DynamoDB's KeyConditionExpression allows.
const (
	RangeEQ RangeOp = iota + 1
	RangeLT
	RangeLE
	RangeGT
	RangeGE
	RangeBetween
	RangeBeginsWith
)

// RangeCond restricts the sort key of a Query. Values holds one operand, or
// two for RangeBetween.
type RangeCond struct {
	Op     RangeOp
	Values []attr.Value
}

// IterOptions choose what an Iter visits.
type IterOptions struct {
	// Index names a secondary index to read; empty reads the table.
	Index string
	// Hash, when set, restricts the iteration to one partition (Query).
	// When nil the whole table or index is visited (Scan).
	Hash *attr.Value
	// Range restricts the sort key within the partition; Query only.
	Range *RangeCond
	// Reverse visits a partition in descending sort key order; Query only.
	Reverse bool
	// After holds the key attributes of the last item a previous page
	// returned (ExclusiveStartKey): the table's key, plus the index's key
	// when reading an index. Iteration starts after it.
	After attr.Item
	// Segment and TotalSegments divide a Scan into disjoint parts by
	// partition hash. TotalSegments 0 or 1 means the whole table.
	Segment, TotalSegments int
}

// Iter visits items in key order: within a partition by sort key, and
// partitions by their hash. Items are read from a consistent snapshot taken
// when the Iter was created. An Iter is not safe for concurrent use; Close
// it when done.
type Iter struct {
	it      *pebble.Iterator
	index   bool
	reverse bool
	started bool
	item    attr.Item
	size    int
	err     error
}

// NewIter returns an iterator over a table or index.
func (db *DB) NewIter(table string, o IterOptions) (*Iter, error) {
	t, err := db.Table(table)
	if err != nil {
		return nil, err
	}
	kind, id, ks := prefixItem, t.ID, t.Key
	if o.Index != "" {
		ix := t.Index(o.Index)
		if ix == nil {
			return nil, indexNotFound(o.Index)
		}
		if ix.Status == StatusCreating {
			return nil, ErrIndexNotReady
		}
		kind, id, ks = prefixIndex, ix.ID, ix.Key
	}
	lower, upper, err := bounds(kind, id, ks, o)
	if err != nil {
		return nil, err
	}
	if o.After != nil {
		start, err := afterKey(t, o, kind, id)
		if err != nil {
			return nil, err
		}
		if o.Reverse {
			if bytes.Compare(start, upper) < 0 {
				upper = start
			}
		} else if s := keyAfter(start); bytes.Compare(s, lower) > 0 {
			lower = s
		}
	}
	pit, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	return &Iter{it: pit, index: o.Index != "", reverse: o.Reverse}, nil
}

// bounds returns the Pebble key range an iteration covers.
func bounds(kind byte, id uint32, ks KeySchema, o IterOptions) (lower, upper []byte, err error) {
	span := spanPrefix(kind, id)
	if o.Hash == nil {
		if o.TotalSegments <= 1 {
			return span, prefixEnd(span), nil
		}
		// Segment i covers partition hashes [i*2^32/n, (i+1)*2^32/n).
		n := uint64(o.TotalSegments)
		lo := uint64(o.Segment) << 32 / n
		hi := uint64(o.Segment+1) << 32 / n
		lower = binary.BigEndian.AppendUint32(append([]byte(nil), span...), uint32(lo))
		if hi >= 1<<32 {
			upper = prefixEnd(span)
		} else {
			upper = binary.BigEndian.AppendUint32(append([]byte(nil), span...), uint32(hi))
		}
		return lower, upper, nil
	}
	h, err := attr.AppendKey(nil, *o.Hash)
	if err != nil {
		return nil, nil, err
	}
	part := partitionPrefix(kind, id, h)
	lower, upper = part, prefixEnd(part)
	if o.Range == nil {
		return lower, upper, nil
	}
	enc := func(v attr.Value) []byte {
		k, _ := attr.AppendKey(append([]byte(nil), part...), v)
		return k
	}
	r := o.Range
	switch r.Op {
	case RangeEQ:
		k := enc(r.Values[0])
		return k, prefixEnd(k), nil
	case RangeLT:
		return lower, enc(r.Values[0]), nil
	case RangeLE:
		return lower, prefixEnd(enc(r.Values[0])), nil
	case RangeGT:
		return prefixEnd(enc(r.Values[0])), upper, nil
	case RangeGE:
		return enc(r.Values[0]), upper, nil
	case RangeBetween:
		lo, hi := enc(r.Values[0]), prefixEnd(enc(r.Values[1]))
		if bytes.Compare(lo, hi) > 0 {
			hi = lo // an empty range, never an inverted one
		}
		return lo, hi, nil
	case RangeBeginsWith:
		// The escaped bytes of a string without its terminator are a
		// prefix of the encoding of every string that begins with it.
		full := enc(r.Values[0])
		p := full[:len(full)-2]
		return p, prefixEnd(p), nil
	}
	return nil, nil, fmt.Errorf("store: unknown range condition %d", r.Op)
}

// afterKey returns the Pebble key of the entry o.After names. It fails with
// a *KeyError when o.After does not hold the table's key, and with
// ErrBadStartKey when, reading an index, it lacks the index's key.
func afterKey(t *Table, o IterOptions, kind byte, id uint32) ([]byte, error) {
	ref, err := locate(t, o.After)
	if err != nil {
		return nil, err
	}
	if kind == prefixItem {
		return ref.pkey, nil
	}
	ix := t.Index(o.Index)
	ik, ok, err := encodeKey(ix.Key, o.After, ix.Name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: it lacks the key attributes of index %q", ErrBadStartKey, ix.Name)
	}
	return indexKey(id, ik, ref.key), nil
}

// Next advances to the next item and reports whether there is one.
func (it *Iter) Next() bool {
	if it.err != nil {
		return false
	}
	for {
		var ok bool
		switch {
		case !it.started && it.reverse:
			ok = it.it.Last()
		case !it.started:
			ok = it.it.First()
		case it.reverse:
			ok = it.it.Prev()
		default:
			ok = it.it.Next()
		}
		it.started = true
		if !ok {
			it.err = it.it.Error()
			return false
		}
		v, err := it.it.ValueAndErr()
		if err != nil {
			it.err = err
			return false
		}
		if it.index {
			item, err := attr.DecodeItem(v)
			if err != nil {
				it.err = fmt.Errorf("store: decoding index entry: %w", err)
				return false
			}
			it.item, it.size = item, item.Size()
			return true
		}
		r, err := decodeRecord(v)
		if err != nil {
			it.err = err
			return false
		}
		if r.Tombstone {
			continue
		}
		it.item, it.size = r.Item, r.Item.Size()
		return true
	}
}

// Item returns the current item. It stays valid after Next.
func (it *Iter) Item() attr.Item { return it.item }

// Size returns the current item's size as DynamoDB computes it.
func (it *Iter) Size() int { return it.size }

// Err returns the error that ended the iteration, if any.
func (it *Iter) Err() error { return it.err }

// Close releases the iterator.
func (it *Iter) Close() error {
	err := it.it.Close()
	if it.err != nil {
		return it.err
	}
	return err
}

// Get returns the item with the given key, or nil if there is none.
func (db *DB) Get(table string, key attr.Item) (attr.Item, error) {
	t, err := db.Table(table)
	if err != nil {
		return nil, err
	}
	ref, err := locate(t, key)
	if err != nil {
		return nil, err
	}
	r, found, err := db.readRecord(ref.pkey)
	if err != nil || !found || r.Tombstone {
		return nil, err
	}
	return r.Item, nil
}

// Snapshot is a consistent view of the database at one instant, for reads
// that must see several items as of the same moment (TransactGetItems).
type Snapshot struct {
	db   *DB
	snap *pebble.Snapshot
}

// NewSnapshot returns a snapshot; Close it when done.
func (db *DB) NewSnapshot() *Snapshot { return &Snapshot{db: db, snap: db.pdb.NewSnapshot()} }

// Get returns the item with the given key as of the snapshot.
func (s *Snapshot) Get(table string, key attr.Item) (attr.Item, error) {
	t, err := s.db.Table(table)
	if err != nil {
		return nil, err
	}
	ref, err := locate(t, key)
	if err != nil {
		return nil, err
	}
	v, closer, err := s.snap.Get(ref.pkey)
	if err == pebble.ErrNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	r, err := decodeRecord(v)
	if err != nil || r.Tombstone {
		return nil, err
	}
	return r.Item, nil
}

// Close releases the snapshot.
func (s *Snapshot) Close() error { return s.snap.Close() }
