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
// 400 KB item limit) but not its wire protocol: errors that describe bad
// input are *attr.ValidationError, other conditions are the sentinels in
// errors.go, and the protocol layer maps both to DynamoDB's error types.
//
// Every committed write passes through DB.commit, which stamps it with a
// hybrid logical clock version and the origin region; that is where the
// change log that replication and streams read from is appended.
//
// Layout of the Pebble key space (see keys.go): table metadata, items by
// table id and hashed partition key (so Scan order and parallel segments
// follow the hash, as in DynamoDB), index entries by index id, statistics
// counters kept with a merge operator, and transaction idempotency tokens.
package store
