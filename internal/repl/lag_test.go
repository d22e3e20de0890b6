package repl

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/store"
)

// frozenClock is a wall clock that stands still until moved.
type frozenClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *frozenClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func openMem(t *testing.T, region string) *store.DB {
	t.Helper()
	db, err := store.Open(store.Options{Dir: "db", FS: vfs.NewMem(), Region: region, TTLInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func putItem(t *testing.T, db *store.DB, table, pk string) {
	t.Helper()
	item := attr.Item{"pk": attr.S(pk), "v": attr.S("x")}
	if _, err := db.Write([]store.Op{{Table: table, Key: item, Apply: func(attr.Item) (attr.Item, store.Action, error) {
		return item, store.Put, nil
	}}}, store.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestPullCoreMeasuresLag feeds a pullCore entries committed at known times
// and applies them at a known time: the lags it reports and summarises are
// exact, and only entries of tables the destination holds count.
func TestPullCoreMeasuresLag(t *testing.T) {
	origin, dest := openMem(t, "a"), openMem(t, "b")
	for _, db := range []*store.DB{origin, dest} {
		if _, err := db.EnsureTable(simTable("t", []string{"a", "b"})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := origin.CreateTable(simTable("local", nil)); err != nil {
		t.Fatal(err)
	}
	putItem(t, origin, "t", "k1")
	putItem(t, origin, "local", "k2") // a table b does not hold
	putItem(t, origin, "t", "k3")
	entries, err := origin.ReadLog(0, 10)
	if err != nil || len(entries) != 3 {
		t.Fatalf("ReadLog = %d entries, %v; want 3", len(entries), err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	for i := range entries {
		entries[i].Committed = t0.Add(time.Duration(i) * 100 * time.Millisecond)
	}

	o := Options{}
	o.ensureDefaults()
	c := newPullCore(pullConfigOf(&o, "b", "a"), func(e store.LogEntry) bool { return replicatedBy(dest, e) })
	c.dial(store.Cursor{})
	c.connected(t0)
	if _, err := c.receive(jsonFrame(frameHeartbeat, heartbeat{Incarnation: origin.Incarnation(), Head: 3}), t0); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		enc, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if acts, err := c.receive(frame{kind: frameEntry, payload: enc}, t0); err != nil || len(acts) != 0 {
			t.Fatalf("receive(entry %d) = %v, %v; want nothing to do before the batch is full or the wire idle", e.Seq, acts, err)
		}
	}
	acts := c.idle()
	if len(acts) != 1 {
		t.Fatalf("idle() = %v; want one applyBatch", acts)
	}
	ab, ok := acts[0].(applyBatch)
	if !ok || len(ab.entries) != 3 {
		t.Fatalf("idle() = %#v; want an applyBatch of 3 entries", acts[0])
	}
	res, err := dest.ApplyRemote("a", ab.incarnation, ab.entries)
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Second)
	acts, err = c.applied(res, at)
	if err != nil || len(acts) != 1 {
		t.Fatalf("applied() = %v, %v; want one batchApplied", acts, err)
	}
	got := acts[0].(batchApplied).lags
	want := []time.Duration{time.Second, 800 * time.Millisecond} // k1 and k3; k2's table is not b's
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("lags = %v, want %v", got, want)
	}
	s := c.status(at)
	wantSum := Summary{Samples: 2, P50: bucketValue(bucketOf(800 * time.Millisecond)), P99: bucketValue(bucketOf(time.Second)), Max: bucketValue(bucketOf(time.Second))}
	if s.Lag != wantSum || !s.LastApplied.Equal(at) || s.Cursor != 3 {
		t.Fatalf("status = %+v; want lag %+v, last applied %v, cursor 3", s, wantSum, at)
	}
	if s := c.status(at.Add(2 * time.Minute)); s.Lag.Samples != 0 {
		t.Fatalf("two minutes later the lag window still holds %d samples", s.Lag.Samples)
	}
}

// TestReplicationLagUsesOptionsClock runs two regions whose destination's
// Options.Now stands 30s ahead of the real clock: the lag it reports in
// Status and in gyre_replication_latency_seconds is measured on that clock,
// about 30s, and the last apply is stamped with it.
func TestReplicationLagUsesOptionsClock(t *testing.T) {
	clock := &frozenClock{t: time.Now().Add(30 * time.Second)}
	dbs := map[string]*store.DB{"a": openMem(t, "a"), "b": openMem(t, "b")}
	handlers := map[string]*swapHandler{"a": {}, "b": {}}
	servers := map[string]*httptest.Server{}
	for n, h := range handlers {
		servers[n] = httptest.NewServer(h)
		defer servers[n].Close()
	}
	reg := prometheus.NewRegistry()
	reps := map[string]*Replicator{}
	for n, peer := range map[string]string{"a": "b", "b": "a"} {
		o := Options{
			DB: dbs[n], Peers: []Peer{{Name: peer, URL: servers[peer].URL}}, Token: "t",
			HeartbeatInterval: 50 * time.Millisecond, StallTimeout: time.Second, AckInterval: 50 * time.Millisecond,
		}
		if n == "b" {
			o.Now, o.Registerer = clock.Now, reg
		}
		r, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		handlers[n].mu.Lock()
		handlers[n].h = r.Handler()
		handlers[n].mu.Unlock()
		reps[n] = r
		defer r.Shutdown(context.Background())
	}
	for _, db := range dbs {
		if _, err := db.EnsureTable(simTable("t", []string{"a", "b"})); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range reps {
		if err := r.Start(); err != nil {
			t.Fatal(err)
		}
	}
	const n = 5
	for i := range n {
		putItem(t, dbs["a"], "t", string(rune('a'+i)))
	}
	deadline := time.Now().Add(20 * time.Second)
	var link LinkStatus
	for {
		link = reps["b"].Status().Links[0]
		if link.Lag.Samples == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b applied %d of a's %d writes: %+v", link.Lag.Samples, n, link)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !link.LastApplied.Equal(clock.Now()) {
		t.Errorf("last applied at %v, want the destination's clock, %v", link.LastApplied, clock.Now())
	}
	// Commits happened within 20s of the clock's setting, so each lag is
	// between 10s and 30s; the window's buckets are 4% wide.
	if link.Lag.P50 < 10*time.Second || link.Lag.Max > 32*time.Second {
		t.Errorf("lag %+v; want about 30s, measured on the destination's clock", link.Lag)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() != "gyre_replication_latency_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			found = true
			if h.GetSampleCount() != n || h.GetSampleSum() < 10*n || h.GetSampleSum() > 30*n {
				t.Errorf("gyre_replication_latency_seconds: %d samples summing to %.3fs; want %d of about 30s", h.GetSampleCount(), h.GetSampleSum(), n)
			}
		}
	}
	if !found {
		t.Error("no gyre_replication_latency_seconds in b's registry")
	}
}
