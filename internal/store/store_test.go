package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gyre-dev/gyre/internal/attr"
)

func openMem(t *testing.T, fs vfs.FS) *DB {
	t.Helper()
	if fs == nil {
		fs = vfs.NewMem()
	}
	db, err := Open(Options{Dir: "db", FS: fs, TTLInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func musicTable() *Table {
	return &Table{
		Name: "music",
		Key:  KeySchema{Hash: KeyAttr{"artist", attr.String}, Range: KeyAttr{"n", attr.Number}},
		Attributes: []KeyAttr{
			{"artist", attr.String}, {"n", attr.Number}, {"genre", attr.String},
		},
		Indexes: []Index{{
			Name: "by-genre", Key: KeySchema{Hash: KeyAttr{"genre", attr.String}, Range: KeyAttr{"n", attr.Number}},
			Projection: Projection{Type: ProjectKeysOnly},
		}},
		BillingMode: "PAY_PER_REQUEST",
	}
}

func put(t *testing.T, db *DB, table string, item attr.Item) {
	t.Helper()
	_, err := db.Write([]Op{{Table: table, Key: item, Apply: func(attr.Item) (attr.Item, Action, error) {
		return item, Put, nil
	}}}, WriteOptions{})
	if err != nil {
		t.Fatalf("put %v: %v", item, err)
	}
}

func collect(t *testing.T, db *DB, table string, o IterOptions) []string {
	t.Helper()
	it, err := db.NewIter(table, o)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for it.Next() {
		out = append(out, it.Item()["n"].Str)
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestQueryOrderAndRanges(t *testing.T) {
	db := openMem(t, nil)
	if _, err := db.CreateTable(musicTable()); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"10", "-2.5", "3", "0", "100", "-100", "0.001"} {
		put(t, db, "music", attr.Item{"artist": attr.S("a"), "n": attr.N(n), "genre": attr.S("rock")})
	}
	put(t, db, "music", attr.Item{"artist": attr.S("b"), "n": attr.N("1")})
	a := attr.S("a")
	for _, tc := range []struct {
		name string
		o    IterOptions
		want string
	}{
		{"all", IterOptions{Hash: &a}, "[-100 -2.5 0 0.001 3 10 100]"},
		{"reverse", IterOptions{Hash: &a, Reverse: true}, "[100 10 3 0.001 0 -2.5 -100]"},
		{"eq", IterOptions{Hash: &a, Range: &RangeCond{RangeEQ, []attr.Value{attr.N("3")}}}, "[3]"},
		{"lt", IterOptions{Hash: &a, Range: &RangeCond{RangeLT, []attr.Value{attr.N("0")}}}, "[-100 -2.5]"},
		{"le", IterOptions{Hash: &a, Range: &RangeCond{RangeLE, []attr.Value{attr.N("0")}}}, "[-100 -2.5 0]"},
		{"gt", IterOptions{Hash: &a, Range: &RangeCond{RangeGT, []attr.Value{attr.N("3")}}}, "[10 100]"},
		{"ge", IterOptions{Hash: &a, Range: &RangeCond{RangeGE, []attr.Value{attr.N("3")}}}, "[3 10 100]"},
		{"between", IterOptions{Hash: &a, Range: &RangeCond{RangeBetween, []attr.Value{attr.N("-2.5"), attr.N("3")}}}, "[-2.5 0 0.001 3]"},
		{"inverted between", IterOptions{Hash: &a, Range: &RangeCond{RangeBetween, []attr.Value{attr.N("3"), attr.N("-2.5")}}}, "[]"},
		{"after", IterOptions{Hash: &a, After: attr.Item{"artist": a, "n": attr.N("0")}}, "[0.001 3 10 100]"},
		{"after reverse", IterOptions{Hash: &a, Reverse: true, After: attr.Item{"artist": a, "n": attr.N("0")}}, "[-2.5 -100]"},
		{"index", IterOptions{Index: "by-genre", Hash: ptr(attr.S("rock")), Range: &RangeCond{RangeGE, []attr.Value{attr.N("10")}}}, "[10 100]"},
	} {
		if got := fmt.Sprint(collect(t, db, "music", tc.o)); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	// Scan segments partition the table.
	total := 0
	for seg := range 4 {
		total += len(collect(t, db, "music", IterOptions{Segment: seg, TotalSegments: 4}))
	}
	if total != 8 {
		t.Errorf("4 segments visited %d items, want 8", total)
	}
}

func ptr[T any](v T) *T { return &v }

func TestBeginsWith(t *testing.T) {
	db := openMem(t, nil)
	tbl := &Table{Name: "s", Key: KeySchema{Hash: KeyAttr{"p", attr.String}, Range: KeyAttr{"n", attr.String}}}
	if _, err := db.CreateTable(tbl); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"ab", "a", "abc", "b", "a\x00", "ab\x00z"} {
		put(t, db, "s", attr.Item{"p": attr.S("x"), "n": attr.S(s)})
	}
	got := collect(t, db, "s", IterOptions{Hash: ptr(attr.S("x")), Range: &RangeCond{RangeBeginsWith, []attr.Value{attr.S("ab")}}})
	if fmt.Sprintf("%q", got) != `["ab" "ab\x00z" "abc"]` {
		t.Errorf("begins_with ab: got %q", got)
	}
}

func TestStatsAndDelete(t *testing.T) {
	db := openMem(t, nil)
	tbl, err := db.CreateTable(musicTable())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		put(t, db, "music", attr.Item{"artist": attr.S("a"), "n": attr.N(strconv.Itoa(i)), "genre": attr.S("g")})
	}
	// Overwrites do not change the count; deletes do.
	put(t, db, "music", attr.Item{"artist": attr.S("a"), "n": attr.N("0")})
	_, err = db.Write([]Op{{Table: "music", Key: attr.Item{"artist": attr.S("a"), "n": attr.N("1")},
		Apply: func(attr.Item) (attr.Item, Action, error) { return nil, Delete, nil }}}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts, ixs, err := db.Stats(tbl)
	if err != nil {
		t.Fatal(err)
	}
	if ts.Items != 9 || ixs["by-genre"].Items != 8 {
		t.Errorf("stats: table %d items, index %d; want 9 and 8", ts.Items, ixs["by-genre"].Items)
	}
	if _, err := db.DeleteTable("music"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Get("music", attr.Item{"artist": attr.S("a"), "n": attr.N("2")}); !errors.Is(err, ErrTableNotFound) {
		t.Errorf("Get after DeleteTable: %v, want ErrTableNotFound", err)
	}
	// A new table of the same name starts empty.
	if _, err := db.CreateTable(musicTable()); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, db, "music", IterOptions{}); len(got) != 0 {
		t.Errorf("recreated table holds %v", got)
	}
}

func TestTransactionAllOrNothing(t *testing.T) {
	db := openMem(t, nil)
	if _, err := db.CreateTable(musicTable()); err != nil {
		t.Fatal(err)
	}
	k1 := attr.Item{"artist": attr.S("a"), "n": attr.N("1")}
	k2 := attr.Item{"artist": attr.S("a"), "n": attr.N("2")}
	fail := errors.New("condition failed")
	_, err := db.Write([]Op{
		{Table: "music", Key: k1, Apply: func(attr.Item) (attr.Item, Action, error) { return k1, Put, nil }},
		{Table: "music", Key: k2, Apply: func(attr.Item) (attr.Item, Action, error) { return nil, Keep, fail }},
	}, WriteOptions{})
	var ce *CanceledError
	if !errors.As(err, &ce) || ce.Reasons[0] != nil || ce.Reasons[1] != fail {
		t.Fatalf("got %v, want a CanceledError with the second op's reason", err)
	}
	if it, _ := db.Get("music", k1); it != nil {
		t.Fatalf("the first op of a canceled write was applied: %v", it)
	}
}

func TestBackfillAndReopen(t *testing.T) {
	fs := vfs.NewMem()
	db := openMem(t, fs)
	if _, err := db.CreateTable(musicTable()); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		put(t, db, "music", attr.Item{"artist": attr.S("a"), "n": attr.N(strconv.Itoa(i)), "year": attr.N(strconv.Itoa(1900 + i%100))})
	}
	tbl, err := db.CreateIndex("music", Index{Name: "by-year", Key: KeySchema{Hash: KeyAttr{"year", attr.Number}}, Projection: Projection{Type: ProjectAll}}, []KeyAttr{{"year", attr.Number}})
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Index("by-year").Status != StatusCreating {
		t.Errorf("new index status %s, want CREATING", tbl.Index("by-year").Status)
	}
	// Wait for the backfill by polling the schema, as a client polls
	// DescribeTable.
	deadline := time.Now().Add(30 * time.Second)
	for {
		tbl, _ = db.Table("music")
		if tbl.Index("by-year").Status == StatusActive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the index backfill did not finish within 30s")
		}
		time.Sleep(time.Millisecond)
	}
	if got := collect(t, db, "music", IterOptions{Index: "by-year", Hash: ptr(attr.N("1905"))}); len(got) != 10 {
		t.Errorf("index partition 1905 holds %d items, want 10", len(got))
	}
	_, ixs, _ := db.Stats(tbl)
	if ixs["by-year"].Items != 1000 {
		t.Errorf("index stats %d items, want 1000", ixs["by-year"].Items)
	}
	db.Close()
	db2, err := Open(Options{Dir: "db", FS: fs, TTLInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if got := collect(t, db2, "music", IterOptions{Hash: ptr(attr.S("a"))}); len(got) != 1000 {
		t.Errorf("after reopening, the table holds %d items, want 1000", len(got))
	}
}

func TestTTL(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	db, err := Open(Options{Dir: "db", FS: vfs.NewMem(), TTLInterval: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateTable(musicTable()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateTable("music", func(t *Table) error { t.TTL = TTLSpec{Enabled: true, Attribute: "exp"}; return nil }); err != nil {
		t.Fatal(err)
	}
	items := map[string]string{
		"1": strconv.FormatInt(now.Unix()-10, 10),                       // expired
		"2": strconv.FormatInt(now.Unix()+10, 10),                       // not yet
		"3": strconv.FormatInt(now.Add(-6*365*24*time.Hour).Unix(), 10), // too old to count
		"4": strconv.FormatInt(now.Unix(), 10) + ".5",                   // half a second ahead
	}
	for n, exp := range items {
		put(t, db, "music", attr.Item{"artist": attr.S("a"), "n": attr.N(n), "exp": attr.N(exp)})
	}
	put(t, db, "music", attr.Item{"artist": attr.S("a"), "n": attr.N("5"), "exp": attr.S("1")})
	if err := db.ExpireNow(); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(collect(t, db, "music", IterOptions{})); got != "[2 3 4 5]" {
		t.Errorf("after expiry the table holds %s, want [2 3 4 5]", got)
	}
}

func TestOpenRefusesAnUnwritableDirectory(t *testing.T) {
	fs := vfs.NewMem()
	f, err := fs.Create("file", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Open(Options{Dir: "file/db", FS: fs})
	if !errors.Is(err, ErrNotWritable) || !strings.Contains(err.Error(), "file/db") {
		t.Errorf("opening a directory under a file: %v; want ErrNotWritable naming it", err)
	}
}
