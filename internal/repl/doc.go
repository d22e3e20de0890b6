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
// When a region becomes a new replica of a table, or finds that a peer has
// truncated log entries it still needed, it catches up from snapshots: it
// reads the table from every other replica (items and tombstones, with
// their versions) and applies them last-writer-wins while the logs keep
// flowing; only then is its replica ACTIVE.
//
// Peers acknowledge their cursors and report how far they have applied
// every origin's log; from that a region truncates its log (entries every
// peer has) and collects tombstones (deletes every region has applied past).
//
// The caller builds a Replicator with New, mounts Handler on the region's
// authenticated admin listener, calls Start, and Shutdown at the end. The
// HTTP clients it is given should go through the simulated WAN.
//
// Replication lag (apply time minus the origin's commit time) is exported as
// gyre_replication_latency_seconds{origin,destination} and summarised over
// the last minute in Status.
package repl
