package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// Service is one node of a control panel's Raft group: it holds a replica
// of the panel's controls, rules and history, answers reads from it
// (State, On, Watch) without touching the network, and takes changes (Set)
// from any node, forwarding them to the leader. It is safe for concurrent
// use. Build it with New, then Start it; Shutdown stops it.
type Service struct {
	opts Options
	id   string
	log  *slog.Logger
	hlog hclog.Logger
	// quiet turns raft's warnings into debug messages (see Quiet).
	quiet   atomic.Bool
	metrics *metrics
	peers   map[string]string // ID -> RaftAddr
	want    *config           // the configuration Options describe

	// ctx is canceled when Shutdown begins; work on behalf of peers
	// (forwarded changes, reconciliation) ends with it.
	ctx    context.Context
	cancel context.CancelFunc

	// view is the current State, replaced (never modified) on every
	// change: On and State read it without locking.
	view atomic.Pointer[State]

	// life serializes Start with Shutdown, so Shutdown stops what a
	// concurrent Start built.
	life sync.Mutex

	// Set by Start; read-only once mu.running is set. raft is also read
	// by publishLocked, under mu, from Raft's own goroutines during Start.
	raft   *raft.Raft
	trans  *raft.NetworkTransport
	mux    *mux
	store  *raftboltdb.BoltStore
	obs    *raft.Observer
	obsCh  chan raft.Observation
	loops  sync.WaitGroup
	nudge  chan struct{} // wakes the reconcile loop
	done   chan struct{} // closed when Shutdown has finished
	result error         // Shutdown's result, set before done is closed

	mu struct {
		sync.Mutex
		// started is set when Start is called, running when it has
		// succeeded, stopping when Shutdown is.
		started, running, stopping bool
		// machine is the state machine's part of the view, as last
		// published by the FSM.
		machine State
		// config is the replicated configuration; nil before the first.
		config *config
		// warned is set once this node has warned that its Options differ
		// from the replicated configuration, until they agree again.
		warned bool
		// floor is the index of the last command this node had applied
		// before it restarted (see recoverView); publishMachine ignores
		// the states Raft replays below it.
		floor      uint64
		generation uint64
		changed    chan struct{}
	}
}

// New builds a Service from o. It reports every problem with o at once. It
// does no I/O: Start opens the data directory and joins the group.
func New(o Options) (*Service, error) {
	o.Peers = slices.Clone(o.Peers)
	o.Controls = slices.Clone(o.Controls)
	o.Rules = cloneRulesOrNil(o.Rules)
	o.ensureDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	s := &Service{
		opts:    o,
		id:      o.NodeID,
		log:     o.Logger.With("component", "control", "region", o.NodeID),
		metrics: newMetrics(o.Registerer, o.NodeID),
		peers:   make(map[string]string, len(o.Peers)),
		want:    o.config(),
		nudge:   make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	s.hlog = newRaftLogger(o.Logger.With("region", o.NodeID), &s.quiet)
	for _, p := range o.Peers {
		s.peers[p.ID] = p.RaftAddr
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	// Until the replicated configuration is applied, the view is the
	// configuration this node was given, every control on.
	m := machine{Config: *s.want, Values: make(map[string]controlValue, len(s.want.Controls))}
	for _, n := range s.want.Controls {
		m.Values[n] = controlValue{On: true}
	}
	m.view(&s.mu.machine)
	s.mu.changed = make(chan struct{})
	s.publishLocked()
	return s, nil
}

func cloneRulesOrNil(rules []Rule) []Rule {
	if rules == nil {
		return nil
	}
	return cloneRules(rules)
}

// Start opens the node's data directory and joins the Raft group. On the
// first start (no Raft state in DataDir) it bootstraps the group with every
// peer as a voter; every node does the same, and Raft accepts identical
// bootstraps, so no node has to go first and the group forms once a
// majority has started. Later starts do not bootstrap again: they recover
// the state the node last applied (from its latest snapshot and its log,
// see recover.go) and serve it until a leader brings news.
//
// Start does not wait for a leader: a node starts while a majority is
// down, serving the state it last knew. It fails if called twice or after
// Shutdown; on failure it closes what it opened, Listener included.
func (s *Service) Start(ctx context.Context) (err error) {
	s.life.Lock()
	defer s.life.Unlock()
	if err := s.markStarted(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		s.opts.Listener.Close()
		return err
	}

	var closers []func() error
	defer func() {
		if err != nil {
			for _, c := range slices.Backward(closers) {
				c()
			}
			s.opts.Listener.Close()
		}
	}()

	st, err := s.openStorage()
	if err != nil {
		return err
	}
	closers = append(closers, st.store.Close)
	m, trans := s.openTransport()
	closers = append(closers, m.Close, trans.Close)

	conf := s.raftConfig()
	recovered, err := s.bootstrapOrRecover(conf, st, trans)
	if err != nil {
		return err
	}
	r, err := raft.NewRaft(conf, &fsm{s: s, stable: st.store}, st.logs, st.store, st.snaps, trans)
	if err != nil {
		return fmt.Errorf("control: starting raft: %w", err)
	}
	s.mu.Lock()
	s.raft = r
	s.mu.Unlock()
	s.trans, s.mux, s.store = trans, m, st.store
	m.start()
	s.startLoops(r)

	s.mu.Lock()
	s.mu.running = true
	s.publishLocked()
	s.mu.Unlock()
	s.log.Info("control node started", "peers", len(s.opts.Peers), "raft_addr", s.peers[s.id], "recovered", recovered)
	return nil
}

// markStarted records that Start was called, refusing a second call and a
// call after Shutdown.
func (s *Service) markStarted() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.mu.stopping:
		return ErrStopped
	case s.mu.started:
		return errors.New("control: Start called twice")
	}
	s.mu.started = true
	return nil
}

// raftStorage is the Raft state in the data directory: the log and stable
// store (one bolt file), a cache in front of its log, and the snapshots.
type raftStorage struct {
	store *raftboltdb.BoltStore
	logs  *raft.LogCache
	snaps *raft.FileSnapshotStore
}

// openStorage creates the data directory if need be and opens the Raft
// state in it. On error it closes what it opened.
func (s *Service) openStorage() (_ *raftStorage, err error) {
	if err := os.MkdirAll(s.opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("control: creating the data directory: %w", err)
	}
	store, err := raftboltdb.New(raftboltdb.Options{
		Path: filepath.Join(s.opts.DataDir, "raft.db"),
		// A second node on the same directory fails rather than waits.
		BoltOptions: &bbolt.Options{Timeout: time.Second},
	})
	if err != nil {
		return nil, fmt.Errorf("control: opening the raft log in %s: %w", s.opts.DataDir, err)
	}
	defer func() {
		if err != nil {
			store.Close()
		}
	}()
	logs, err := raft.NewLogCache(256, store)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(s.opts.DataDir, 2, s.hlog.Named("snapshots"))
	if err != nil {
		return nil, fmt.Errorf("control: opening the snapshot store: %w", err)
	}
	return &raftStorage{store: store, logs: logs, snaps: snaps}, nil
}

// openTransport builds Raft's transport over a mux on Options.Listener,
// which also serves the changes peers forward. The mux is not started.
func (s *Service) openTransport() (*mux, *raft.NetworkTransport) {
	m := newMux(s.opts.Listener, Peer{ID: s.id, RaftAddr: s.peers[s.id]}, s.opts.Peers, s.opts.Dial, s.log, s.serveForward)
	trans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  streamLayer{m},
		MaxPool: 3,
		Timeout: 5 * time.Second,
		Logger:  s.hlog.Named("transport"),
	})
	return m, trans
}

// bootstrapOrRecover recovers the view this node last applied when the data
// directory holds Raft state (and reports recovered), and otherwise
// bootstraps the group with every peer as a voter.
func (s *Service) bootstrapOrRecover(conf *raft.Config, st *raftStorage, trans raft.Transport) (recovered bool, err error) {
	has, err := raft.HasExistingState(st.logs, st.store, st.snaps)
	if err != nil {
		return false, fmt.Errorf("control: reading the raft state in %s: %w", s.opts.DataDir, err)
	}
	if has {
		s.recoverView(st.logs, st.store, st.snaps)
		return true, nil
	}
	var voters raft.Configuration
	for _, p := range s.opts.Peers {
		voters.Servers = append(voters.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.RaftAddr)})
	}
	if err := raft.BootstrapCluster(conf, st.logs, st.store, st.snaps, trans, voters); err != nil {
		return false, fmt.Errorf("control: bootstrapping the raft group: %w", err)
	}
	s.log.Info("raft group bootstrapped", "voters", len(voters.Servers), "data_dir", s.opts.DataDir)
	return false, nil
}

// startLoops starts the loops that follow r: one observes leadership and
// state changes, the other reconciles the replicated configuration with
// Options, woken at once if r is already the leader.
func (s *Service) startLoops(r *raft.Raft) {
	s.obsCh = make(chan raft.Observation, 16)
	s.obs = raft.NewObserver(s.obsCh, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.RaftState:
			return true
		}
		return false
	})
	r.RegisterObserver(s.obs)
	s.loops.Add(2)
	go s.observeLoop()
	go s.reconcileLoop()
	if r.State() == raft.Leader {
		// Elected before the observer was registered.
		select {
		case s.nudge <- struct{}{}:
		default:
		}
	}
}

// raftConfig is the Raft configuration of the node.
func (s *Service) raftConfig() *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = raft.ServerID(s.id)
	c.HeartbeatTimeout = s.opts.HeartbeatTimeout
	c.ElectionTimeout = s.opts.ElectionTimeout
	c.LeaderLeaseTimeout = s.opts.LeaderLeaseTimeout
	c.CommitTimeout = min(c.CommitTimeout, s.opts.HeartbeatTimeout/5)
	c.SnapshotInterval = s.opts.SnapshotInterval
	c.SnapshotThreshold = s.opts.SnapshotThreshold
	c.TrailingLogs = 1024
	c.Logger = s.hlog
	c.NoLegacyTelemetry = true
	return c
}

// Shutdown stops the node, leaving the group's state intact: a leader first
// hands the leadership to another node (so the group need not wait out an
// election timeout), the node snapshots its state (so a restart has no log
// to replay), then Raft stops and the listener, connections and data
// directory are closed. Set returns ErrStopped once Shutdown has begun.
//
// Shutdown is idempotent: later calls wait for the first to finish (or
// ctx to end) and return its result. If ctx ends first, Shutdown still
// closes everything, abruptly, and returns ctx's error.
func (s *Service) Shutdown(ctx context.Context) error {
	s.quiet.Store(true)
	return s.shutdown(ctx, true)
}

// Quiet makes raft's warnings debug messages from now on: the caller is
// about to stop this node or its peers on purpose (gyre up on Ctrl-C stops
// every region), so peers becoming unreachable is expected. Shutdown
// implies it.
func (s *Service) Quiet() { s.quiet.Store(true) }

// shutdown is Shutdown; graceful false skips the leadership hand-over and
// the snapshot, as a crash would (tests use it).
func (s *Service) shutdown(ctx context.Context, graceful bool) error {
	s.mu.Lock()
	first := !s.mu.stopping
	s.mu.stopping = true
	s.mu.Unlock()
	if !first {
		select {
		case <-s.done:
			return s.result
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer close(s.done)
	// Wait for a Start under way.
	s.life.Lock()
	defer s.life.Unlock()
	s.mu.Lock()
	running := s.mu.running
	s.mu.Unlock()
	if !running {
		// Never started, or Start failed (and closed the listener).
		s.cancel()
		if err := s.opts.Listener.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.result = err
		}
		return s.result
	}
	s.result = s.stop(ctx, graceful)
	return s.result
}

func (s *Service) stop(ctx context.Context, graceful bool) error {
	var errs []error
	if graceful && s.raft.State() == raft.Leader && len(s.peers) > 1 {
		if err := wait(ctx, s.raft.LeadershipTransfer()); err != nil {
			s.log.Debug("handing over the leadership failed", "err", err)
		} else {
			s.log.Info("leadership handed over")
		}
	}
	// Forwarded changes and reconciliation stop here; Raft may still be
	// replicating.
	s.cancel()
	if graceful {
		if err := wait(ctx, s.raft.Snapshot()); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
			s.log.Warn("snapshot at shutdown failed", "err", err)
		}
	}
	f := s.raft.Shutdown()
	if err := wait(ctx, f); err != nil {
		// Out of time: cut the connections Raft may be blocked on, then
		// let it finish.
		errs = append(errs, err)
		s.mux.Close()
		f.Error()
	}
	s.raft.DeregisterObserver(s.obs)
	s.loops.Wait()
	s.trans.CloseStreams()
	s.trans.Close()
	if err := s.mux.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		errs = append(errs, fmt.Errorf("control: closing the listener: %w", err))
	}
	if err := s.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("control: closing the raft log: %w", err))
	}
	s.publish()
	s.log.Info("control node stopped")
	return errors.Join(errs...)
}

// wait waits for f, or for ctx to end.
func wait(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// State returns the node's current view of the panel, from its own replica:
// it does no I/O and takes no lock. The view lags the leader's by the
// replication delay, and on a node cut off from the majority it is the
// last state the node learned. See State for what it holds.
func (s *Service) State() State { return *s.view.Load() }

// On reports whether control is on in the node's current view. A control
// the panel does not have is off. It is meant for every DNS answer and
// every request through the front door: it takes no lock and allocates
// nothing.
func (s *Service) On(control string) bool { return s.view.Load().on[control] }

// Watch returns a channel that is closed when the node's view next
// changes (State.Generation increases). To follow the view without
// missing a change, take the channel before reading the State it is to
// invalidate:
//
//	for {
//		ch := svc.Watch()
//		use(svc.State())
//		<-ch
//	}
func (s *Service) Watch() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.changed
}

// Override asks Set to bypass the safety rules. The Reason is required and
// kept in the history.
type Override struct {
	Reason string
}

// Set sets each control named in changes to its value, all or none, and
// returns the node's view once the change is applied. Any node takes
// changes: a follower forwards them to the leader (retrying with the next
// leader if the leadership moves), since Raft appends on the leader only.
// origin says who asked ("alice@laptop"); the node's ID is recorded as
// where.
//
// The leader's state machine judges the change against the panel's rules
// at the moment it is applied, so concurrent changes cannot together break
// a rule. Set returns:
//
//   - an error wrapping ErrUnknownControl or ErrInvalidChange for a bad
//     request (no controls, an unknown control, an override without a
//     reason);
//   - a *RuleError naming the first rule the change breaks, unless override
//     is non-nil: an override applies the change anyway, records it and
//     the rules it broke in the history, and is logged at warn level;
//   - ErrNoQuorum when no leader took the change before ctx's deadline
//     (Options.SetTimeout if ctx has none): a majority is down or cut off;
//   - ErrStopped after Shutdown, or before Start.
//
// Setting a control to the value it has succeeds and records nothing.
func (s *Service) Set(ctx context.Context, changes map[string]bool, override *Override, origin string) (State, error) {
	s.mu.Lock()
	live := s.mu.running && !s.mu.stopping
	s.mu.Unlock()
	if !live {
		return s.State(), ErrStopped
	}
	if len(changes) == 0 {
		return s.State(), fmt.Errorf("%w: no controls to set", ErrInvalidChange)
	}
	if override != nil && override.Reason == "" {
		return s.State(), fmt.Errorf("%w: an override needs a reason", ErrInvalidChange)
	}
	if err := checkKnown(s.view.Load().on, changes); err != nil {
		return s.State(), err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.SetTimeout)
		defer cancel()
	}
	c := command{
		Op: opSet, ID: newID(), Time: s.opts.Now().UTC().Round(0),
		Origin: origin, Node: s.id, Changes: maps.Clone(changes),
	}
	if override != nil {
		c.Override, c.Reason = true, override.Reason
	}
	retry := max(s.opts.HeartbeatTimeout/5, time.Millisecond)
	for {
		watch := s.Watch()
		var (
			res    result
			index  uint64
			err    error
			leader = s.leader()
		)
		switch leader {
		case "":
			err = errNotLeader
		case s.id:
			res, index, err = s.applyLocal(ctx, c)
		default:
			res, index, err = s.forward(ctx, leader, c)
		}
		if err == nil && errors.Is(res.Err, errNotConfigured) {
			err = res.Err
		}
		switch {
		case err == nil:
		case errors.Is(err, ErrStopped):
			return s.State(), ErrStopped
		case errors.Is(err, errNotLeader), errors.Is(err, errNotConfigured), isLinkError(err):
			s.log.Debug("change not taken, retrying", "leader", leader, "err", err)
			timer := time.NewTimer(retry)
			select {
			case <-ctx.Done():
				timer.Stop()
				return s.State(), fmt.Errorf("%w (last: %v)", ErrNoQuorum, err)
			case <-s.ctx.Done():
				timer.Stop()
				return s.State(), ErrStopped
			case <-watch:
			case <-timer.C:
			}
			timer.Stop()
			continue
		default:
			return s.State(), err
		}
		if res.Err != nil {
			return s.State(), res.Err
		}
		s.logChange(res)
		if leader != s.id {
			s.waitApplied(ctx, index)
		}
		return s.State(), nil
	}
}

func isLinkError(err error) bool {
	var le *linkError
	return errors.As(err, &le)
}

// logChange logs an applied change on the node that took it.
func (s *Service) logChange(res result) {
	ch := res.Change
	if ch == nil || res.Duplicate {
		return
	}
	var changes []string
	for _, c := range ch.Controls {
		changes = append(changes, fmt.Sprintf("%s %s->%s", c.Control, onOff(c.From), onOff(c.To)))
	}
	attrs := []any{"changes", strings.Join(changes, ", "), "origin", ch.Origin, "index", ch.Index}
	if ch.Override {
		attrs = append(attrs, "reason", ch.Reason)
		if len(ch.Bypassed) > 0 {
			attrs = append(attrs, "bypassed_rules", strings.Join(ch.Bypassed, ", "))
		}
		s.log.Warn("routing controls changed by override", attrs...)
		return
	}
	s.log.Info("routing controls changed", attrs...)
}

// waitApplied waits until the node's replica has applied index, or ctx
// ends (the change is committed either way; this only gives the caller
// its own write in the State it returns).
func (s *Service) waitApplied(ctx context.Context, index uint64) {
	for {
		ch := s.Watch()
		if s.view.Load().AppliedIndex >= index {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		case <-s.ctx.Done():
			return
		}
	}
}

// leader returns the ID of the node this one believes leads, or "".
func (s *Service) leader() string {
	_, id := s.raft.LeaderWithID()
	return string(id)
}

// applyLocal appends c to the log on this node, which must lead, and
// returns what applying it yielded and its index. It returns errNotLeader
// when this node does not lead (or stops leading before c commits),
// ErrStopped when Raft is shutting down, and ErrNoQuorum when ctx ends
// first.
func (s *Service) applyLocal(ctx context.Context, c command) (result, uint64, error) {
	if s.raft.State() != raft.Leader {
		return result{}, 0, errNotLeader
	}
	data, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("control: a command does not encode: %v", err))
	}
	var enqueue time.Duration
	if d, ok := ctx.Deadline(); ok {
		enqueue = max(time.Until(d), time.Millisecond)
	}
	f := s.raft.Apply(data, enqueue)
	if err := wait(ctx, f); err != nil {
		switch {
		case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
			errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrEnqueueTimeout):
			return result{}, 0, fmt.Errorf("%w: %v", errNotLeader, err)
		case errors.Is(err, raft.ErrRaftShutdown):
			return result{}, 0, ErrStopped
		case ctx.Err() != nil:
			return result{}, 0, fmt.Errorf("%w: the change was not committed in time", ErrNoQuorum)
		}
		return result{}, 0, fmt.Errorf("control: applying a change: %w", err)
	}
	res, _ := f.Response().(result)
	return res, f.Index(), nil
}

// newID returns a random request ID.
func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// publish rebuilds the view from the Raft node's leader and term.
func (s *Service) publish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publishLocked()
}

// publishMachine replaces the state machine's part of the view.
func (s *Service) publishMachine(m *machine) {
	var v State
	m.view(&v)
	cfg := m.Config
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.Index < s.mu.floor {
		// Raft is replaying entries this node applied before it
		// stopped; the view already shows where the replay will end.
		return
	}
	s.mu.machine = v
	if m.Configured {
		cfg.Rules = cloneRules(cfg.Rules)
		cfg.Controls = slices.Clone(cfg.Controls)
		s.mu.config = &cfg
		switch {
		case cfg.equal(s.want):
			s.mu.warned = false
		case !s.mu.warned:
			s.mu.warned = true
			s.log.Warn("this node's panel configuration differs from the replicated one; it is written when this node leads",
				"replicated_controls", cfg.Controls, "own_controls", s.want.Controls)
		}
	}
	s.publishLocked()
}

// publishLocked stores a new view and wakes Watch's callers.
func (s *Service) publishLocked() {
	v := s.mu.machine
	v.Node = s.id
	leading := false
	if s.raft != nil {
		v.Leader = s.leader()
		v.Term = s.raft.CurrentTerm()
		leading = s.raft.State() == raft.Leader
	}
	s.mu.generation++
	v.Generation = s.mu.generation
	s.view.Store(&v)
	close(s.mu.changed)
	s.mu.changed = make(chan struct{})
	s.metrics.observe(&v, leading)
}

// observeLoop follows Raft's leadership changes: it republishes the view
// (leader, term) and, when this node becomes leader, wakes the reconcile
// loop.
func (s *Service) observeLoop() {
	defer s.loops.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case o := <-s.obsCh:
			if lo, ok := o.Data.(raft.LeaderObservation); ok {
				if lo.LeaderID == "" {
					s.log.Info("no raft leader", "term", s.raft.CurrentTerm())
				} else {
					s.log.Info("raft leader", "leader", string(lo.LeaderID), "term", s.raft.CurrentTerm())
				}
			}
			if st, ok := o.Data.(raft.RaftState); ok && st == raft.Leader {
				select {
				case s.nudge <- struct{}{}:
				default:
				}
			}
			s.publish()
		}
	}
}

// reconcileLoop writes this node's panel configuration into the log when
// it leads and the replicated one differs (on a new cluster: the first
// configuration).
func (s *Service) reconcileLoop() {
	defer s.loops.Done()
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic reconciling the panel configuration", "panic", p)
		}
	}()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.nudge:
		}
		for s.raft.State() == raft.Leader {
			err := s.reconcile()
			if err == nil || errors.Is(err, errNotLeader) {
				break
			}
			s.log.Warn("writing the panel configuration failed; retrying", "err", err)
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(s.opts.ElectionTimeout):
			}
		}
	}
}

func (s *Service) reconcile() error {
	// The barrier makes the replica current, so the comparison below sees
	// every configuration committed by earlier leaders.
	if err := s.raft.Barrier(s.opts.SetTimeout).Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return errNotLeader
		}
		return err
	}
	s.mu.Lock()
	have := s.mu.config
	s.mu.Unlock()
	if have != nil && have.equal(s.want) {
		return nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.SetTimeout)
	defer cancel()
	res, index, err := s.applyLocal(ctx, command{Op: opConfigure, Time: s.opts.Now().UTC().Round(0), Node: s.id, Config: s.want})
	if err != nil {
		return err
	}
	if res.Err != nil {
		return res.Err
	}
	s.log.Info("panel configuration written", "panel", s.want.Panel, "controls", s.want.Controls, "rules", len(s.want.Rules), "index", index)
	return nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
