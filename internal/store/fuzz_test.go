package store

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gyre-dev/gyre/internal/attr"
)

// realLogEntries makes a region write what its change log can hold (puts
// of every attribute type, a transaction, deletes of present and absent
// items, a time-to-live expiry, and the schema entries of a global table
// from its making to its deletion) and returns the entries as stored.
func realLogEntries(t testing.TB) [][]byte {
	t.Helper()
	now := time.Unix(1_800_000_000, 0)
	db, err := Open(Options{Dir: "db", FS: vfs.NewMem(), Region: "a", TTLInterval: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateTable(musicTable()); err != nil {
		t.Fatal(err)
	}
	write := func(ops ...Op) {
		t.Helper()
		if _, err := db.Write(ops, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	putOp := func(item attr.Item) Op {
		return Op{Table: "music", Key: item, Apply: func(attr.Item) (attr.Item, Action, error) { return item, Put, nil }}
	}
	deleteOp := func(key attr.Item) Op {
		return Op{Table: "music", Key: key, Apply: func(attr.Item) (attr.Item, Action, error) { return nil, Delete, nil }}
	}
	key := func(n int) attr.Item { return attr.Item{"artist": attr.S("a"), "n": attr.N(strconv.Itoa(n))} }
	every := key(1)
	every["genre"] = attr.S("jazz")
	every["b"] = attr.Value{Type: attr.Binary, Bin: []byte{0, 1, 0xff}}
	every["t"] = attr.Value{Type: attr.Bool, Bool: true}
	every["z"] = attr.Value{Type: attr.Null}
	every["m"] = attr.Value{Type: attr.Map, M: attr.Item{"x": attr.N("-1.5e10"), "l": {Type: attr.List, L: []attr.Value{attr.S(""), attr.N("0")}}}}
	every["ss"] = attr.Value{Type: attr.StringSet, Strs: []string{"p", "q"}}
	every["ns"] = attr.Value{Type: attr.NumberSet, Strs: []string{"1", "2.5"}}
	every["bs"] = attr.Value{Type: attr.BinarySet, Bins: [][]byte{{1}, {2, 3}}}
	write(putOp(every))
	write(putOp(key(2)), putOp(key(3)))
	write(deleteOp(key(2)))
	write(deleteOp(key(99)))
	if _, err := db.UpdateTable("music", func(t *Table) error { t.TTL = TTLSpec{Enabled: true, Attribute: "exp"}; return nil }); err != nil {
		t.Fatal(err)
	}
	expiring := key(4)
	expiring["exp"] = attr.N(strconv.FormatInt(now.Unix()-1, 10))
	write(putOp(expiring))
	if err := db.ExpireNow(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddReplica("music", "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateTable("music", func(t *Table) error {
		t.BillingMode, t.Provisioned = "PROVISIONED", &Throughput{Read: 5, Write: 6}
		t.Indexes[0].Provisioned = &Throughput{Read: 1, Write: 2}
		t.Stream = StreamSpec{Enabled: true, ViewType: "NEW_AND_OLD_IMAGES", Label: "2026-01-01T00:00:00.000"}
		t.DeletionProtection, t.TableClass = true, "STANDARD_INFREQUENT_ACCESS"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	byMood := Index{Name: "by-mood", Key: KeySchema{Hash: KeyAttr{"mood", attr.String}}, Projection: Projection{Type: ProjectInclude, NonKeyAttributes: []string{"genre"}}}
	if _, err := db.CreateIndex("music", byMood, []KeyAttr{{"mood", attr.String}}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if tb, err := db.Table("music"); err == nil && tb.Index("by-mood").Status == StatusActive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the by-mood index did not become active")
		}
	}
	if _, err := db.RemoveReplica("music", "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteTable("music"); err != nil {
		t.Fatal(err)
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixLog}, UpperBound: []byte{prefixLog + 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out [][]byte
	for it.First(); it.Valid(); it.Next() {
		out = append(out, bytes.Clone(it.Value()))
	}
	if len(out) < 10 {
		t.Fatalf("the region logged %d entries, want every kind", len(out))
	}
	return out
}

// FuzzDecodeLogEntry feeds DecodeLogEntry, the decoder of what other
// regions send, arbitrary bytes, starting from real entries. It must never
// panic, and an entry it accepts must encode to bytes that decode to an
// entry encoding the same.
func FuzzDecodeLogEntry(f *testing.F) {
	for _, e := range realLogEntries(f) {
		f.Add(e)
	}
	for _, c := range decoderRegressions {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeLogEntry(b)
		if err != nil {
			return
		}
		enc, err := e.Encode()
		if err != nil {
			t.Fatalf("re-encoding a decoded entry: %v", err)
		}
		again, err := DecodeLogEntry(enc)
		if err != nil {
			t.Fatalf("decoding a re-encoded entry: %v\n%x", err, enc)
		}
		enc2, err := again.Encode()
		if err != nil {
			t.Fatalf("re-encoding twice: %v", err)
		}
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("an entry encodes to %x, which decodes to one encoding to %x", enc, enc2)
		}
	})
}

// decoderRegressions are malformed entries DecodeLogEntry must refuse
// without panicking, with the error it must give.
var decoderRegressions = []struct {
	name string
	in   []byte
	err  string
}{
	{"empty", nil, "store: corrupt log entry"},
	{"truncated timestamp", []byte{1, 0, 0, 0}, "store: corrupt log entry"},
	{"origin longer than the entry", []byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 200, 'a'}, "store: corrupt log entry"},
	{"overlong varint", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "store: corrupt log entry"},
	{"unknown kind", []byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 'a', 0, 'X'}, "store: unknown log entry kind"},
	{"more changes than bytes", []byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 'a', 0, 'I', 0xff, 0xff, 0x03}, "store: corrupt log entry"},
	{"change without flags", []byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 'a', 0, 'I', 1, 1, 't', 1, 0}, "store: corrupt log entry"},
	{"corrupt item", []byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 'a', 0, 'I', 1, 1, 't', 2, 5, 9, 1}, "store: corrupt log entry"},
	{"trailing bytes", []byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 'a', 0, 'I', 0, 7}, "store: trailing bytes in log entry"},
	{"schema that is not JSON", []byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 'a', 0, 'S', '{'}, "store: decoding schema entry: unexpected end of JSON input"},
}

func TestDecodeLogEntryRefusesMalformedEntries(t *testing.T) {
	for _, c := range decoderRegressions {
		t.Run(c.name, func(t *testing.T) {
			e, err := DecodeLogEntry(c.in)
			if err == nil || err.Error() != c.err {
				t.Errorf("DecodeLogEntry(%x) = %+v, %v; want the error %q", c.in, e, err, c.err)
			}
		})
	}
}

// TestLogEntriesRoundTrip checks that every kind of real entry decodes to
// an entry that encodes back to the same bytes.
func TestLogEntriesRoundTrip(t *testing.T) {
	for i, b := range realLogEntries(t) {
		e, err := DecodeLogEntry(b)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		enc, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, b) {
			t.Errorf("entry %d encodes to\n%x\nafter decoding, was\n%x", i, enc, b)
		}
	}
}
