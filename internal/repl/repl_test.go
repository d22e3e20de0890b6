package repl

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/store"
)

// cluster is a set of regions replicating over loopback HTTP.
type cluster struct {
	t       *testing.T
	names   []string
	dbs     map[string]*store.DB
	reps    map[string]*Replicator
	servers map[string]*httptest.Server
	fs      map[string]vfs.FS
}

type swapHandler struct {
	mu sync.RWMutex
	h  http.Handler
}

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	h := s.h
	s.mu.RUnlock()
	if h == nil {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

func newCluster(t *testing.T, names ...string) *cluster {
	c := &cluster{t: t, names: names, dbs: map[string]*store.DB{}, reps: map[string]*Replicator{}, servers: map[string]*httptest.Server{}, fs: map[string]vfs.FS{}}
	handlers := map[string]*swapHandler{}
	for _, n := range names {
		handlers[n] = &swapHandler{}
		c.servers[n] = httptest.NewServer(handlers[n])
		c.fs[n] = vfs.NewMem()
	}
	for _, n := range names {
		c.start(n, handlers[n])
	}
	t.Cleanup(c.close)
	return c
}

func (c *cluster) start(n string, h *swapHandler) {
	db, err := store.Open(store.Options{Dir: "db", FS: c.fs[n], Region: n, TTLInterval: time.Hour})
	if err != nil {
		c.t.Fatal(err)
	}
	var peers []Peer
	for _, p := range c.names {
		if p != n {
			peers = append(peers, Peer{Name: p, URL: c.servers[p].URL})
		}
	}
	r, err := New(Options{DB: db, Peers: peers, Token: "t", HeartbeatInterval: 50 * time.Millisecond, StallTimeout: time.Second, AckInterval: 50 * time.Millisecond, GCInterval: 100 * time.Millisecond, RetryMax: 200 * time.Millisecond})
	if err != nil {
		c.t.Fatal(err)
	}
	h.mu.Lock()
	h.h = r.Handler()
	h.mu.Unlock()
	if err := r.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.dbs[n], c.reps[n] = db, r
}

func (c *cluster) close() {
	for _, n := range c.names {
		if r := c.reps[n]; r != nil {
			r.Shutdown(context.Background())
		}
		if db := c.dbs[n]; db != nil {
			db.Close()
		}
		c.servers[n].Close()
	}
}

func (c *cluster) createGlobal(name string, regions ...string) {
	t := &store.Table{
		Name: name, Key: store.KeySchema{Hash: store.KeyAttr{Name: "pk", Type: attr.String}},
		Attributes: []store.KeyAttr{{Name: "pk", Type: attr.String}}, BillingMode: "PAY_PER_REQUEST",
	}
	for _, r := range regions {
		t.Replicas = append(t.Replicas, store.Replica{Region: r})
	}
	for _, r := range regions {
		if _, err := c.dbs[r].EnsureTable(t); err != nil {
			c.t.Fatal(err)
		}
	}
}

func (c *cluster) put(region, table, pk, val string) {
	item := attr.Item{"pk": attr.S(pk), "v": attr.S(val)}
	_, err := c.dbs[region].Write([]store.Op{{Table: table, Key: item, Apply: func(attr.Item) (attr.Item, store.Action, error) {
		return item, store.Put, nil
	}}}, store.WriteOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) del(region, table, pk string) {
	_, err := c.dbs[region].Write([]store.Op{{Table: table, Key: attr.Item{"pk": attr.S(pk)}, Apply: func(attr.Item) (attr.Item, store.Action, error) {
		return nil, store.Delete, nil
	}}}, store.WriteOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) get(region, table, pk string) string {
	it, err := c.dbs[region].Get(table, attr.Item{"pk": attr.S(pk)})
	if err != nil {
		return "error: " + err.Error()
	}
	if it == nil {
		return "<none>"
	}
	return it["v"].Str
}

// eventually polls cond until it holds or 20s pass.
func (c *cluster) eventually(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, n := range c.names {
				c.t.Logf("%s: %+v", n, c.reps[n].Status())
			}
			c.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReplicatesPutsAndDeletes(t *testing.T) {
	c := newCluster(t, "a", "b", "c")
	c.createGlobal("t", "a", "b", "c")
	c.put("a", "t", "k1", "from-a")
	c.put("b", "t", "k2", "from-b")
	for _, r := range c.names {
		c.eventually("k1 and k2 in "+r, func() bool { return c.get(r, "t", "k1") == "from-a" && c.get(r, "t", "k2") == "from-b" })
	}
	c.del("c", "t", "k1")
	for _, r := range c.names {
		c.eventually("k1 deleted in "+r, func() bool { return c.get(r, "t", "k1") == "<none>" })
	}
}

func TestNewReplicaBackfills(t *testing.T) {
	c := newCluster(t, "a", "b", "c")
	c.createGlobal("t", "a", "b")
	for i := range 200 {
		c.put("a", "t", fmt.Sprintf("k%03d", i), "v")
	}
	// A delete of an item a region does not have yet changes nothing, so
	// wait for the put to reach b.
	c.eventually("k000 in b", func() bool { return c.get("b", "t", "k000") == "v" })
	c.del("b", "t", "k000")
	if _, err := c.dbs["a"].AddReplica("t", "c"); err != nil {
		t.Fatal(err)
	}
	c.eventually("c's replica ACTIVE everywhere", func() bool {
		for _, r := range c.names {
			tb, err := c.dbs[r].Table("t")
			if err != nil || tb.Replica("c") == nil || tb.Replica("c").Status != store.StatusActive {
				return false
			}
		}
		return true
	})
	if got := c.get("c", "t", "k199"); got != "v" {
		t.Errorf("k199 in c = %s", got)
	}
	if got := c.get("c", "t", "k000"); got != "<none>" {
		t.Errorf("deleted k000 in c = %s", got)
	}
	// b's delete reaches a asynchronously; once it has, every replica
	// must hold the same items.
	c.eventually("a to apply b's delete", func() bool { return c.get("a", "t", "k000") == "<none>" })
	checks, err := Check(context.Background(), http.DefaultClient, "t", c.targets())
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 1 || !checks[0].Consistent {
		t.Fatalf("replicas disagree: %+v", checks)
	}
}

func (c *cluster) targets() []Target {
	var ts []Target
	for _, n := range c.names {
		ts = append(ts, Target{Region: n, URL: c.servers[n].URL})
	}
	return ts
}

// TestTTLDeletesReplicate expires an item in one region only (the
// sweepers run hourly here) and checks the delete reaches the others.
func TestTTLDeletesReplicate(t *testing.T) {
	c := newCluster(t, "a", "b")
	c.createGlobal("t", "a", "b")
	for _, r := range c.names {
		if _, err := c.dbs[r].UpdateTable("t", func(tb *store.Table) error {
			tb.TTL = store.TTLSpec{Enabled: true, Attribute: "exp"}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	item := attr.Item{"pk": attr.S("old"), "v": attr.S("x"), "exp": attr.N("1700000000")}
	if _, err := c.dbs["a"].Write([]store.Op{{Table: "t", Key: item, Apply: func(attr.Item) (attr.Item, store.Action, error) {
		return item, store.Put, nil
	}}}, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	c.eventually("the item in b", func() bool { return c.get("b", "t", "old") == "x" })
	if err := c.dbs["a"].ExpireNow(); err != nil {
		t.Fatal(err)
	}
	if got := c.get("a", "t", "old"); got != "<none>" {
		t.Fatalf("a did not expire the item: %s", got)
	}
	c.eventually("a's expiry to delete the item in b", func() bool { return c.get("b", "t", "old") == "<none>" })
}
