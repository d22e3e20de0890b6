// Package topology is the model of gyre.yaml, the file that describes a Gyre
// deployment: where data lives, the credentials clients sign with, the
// regions and their addresses, the global tables created at start, and the
// simulated WAN between regions.
//
// A caller gets a Topology in one of three ways:
//
//   - Load reads a file and Parse reads bytes; both decode strictly (a key
//     the schema lacks is a problem, reported with its line), fill every
//     unset field with its default and validate the result.
//   - Default returns the built-in topology gyre up runs without a file:
//     three regions on loopback, development credentials, no tables.
//   - Code builds a Topology by hand, then calls EnsureDefaults and
//     Validate, in that order.
//
// Flags change a loaded topology afterwards, with Apply or by setting
// fields and calling Validate again. Every check reports all the problems it
// finds at once, as an *Error whose Problems name the YAML path of each
// (regions[1].dynamodb) and, for a file, its line. The record sets are
// checked by the DNS server's own rules (dnsserver.CheckRecordSets), the
// one place they are kept: a file whose record sets the router would
// refuse does not load.
//
// Marshal (or Topology.YAML) prints the effective configuration back in the
// shape of gyre.yaml, defaults included, so the dashboard and drill reports
// can show exactly what ran; print Redacted() to hide the secrets. Parsing
// what Marshal prints gives the same Topology back.
//
// The package only describes: it opens no sockets and starts nothing. The
// numbers of the WAN's built-in latency table belong to the WAN layer; a
// Topology carries only the user's overrides.
package topology
