package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Service: one node of a panel's Raft group.
//
// Every node of a group must be given the same Peers, Panel, Controls and
// Rules (they come from the one topology file). The panel's configuration
// is itself replicated: each node that becomes leader writes its own into
// the log when it differs from the replicated one, so a changed topology
// takes effect when a node started with it leads.
type Options struct {
	// NodeID is this node's Raft server ID: its region's name. Required;
	// must be the ID of one of Peers.
	NodeID string

	// Peers are every voter of the group, this node included: one per
	// region, each with the address its raft listener is reached at.
	// Required; IDs and addresses must be non-empty and distinct. The
	// group's membership is fixed: it is bootstrapped from Peers on first
	// start (see the package documentation) and not changed afterwards.
	Peers []Peer

	// Listener accepts the connections of the other nodes: Raft's RPCs and
	// forwarded changes. Required. Start takes ownership of it; Shutdown
	// closes it. Peers must reach it at this node's Peer.RaftAddr. The
	// listener is unauthenticated, like Raft itself: keep it on a network
	// only the regions reach.
	Listener net.Listener

	// Dial connects to another node: to is the node's ID, addr its
	// RaftAddr. Pass the WAN's DialContext bound to this node's region, so
	// that partitions and latency apply to the group. Default: a
	// net.Dialer, ignoring to.
	Dial func(ctx context.Context, to, network, addr string) (net.Conn, error)

	// DataDir holds this node's Raft state: raft.db (the log and the
	// stable store, in bbolt) and snapshots/. Required; created if
	// missing. One node per directory: a second node opening it fails.
	DataDir string

	// Panel names the control panel. Default "default".
	Panel string

	// Controls are controls beyond the regions': the panel has one control
	// per peer, named after it, and these (for example one per
	// application). Names must be non-empty, distinct, and not a peer's.
	// Every control is on when first created. Default none.
	Controls []string

	// Rules are the panel's safety rules, checked in order. nil means
	// DefaultRules over the peers (at least one region on); an empty,
	// non-nil slice means no rules. Each rule must be valid over the
	// panel's controls (see Rule).
	Rules []Rule

	// HeartbeatTimeout is how long a follower waits without hearing from
	// the leader before it calls an election (randomized up to twice as
	// long); the leader sends heartbeats ten times as often. It bounds how
	// quickly a dead leader is replaced. Default 500ms; at least 5ms, and
	// it should be several WAN round trips.
	HeartbeatTimeout time.Duration

	// ElectionTimeout is how long a candidate waits for votes before it
	// tries again (randomized up to twice as long). Default
	// HeartbeatTimeout; must be at least HeartbeatTimeout.
	ElectionTimeout time.Duration

	// LeaderLeaseTimeout is how long a leader goes without hearing from a
	// majority before it steps down. Default half of HeartbeatTimeout;
	// at least 5ms and at most HeartbeatTimeout.
	LeaderLeaseTimeout time.Duration

	// SetTimeout bounds Set when its context has no deadline (an admin
	// request's, for one), and a forwarded change on the leader. It should
	// cover an election or two. Default 5s; must not be negative.
	SetTimeout time.Duration

	// SnapshotInterval is how often Raft considers taking a snapshot, which
	// it does when SnapshotThreshold entries have been applied since the
	// last one; a snapshot is also taken at Shutdown. Default 30s; must be
	// positive.
	SnapshotInterval time.Duration

	// SnapshotThreshold is how many applied log entries make a snapshot
	// due. Default 64; must be positive.
	SnapshotThreshold uint64

	// Now stamps changes with the time the node took them. Default
	// time.Now.
	Now func() time.Time

	// Logger receives leadership changes and control changes at info
	// level, overrides at warn, and Raft's own logs (info and below at
	// debug level). Default slog.Default().
	Logger *slog.Logger

	// Registerer receives the Service's metrics (see metrics.go), labelled
	// region=NodeID. Default: none, the metrics are kept but not exported.
	Registerer prometheus.Registerer
}

// Peer is a voter of a panel's Raft group.
type Peer struct {
	// ID is the node's Raft server ID: its region's name.
	ID string `json:"id"`
	// RaftAddr is the host:port the node's Options.Listener is reached at.
	RaftAddr string `json:"raft_addr"`
}

// Defaults of Options, applied by New to fields left zero.
const (
	DefaultPanel             = "default"              // Options.Panel
	DefaultHeartbeatTimeout  = 500 * time.Millisecond // Options.HeartbeatTimeout
	DefaultSetTimeout        = 5 * time.Second        // Options.SetTimeout
	DefaultSnapshotInterval  = 30 * time.Second       // Options.SnapshotInterval
	DefaultSnapshotThreshold = 64                     // Options.SnapshotThreshold
)

func (o *Options) ensureDefaults() {
	if o.Dial == nil {
		var d net.Dialer
		o.Dial = func(ctx context.Context, _, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}
	}
	if o.Panel == "" {
		o.Panel = DefaultPanel
	}
	if o.Rules == nil {
		ids := make([]string, len(o.Peers))
		for i, p := range o.Peers {
			ids[i] = p.ID
		}
		o.Rules = DefaultRules(ids)
	}
	if o.HeartbeatTimeout == 0 {
		o.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if o.ElectionTimeout == 0 {
		o.ElectionTimeout = o.HeartbeatTimeout
	}
	if o.LeaderLeaseTimeout == 0 {
		o.LeaderLeaseTimeout = o.HeartbeatTimeout / 2
	}
	if o.SetTimeout == 0 {
		o.SetTimeout = DefaultSetTimeout
	}
	if o.SnapshotInterval == 0 {
		o.SnapshotInterval = DefaultSnapshotInterval
	}
	if o.SnapshotThreshold == 0 {
		o.SnapshotThreshold = DefaultSnapshotThreshold
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// validate reports every problem with o at once.
func (o *Options) validate() error {
	var errs []error
	if o.NodeID == "" {
		errs = append(errs, errors.New("control: Options.NodeID is required"))
	}
	if len(o.Peers) == 0 {
		errs = append(errs, errors.New("control: Options.Peers is empty"))
	}
	ids := make(map[string]bool, len(o.Peers))
	addrs := make(map[string]bool, len(o.Peers))
	for i, p := range o.Peers {
		switch {
		case p.ID == "":
			errs = append(errs, fmt.Errorf("control: Options.Peers[%d] has no ID", i))
		case ids[p.ID]:
			errs = append(errs, fmt.Errorf("control: Options.Peers names %q twice", p.ID))
		}
		ids[p.ID] = true
		switch {
		case p.RaftAddr == "":
			errs = append(errs, fmt.Errorf("control: Options.Peers[%d] (%q) has no RaftAddr", i, p.ID))
		case addrs[p.RaftAddr]:
			errs = append(errs, fmt.Errorf("control: Options.Peers uses address %q twice", p.RaftAddr))
		}
		addrs[p.RaftAddr] = true
	}
	if o.NodeID != "" && len(o.Peers) > 0 && !ids[o.NodeID] {
		errs = append(errs, fmt.Errorf("control: Options.NodeID %q is not one of Options.Peers", o.NodeID))
	}
	if o.Listener == nil {
		errs = append(errs, errors.New("control: Options.Listener is required"))
	}
	if o.DataDir == "" {
		errs = append(errs, errors.New("control: Options.DataDir is required"))
	}
	for _, c := range o.Controls {
		if ids[c] {
			errs = append(errs, fmt.Errorf("control: Options.Controls names %q, which is a peer's own control", c))
		}
	}
	if o.HeartbeatTimeout < 5*time.Millisecond {
		errs = append(errs, fmt.Errorf("control: Options.HeartbeatTimeout %v is less than 5ms", o.HeartbeatTimeout))
	}
	if o.ElectionTimeout < o.HeartbeatTimeout {
		errs = append(errs, fmt.Errorf("control: Options.ElectionTimeout %v is less than HeartbeatTimeout %v", o.ElectionTimeout, o.HeartbeatTimeout))
	}
	if o.LeaderLeaseTimeout < 5*time.Millisecond || o.LeaderLeaseTimeout > o.HeartbeatTimeout {
		errs = append(errs, fmt.Errorf("control: Options.LeaderLeaseTimeout %v must be between 5ms and HeartbeatTimeout %v", o.LeaderLeaseTimeout, o.HeartbeatTimeout))
	}
	if o.SetTimeout < 0 {
		errs = append(errs, fmt.Errorf("control: Options.SetTimeout %v is negative", o.SetTimeout))
	}
	if o.SnapshotInterval < 0 {
		errs = append(errs, fmt.Errorf("control: Options.SnapshotInterval %v is negative", o.SnapshotInterval))
	}
	if len(o.Peers) > 0 {
		cfg := o.config()
		if err := cfg.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// config returns the panel configuration o describes.
func (o *Options) config() *config {
	names := make([]string, 0, len(o.Peers)+len(o.Controls))
	for _, p := range o.Peers {
		names = append(names, p.ID)
	}
	names = append(names, o.Controls...)
	slices.Sort(names)
	return &config{Panel: o.Panel, Controls: names, Rules: cloneRules(o.Rules)}
}
