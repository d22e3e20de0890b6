package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/quick"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/hlc"
)

// lwwWrite is a generated replicated write: one of a few keys, a version
// (a few timestamps, three origins). A version names one write, so what the
// write does (a value or a delete) follows from its key and version.
type lwwWrite struct {
	Key    uint8
	TS     uint8
	Origin uint8
}

func (w lwwWrite) record() SnapshotRecord {
	k, ts, origin := w.Key%4, w.TS%8, w.Origin%3
	key := attr.Item{"pk": attr.S(fmt.Sprintf("k%d", k))}
	r := SnapshotRecord{
		Key:     key,
		Version: Version{TS: hlc.Make(1_700_000_000_000+int64(ts), 0), Origin: []string{"a", "b", "c"}[origin]},
	}
	if (k+ts+origin)%3 != 0 {
		r.Item = attr.Item{"pk": key["pk"], "v": attr.N(fmt.Sprint(int(ts)*10 + int(origin)))}
	}
	return r
}

// reference is the naive model of last-writer-wins: per key, the write
// with the greatest version; a delete means no item.
func reference(ws []lwwWrite) map[string]string {
	best := map[string]SnapshotRecord{}
	for _, w := range ws {
		r := w.record()
		k := r.Key["pk"].Str
		if cur, ok := best[k]; !ok || cur.Version.Less(r.Version) {
			best[k] = r
		}
	}
	out := map[string]string{}
	for k, r := range best {
		if r.Item != nil {
			out[k] = r.Item["v"].Str
		}
	}
	return out
}

func lwwTable(t testing.TB) *DB {
	db, err := Open(Options{Dir: "db", FS: vfs.NewMem(), Region: "z"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.CreateTable(&Table{Name: "t", Key: KeySchema{Hash: KeyAttr{"pk", attr.String}}, Attributes: []KeyAttr{{"pk", attr.String}}})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func contents(t testing.TB, db *DB) map[string]string {
	it, err := db.NewIter("t", IterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	out := map[string]string{}
	for it.Next() {
		out[it.Item()["pk"].Str] = it.Item()["v"].Str
	}
	return out
}

// TestLWWMatchesReference checks that applying replicated writes in any
// order, in any grouping into batches, and with any of them repeated,
// leaves the same items as the naive model: the merge is commutative,
// associative and idempotent.
func TestLWWMatchesReference(t *testing.T) {
	f := func(ws []lwwWrite, seed uint64) bool {
		want := reference(ws)
		r := rand.New(rand.NewPCG(seed, 1))
		for range 3 {
			db := lwwTable(t)
			order := append([]lwwWrite(nil), ws...)
			r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			// Repeat some writes: redelivery must be harmless.
			for i := range order {
				if r.IntN(4) == 0 {
					order = append(order, order[i])
				}
			}
			for len(order) > 0 {
				n := 1 + r.IntN(len(order))
				recs := make([]SnapshotRecord, n)
				for i := range n {
					recs[i] = order[i].record()
				}
				if _, _, err := db.ApplySnapshot("t", recs); err != nil {
					t.Fatal(err)
				}
				order = order[n:]
			}
			got := contents(t, db)
			db.Close()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Logf("writes %+v: got %v, want %v", ws, got, want)
				return false
			}
		}
		return true
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 200}); err != nil {
		t.Error(err)
	}
}

// TestStatsFollowReplicatedWrites checks that item counts stay exact when
// replicated puts and deletes arrive in any order.
func TestStatsFollowReplicatedWrites(t *testing.T) {
	db := lwwTable(t)
	defer db.Close()
	var ws []lwwWrite
	for i := range 60 {
		ws = append(ws, lwwWrite{Key: uint8(i * 7), TS: uint8(i * 5), Origin: uint8(i)})
	}
	for _, w := range ws {
		if _, _, err := db.ApplySnapshot("t", []SnapshotRecord{w.record()}); err != nil {
			t.Fatal(err)
		}
	}
	tb, _ := db.Table("t")
	st, _, err := db.Stats(tb)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(reference(ws))); st.Items != want {
		t.Errorf("ItemCount %d, want %d", st.Items, want)
	}
}
