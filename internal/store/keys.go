package store

import (
	"encoding/binary"
	"hash/fnv"

	"github.com/gyre-dev/gyre/internal/attr"
)

// The first byte of every Pebble key says what it holds.
const (
	prefixMeta    byte = 0x01 // prefixMeta "t/" table-name -> Table JSON; prefixMeta "id" -> last id
	prefixItem    byte = 0x02 // prefixItem table-id hash pk [sk] -> record
	prefixIndex   byte = 0x03 // prefixIndex index-id hash ipk [isk] pk [sk] -> projected item
	prefixCounter byte = 0x04 // prefixCounter id -> counter (merge operator)
	prefixToken   byte = 0x05 // prefixToken token -> request hash, time
	prefixTomb    byte = 0x06 // prefixTomb version-ts item-key -> nothing: tombstones to collect
	prefixLog     byte = 0x07 // prefixLog seq -> LogEntry
	prefixCursor  byte = 0x08 // prefixCursor origin -> Cursor in that origin's log
)

var (
	metaTablePrefix = []byte{prefixMeta, 't', '/'}
	metaLastID      = []byte{prefixMeta, 'i', 'd'}
)

func tableMetaKey(name string) []byte {
	return append(append([]byte(nil), metaTablePrefix...), name...)
}

// spanPrefix returns the key prefix of everything stored under an id with
// the given kind byte.
func spanPrefix(kind byte, id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{kind}, id)
}

// hashOf is the partition hash: it spreads partitions evenly over the key
// space so Scan segments divide the table evenly. It must never change:
// it is part of every stored key.
func hashOf(encodedHash []byte) uint32 {
	h := fnv.New32a()
	h.Write(encodedHash)
	return h.Sum32()
}

// encodedKey is an item's primary key in its order-preserving encoding.
type encodedKey struct {
	hash []byte // encoded partition key value
	rng  []byte // encoded sort key value, nil without a sort key
}

// encodeKey encodes the key attributes of item (which may hold others) under
// schema ks, checking that they are of the right type and within the size
// limits; ok is false when item lacks one of them. indexName names the
// index whose key ks is, for errors (empty for the table's key). Errors are
// *KeyError.
func encodeKey(ks KeySchema, item attr.Item, indexName string) (_ encodedKey, ok bool, _ error) {
	var k encodedKey
	h, ok := item[ks.Hash.Name]
	if !ok {
		return k, false, nil
	}
	var err error
	if k.hash, err = encodeKeyValue(ks.Hash, h, indexName, false); err != nil {
		return k, false, err
	}
	if !ks.HasRange() {
		return k, true, nil
	}
	r, ok := item[ks.Range.Name]
	if !ok {
		return k, false, nil
	}
	if k.rng, err = encodeKeyValue(ks.Range, r, indexName, true); err != nil {
		return k, false, err
	}
	return k, true, nil
}

// The limits on key attribute sizes, as DynamoDB has them.
const (
	maxHashKeyBytes  = 2048
	maxRangeKeyBytes = 1024
)

// encodeKeyValue encodes the value v of key attribute ka, the sort key when
// sort is set, of the table's key or of index indexName's.
func encodeKeyValue(ka KeyAttr, v attr.Value, indexName string, sort bool) ([]byte, error) {
	fault := func(err error) *KeyError {
		return &KeyError{Err: err, Attr: ka.Name, Index: indexName, Sort: sort, Want: ka.Type, Got: v.Type}
	}
	if v.Type != ka.Type {
		return nil, fault(ErrKeyType)
	}
	if (v.Type == attr.String && v.Str == "") || (v.Type == attr.Binary && len(v.Bin) == 0) {
		return nil, fault(ErrKeyEmpty)
	}
	limit := maxHashKeyBytes
	if sort {
		limit = maxRangeKeyBytes
	}
	if n := v.Size(); n > limit {
		e := fault(ErrKeyTooLarge)
		e.Size, e.Limit = n, limit
		return nil, e
	}
	return attr.AppendKey(nil, v)
}

// itemKey returns the Pebble key of an item of table id.
func itemKey(tableID uint32, k encodedKey) []byte {
	b := make([]byte, 0, 9+len(k.hash)+len(k.rng))
	b = append(b, prefixItem)
	b = binary.BigEndian.AppendUint32(b, tableID)
	b = binary.BigEndian.AppendUint32(b, hashOf(k.hash))
	b = append(b, k.hash...)
	return append(b, k.rng...)
}

// indexKey returns the Pebble key of an index entry: the index's own key
// followed by the table's, which makes entries with equal index keys
// distinct and orders them by table key.
func indexKey(indexID uint32, ik, tk encodedKey) []byte {
	b := make([]byte, 0, 9+len(ik.hash)+len(ik.rng)+len(tk.hash)+len(tk.rng))
	b = append(b, prefixIndex)
	b = binary.BigEndian.AppendUint32(b, indexID)
	b = binary.BigEndian.AppendUint32(b, hashOf(ik.hash))
	b = append(b, ik.hash...)
	b = append(b, ik.rng...)
	b = append(b, tk.hash...)
	return append(b, tk.rng...)
}

// partitionPrefix returns the prefix shared by every key of one partition
// of a table (kind prefixItem) or index (kind prefixIndex).
func partitionPrefix(kind byte, id uint32, encodedHash []byte) []byte {
	b := make([]byte, 0, 9+len(encodedHash))
	b = append(b, kind)
	b = binary.BigEndian.AppendUint32(b, id)
	b = binary.BigEndian.AppendUint32(b, hashOf(encodedHash))
	return append(b, encodedHash...)
}

// prefixEnd returns the smallest key greater than every key with prefix p,
// or nil if there is none.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// keyAfter returns the smallest key greater than k.
func keyAfter(k []byte) []byte {
	return append(append(make([]byte, 0, len(k)+1), k...), 0)
}

func counterKey(id uint32) []byte { return spanPrefix(prefixCounter, id) }

func tokenKey(token string) []byte { return append([]byte{prefixToken}, token...) }
