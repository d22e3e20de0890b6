// Package frontdoor is Gyre's HTTP front door: a reverse proxy that sends
// each request to the nearest eligible region (healthy and with its routing
// control on) and, going beyond DNS, retries the next-best region at once
// when the chosen one refuses the connection or fails before the request was
// sent, so that clients see no error when a region dies.
//
// The routing decision (Plan) is a pure function of the client's location,
// the regions' eligibility and their round trips. The Server owns the
// sockets: for each request it locates the client (the X-Gyre-Client-Location
// header, else its network, else the router's own location), plans, and
// tries the regions in order:
//
//   - a failure before any of the request was written (connection refused,
//     a partitioned link, a dead pooled connection) moves on to the next
//     region for every method: the region never saw the request;
//   - a failure after the request was written (a reset, a timeout) moves on
//     only for idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE...);
//     others are never sent twice, and the client gets 502;
//   - any HTTP response, whatever its status, is the region's answer and is
//     passed through.
//
// Request bodies are replayed on retry: a body is never read by an attempt
// that failed before writing. Responses are streamed. Every response carries
// X-Gyre-Region naming the region that served it. The Host header is passed
// through unchanged, so SigV4 signatures made for the front door's name stay
// valid at the region.
package frontdoor
