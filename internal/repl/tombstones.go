package repl

import (
	"slices"

	"github.com/gyre-dev/gyre/internal/hlc"
	"github.com/gyre-dev/gyre/internal/store"
)

// A delete leaves a tombstone, so that an older write of the same item
// arriving late from another region loses to it. A tombstone is needed until
// every region has applied every origin's writes up to its version: then no
// such write can still arrive anywhere. Each region reports how far it has
// applied every origin (its applied vector) with its acks, and takes the
// minimum over every report as its tombstone horizon.

// appliedVector reports how far the region of db has applied every origin's
// writes: its own up to its clock's present, each peer's up to its cursor in
// the peer's log. While held (a backfill needs every region's tombstones),
// it claims to have applied nothing, which holds back every region's
// tombstone collection.
func appliedVector(db *store.DB, peers []string, held bool) map[string]hlc.Timestamp {
	if held {
		v := map[string]hlc.Timestamp{db.Region(): 0}
		for _, p := range peers {
			v[p] = 0
		}
		return v
	}
	v := map[string]hlc.Timestamp{db.Region(): db.Clock().Now()}
	for _, p := range peers {
		c, err := db.Cursor(p)
		if err == nil {
			v[p] = c.TS
		}
	}
	return v
}

// tombstoneHorizon is the timestamp below which every region has applied
// every origin's writes, from region self's own applied vector (mine) and
// the vectors its peers last reported (reports, by peer): a tombstone older
// than it can no longer be needed to beat an older write arriving late. A
// peer that has not reported, or has not reported on some origin, holds
// everything back.
func tombstoneHorizon(self string, peers []string, mine map[string]hlc.Timestamp, reports map[string]map[string]hlc.Timestamp) hlc.Timestamp {
	h := hlc.Timestamp(0)
	first := true
	take := func(ts hlc.Timestamp) {
		if first || ts < h {
			h, first = ts, false
		}
	}
	for _, ts := range mine {
		take(ts)
	}
	origins := append(slices.Clone(peers), self)
	for _, p := range peers {
		vec, ok := reports[p]
		if !ok {
			return 0
		}
		for _, origin := range origins {
			if origin == p {
				continue
			}
			ts, ok := vec[origin]
			if !ok {
				return 0
			}
			take(ts)
		}
	}
	return h
}
