package store

import (
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/hlc"
)

// TestApplyRemoteAcrossSchemaChanges changes a table's schema between the
// moment a batch of replicated writes is prepared against it and the
// moment the writes take their locks: the writes must land under the new
// schema (an index added in between gets its entry; an index dropped in
// between keeps none; a table dropped in between gets no items).
func TestApplyRemoteAcrossSchemaChanges(t *testing.T) {
	t.Run("index added", testApplyAcrossIndexAdded)
	t.Run("index dropped", testApplyAcrossIndexDropped)
	t.Run("table dropped", testApplyAcrossTableDropped)
}

// schemaRaceEntry is a replicated put of an item that the by-genre and
// by-mood indexes both hold.
func schemaRaceEntry() []LogEntry {
	return []LogEntry{{Seq: 1, Version: Version{TS: hlc.Make(time.Now().UnixMilli(), 0), Origin: "b"},
		Changes: []Change{{Table: "music", Key: attr.Item{"artist": attr.S("x"), "n": attr.N("1")},
			New: attr.Item{"artist": attr.S("x"), "n": attr.N("1"), "genre": attr.S("jazz"), "mood": attr.S("calm")}}}}}
}

var byMoodIndex = Index{Name: "by-mood", Key: KeySchema{Hash: KeyAttr{"mood", attr.String}}, Projection: Projection{Type: ProjectAll}}

// indexEntries counts the entries of an index of the music table.
func indexEntries(t *testing.T, db *DB, index string) int {
	t.Helper()
	it, err := db.NewIter("music", IterOptions{Index: index})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.Next() {
		n++
	}
	return n
}

func testApplyAcrossIndexAdded(t *testing.T) {
	db := openMem(t, nil)
	if _, err := db.CreateTable(musicTable()); err != nil {
		t.Fatal(err)
	}
	once := false
	db.knobs.beforeApplyLocks = func() {
		if !once {
			once = true
			if _, err := db.CreateIndex("music", byMoodIndex, []KeyAttr{{"mood", attr.String}}); err != nil {
				t.Fatal(err)
			}
			// Its backfill is done before the write lands, so only
			// the write itself can make its entry.
			waitIndexActive(t, db, "music", "by-mood")
		}
	}
	if _, err := db.ApplyRemote("b", "inc", schemaRaceEntry()); err != nil {
		t.Fatal(err)
	}
	db.knobs.beforeApplyLocks = nil
	if n := indexEntries(t, db, "by-mood"); n != 1 {
		t.Errorf("the index added while the write was prepared has %d entries, want 1", n)
	}
}

func testApplyAcrossIndexDropped(t *testing.T) {
	db := openMem(t, nil)
	tb := musicTable()
	tb.Attributes = append(tb.Attributes, KeyAttr{"mood", attr.String})
	tb.Indexes = append(tb.Indexes, byMoodIndex)
	if _, err := db.CreateTable(tb); err != nil {
		t.Fatal(err)
	}
	dropped := mustTable(t, db, "music").Index("by-genre").ID
	once := false
	db.knobs.beforeApplyLocks = func() {
		if !once {
			once = true
			if _, err := db.DeleteIndex("music", "by-genre"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := db.ApplyRemote("b", "inc", schemaRaceEntry()); err != nil {
		t.Fatal(err)
	}
	db.knobs.beforeApplyLocks = nil
	// The dropped index's key range must hold nothing.
	prefix := spanPrefix(prefixIndex, dropped)
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	left := 0
	for it.First(); it.Valid(); it.Next() {
		left++
	}
	it.Close()
	if left != 0 {
		t.Errorf("the index dropped while the write was prepared holds %d entries, want none", left)
	}
	if n := indexEntries(t, db, "by-mood"); n != 1 {
		t.Errorf("by-mood has %d entries, want 1", n)
	}
}

func testApplyAcrossTableDropped(t *testing.T) {
	db := openMem(t, nil)
	if _, err := db.CreateTable(musicTable()); err != nil {
		t.Fatal(err)
	}
	once := false
	db.knobs.beforeApplyLocks = func() {
		if !once {
			once = true
			if _, err := db.DeleteTable("music"); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := db.ApplyRemote("b", "inc", schemaRaceEntry())
	if err != nil {
		t.Fatal(err)
	}
	db.knobs.beforeApplyLocks = nil
	if res.Applied != 0 || res.Skipped != 1 {
		t.Errorf("a write to a table dropped in between: %+v, want it skipped", res)
	}
}

func mustTable(t *testing.T, db *DB, name string) *Table {
	t.Helper()
	tb, err := db.Table(name)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// waitIndexActive waits for an index's backfill to finish.
func waitIndexActive(t *testing.T, db *DB, table, index string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ix := mustTable(t, db, table).Index(index); ix != nil && ix.Status == StatusActive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("index %s of %s did not become active", index, table)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
