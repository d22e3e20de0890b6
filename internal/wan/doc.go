// Package wan simulates the wide-area network between Gyre's regions on one
// machine. Every cross-region connection — replication streams, health
// checks from other regions, the front door reaching a region — is dialed
// through a WAN, so that a laptop deployment sees the latency of real
// inter-region links and so that drills, tests and users can cut links at
// run time. A partition made in a test (WAN.Partition), from the CLI
// (Client.Partition) or over HTTP (POST /wan/partition) is the same
// partition.
//
// # The model
//
// The network joins a fixed set of regions (Options.Regions). Between any
// two distinct regions there are two links, one per direction, each with a
// one-way latency and a jitter. A chunk of bytes sent over a link reaches
// the other end latency plus a uniform draw from [0, jitter] after it was
// sent, but never before a chunk sent earlier on the same connection:
// jitter delays bytes, it does not reorder them (TCP would not). Latency is
// therefore the floor of a link's delay and latency + jitter/2 its mean.
//
// Links not set in Options.Links take their latency from a built-in table
// of half the median round-trip times between AWS regions (see
// DefaultLatency), or Options.FallbackLatency for other names, and a
// jitter of Options.JitterFraction of it, capped at Options.MaxJitter.
// A region to itself has no link: dialing it is a plain dial.
//
// A link is up or down. Partition(a, b) takes both directions between a
// and b down; Isolate(r) takes down every link of r. HealLink, Rejoin and
// Heal lift them; Reset also restores the latencies. Set and SetOneWay
// change latency and jitter at any time; bytes sent afterwards pay the new
// delay, on connections already open too. Snapshot reports it all, and
// Changed signals each change.
//
// # Connections
//
// DialContext dials the real address and returns a net.Conn that delays
// every byte written by its link's from -> to delay, and every byte the
// peer sends back by the to -> from delay. Only the dialing side is
// wrapped; the peer is an ordinary server that sees an ordinary
// connection. Dialing itself takes one round trip of the link, as a TCP
// handshake does. Writes are queued with their delivery time and handed to
// the socket by a goroutine at that time, so latency adds delay but costs
// no throughput; each direction buffers at most Options.BufferSize bytes,
// beyond which Write blocks (bounded by the write deadline) and the
// inbound side stops reading the socket. Deadlines and Close behave as a
// TCP connection's do; Close still delivers bytes already written, at
// their time, then closes the socket.
//
// # Partitions fail fast
//
// A real partition is silent: packets vanish, and each end learns of it
// only when a timeout fires. Gyre's partitions instead fail at once, so
// that tests are fast and deterministic and so that what a drill measures
// is Gyre's own failure detection (health check intervals and thresholds,
// request timeouts) rather than kernel TCP timeouts:
//
//   - A dial across a down link fails immediately, without touching the
//     network, with a *net.OpError wrapping a *LinkError that unwraps to
//     ErrPartitioned. HTTP clients see an ordinary dial error.
//   - When a link goes down, every connection open across it fails at once:
//     pending and later Reads and Writes return the same kind of error,
//     bytes in flight are dropped, and the real socket is closed, so the
//     server side sees the connection reset or ended.
//   - Connections broken by a partition stay broken after the heal; new
//     dials succeed.
//
// # What callers must do
//
//  1. Build one WAN per process with New, listing every region and vantage
//     point that dials or is dialed across regions.
//  2. Dial every cross-region connection through it: DialContext or
//     DialFunc for raw connections, Transport or HTTPClient for HTTP. The
//     region names are the caller's own region (from) and the peer's (to).
//  3. Close every connection, and CloseIdleConnections on every transport
//     when done with it: each open connection owns two goroutines.
//  4. Mount Handler behind the node's authentication to let the CLI and
//     drills drive the network, and pass Options.Registerer to export
//     metrics.
package wan
