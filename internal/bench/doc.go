// Package bench is Gyre's load harness: it drives PutItem, GetItem, Query or
// a weighted mix of them through the real AWS SDK against any
// DynamoDB-compatible endpoint (Gyre, DynamoDB Local, ScyllaDB Alternator,
// DynamoDB itself) and reports throughput and latency percentiles per
// operation, so endpoints can be compared side by side on one machine.
//
// A caller fills Options (Endpoint is the only required field), calls Run and
// prints the Report it returns with WriteText or WriteJSON. Run, in order:
//
//  1. fills defaults and validates the options, reporting every problem;
//  2. builds an SDK client with its own HTTP transport (idle connections for
//     every worker) and with SDK retries off, so a latency is one request's
//     and a throttle is counted rather than hidden behind a retry;
//  3. describes the table and, unless ExistingTable is set, creates it
//     (pk S HASH, sk N RANGE, PAY_PER_REQUEST) and waits until it is ACTIVE;
//  4. unless SkipPreload is set or the workload only puts, writes every key
//     once so that gets and queries find items;
//  5. runs Concurrency workers for Warmup (not recorded) then Duration
//     (recorded), each recording latencies into its own histograms, which are
//     merged once the workers stop, so no lock is taken per operation;
//  6. deletes the table if Cleanup is set.
//
// Cancelling Run's context (SIGINT in `gyre bench`) stops the workers early;
// if the measured window had begun, Run still returns a Report, marked
// Interrupted, covering the time measured.
//
// The key space is Keys items laid out as Keys/SortKeys partitions of
// SortKeys items each: item i lives at pk "p%08d" of i/SortKeys, sk i%SortKeys.
// Puts overwrite random items of that space, gets read random items and
// queries read the first QueryLimit items of a random partition, so a
// preloaded table keeps every get and query a hit whatever the mix.
//
// RunReplication (replication.go) is the replication benchmark behind
// `gyre bench replication`: PutItems at a steady rate into one region of a
// Gyre topology, and the lag of those writes in every other region as the
// regions measure it, read from their admin APIs. Its caller first fills
// Regions and calls Regions.Open, which points the ReplicationOptions at a
// running topology (from its file), at running regions (by admin URL), or
// at regions it starts in this process; after the run, the caller calls
// the stop func Open returned.
//
// The deterministic parts — option checks, mix parsing and picking, the key
// layout, the pacing schedule, histogram merging and the report arithmetic —
// are plain functions tested without a server; the workers in run.go own the
// goroutines and sockets.
package bench
