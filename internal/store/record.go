package store

import (
	"encoding/binary"
	"fmt"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/hlc"
)

// Version orders writes to one item across regions: the hybrid logical
// clock timestamp of the write, then the origin region's name. The later
// Version wins (last writer wins).
type Version struct {
	TS     hlc.Timestamp `json:"ts"`
	Origin string        `json:"origin"`
}

// Less reports whether v orders before w.
func (v Version) Less(w Version) bool {
	if v.TS != w.TS {
		return v.TS < w.TS
	}
	return v.Origin < w.Origin
}

// record is the stored form of an item or of the tombstone a delete leaves.
//
//	flags (1 byte: bit 0 = tombstone) | version (8 bytes) | uvarint(len) origin | item
type record struct {
	Version   Version
	Tombstone bool
	Item      attr.Item // nil for a tombstone
	// Key holds a tombstone's key attributes, so that a snapshot can carry
	// the tombstone to another region.
	Key attr.Item
}

const flagTombstone = 1

func (r record) encode() []byte {
	b := make([]byte, 0, 64)
	var flags byte
	if r.Tombstone {
		flags |= flagTombstone
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Version.TS))
	b = binary.AppendUvarint(b, uint64(len(r.Version.Origin)))
	b = append(b, r.Version.Origin...)
	if r.Tombstone {
		return attr.AppendItem(b, r.Key)
	}
	return attr.AppendItem(b, r.Item)
}

func decodeRecord(b []byte) (record, error) {
	var r record
	if len(b) < 10 {
		return r, fmt.Errorf("store: record of %d bytes is too short", len(b))
	}
	r.Tombstone = b[0]&flagTombstone != 0
	r.Version.TS = hlc.Timestamp(binary.BigEndian.Uint64(b[1:9]))
	n, w := binary.Uvarint(b[9:])
	if w <= 0 || uint64(len(b)-9-w) < n {
		return r, fmt.Errorf("store: record has a corrupt origin")
	}
	start := 9 + w
	r.Version.Origin = string(b[start : start+int(n)])
	it, err := attr.DecodeItem(b[start+int(n):])
	if err != nil {
		return r, fmt.Errorf("store: decoding item: %w", err)
	}
	if r.Tombstone {
		r.Key = it
	} else {
		r.Item = it
	}
	return r, nil
}
