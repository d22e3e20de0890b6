package store

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gyre-dev/gyre/internal/attr"
)

// benchDB opens a store on an in-memory filesystem with the music table
// (a sort key and one global index), for benchmarks.
func benchDB(b *testing.B) *DB {
	b.Helper()
	db, err := Open(Options{Dir: "db", FS: vfs.NewMem(), TTLInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.CreateTable(musicTable()); err != nil {
		b.Fatal(err)
	}
	return db
}

// benchItems returns the items of round r of a benchmark: n items of the
// music table, from a working set of 1000 keys, whose genre (and so index
// entry) changes from one round to the next.
func benchItems(r, n int) []attr.Item {
	items := make([]attr.Item, n)
	for j := range items {
		k := (r*n + j) % 1000
		items[j] = attr.Item{
			"artist":  attr.S("artist-" + strconv.Itoa(k%97)),
			"n":       attr.N(strconv.Itoa(k)),
			"genre":   attr.S("genre-" + strconv.Itoa(r%5)),
			"payload": attr.S("a payload of some sixty bytes, as small items in a table carry"),
		}
	}
	return items
}

// benchRounds is how many rounds of items a benchmark prepares before it
// starts timing, and then cycles through.
const benchRounds = 20

func putOps(items []attr.Item) []Op {
	ops := make([]Op, len(items))
	for j, item := range items {
		ops[j] = Op{Table: "music", Key: item, Apply: func(attr.Item) (attr.Item, Action, error) { return item, Put, nil }}
	}
	return ops
}

// BenchmarkWrite measures Write: the key preparation, locking, reading,
// Apply and commit of a PutItem (one Op) and of transactions of 10 and 100
// Ops, overwriting items so that each write reads a current item and moves
// its index entry; and a condition check, which commits nothing.
func BenchmarkWrite(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("put/ops=%d", n), func(b *testing.B) {
			db := benchDB(b)
			rounds := make([][]Op, benchRounds)
			for r := range rounds {
				rounds[r] = putOps(benchItems(r, n))
			}
			r := 0
			b.ReportAllocs()
			for b.Loop() {
				if _, err := db.Write(rounds[r%benchRounds], WriteOptions{}); err != nil {
					b.Fatal(err)
				}
				r++
			}
		})
	}
	b.Run("condition-check", func(b *testing.B) {
		db := benchDB(b)
		item := benchItems(0, 1)[0]
		if _, err := db.Write(putOps([]attr.Item{item}), WriteOptions{}); err != nil {
			b.Fatal(err)
		}
		check := []Op{{Table: "music", Key: item, Apply: func(attr.Item) (attr.Item, Action, error) { return nil, Keep, nil }}}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := db.Write(check, WriteOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestInputErrors checks that keys and items that do not fit their table
// are refused with store's own errors, carrying the facts the protocol
// layer words its messages from.
func TestInputErrors(t *testing.T) {
	db := openMem(t, nil)
	tb := musicTable()
	tb.Attributes = append(tb.Attributes, KeyAttr{"cover", attr.Binary})
	tb.Indexes = append(tb.Indexes, Index{Name: "by-cover", Key: KeySchema{Hash: KeyAttr{"cover", attr.Binary}}, Projection: Projection{Type: ProjectAll}})
	if _, err := db.CreateTable(tb); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateTable(&Table{Name: "s", Key: KeySchema{Hash: KeyAttr{"p", attr.String}, Range: KeyAttr{"s", attr.String}}}); err != nil {
		t.Fatal(err)
	}
	a := attr.S("a")
	key := func(artist, n attr.Value) attr.Item { return attr.Item{"artist": artist, "n": n} }
	putItem := func(item attr.Item) error {
		_, err := db.Write(putOps([]attr.Item{item}), WriteOptions{})
		return err
	}
	with := func(k attr.Item, name string, v attr.Value) attr.Item {
		k = maps.Clone(k)
		k[name] = v
		return k
	}
	long := func(n int) attr.Value { return attr.S(strings.Repeat("x", n)) }
	for _, c := range []struct {
		name string
		err  error
		want error     // the sentinel
		ke   *KeyError // the facts, for a *KeyError
	}{
		{"no partition key", func() error { _, err := db.Get("music", attr.Item{"n": attr.N("1")}); return err }(),
			ErrKeyMissing, &KeyError{Err: ErrKeyMissing, Attr: "artist", Want: attr.String}},
		{"no sort key", func() error { _, err := db.Get("music", attr.Item{"artist": a}); return err }(),
			ErrKeyMissing, &KeyError{Err: ErrKeyMissing, Attr: "n", Sort: true, Want: attr.Number}},
		{"sort key of another type", putItem(key(a, attr.S("1"))),
			ErrKeyType, &KeyError{Err: ErrKeyType, Attr: "n", Sort: true, Want: attr.Number, Got: attr.String}},
		{"index key of another type", putItem(with(key(a, attr.N("1")), "genre", attr.N("2"))),
			ErrKeyType, &KeyError{Err: ErrKeyType, Attr: "genre", Index: "by-genre", Want: attr.String, Got: attr.Number}},
		{"empty partition key", putItem(key(attr.S(""), attr.N("1"))),
			ErrKeyEmpty, &KeyError{Err: ErrKeyEmpty, Attr: "artist", Want: attr.String, Got: attr.String}},
		{"empty index key", putItem(with(key(a, attr.N("1")), "cover", attr.Value{Type: attr.Binary, Bin: []byte{}})),
			ErrKeyEmpty, &KeyError{Err: ErrKeyEmpty, Attr: "cover", Index: "by-cover", Want: attr.Binary, Got: attr.Binary}},
		{"partition key too large", putItem(key(long(2049), attr.N("1"))),
			ErrKeyTooLarge, &KeyError{Err: ErrKeyTooLarge, Attr: "artist", Want: attr.String, Got: attr.String, Size: 2049, Limit: 2048}},
		{"sort key too large", func() error {
			item := attr.Item{"p": a, "s": long(1025)}
			_, err := db.Write([]Op{{Table: "s", Key: item, Apply: func(attr.Item) (attr.Item, Action, error) { return item, Put, nil }}}, WriteOptions{})
			return err
		}(), ErrKeyTooLarge, &KeyError{Err: ErrKeyTooLarge, Attr: "s", Sort: true, Want: attr.String, Got: attr.String, Size: 1025, Limit: 1024}},
		{"item too large", putItem(with(key(a, attr.N("1")), "blob", long(MaxItemSize))), ErrItemTooLarge, nil},
		{"two Ops on one item", func() error {
			_, err := db.Write(putOps([]attr.Item{key(a, attr.N("1")), key(a, attr.N("1"))}), WriteOptions{})
			return err
		}(), ErrDuplicateItem, nil},
		{"start key without the index's key", func() error {
			_, err := db.NewIter("music", IterOptions{Index: "by-genre", After: key(a, attr.N("1"))})
			return err
		}(), ErrBadStartKey, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !errors.Is(c.err, c.want) {
				t.Fatalf("got %v, want %v", c.err, c.want)
			}
			var ke *KeyError
			if got := errors.As(c.err, &ke); got != (c.ke != nil) {
				t.Fatalf("%v: is a *KeyError: %v, want %v", c.err, got, c.ke != nil)
			}
			if c.ke != nil && *ke != *c.ke {
				t.Errorf("got %+v, want %+v", *ke, *c.ke)
			}
		})
	}
}
