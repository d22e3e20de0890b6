package repl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gyre-dev/gyre/internal/hlc"
	"github.com/gyre-dev/gyre/internal/store"
)

// Peer is another region this one replicates with.
type Peer struct {
	// Name is the peer's region name.
	Name string
	// URL is the base URL of the peer's admin listener, e.g.
	// http://127.0.0.1:9002.
	URL string
}

// Options configure a Replicator.
type Options struct {
	// DB is this region's store. Required.
	DB *store.DB
	// Peers are the other regions. May be empty (a region on its own).
	Peers []Peer
	// Client returns the HTTP client for talking to a peer; it should go
	// through the simulated WAN. Default: a plain client for every peer.
	Client func(peer string) *http.Client
	// Token is the bearer token peers' admin listeners accept. Required
	// when there are peers.
	Token string
	// Logger receives replication events. Default slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics. Default: none.
	Registerer prometheus.Registerer
	// Now is the wall clock every time in repl is read from: replication
	// lag, the last apply, the stall watchdog's and the acks' schedules.
	// Default time.Now.
	Now func() time.Time
	// HeartbeatInterval is how often an idle stream carries a heartbeat.
	// Default 500ms.
	HeartbeatInterval time.Duration
	// StallTimeout drops a stream that has carried nothing for this long.
	// Default 5s; must exceed HeartbeatInterval.
	StallTimeout time.Duration
	// AckInterval is how often a puller reports its progress. Default
	// 500ms.
	AckInterval time.Duration
	// GCInterval is how often the log is truncated and the tombstone
	// horizon recomputed. Default 2s.
	GCInterval time.Duration
	// RetryMin and RetryMax bound the backoff between reconnects. Default
	// 50ms and 2s.
	RetryMin, RetryMax time.Duration
	// BatchSize bounds the entries applied in one batch. Default 256.
	BatchSize int
	// Log is this region's change log as its consumers read it: the
	// Replicator registers every peer as a consumer (Log.Follow), serves
	// their streams from it and truncates it. Other consumers (streams,
	// point-in-time recovery) share it. Default: NewLog(DB, LogOptions{});
	// it must be a Log of DB.
	Log *Log
}

func (o *Options) ensureDefaults() {
	if o.Client == nil {
		c := &http.Client{}
		o.Client = func(string) *http.Client { return c }
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = 500 * time.Millisecond
	}
	if o.StallTimeout == 0 {
		o.StallTimeout = 5 * time.Second
	}
	if o.AckInterval == 0 {
		o.AckInterval = 500 * time.Millisecond
	}
	if o.GCInterval == 0 {
		o.GCInterval = 2 * time.Second
	}
	if o.RetryMin == 0 {
		o.RetryMin = 50 * time.Millisecond
	}
	if o.RetryMax == 0 {
		o.RetryMax = 2 * time.Second
	}
	if o.BatchSize == 0 {
		o.BatchSize = 256
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.DB == nil {
		errs = append(errs, errors.New("repl: Options.DB is required"))
	}
	if len(o.Peers) > 0 && o.Token == "" {
		errs = append(errs, errors.New("repl: Options.Token is required when there are peers"))
	}
	seen := map[string]bool{}
	for _, p := range o.Peers {
		if p.Name == "" || p.URL == "" {
			errs = append(errs, fmt.Errorf("repl: peer %q needs a name and a URL", p.Name))
		}
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("repl: peer %q listed twice", p.Name))
		}
		seen[p.Name] = true
	}
	if o.StallTimeout <= o.HeartbeatInterval {
		errs = append(errs, fmt.Errorf("repl: StallTimeout %v must exceed HeartbeatInterval %v", o.StallTimeout, o.HeartbeatInterval))
	}
	if o.RetryMax < o.RetryMin {
		errs = append(errs, fmt.Errorf("repl: RetryMax %v is below RetryMin %v", o.RetryMax, o.RetryMin))
	}
	if o.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("repl: BatchSize %d must be positive", o.BatchSize))
	}
	if o.Log != nil && o.DB != nil && o.Log.db != o.DB {
		errs = append(errs, errors.New("repl: Options.Log is not the change log of Options.DB"))
	}
	return errors.Join(errs...)
}

// Replicator replicates this region's global tables with its peers. It is
// safe for concurrent use.
type Replicator struct {
	opts    Options
	db      *store.DB
	region  string
	log     *slog.Logger
	metrics *metrics

	pullers map[string]*puller
	// changes is this region's change log; outbound holds every peer's
	// position in it, as the peer last acknowledged.
	changes  *Log
	outbound map[string]*Consumer

	mu struct {
		sync.Mutex
		// applied are the peers' reports of how far they have applied
		// each origin's writes.
		applied map[string]map[string]hlc.Timestamp
		// backfills are the tables being caught up, by name.
		backfills map[string]bool
		// holds counts backfills that need every region to keep its
		// tombstones (see backfill).
		holds int
	}

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// New returns a Replicator. It reports every problem with o at once.
func New(o Options) (*Replicator, error) {
	o.ensureDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.Log == nil {
		l, err := NewLog(o.DB, LogOptions{})
		if err != nil {
			return nil, err
		}
		o.Log = l
	}
	r := &Replicator{
		opts: o, db: o.DB, region: o.DB.Region(),
		log:     o.Logger.With("component", "repl", "region", o.DB.Region()),
		pullers: map[string]*puller{}, changes: o.Log, outbound: map[string]*Consumer{},
	}
	for _, p := range o.Peers {
		c, err := o.Log.Follow(p.Name)
		if err != nil {
			return nil, err
		}
		r.outbound[p.Name] = c
	}
	r.metrics = newMetrics(o.Registerer, r.region)
	r.mu.applied = map[string]map[string]hlc.Timestamp{}
	r.mu.backfills = map[string]bool{}
	for _, p := range o.Peers {
		r.pullers[p.Name] = newPuller(r, p)
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// Start begins pulling from every peer, resumes unfinished backfills, and
// starts log truncation and tombstone collection.
func (r *Replicator) Start() error {
	if len(r.opts.Peers) > 0 {
		r.db.SetTombstoneHorizon(r.tombstoneHorizon)
	}
	for _, p := range r.pullers {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			p.run(r.ctx)
		}()
	}
	for _, name := range r.db.TableNames() {
		t, err := r.db.Table(name)
		if err != nil {
			continue
		}
		if mine := t.Replica(r.region); mine != nil && mine.Status == store.StatusCreating {
			r.startBackfill(name)
		}
	}
	r.wg.Add(1)
	go r.gcLoop()
	return nil
}

// Shutdown stops replication and waits for its goroutines. Cursors are
// durable as entries are applied, so nothing needs flushing. It is
// idempotent.
func (r *Replicator) Shutdown(ctx context.Context) error {
	r.once.Do(r.cancel)
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// peer returns the named peer.
func (r *Replicator) peer(name string) (Peer, bool) {
	i := slices.IndexFunc(r.opts.Peers, func(p Peer) bool { return p.Name == name })
	if i < 0 {
		return Peer{}, false
	}
	return r.opts.Peers[i], true
}

// appliedVector reports how far this region has applied every origin's
// writes, itself included.
func (r *Replicator) appliedVector() map[string]hlc.Timestamp {
	r.mu.Lock()
	held := r.mu.holds > 0
	r.mu.Unlock()
	return appliedVector(r.db, peerNames(r.opts.Peers), held)
}

// tombstoneHorizon is the timestamp below which every region has applied
// every origin's writes (see tombstoneHorizon in tombstones.go).
func (r *Replicator) tombstoneHorizon() hlc.Timestamp {
	mine := r.appliedVector()
	r.mu.Lock()
	defer r.mu.Unlock()
	return tombstoneHorizon(r.region, peerNames(r.opts.Peers), mine, r.mu.applied)
}

func peerNames(ps []Peer) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// gcLoop truncates the log below what every peer has applied.
func (r *Replicator) gcLoop() {
	defer r.wg.Done()
	t := time.NewTicker(r.opts.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
		r.gcOnce()
	}
}

// gcOnce truncates the log as far as its consumers allow and updates the
// retention metrics. A panic is logged, and the loop carries on.
func (r *Replicator) gcOnce() {
	defer func() {
		if v := recover(); v != nil {
			r.log.Error("change log truncation panicked", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	// While the store refuses writes it logs why itself; the log is
	// truncated once it recovers.
	if _, err := r.changes.Truncate(); err != nil && r.ctx.Err() == nil && !errors.Is(err, store.ErrStorageFailing) {
		r.log.Error("truncating the change log", "err", err)
	}
	s := r.Status()
	r.metrics.retained.Set(float64(s.LogHead - s.LogFloor))
	for _, o := range s.Outbound {
		// A peer that has acknowledged nothing yet may lack all of it.
		b := o.Backlog
		if !o.Known {
			b = s.LogHead - s.LogFloor
		}
		r.metrics.backlog.WithLabelValues(o.Destination).Set(float64(b))
	}
}

// Log returns this region's change log, which the Replicator truncates:
// other consumers register with it.
func (r *Replicator) Log() *Log { return r.changes }

// Handler serves the endpoints peers use: /repl/pull, /repl/ack,
// /repl/snapshot and /repl/digest. The caller authenticates requests.
func (r *Replicator) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /repl/pull", r.servePull)
	mux.HandleFunc("POST /repl/ack", r.serveAck)
	mux.HandleFunc("GET /repl/snapshot", r.serveSnapshot)
	mux.HandleFunc("GET /repl/digest", r.serveDigest)
	return mux
}
