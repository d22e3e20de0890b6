package repl

import (
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gyre-dev/gyre/internal/store"
)

// TestLogRetention checks what the log may drop for various consumers:
// the furthest-behind one holds it, one that has not acknowledged in this
// incarnation holds all of it, and MaxRetained caps what any can hold.
func TestLogRetention(t *testing.T) {
	type ack struct {
		name   string
		local  bool
		seq    uint64
		oldInc bool // acknowledged in another incarnation
		none   bool // acknowledged nothing
	}
	for _, tc := range []struct {
		name        string
		maxRetained uint64
		consumers   []ack
		through     uint64
		heldBy      string
		capped      bool
	}{
		{name: "no consumers", through: 10},
		{name: "peers at the head", consumers: []ack{{name: "b", seq: 10}, {name: "c", seq: 10}}, through: 10},
		{name: "furthest behind holds", consumers: []ack{{name: "b", seq: 7}, {name: "c", seq: 4}}, through: 4, heldBy: "c"},
		{name: "a peer that has not reported", consumers: []ack{{name: "b", seq: 7}, {name: "c", none: true}}, through: 0, heldBy: "c"},
		{name: "an ack in another incarnation", consumers: []ack{{name: "b", seq: 9, oldInc: true}}, through: 0, heldBy: "b"},
		{name: "a local consumer", consumers: []ack{{name: "b", seq: 9}, {name: "pitr", local: true, seq: 2}}, through: 2, heldBy: "pitr"},
		{name: "capped", maxRetained: 3, consumers: []ack{{name: "b", seq: 2}}, through: 7, heldBy: "b", capped: true},
		{name: "within the cap", maxRetained: 3, consumers: []ack{{name: "b", seq: 8}}, through: 8, heldBy: "b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openMem(t, "a")
			if _, err := db.CreateTable(simTable("t", nil)); err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				putItem(t, db, "t", string(rune('a'+i)))
			}
			l, err := NewLog(db, LogOptions{MaxRetained: tc.maxRetained})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range tc.consumers {
				var c *Consumer
				if a.local {
					c, err = l.Register(a.name)
				} else {
					c, err = l.Follow(a.name)
				}
				if err != nil {
					t.Fatal(err)
				}
				if a.none {
					continue
				}
				inc := db.Incarnation()
				if a.oldInc {
					inc = "gone"
				}
				if err := c.Acknowledge(store.Cursor{Incarnation: inc, Seq: a.seq}); err != nil {
					t.Fatal(err)
				}
			}
			r, err := l.Truncate()
			if err != nil {
				t.Fatal(err)
			}
			if r.Through != tc.through || r.HeldBy != tc.heldBy || r.Capped != tc.capped {
				t.Fatalf("retention = through %d, held by %q, capped %v; want %d, %q, %v", r.Through, r.HeldBy, r.Capped, tc.through, tc.heldBy, tc.capped)
			}
			if got := db.LogFloor(); got != tc.through {
				t.Fatalf("log floor after Truncate = %d, want %d", got, tc.through)
			}
		})
	}
}

// TestLogConsumerIsDurable registers a local consumer, acknowledges, and
// finds it holding the log at the same place after the store is reopened,
// before it registers again; unregistered, it holds nothing.
func TestLogConsumerIsDurable(t *testing.T) {
	fs := vfs.NewMem()
	db, err := store.Open(store.Options{Dir: "db", FS: fs, Region: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateTable(simTable("t", nil)); err != nil {
		t.Fatal(err)
	}
	putItem(t, db, "t", "k1")
	l, err := NewLog(db, LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := l.Register("streams")
	if err != nil {
		t.Fatal(err)
	}
	if pos, ok, _ := c.Position(); !ok || pos.Seq != 1 {
		t.Fatalf("a new consumer starts at %+v, %v; want the head, 1", pos, ok)
	}
	putItem(t, db, "t", "k2")
	putItem(t, db, "t", "k3")
	rd, err := c.Reader()
	if err != nil {
		t.Fatal(err)
	}
	if es, err := rd.Next(10); err != nil || len(es) != 2 || es[0].Seq != 2 {
		t.Fatalf("Next = %d entries, %v; want entries 2 and 3", len(es), err)
	}
	if err := c.Acknowledge(store.Cursor{Incarnation: db.Incarnation(), Seq: 2}); err != nil {
		t.Fatal(err)
	}
	if err := c.Acknowledge(store.Cursor{Incarnation: "other", Seq: 3}); err == nil {
		t.Fatal("a local consumer acknowledged a position in another incarnation")
	}
	if _, err := l.Follow("streams"); !errors.Is(err, ErrConsumerExists) {
		t.Fatalf("Follow of a local consumer's name: %v, want ErrConsumerExists", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(store.Options{Dir: "db", FS: fs, Region: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err = NewLog(db, LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := l.Truncate(); err != nil || r.Through != 2 || r.HeldBy != "streams" {
		t.Fatalf("after reopening, Truncate = %+v, %v; want it held by streams at 2", r, err)
	}
	c, err = l.Register("streams")
	if err != nil {
		t.Fatal(err)
	}
	if pos, ok, _ := c.Position(); !ok || pos.Seq != 2 {
		t.Fatalf("registered again, the consumer is at %+v, %v; want 2, where it acknowledged", pos, ok)
	}
	if err := l.Unregister("streams"); err != nil {
		t.Fatal(err)
	}
	if r, err := l.Truncate(); err != nil || r.Through != 3 || r.HeldBy != "" {
		t.Fatalf("after Unregister, Truncate = %+v, %v; want everything truncated", r, err)
	}
	if _, _, err := c.Position(); !errors.Is(err, ErrUnknownConsumer) {
		t.Fatalf("Position of an unregistered consumer: %v, want ErrUnknownConsumer", err)
	}
}
