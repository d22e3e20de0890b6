package store

import (
	"encoding/binary"
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// Item counts and sizes per table and per index are kept as merge operands
// (two little-endian int64 deltas: items, bytes) written in the same batch as
// the items themselves, so they are exact at every commit without a
// read-modify-write of a shared key.

// counterMerger is the Pebble merger for counter keys. Its name is stored in
// the database and must never change.
var counterMerger = &pebble.Merger{
	Name: "gyre.counter.v1",
	Merge: func(key, value []byte) (pebble.ValueMerger, error) {
		c := &counterSum{}
		return c, c.MergeNewer(value)
	},
}

// Stats is an item count and a total size in bytes, as DynamoDB computes
// item sizes.
type Stats struct {
	Items int64
	Bytes int64
}

func (s Stats) encode() []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, uint64(s.Items))
	binary.LittleEndian.PutUint64(b[8:], uint64(s.Bytes))
	return b
}

func decodeStats(b []byte) Stats {
	if len(b) != 16 {
		return Stats{}
	}
	return Stats{
		Items: int64(binary.LittleEndian.Uint64(b)),
		Bytes: int64(binary.LittleEndian.Uint64(b[8:])),
	}
}

type counterSum struct{ Stats }

func (c *counterSum) add(value []byte) {
	s := decodeStats(value)
	c.Items += s.Items
	c.Bytes += s.Bytes
}

func (c *counterSum) MergeNewer(value []byte) error { c.add(value); return nil }
func (c *counterSum) MergeOlder(value []byte) error { c.add(value); return nil }
func (c *counterSum) Finish(bool) ([]byte, io.Closer, error) {
	return c.encode(), nil, nil
}
