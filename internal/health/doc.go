// Package health runs health checks as Route 53 defines them, from several
// vantage points, and aggregates what they see into one status per check
// for the routing plane (DNS and the front door).
//
// # Checks
//
// A Check is HTTP, HTTPS, TCP or CALCULATED. An HTTP(S) probe passes when
// the target answers a GET with a 2xx or 3xx status within the timeout
// (redirects are not followed) and, if SearchString is set, the first
// 5,120 bytes of the body contain it; HTTPS does not verify certificates.
// A TCP probe passes when the connection opens within the timeout. Every
// probe opens a new connection through the caller's DialFunc, which for
// Gyre is the simulated WAN from the vantage point to the target's region,
// so a partition in the WAN is a failed probe. A CALCULATED check is not
// probed: it is healthy when at least HealthThreshold of its children are.
// Inverted reports the opposite. Validate reports every problem of a list
// of checks at once; defaults are in Check's field comments.
//
// # The three layers
//
// The deterministic cores take time as an argument and own no goroutines:
//
//   - Tracker is one check seen from one vantage point: fed results in
//     order, it applies the failure threshold (N consecutive failures make
//     a healthy target unhealthy, N consecutive successes the reverse; the
//     first result decides at once) and keeps a bounded history of its
//     transitions.
//   - Aggregator combines the latest Report of each vantage point: a check
//     is healthy when more than HealthyFraction (18%) of the vantage points
//     with a fresh opinion say so; vantage points whose latest result is
//     older than StaleIntervals × Interval + Timeout are left out; with
//     none left the status is unknown. Calculated checks combine their
//     children's aggregated statuses.
//
// The services own the goroutines and the sockets:
//
//   - Prober runs every check from one vantage point on its interval, with
//     jitter and at most one probe per check in flight, feeds a Tracker
//     per check, and serves its Report (GET /health/report).
//   - Monitor wraps an Aggregator: fed reports (Update), it answers
//     Healthy(id) without locking, signals changes (Changed, Generation)
//     and describes everything (Snapshot, GET /health/status).
//
// # Unknown
//
// A check is unknown until some vantage point has a result for it, and
// again when every vantage point's result has gone stale. Callers must
// treat unknown as healthy (Healthy does, Status.Routable says so), as
// Route 53 treats a health check it has no data for yet: routing needs
// positive evidence to take a region out, and when the checkers themselves
// are broken or cut off, failing open keeps the service up, the same
// reason DNS answers with every record when all are unhealthy. A
// partitioned target is not unknown: the vantage points that cannot reach
// it report it unhealthy, fresh.
//
// # What the caller does, in order
//
//  1. Build the checks (from gyre.yaml) and Validate them.
//  2. In every process, build a Prober per vantage point it hosts with
//     NewProber, giving it the WAN's dial from that vantage point, mount
//     its Handler on the authenticated admin listener, and Start it.
//  3. Where routing decisions are made, build a Monitor with the same
//     checks and Start it. Feed it: in-process Probers through
//     ProberOptions.Publish (func(r Report) { monitor.Update(r) }), remote
//     ones by calling FetchReport at least once per check interval and
//     passing the result to Update.
//  4. Ask Healthy(id) per query or request; wait on Changed to react to a
//     change at once.
//  5. At the end, Shutdown the Probers and the Monitor.
package health
