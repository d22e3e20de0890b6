// Package repl replicates global tables between regions: every region
// writable, every write reaching every other replica, last writer wins.
//
// Each region appends its local writes to its change log (package store)
// in the same batch as the writes. A Replicator runs one puller per peer:
// it holds a streaming HTTP connection to the peer's /repl/pull endpoint,
// receives the peer's own log entries in order, applies them with
// store.DB.ApplyRemote (last writer wins on the version: hybrid logical
// clock timestamp, then origin region) and keeps a durable cursor in the
// peer's log, so after any disconnect or restart it resumes where it was.
// Entries are shipped only by the region that made them.
//
// What a puller decides — where to resume, which incarnation of the peer's
// log entries belong to, when to apply what has arrived, when to
// acknowledge, when a silent stream is dead, when to catch up from
// snapshots, how long to wait before reconnecting — is decided by a
// pullCore, a deterministic state machine with no goroutines, sockets or
// clock: it takes frames and the time in and hands actions out, as etcd
// raft's RawNode does. The puller owns the stream, the stall watchdog and
// the ack sender, and carries the actions out. The origin's side of a
// stream, which frames to send when, is a pullSource, as synchronous. The
// scenarios in testdata/ drive both over real stores with a simulated
// network and clock.
//
// When a region becomes a new replica of a table, or finds that a peer has
// truncated log entries it still needed, it catches up from snapshots: it
// reads the table from every other replica (items and tombstones, with
// their versions) and applies them last-writer-wins while the logs keep
// flowing; only then is its replica ACTIVE.
//
// Peers acknowledge their cursors and report how far they have applied
// every origin's log; from that a region truncates its log (entries every
// consumer has) and collects tombstones (deletes every region has applied
// past).
//
// # Consumers of the change log
//
// A Log is a region's change log as its consumers read it: replication
// now, streams, triggers and point-in-time recovery next. Each consumer
// keeps its own durable cursor, and the log keeps what the furthest-behind
// consumer needs, bounded by LogOptions.MaxRetained and visible in
// Log.Retention (and the gyre_repl_log_retained_entries metric). A
// consumer, in order:
//
//  1. Registers by name, before it reads: Log.Register for a consumer in
//     this region, whose cursor the log keeps durably in the store (a new
//     one starts at the head; one registered before, also before a
//     restart, resumes where it acknowledged, and has held the log since
//     the store opened); Log.Follow for a peer region, which keeps its
//     cursor durably in its own store and reports it. From then on the log
//     keeps every entry after the consumer's position. A peer holds the
//     whole log until it has acknowledged a position in this incarnation.
//  2. Reads in order with a LogReader from its position (Consumer.Reader,
//     or Log.ReaderFrom a position the consumer names, as a peer's pull
//     request does): Next returns the entries after it, Wait blocks until
//     there are more. store.ErrLogTruncated means entries it needs are gone
//     (it fell more than MaxRetained behind): it must start again from a
//     snapshot, as a peer catches up from every replica's.
//  3. Acknowledges a position (Consumer.Acknowledge) once it has durably
//     handled every entry up to it; only then may the log drop them. After
//     a restart it reads again from the last acknowledged position, so
//     delivery is at least once and handling must be idempotent.
//  4. Unregisters (Log.Unregister) when it is gone for good; until then it
//     holds the log, up to MaxRetained.
//
// Log.Truncate drops what no consumer needs; the Replicator calls it every
// GCInterval.
//
// The caller builds a Replicator with New (giving it the region's Log in
// Options.Log, or letting it make one), mounts Handler on the region's
// authenticated admin listener, calls Start, and Shutdown at the end. The
// HTTP clients it is given should go through the simulated WAN.
//
// Replication lag (apply time on Options.Now minus the origin's commit
// time) is exported as gyre_replication_latency_seconds{origin,destination}
// and summarised over the last minute in Status.
package repl
