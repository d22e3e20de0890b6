package attr

import (
	"encoding/binary"
	"errors"
	"slices"
)

// The storage encoding of items: compact, deterministic (map entries in
// name order, so equal items encode to equal bytes) and self-describing.
//
//	item   := uvarint(count) { name value }
//	name   := uvarint(len) bytes
//	value  := type-byte payload
//	S, N, B:     uvarint(len) bytes (N in canonical form)
//	BOOL:        0x00 | 0x01
//	NULL:        nothing
//	M:           item
//	L:           uvarint(count) { value }
//	SS, NS, BS:  uvarint(count) { uvarint(len) bytes }

// ErrCorrupt is returned by DecodeItem when its input is not an encoded item.
var ErrCorrupt = errors.New("attr: corrupt item encoding")

// AppendItem appends the storage encoding of it to buf and returns the result.
func AppendItem(buf []byte, it Item) []byte {
	return appendMap(buf, it)
}

func appendMap(buf []byte, m map[string]Value) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(m)))
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		buf = appendBytes(buf, k)
		buf = appendValue(buf, m[k])
	}
	return buf
}

func appendBytes[T string | []byte](buf []byte, b T) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(b)))
	return append(buf, b...)
}

func appendValue(buf []byte, v Value) []byte {
	buf = append(buf, byte(v.Type))
	switch v.Type {
	case String, Number:
		buf = appendBytes(buf, v.Str)
	case Binary:
		buf = appendBytes(buf, v.Bin)
	case Bool:
		if v.Bool {
			buf = append(buf, 1)
		} else {
			buf = append(buf, 0)
		}
	case Map:
		buf = appendMap(buf, v.M)
	case List:
		buf = binary.AppendUvarint(buf, uint64(len(v.L)))
		for _, e := range v.L {
			buf = appendValue(buf, e)
		}
	case StringSet, NumberSet:
		buf = binary.AppendUvarint(buf, uint64(len(v.Strs)))
		for _, s := range v.Strs {
			buf = appendBytes(buf, s)
		}
	case BinarySet:
		buf = binary.AppendUvarint(buf, uint64(len(v.Bins)))
		for _, b := range v.Bins {
			buf = appendBytes(buf, b)
		}
	}
	return buf
}

// DecodeItem decodes an item written by AppendItem. The result does not
// share memory with data.
func DecodeItem(data []byte) (Item, error) {
	d := decoder{data: data}
	m := d.readMap(0)
	if d.err != nil {
		return nil, d.err
	}
	if len(d.data) != 0 {
		return nil, ErrCorrupt
	}
	return m, nil
}

type decoder struct {
	data []byte
	err  error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = ErrCorrupt
	}
	d.data = nil
}

func (d *decoder) uvarint() int {
	n, w := binary.Uvarint(d.data)
	if w <= 0 || n > uint64(len(d.data)) {
		// No count or length can exceed the bytes that remain: every
		// element takes at least one.
		d.fail()
		return 0
	}
	d.data = d.data[w:]
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > len(d.data) {
		d.fail()
		return nil
	}
	b := make([]byte, n)
	copy(b, d.data)
	d.data = d.data[n:]
	return b
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > len(d.data) {
		d.fail()
		return ""
	}
	s := string(d.data[:n])
	d.data = d.data[n:]
	return s
}

func (d *decoder) readMap(depth int) map[string]Value {
	n := d.uvarint()
	m := make(map[string]Value, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		m[k] = d.readValue(depth)
	}
	return m
}

func (d *decoder) readValue(depth int) Value {
	if len(d.data) == 0 || depth > MaxDepth {
		d.fail()
		return Value{}
	}
	v := Value{Type: Type(d.data[0])}
	d.data = d.data[1:]
	switch v.Type {
	case String, Number:
		v.Str = d.str()
	case Binary:
		v.Bin = d.bytes()
	case Bool:
		if len(d.data) == 0 || d.data[0] > 1 {
			d.fail()
			break
		}
		v.Bool = d.data[0] == 1
		d.data = d.data[1:]
	case Null:
	case Map:
		v.M = d.readMap(depth + 1)
	case List:
		n := d.uvarint()
		v.L = make([]Value, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			v.L = append(v.L, d.readValue(depth+1))
		}
	case StringSet, NumberSet:
		n := d.uvarint()
		v.Strs = make([]string, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			v.Strs = append(v.Strs, d.str())
		}
	case BinarySet:
		n := d.uvarint()
		v.Bins = make([][]byte, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			v.Bins = append(v.Bins, d.bytes())
		}
	default:
		d.fail()
	}
	return v
}
