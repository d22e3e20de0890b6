package repl

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/store"
)

// BenchmarkReplicationCatchUp measures the pull path end to end over
// loopback HTTP: entries written at the origin are streamed, decoded,
// batched and applied at the destination, whose replicator starts once they
// are all written. Sub-benchmarks by item size; one op is one entry.
func BenchmarkReplicationCatchUp(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("item=%dB", size), func(b *testing.B) {
			b.ReportAllocs()
			benchCatchUp(b, size)
		})
	}
}

func benchCatchUp(b *testing.B, size int) {
	open := func(region string) *store.DB {
		db, err := store.Open(store.Options{Dir: "db", FS: vfs.NewMem(), Region: region, TTLInterval: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		table := &store.Table{
			Name: "t", Key: store.KeySchema{Hash: store.KeyAttr{Name: "pk", Type: attr.String}},
			Attributes: []store.KeyAttr{{Name: "pk", Type: attr.String}}, BillingMode: "PAY_PER_REQUEST",
			Replicas: []store.Replica{{Region: "a"}, {Region: "b"}},
		}
		if _, err := db.EnsureTable(table); err != nil {
			b.Fatal(err)
		}
		return db
	}
	origin, dest := open("a"), open("b")
	val := attr.S(string(make([]byte, size)))
	for i := range b.N {
		item := attr.Item{"pk": attr.S(fmt.Sprintf("k%09d", i)), "v": val}
		if _, err := origin.Write([]store.Op{{Table: "t", Key: item, Apply: func(attr.Item) (attr.Item, store.Action, error) {
			return item, store.Put, nil
		}}}, store.WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	ro, err := New(Options{DB: origin, Token: "t", Peers: []Peer{{Name: "b", URL: "http://127.0.0.1:1"}}, RetryMin: time.Hour, RetryMax: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(ro.Handler())
	defer srv.Close()
	rd, err := New(Options{DB: dest, Token: "t", Peers: []Peer{{Name: "a", URL: srv.URL}}})
	if err != nil {
		b.Fatal(err)
	}
	head := origin.LogHead()
	b.ResetTimer()
	if err := rd.Start(); err != nil {
		b.Fatal(err)
	}
	for {
		if c, err := dest.Cursor("a"); err == nil && c.Seq >= head {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	rd.Shutdown(context.Background())
	ro.Shutdown(context.Background())
}
