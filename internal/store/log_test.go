package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gyre-dev/gyre/internal/attr"
)

func TestChangeLog(t *testing.T) {
	fs := vfs.NewMem()
	db, err := Open(Options{Dir: "db", FS: fs, Region: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateTable(musicTable()); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		put(t, db, "music", attr.Item{"artist": attr.S("x"), "n": attr.N(fmt.Sprint(i))})
	}
	// A transaction is one entry.
	k1, k2 := attr.Item{"artist": attr.S("y"), "n": attr.N("1")}, attr.Item{"artist": attr.S("y"), "n": attr.N("2")}
	_, err = db.Write([]Op{
		{Table: "music", Key: k1, Apply: func(attr.Item) (attr.Item, Action, error) { return k1, Put, nil }},
		{Table: "music", Key: k2, Apply: func(attr.Item) (attr.Item, Action, error) { return k2, Put, nil }},
	}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A condition check writes nothing and is not logged.
	_, err = db.Write([]Op{{Table: "music", Key: attr.Item{"artist": attr.S("none"), "n": attr.N("0")},
		Apply: func(attr.Item) (attr.Item, Action, error) { return nil, Keep, nil }}}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A delete of an absent item is logged, with a version of its own and
	// nothing before or after: it must win over older writes elsewhere.
	_, err = db.Write([]Op{{Table: "music", Key: attr.Item{"artist": attr.S("none"), "n": attr.N("0")},
		Apply: func(attr.Item) (attr.Item, Action, error) { return nil, Delete, nil }}}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := db.LogHead(); h != 7 {
		t.Fatalf("log head %d, want 7", h)
	}
	entries, err := db.ReadLog(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 7 {
		t.Fatalf("read %d entries, want 7", len(entries))
	}
	if c := entries[6].Changes; len(c) != 1 || c[0].Old != nil || c[0].New != nil || c[0].Key == nil {
		t.Errorf("the delete of an absent item logged %+v, want one change with a key and no images", c)
	}
	for i, e := range entries {
		if e.Seq != uint64(i+1) || e.Version.Origin != "a" {
			t.Errorf("entry %d: seq %d origin %q", i, e.Seq, e.Version.Origin)
		}
		if i > 0 && !entries[i-1].Version.Less(e.Version) {
			t.Errorf("entry %d's version %v is not after the previous entry's %v", i, e.Version, entries[i-1].Version)
		}
	}
	if n := len(entries[5].Changes); n != 2 {
		t.Errorf("the transaction's entry holds %d changes, want 2", n)
	}
	if got := entries[2].Changes[0].New["n"].Str; got != "2" {
		t.Errorf("entry 3 carries n=%s, want 2", got)
	}
	if err := db.TruncateLog(4); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ReadLog(2, 10); !errors.Is(err, ErrLogTruncated) {
		t.Errorf("reading below the floor: %v, want ErrLogTruncated", err)
	}
	if rest, err := db.ReadLog(4, 10); err != nil || len(rest) != 3 || rest[0].Seq != 5 {
		t.Errorf("reading from the floor: %d entries, %v", len(rest), err)
	}
	inc := db.Incarnation()
	db.Close()

	// Reopened, the log keeps its incarnation and numbering, even once
	// fully truncated.
	db, err = Open(Options{Dir: "db", FS: fs, Region: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Incarnation() != inc {
		t.Errorf("incarnation changed across a restart")
	}
	if err := db.TruncateLog(7); err != nil {
		t.Fatal(err)
	}
	put(t, db, "music", attr.Item{"artist": attr.S("z"), "n": attr.N("0")})
	if h := db.LogHead(); h != 8 {
		t.Errorf("log head after reopening and writing %d, want 8", h)
	}
}
