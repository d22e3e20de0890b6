// Package control holds Gyre's routing controls, after Route 53
// Application Recovery Controller's: on/off switches, one per region (named
// after it) and optionally more (one per application, a maintenance gate),
// grouped in a control panel and guarded by safety rules. DNS and the front
// door send no traffic to a region whose control is off.
//
// # The model
//
// A panel has controls and rules. An assertion rule keeps at least N of
// its controls on ("at least one region on", "at least two of three"); a
// gating rule lets its target controls change only while at least N of its
// gating controls are on. Check, a pure function, decides whether a change
// (several controls at once, all or none) may be made; a change that would
// break a rule is refused with a *RuleError naming the rule. An Override
// with a reason bypasses the rules; it is logged at warn level and kept in
// the panel's history with the rules it broke. The history keeps the
// latest HistoryLimit changes: who asked, which node took it, when, each
// control's old and new value.
//
// # Replication
//
// The panel's state lives in a Raft group (hashicorp/raft) with one voter
// per region, so a control can be changed from any region while a
// minority of regions is down, and survives restarts. Each node keeps its
// Raft log and stable store in DataDir/raft.db (bbolt, through
// raft-boltdb: Pebble stays inside internal/store, and Raft's log wants an
// append-and-truncate store, not a table store) and its snapshots in
// DataDir/snapshots. The state machine (machine.go) is deterministic:
// every input, the time of a change included, is in the log entry, so
// every replica computes the same state; rules are judged when an entry is
// applied, so two concurrent changes cannot together break a rule.
//
// Bootstrap: on its first start (no Raft state in its DataDir) every node
// bootstraps the group with the same configuration, every peer a voter.
// Raft accepts identical bootstraps, so no node has to start first, and
// the group elects a leader once a majority is up. Restarts find state and
// do not bootstrap. The panel's own configuration (name, controls, rules)
// is replicated too: a node that becomes leader writes the configuration
// it was given when it differs from the replicated one, so a new cluster
// gets its first configuration from its first leader. Until a node has
// applied a configuration, its view is its own Options with every control
// on (State.Configured is false).
//
// Forwarding: Raft appends on the leader only. A follower sends a change
// to the leader over the raft listener itself (a connection opening with a
// protocol byte tells Raft's traffic from a forwarded change), dialed
// through Options.Dial like Raft's own connections, so the simulated WAN's
// partitions and latency apply to forwarding too, and no admin URL or
// token has to be known between regions. If the leadership moves, Set
// retries with the next leader; each change carries an ID, so a retried
// change is applied once.
//
// # What callers must do
//
//  1. Give every node the same Peers, Panel, Controls and Rules, a
//     listener of its own, a data directory of its own, and a Dial that
//     goes through the WAN from the node's region.
//  2. New, then Start. Start does not wait for a leader.
//  3. Read with On (per DNS answer or request: lock-free), State, and
//     Watch to learn of changes at once. Reads come from the node's own
//     replica: a node cut off from the majority serves the last state it
//     knew.
//  4. Change with Set, or mount Handler on the admin API (behind its
//     authentication) at /controls.
//  5. Shutdown at the end; a leader hands over its leadership first.
package control
