// Package dnsserver is an authoritative DNS server (miekg/dns) for the
// application's zone, with Route 53's routing policies and health
// semantics. It stands alone: everything it needs from the rest of Gyre
// comes in through Options — the record sets, health checks and routing
// controls as functions, and the client geography as a *geo.Table.
//
// # Using it
//
//  1. Build a Server with New. It validates the options and the record
//     sets, reporting every problem at once.
//  2. Start it: it listens on Options.Addr, UDP and TCP on one port, and
//     returns once both serve. Addr reports the port when it was 0.
//  3. Change the record sets at run time with SetRecordSets; health and
//     routing controls are read on every query, so flipping them takes
//     effect on the next query (clients still cache for the TTL).
//  4. Shutdown stops it; it is idempotent.
//
// The record sets' rules live here, in one place. CheckRecordSets applies
// them without a server and reports each problem with the index of its set
// and record and the name of the field, for a caller that reads record sets
// from its own file and reports problems there: Gyre's topology does, so
// gyre.yaml refuses what New would. Types, policies and failover roles
// match in any case; CanonicalType, CanonicalPolicy and CanonicalFailover
// give the spelling the server uses.
//
// Resolve answers a Question without sockets. It is the server's
// deterministic core: given the record sets, the Healthy and RegionOn
// functions, the geo table and a Rand, the same question gets the same
// answer. The socket side (ServeDNS) adds what only a wire message has:
// opcode and class checks, EDNS0, the client subnet option and truncation.
//
// # Routing (Route 53's rules)
//
// A record set is the records of one name and type, and its policy picks
// what to answer:
//
//   - simple: the one record, with all its values. No health checking.
//   - weighted: one record, at random with probability weight/sum, among
//     the healthy records of positive weight; failing those, among the
//     healthy records of weight 0; failing those, as if all were healthy.
//   - latency: the healthy record whose Region is nearest the client by
//     geo.Table.Rank. The client is located by the query's EDNS client
//     subnet (geo.Table.LocatePrefix) when it has one, else by the source
//     address (geo.Table.Locate).
//   - failover: the PRIMARY when healthy, else the SECONDARY when
//     healthy, else the PRIMARY.
//   - multivalue: up to eight healthy records at random, in random order;
//     when none is healthy, up to eight of all the records.
//
// When every record of a weighted or latency set is unhealthy, the set is
// answered as if all were healthy. A record is unhealthy when its health
// check is, when its Region's routing control is off, or, for an alias
// with EvaluateTargetHealth, when the target set has no healthy record.
// An alias is answered with its target set's answer for the same client,
// under the alias's name and with the target's TTL.
//
// # The DNS side
//
//   - The SOA and NS records at the apex come from Options.SOA and
//     Options.NameServers; in-zone name servers get A/AAAA records and
//     glue.
//   - A name under the zone with no records is NXDOMAIN, unless it has
//     records of another type or names below it (an empty non-terminal):
//     then NOERROR with no answer (NODATA). Both carry the SOA in the
//     authority section, its TTL the negative-caching TTL.
//   - A CNAME is followed inside the zone, up to eight links.
//   - Names outside the zone are REFUSED. Classes other than IN (and ANY)
//     are REFUSED; opcodes other than QUERY, and zone transfers, are
//     NOTIMP; a malformed query is FORMERR, and an EDNS version other than
//     0 is BADVERS.
//   - ANY is answered minimally (RFC 8482): with one record set of the
//     name, the SOA at the apex.
//   - EDNS0: the reply's UDP size is the client's, capped by
//     Options.MaxUDPSize, 512 without EDNS0. What does not fit is dropped
//     by whole sections — the glue first, then answer and authority with
//     TC set — never half an RRset.
//   - The client subnet option is echoed with a scope prefix length: 0
//     unless the answer depended on the client's location, and then the
//     length of the geo network that located the subnet, or 0 when the
//     location came from the source address. (geo.Table does not say which
//     network matched, so the server finds the shortest prefix of the
//     subnet that still locates to the same place; when that reaches /0,
//     as for a subnet no network holds, it claims just the subnet.)
//   - Names match case-insensitively; the question, and answers owned by
//     the name asked for, keep its case (0x20 encoding works).
//
// Metrics are in metrics.go.
package dnsserver
