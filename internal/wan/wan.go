package wan

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// WAN is the simulated network between regions. Every cross-region
// connection is dialed through it (DialContext, DialFunc, Transport,
// HTTPClient); its links are changed at run time (Set, Partition, Isolate,
// Heal, Reset) and the connections already open obey at once. A WAN is safe
// for concurrent use. It owns no goroutines of its own; each connection it
// dials owns two until it is closed.
type WAN struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	regions []string
	index   map[string]int
	// links[i][j] carries bytes from regions[i] to regions[j]; nil when
	// i == j.
	links [][]*link

	mu struct {
		sync.Mutex
		// partitioned[i][j] (and [j][i]) is true while Partition holds
		// the pair down.
		partitioned [][]bool
		isolated    []bool
		// conns holds the open connections by the unordered pair they
		// cross, so a link going down can break them.
		conns map[pair]map[*conn]struct{}
		// seed draws the seeds of the connections' jitter generators and
		// the jitter of handshakes.
		seed *rand.Rand
		// generation counts changes; changed is closed at the next one.
		generation uint64
		changed    chan struct{}
	}
}

// pair is an unordered pair of region indexes, lower first.
type pair [2]int

func pairOf(i, j int) pair {
	if i > j {
		i, j = j, i
	}
	return pair{i, j}
}

// link is one direction between two regions.
type link struct {
	from, to string
	// initial holds the settings New gave the link; Reset returns to them.
	initial linkParams
	// params holds the current settings. Connections load them for every
	// chunk they send, so a change applies to bytes sent after it.
	params atomic.Pointer[linkParams]
	m      linkMetrics
}

// linkParams are the settings of one direction. They are immutable once
// published.
type linkParams struct {
	latency, jitter time.Duration
}

// delay draws the delay of one chunk.
func (p *linkParams) delay(r *rand.Rand) time.Duration {
	if p.jitter <= 0 {
		return p.latency
	}
	return p.latency + time.Duration(r.Int64N(int64(p.jitter)+1))
}

// New builds a WAN from o: every link up, latencies from o.Links, the
// built-in table or o.FallbackLatency. It reports every problem with o at
// once.
func New(o Options) (*WAN, error) {
	o.ensureDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	n := len(o.Regions)
	w := &WAN{
		opts:    o,
		log:     o.Logger.With("component", "wan"),
		metrics: newMetrics(o.Registerer),
		regions: append([]string(nil), o.Regions...),
		index:   make(map[string]int, n),
		links:   make([][]*link, n),
	}
	for i, r := range w.regions {
		w.index[r] = i
	}
	for i, from := range w.regions {
		w.links[i] = make([]*link, n)
		for j, to := range w.regions {
			if i != j {
				w.links[i][j] = &link{from: from, to: to, initial: o.defaultParams(from, to), m: w.metrics.link(from, to)}
			}
		}
	}
	for _, l := range o.Links {
		i, j := w.index[l.From], w.index[l.To]
		p := linkParams{latency: l.Latency, jitter: l.Jitter}
		w.links[i][j].initial = p
		if !l.OneWay {
			w.links[j][i].initial = p
		}
	}
	w.mu.partitioned = make([][]bool, n)
	for i := range w.mu.partitioned {
		w.mu.partitioned[i] = make([]bool, n)
	}
	w.mu.isolated = make([]bool, n)
	w.mu.conns = make(map[pair]map[*conn]struct{})
	w.mu.seed = rand.New(o.Rand)
	w.mu.changed = make(chan struct{})
	w.forEachLink(func(l *link) {
		p := l.initial
		l.params.Store(&p)
	})
	w.mu.Lock()
	w.publishLocked()
	w.mu.Unlock()
	return w, nil
}

// Regions returns the names of the WAN's regions, in Options order. The
// caller owns the slice.
func (w *WAN) Regions() []string { return append([]string(nil), w.regions...) }

// Set sets the one-way latency and jitter of both directions between a and
// b. Bytes sent after Set returns pay the new delay; bytes already in
// flight keep theirs, and none overtakes an earlier one. Setting a link
// that is down is allowed: the settings apply once it is healed. It returns
// ErrUnknownRegion, ErrSameRegion or ErrInvalidDelay for bad arguments.
func (w *WAN) Set(a, b string, latency, jitter time.Duration) error {
	return w.set(a, b, latency, jitter, false)
}

// SetOneWay is Set for the direction from -> to alone, for asymmetric
// links.
func (w *WAN) SetOneWay(from, to string, latency, jitter time.Duration) error {
	return w.set(from, to, latency, jitter, true)
}

func (w *WAN) set(from, to string, latency, jitter time.Duration, oneWay bool) error {
	if err := checkLink(w.knownSet(from, to), from, to, latency, jitter); err != nil {
		return err
	}
	i, j := w.index[from], w.index[to]
	p := &linkParams{latency: latency, jitter: jitter}
	w.mu.Lock()
	w.links[i][j].params.Store(p)
	if !oneWay {
		w.links[j][i].params.Store(p)
	}
	w.publishLocked()
	w.mu.Unlock()
	w.log.Info("link set", "from", from, "to", to, "latency", latency, "jitter", jitter, "one_way", oneWay)
	return nil
}

// knownSet returns which of names are regions of w, in the form
// checkLink takes.
func (w *WAN) knownSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		_, m[n] = w.index[n]
	}
	return m
}

// Partition takes both directions between a and b down until Heal or
// HealLink: dials across the link fail at once, and the connections open
// across it fail at once (see the package documentation). Partitioning a
// partitioned pair does nothing. It returns ErrUnknownRegion or
// ErrSameRegion for bad arguments.
func (w *WAN) Partition(a, b string) error {
	i, j, err := w.pairIndex(a, b)
	if err != nil {
		return err
	}
	w.mu.Lock()
	if w.mu.partitioned[i][j] {
		w.mu.Unlock()
		return nil
	}
	w.mu.partitioned[i][j], w.mu.partitioned[j][i] = true, true
	broken := w.takeConnsLocked(pairOf(i, j), nil)
	w.publishLocked()
	w.mu.Unlock()
	breakConns(broken)
	w.log.Info("link partitioned", "a", a, "b", b, "broken_connections", len(broken))
	return nil
}

// Isolate takes every link of region down until Heal or Rejoin, as
// Partition does for one pair; links between other regions are untouched.
// Isolating an isolated region does nothing. It returns ErrUnknownRegion
// for a bad argument.
func (w *WAN) Isolate(region string) error {
	i, ok := w.index[region]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownRegion, region)
	}
	w.mu.Lock()
	if w.mu.isolated[i] {
		w.mu.Unlock()
		return nil
	}
	w.mu.isolated[i] = true
	var broken []cut
	for j := range w.regions {
		if j != i {
			broken = w.takeConnsLocked(pairOf(i, j), broken)
		}
	}
	w.publishLocked()
	w.mu.Unlock()
	breakConns(broken)
	w.log.Info("region isolated", "region", region, "broken_connections", len(broken))
	return nil
}

// HealLink lifts the partition between a and b. The link stays down while
// either end is isolated. Connections broken by the partition stay broken;
// new dials succeed. It returns ErrUnknownRegion or ErrSameRegion for bad
// arguments.
func (w *WAN) HealLink(a, b string) error {
	i, j, err := w.pairIndex(a, b)
	if err != nil {
		return err
	}
	w.mu.Lock()
	if w.mu.partitioned[i][j] {
		w.mu.partitioned[i][j], w.mu.partitioned[j][i] = false, false
		w.publishLocked()
	}
	w.mu.Unlock()
	w.log.Info("link healed", "a", a, "b", b)
	return nil
}

// Rejoin lifts the isolation of region. Its links to regions it is
// partitioned from stay down. It returns ErrUnknownRegion for a bad
// argument.
func (w *WAN) Rejoin(region string) error {
	i, ok := w.index[region]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownRegion, region)
	}
	w.mu.Lock()
	if w.mu.isolated[i] {
		w.mu.isolated[i] = false
		w.publishLocked()
	}
	w.mu.Unlock()
	w.log.Info("region rejoined", "region", region)
	return nil
}

// Heal lifts every partition and isolation, keeping latencies as they are.
func (w *WAN) Heal() {
	w.mu.Lock()
	w.healLocked()
	w.publishLocked()
	w.mu.Unlock()
	w.log.Info("network healed")
}

// Reset heals the network and returns every link to the latency and jitter
// New gave it (Options.Links, else the defaults).
func (w *WAN) Reset() {
	w.mu.Lock()
	w.healLocked()
	w.forEachLink(func(l *link) {
		p := l.initial
		l.params.Store(&p)
	})
	w.publishLocked()
	w.mu.Unlock()
	w.log.Info("network reset")
}

func (w *WAN) healLocked() {
	for i := range w.regions {
		clear(w.mu.partitioned[i])
	}
	clear(w.mu.isolated)
}

// Changed returns a channel that is closed at the next change to the
// network's settings or state. To follow the network without missing a
// change, take the channel before the Snapshot it is to invalidate:
//
//	for {
//		ch := w.Changed()
//		show(w.Snapshot())
//		<-ch
//	}
func (w *WAN) Changed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mu.changed
}

// Snapshot returns the current settings and state of every link.
func (w *WAN) Snapshot() Snapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := Snapshot{
		Generation: w.mu.generation,
		Regions:    append([]string(nil), w.regions...),
		Partitions: [][2]string{},
		Isolated:   []string{},
		Links:      make([]LinkState, 0, len(w.regions)*(len(w.regions)-1)),
	}
	for i, a := range w.regions {
		if w.mu.isolated[i] {
			s.Isolated = append(s.Isolated, a)
		}
		for j := i + 1; j < len(w.regions); j++ {
			if w.mu.partitioned[i][j] {
				s.Partitions = append(s.Partitions, [2]string{a, w.regions[j]})
			}
		}
	}
	w.forEachLink(func(l *link) {
		i, j := w.index[l.from], w.index[l.to]
		p := l.params.Load()
		part, iso := w.downLocked(i, j)
		s.Links = append(s.Links, LinkState{
			From: l.from, To: l.to,
			Latency: Duration(p.latency), Jitter: Duration(p.jitter),
			Up: !part && !iso, Partitioned: part, Isolated: iso,
		})
	})
	return s
}

// downLocked reports whether the link between regions i and j is held down
// by a partition and by an isolation.
func (w *WAN) downLocked(i, j int) (partitioned, isolated bool) {
	return w.mu.partitioned[i][j], w.mu.isolated[i] || w.mu.isolated[j]
}

// linkErrLocked returns the error for a dial from i to j, nil when the link
// is up.
func (w *WAN) linkErrLocked(i, j int) *LinkError {
	part, iso := w.downLocked(i, j)
	if !part && !iso {
		return nil
	}
	return &LinkError{From: w.regions[i], To: w.regions[j], Partitioned: part, Isolated: iso}
}

// publishLocked records a change: it bumps the generation, wakes Changed's
// waiters and brings the link gauges up to date.
func (w *WAN) publishLocked() {
	w.mu.generation++
	close(w.mu.changed)
	w.mu.changed = make(chan struct{})
	w.forEachLink(func(l *link) {
		part, iso := w.downLocked(w.index[l.from], w.index[l.to])
		l.m.setState(!part && !iso, l.params.Load())
	})
}

// forEachLink calls f for every link, in Snapshot's order.
func (w *WAN) forEachLink(f func(*link)) {
	for i := range w.links {
		for j := range w.links[i] {
			if i != j {
				f(w.links[i][j])
			}
		}
	}
}

// pairIndex resolves two distinct region names.
func (w *WAN) pairIndex(a, b string) (int, int, error) {
	i, ok := w.index[a]
	if !ok {
		return 0, 0, fmt.Errorf("%w %q", ErrUnknownRegion, a)
	}
	j, ok := w.index[b]
	if !ok {
		return 0, 0, fmt.Errorf("%w %q", ErrUnknownRegion, b)
	}
	if i == j {
		return 0, 0, fmt.Errorf("%w (%s)", ErrSameRegion, a)
	}
	return i, j, nil
}

// register records c as crossing its link, unless the link is down.
func (w *WAN) register(c *conn) *LinkError {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.linkErrLocked(c.i, c.j); err != nil {
		return err
	}
	p := c.pair
	set := w.mu.conns[p]
	if set == nil {
		set = make(map[*conn]struct{})
		w.mu.conns[p] = set
	}
	set[c] = struct{}{}
	c.fwd.m.open.Inc()
	return nil
}

// forget removes c from the registry.
func (w *WAN) forget(c *conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if set := w.mu.conns[c.pair]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(w.mu.conns, c.pair)
		}
	}
}

// cut is a connection to break and the error to break it with.
type cut struct {
	c   *conn
	err *LinkError
}

// takeConnsLocked removes the connections crossing p from the registry and
// appends them to cuts, with the error each is to fail with. The caller
// has already taken the link down.
func (w *WAN) takeConnsLocked(p pair, cuts []cut) []cut {
	for c := range w.mu.conns[p] {
		cuts = append(cuts, cut{c, w.linkErrLocked(c.i, c.j)})
	}
	delete(w.mu.conns, p)
	return cuts
}

// breakConns fails connections whose link went down. It runs without w.mu:
// breaking a connection closes its socket and takes w.mu to forget it.
func breakConns(cuts []cut) {
	for _, k := range cuts {
		k.c.breakLink(k.err)
	}
}
