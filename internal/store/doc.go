// Package store keeps one region's tables in Pebble: items, secondary
// indexes, table metadata and item statistics, with every write made durable
// before it is acknowledged.
//
// A caller opens a DB with Open, creates tables with CreateTable and writes
// with Write, which takes a list of Ops. Each Op names an item by its key and
// supplies an Apply function that sees the item's current state and decides
// what to write; the store holds the item's lock from the read to the
// commit, so a conditional write or an update is atomic, and all the Ops of
// one Write commit together or not at all. Reads go through Get and NewIter
// (Query and Scan over a table or an index).
//
// The store knows DynamoDB's data model (keys, indexes, projections, the
// 400 KB item limit) but not its wire protocol or its wording: a key that
// does not fit its table is a *KeyError, other conditions are the sentinels
// in errors.go, and the protocol layer maps both to DynamoDB's error types
// and messages. (An item attr itself refuses, such as one nested too deeply,
// is attr's *attr.ValidationError.)
//
// Every write reaches Pebble through DB.commitBatch, which refuses it while
// the storage is failing (health.go). Local writes, the item writes of
// Write and the schema changes of global tables, go there through DB.commit,
// which stamps them with a hybrid logical clock version and the origin
// region and appends them to the change log (log.go) in the same batch:
// replication ships this region's writes from there, and streams will read
// them there. Writes applied from other regions (ApplyRemote,
// ApplySnapshot, ApplySchema) are not logged again, since each region ships
// only its own; a stream of a replica must nevertheless show them, and
// applyWrites hands their Changes, once durable, to the seam where it will
// be fed (DB.applied). Background writes (index backfills, tombstone
// collection, log truncation, cursors) change no item and are not logged.
//
// Layout of the Pebble key space (see keys.go): table metadata, items by
// table id and hashed partition key (so Scan order and parallel segments
// follow the hash, as in DynamoDB), index entries by index id, statistics
// counters kept with a merge operator, transaction idempotency tokens,
// tombstones by version, the change log and the cursors in other regions'
// logs.
package store
