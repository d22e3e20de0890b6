package repl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/hlc"
	"github.com/gyre-dev/gyre/internal/scenario"
	"github.com/gyre-dev/gyre/internal/store"
)

// TestScenarios runs the scripts in testdata/, in the style of etcd raft's
// interaction tests. Each region is a real store.DB on Pebble's in-memory
// filesystem with its change Log; each inbound link is the pullCore a
// Replicator's puller runs, each outbound stream the pullSource its pull
// handler runs, and tombstone horizons, catch-ups and backfills use the
// Replicator's own functions. Only the network and the clock are the
// harness's: frames and acks sit in flight until deliver hands them over,
// and time moves only with tick. Nothing else runs, so the output is
// exact; -rewrite regenerates it (read the diff before keeping it).
//
// Commands, one handler file each (scenario_<command>_test.go):
//
//	regions a b c [batch=N] [max-retained=N]  open the regions; every link dials
//	table name=T [replicas=(a,b)]            a global table of the topology (default: every region)
//	put region=r key=k val=v [table=T]
//	delete region=r key=k [table=T]
//	add-replica region=r new=r2 [table=T]    r2 is made a replica through r
//	tick [d]                                 move time on by d (default 1s), firing timers in order
//	deliver [from=a] [to=b] [order=(3,1,1)]  hand over what is in flight; order picks frames by position, repeats redeliver
//	stabilize                                deliver until nothing is in flight
//	partition a b                            cut both directions at once: streams and dials fail (as the simulated WAN does)
//	drop a b                                 a silent blackhole: nothing gets through, nothing fails, until heal
//	heal                                     lift every partition and drop
//	restart region=r [lose-data]             reopen r's store (lose-data: an empty disk, a new incarnation)
//	truncate [region=r]                      truncate r's log (default: every region's) as far as its consumers allow
//	consumer region=r name=n register|ack=seq|unregister   a local consumer of r's log
//	backfill region=r [table=T]              carry out r's pending backfill: hold tombstones, snapshots, ACTIVE
//	horizon                                  every region's tombstone horizon and the tombstones it lets go
//	dump                                     every region's links, log and items
//
// Every table has the string partition key pk; put writes the attribute v.
// table= defaults to the first table declared. Incarnations print as the
// region's name and a count (a1, then a2 after a loss), cursors as
// incarnation:seq, timestamps as milliseconds since the scenario began,
// and an apply's replication lags (the time of the apply less each entry's
// commit time, both on the scenario's clock) after it.
// Intervals: heartbeats and acks every 1s, a stream stalls after 3s,
// redials back off from 100ms to 800ms.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		env := newSimEnv(t)
		defer env.close()
		datadriven.RunTest(t, path, env.handle)
	})
}

// simCommands maps each command to its handler. A handler writes what
// happened to env.out; an error is a broken scenario, not an answer.
var simCommands map[string]func(*simEnv, *datadriven.TestData) error

func init() {
	simCommands = map[string]func(*simEnv, *datadriven.TestData) error{
		"regions":     (*simEnv).handleRegions,
		"table":       (*simEnv).handleTable,
		"put":         (*simEnv).handlePut,
		"delete":      (*simEnv).handleDelete,
		"add-replica": (*simEnv).handleAddReplica,
		"tick":        (*simEnv).handleTick,
		"deliver":     (*simEnv).handleDeliver,
		"stabilize":   (*simEnv).handleStabilize,
		"partition":   (*simEnv).handlePartition,
		"drop":        (*simEnv).handleDrop,
		"heal":        (*simEnv).handleHeal,
		"restart":     (*simEnv).handleRestart,
		"truncate":    (*simEnv).handleTruncate,
		"consumer":    (*simEnv).handleConsumer,
		"backfill":    (*simEnv).handleBackfill,
		"horizon":     (*simEnv).handleHorizon,
		"dump":        (*simEnv).handleDump,
	}
}

// simEnv is one scenario: its regions, the links between them and the
// clock.
type simEnv struct {
	t     *testing.T
	clock *simClock
	opts  Options // the intervals and batch size every region uses
	// maxRetained bounds every region's log (LogOptions.MaxRetained).
	maxRetained uint64

	names   []string // the regions, in order
	regions map[string]*simRegion
	links   map[[2]string]*simLink // by origin, destination
	cuts    map[[2]string]string   // by region pair, sorted: "partition" or "drop"
	tables  []*store.Table         // as declared, to recreate after a loss

	incs map[string]string // incarnation id -> printed name
	out  strings.Builder
}

// simClock is the scenario's wall clock. Stores read it from their own
// goroutines, hence the lock.
type simClock struct {
	mu  sync.Mutex
	now time.Time
}

var simEpoch = time.Unix(1_700_000_000, 0)

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// simRegion is one region: its store and change log, and what it knows of
// its peers.
type simRegion struct {
	name     string
	fs       vfs.FS
	gen      int // incarnations so far
	db       *store.DB
	log      *Log
	outbound map[string]*Consumer
	// reports are the applied vectors peers sent with their acks.
	reports map[string]map[string]hlc.Timestamp
	// backfills are the tables being backfilled here; while there are any,
	// the region holds every region's tombstones.
	backfills map[string]bool
}

// simLink carries one origin's log to one destination.
type simLink struct {
	origin, dest string
	core         *pullCore
	// The stream, while one is open: the origin's end and what is in
	// flight on it.
	open     bool
	src      *pullSource
	idle     bool      // src is waiting for the log to grow
	idleAt   time.Time // since when: a heartbeat is due HeartbeatInterval after
	inflight []frame
	// acks are on their way from the destination to the origin.
	acks []ackRequest
	// redialAt is when the destination dials again, while no stream is
	// open.
	redialAt time.Time
}

func newSimEnv(t *testing.T) *simEnv {
	e := &simEnv{
		t: t, clock: &simClock{now: simEpoch},
		regions: map[string]*simRegion{}, links: map[[2]string]*simLink{}, cuts: map[[2]string]string{},
		incs: map[string]string{},
	}
	e.opts = Options{
		HeartbeatInterval: time.Second, StallTimeout: 3 * time.Second, AckInterval: time.Second,
		RetryMin: 100 * time.Millisecond, RetryMax: 800 * time.Millisecond,
	}
	e.opts.ensureDefaults()
	return e
}

func (e *simEnv) close() {
	for _, n := range e.names {
		if r := e.regions[n]; r.db != nil {
			r.db.Close()
		}
	}
}

func (e *simEnv) handle(t *testing.T, d *datadriven.TestData) string {
	h, ok := simCommands[d.Cmd]
	if !ok {
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	if e.regions == nil || (len(e.names) == 0 && d.Cmd != "regions") {
		d.Fatalf(t, "%s before regions", d.Cmd)
	}
	e.out.Reset()
	if err := h(e, d); err != nil {
		d.Fatalf(t, "%s: %v", d.Cmd, err)
	}
	// An origin's pull handler sends what its log has as soon as it has
	// it.
	e.pumpAll()
	return e.out.String()
}

func (e *simEnv) printf(format string, args ...any) {
	fmt.Fprintf(&e.out, format+"\n", args...)
}

// Arguments, read the same way as every package's scenarios.
var (
	positional = scenario.Positional
	optArg     = scenario.Opt
	mustArg    = scenario.Must
	listArg    = scenario.List
)

func (e *simEnv) region(d *datadriven.TestData) (*simRegion, error) {
	name, err := mustArg(d, "region")
	if err != nil {
		return nil, err
	}
	return e.regionNamed(name)
}

func (e *simEnv) regionNamed(name string) (*simRegion, error) {
	r, ok := e.regions[name]
	if !ok {
		return nil, fmt.Errorf("no region %q (regions: %v)", name, e.names)
	}
	return r, nil
}

func (e *simEnv) tableArg(d *datadriven.TestData) (string, error) {
	if len(e.tables) == 0 {
		return "", errors.New("no table declared")
	}
	return optArg(d, "table", e.tables[0].Name), nil
}

// The regions.

// open opens (or reopens) a region's store and log, and a fresh pullCore
// for every link into it, each about to dial.
func (e *simEnv) open(r *simRegion) error {
	db, err := store.Open(store.Options{
		Dir: "db", FS: r.fs, Region: r.name, Clock: hlc.NewClock(e.clock.Now, 0), Now: e.clock.Now,
		TTLInterval: time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	if _, ok := e.incs[db.Incarnation()]; !ok {
		r.gen++
		e.incs[db.Incarnation()] = fmt.Sprintf("%s%d", r.name, r.gen)
	}
	l, err := NewLog(db, LogOptions{MaxRetained: e.maxRetained})
	if err != nil {
		db.Close()
		return err
	}
	r.db, r.log = db, l
	r.outbound = map[string]*Consumer{}
	r.reports = map[string]map[string]hlc.Timestamp{}
	r.backfills = map[string]bool{}
	for _, p := range e.peersOf(r.name) {
		if r.outbound[p], err = l.Follow(p); err != nil {
			return err
		}
		cfg := pullConfigOf(&e.opts, r.name, p)
		e.links[[2]string{p, r.name}] = &simLink{
			origin: p, dest: r.name, redialAt: e.clock.Now(),
			core: newPullCore(cfg, func(en store.LogEntry) bool { return replicatedBy(db, en) }),
		}
	}
	return nil
}

func (e *simEnv) peersOf(name string) []string {
	var out []string
	for _, n := range e.names {
		if n != name {
			out = append(out, n)
		}
	}
	return out
}

// sortedLinks returns the links in the order of the regions, by origin then
// destination, keeping those keep accepts.
func (e *simEnv) sortedLinks(keep func(*simLink) bool) []*simLink {
	var out []*simLink
	for _, o := range e.names {
		for _, d := range e.names {
			if l, ok := e.links[[2]string{o, d}]; ok && (keep == nil || keep(l)) {
				out = append(out, l)
			}
		}
	}
	return out
}

func pair(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

func (e *simEnv) cut(a, b string) string { return e.cuts[pair(a, b)] }

// The network.

// errPartitioned is what a stream or a dial across a partition fails with.
var errPartitioned = errors.New("dial tcp: network partitioned")

// dial opens a stream for l from the destination's durable cursor, as a
// puller does.
func (e *simEnv) dial(l *simLink) error {
	dest := e.regions[l.dest]
	cursor, err := dest.db.Cursor(l.origin)
	if err != nil {
		return err
	}
	pr := l.core.dial(cursor)
	dialing := fmt.Sprintf("%s: dial %s after %s", l.dest, l.origin, e.cursorString(cursor))
	switch e.cut(l.origin, l.dest) {
	case "partition":
		e.printf("%s: fails", dialing)
		e.ended(l, errPartitioned)
		return nil
	case "drop":
		e.printf("%s: times out", dialing)
		e.ended(l, errors.New("dial tcp: i/o timeout"))
		return nil
	}
	e.printf("%s: connected", dialing)
	l.open, l.src, l.idle, l.inflight = true, newPullSource(e.regions[l.origin].log, pr, e.opts.BatchSize), false, nil
	e.exec(l, l.core.connected(e.clock.Now()))
	e.pump(l)
	return nil
}

// ended tells l's core its stream, or its dial, is over.
func (e *simEnv) ended(l *simLink, err error) {
	l.open, l.src, l.idle, l.inflight, l.acks = false, nil, false, nil, nil
	for _, a := range l.core.ended(err) {
		if rd, ok := a.(redial); ok {
			l.redialAt = e.clock.Now().Add(rd.after)
			why := "done"
			if err != nil {
				why = err.Error()
			}
			e.printf("%s: stream from %s ended (%s); redial in %v", l.dest, l.origin, why, rd.after)
		}
	}
}

// pump has the origin of l send what its pull handler would now.
func (e *simEnv) pump(l *simLink) {
	for l.open && l.src != nil && !l.idle {
		frames, state, err := l.src.step()
		if err != nil {
			e.printf("%s: pull handler for %s fails: %v", l.origin, l.dest, err)
			l.src = nil
			return
		}
		l.inflight = append(l.inflight, frames...)
		switch state {
		case sourceEnded:
			l.src = nil
		case sourceIdle:
			l.idle, l.idleAt = true, e.clock.Now()
		}
	}
}

// pumpAll wakes every idle pull handler whose log has grown.
func (e *simEnv) pumpAll() {
	for _, l := range e.sortedLinks(nil) {
		if l.open && l.src != nil && l.idle && e.regions[l.origin].db.LogHead() > l.src.rd.Position().Seq {
			l.idle = false
		}
		e.pump(l)
	}
}

// deliverable reports whether what is in flight on l can arrive.
func (e *simEnv) deliverable(l *simLink) bool { return e.cut(l.origin, l.dest) == "" }

// deliverFrames hands l's destination the frames in flight at the given
// positions (1-based; all when nil), as one burst read off the socket.
func (e *simEnv) deliverFrames(l *simLink, order []int) error {
	if !l.open || !e.deliverable(l) || len(l.inflight) == 0 {
		return nil
	}
	if order == nil {
		for i := range l.inflight {
			order = append(order, i+1)
		}
	}
	for _, i := range order {
		if i < 1 || i > len(l.inflight) {
			return fmt.Errorf("%s->%s has %d frames in flight, not %d", l.origin, l.dest, len(l.inflight), i)
		}
	}
	burst := make([]frame, 0, len(order))
	for _, i := range order {
		burst = append(burst, l.inflight[i-1])
	}
	var rest []frame
	for i, f := range l.inflight {
		if !slices.Contains(order, i+1) {
			rest = append(rest, f)
		}
	}
	l.inflight = rest
	for _, f := range burst {
		e.printf("%s->%s: %s", l.origin, l.dest, e.frameString(f))
		acts, err := l.core.receive(f, e.clock.Now())
		if err != nil {
			e.ended(l, err)
			return nil
		}
		if !e.exec(l, acts) {
			return nil
		}
	}
	// Nothing more is buffered.
	e.exec(l, l.core.idle())
	return nil
}

// deliverAcks hands l's origin the acks in flight.
func (e *simEnv) deliverAcks(l *simLink) {
	if !e.deliverable(l) {
		return
	}
	origin := e.regions[l.origin]
	for _, ar := range l.acks {
		origin.outbound[ar.Peer].Acknowledge(store.Cursor{Incarnation: ar.Incarnation, Seq: ar.Seq})
		origin.reports[ar.Peer] = ar.Applied
		e.printf("%s: %s acknowledged %s", l.origin, l.dest, e.cursorString(store.Cursor{Incarnation: ar.Incarnation, Seq: ar.Seq}))
	}
	l.acks = nil
}

// exec carries out a core's actions as a puller does; it reports whether
// the stream is still open.
func (e *simEnv) exec(l *simLink, acts []action) bool {
	dest := e.regions[l.dest]
	for len(acts) > 0 {
		a := acts[0]
		acts = acts[1:]
		switch a := a.(type) {
		case linkChanged:
		case applyBatch:
			res, err := dest.db.ApplyRemote(l.origin, a.incarnation, a.entries)
			if err != nil {
				e.ended(l, err)
				return false
			}
			applied := fmt.Sprintf("%s: apply %s %s: %d applied, %d stale, %d skipped", l.dest, e.incName(a.incarnation),
				seqRange(a.entries), res.Applied, res.Stale, res.Skipped)
			for _, t := range res.Created {
				dest.backfills[t] = true // before the cursor moves, as a puller does
			}
			more, err := l.core.applied(res, e.clock.Now())
			if err != nil {
				e.ended(l, err)
				return false
			}
			e.printf("%s%s", applied, lagString(more[0].(batchApplied).lags))
			for _, t := range res.Created {
				e.printf("%s: %s is new here: backfill starts, every region's tombstones are held", dest.name, t)
			}
			acts = append(more, acts...)
		case batchApplied:
		case catchUp:
			e.printf("%s: catch up from %s's snapshots (%s)", l.dest, l.origin, a.reset.Reason)
			origin := e.regions[l.origin]
			if err := catchUpFrom(dest.db, l.origin, a.reset, func(table string) (snapshotHeader, error) {
				return e.snapshot(origin, dest, table)
			}); err != nil {
				e.ended(l, err)
				return false
			}
			c, _ := dest.db.Cursor(l.origin)
			e.printf("%s: cursor in %s's log moves to %s", l.dest, l.origin, e.cursorString(c))
			l.core.caughtUp()
			e.ended(l, nil)
			return false
		default:
			e.t.Fatalf("a core handed out %T while streaming", a)
		}
	}
	return true
}

// snapshot applies from's snapshot of a table in to, as fetchSnapshot does
// over the network.
func (e *simEnv) snapshot(from, to *simRegion, table string) (snapshotHeader, error) {
	if e.cut(from.name, to.name) != "" {
		return snapshotHeader{}, fmt.Errorf("snapshot of %s from %s: %w", table, from.name, errPartitioned)
	}
	sink := snapshotSink{db: to.db, table: table}
	var items, tombs int
	hdr, err := snapshotOf(from.db, table, func(rec store.SnapshotRecord) error {
		if rec.Item == nil {
			tombs++
		} else {
			items++
		}
		return sink.add(rec)
	})
	if err == nil {
		err = sink.flush()
	}
	if err != nil {
		return hdr, err
	}
	e.printf("%s: snapshot of %s from %s: %s, %s, as of %s", to.name, table, from.name, plural(items, "item"), plural(tombs, "tombstone"),
		e.cursorString(store.Cursor{Incarnation: hdr.Incarnation, Seq: hdr.Seq}))
	return hdr, nil
}

// startBackfill registers a backfill, as Replicator.startBackfill does.
func (e *simEnv) startBackfill(r *simRegion, table string) {
	if r.backfills[table] {
		return
	}
	r.backfills[table] = true
	e.printf("%s: %s is new here: backfill starts, every region's tombstones are held", r.name, table)
}

// Printing.

func (e *simEnv) incName(inc string) string {
	if inc == "" {
		return "-"
	}
	if n, ok := e.incs[inc]; ok {
		return n
	}
	return "?" + inc
}

func (e *simEnv) cursorString(c store.Cursor) string {
	return fmt.Sprintf("%s:%d", e.incName(c.Incarnation), c.Seq)
}

func (e *simEnv) tsString(ts hlc.Timestamp) string {
	if ts == 0 {
		return "0"
	}
	return fmt.Sprintf("%d.%d", ts.WallMillis()-simEpoch.UnixMilli(), ts.Logical())
}

func seqRange(es []store.LogEntry) string {
	var parts []string
	for i := 0; i < len(es); {
		j := i
		for j+1 < len(es) && es[j+1].Seq == es[j].Seq+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.FormatUint(es[i].Seq, 10))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", es[i].Seq, es[j].Seq))
		}
		i = j + 1
	}
	return "seq " + strings.Join(parts, ",")
}

func (e *simEnv) frameString(f frame) string {
	switch f.kind {
	case frameEntry:
		en, err := store.DecodeLogEntry(f.payload)
		if err != nil {
			return "corrupt entry: " + err.Error()
		}
		return fmt.Sprintf("entry %d @%s %s", en.Seq, e.tsString(en.Version.TS), entryString(en))
	case frameHeartbeat:
		var hb heartbeat
		jsonInto(f.payload, &hb)
		return fmt.Sprintf("heartbeat %s head=%d", e.incName(hb.Incarnation), hb.Head)
	case frameReset:
		var rs reset
		jsonInto(f.payload, &rs)
		return fmt.Sprintf("reset %s head=%d (%s)", e.incName(rs.Incarnation), rs.Head, rs.Reason)
	}
	return fmt.Sprintf("frame %q", f.kind)
}

func entryString(en store.LogEntry) string {
	if en.Schema != nil {
		var rs []string
		for _, r := range en.Schema.Replicas {
			rs = append(rs, r.Region+"="+string(r.Status))
		}
		return fmt.Sprintf("schema %s [%s]", en.Schema.Name, strings.Join(rs, " "))
	}
	var cs []string
	for _, c := range en.Changes {
		if c.New == nil {
			cs = append(cs, fmt.Sprintf("delete %s/%s", c.Table, c.Key["pk"].Str))
		} else {
			cs = append(cs, fmt.Sprintf("put %s/%s=%s", c.Table, c.Key["pk"].Str, c.New["v"].Str))
		}
	}
	return strings.Join(cs, ", ")
}

// items lists a table's items and tombstones in a region, by key.
func items(db *store.DB, table string) ([]string, error) {
	type rec struct{ pk, s string }
	var recs []rec
	if _, err := db.ScanSnapshot(table, func(r store.SnapshotRecord) error {
		pk := r.Key["pk"].Str
		if r.Item == nil {
			recs = append(recs, rec{pk, "~" + pk})
		} else {
			recs = append(recs, rec{pk, pk + "=" + r.Item["v"].Str})
		}
		return nil
	}); err != nil {
		return nil, err
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].pk < recs[j].pk })
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.s
	}
	return out, nil
}

// Writes.

func (e *simEnv) write(r *simRegion, table, pk string, item attr.Item) error {
	action := store.Put
	if item == nil {
		action = store.Delete
	}
	_, err := r.db.Write([]store.Op{{Table: table, Key: attr.Item{"pk": attr.S(pk)}, Apply: func(attr.Item) (attr.Item, store.Action, error) {
		return item, action, nil
	}}}, store.WriteOptions{})
	if err != nil {
		return err
	}
	e.printf("%s: log head %d", r.name, r.db.LogHead())
	return nil
}

func simTable(name string, replicas []string) *store.Table {
	t := &store.Table{
		Name: name, Key: store.KeySchema{Hash: store.KeyAttr{Name: "pk", Type: attr.String}},
		Attributes: []store.KeyAttr{{Name: "pk", Type: attr.String}}, BillingMode: "PAY_PER_REQUEST",
	}
	for _, r := range replicas {
		t.Replicas = append(t.Replicas, store.Replica{Region: r})
	}
	return t
}

func durationArg(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %v", d)
	}
	return d, nil
}

func jsonInto(b []byte, v any) {
	if err := json.Unmarshal(b, v); err != nil {
		panic(err)
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// lagString lists the replication lags of a batch, each distinct one once.
func lagString(lags []time.Duration) string {
	var ds []string
	for _, l := range lags {
		if d := l.String(); !slices.Contains(ds, d) {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return ""
	}
	return "; lag " + strings.Join(ds, ", ")
}
