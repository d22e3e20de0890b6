package repl

import (
	"github.com/cockroachdb/datadriven"
)

// handleHorizon prints every region's tombstone horizon, from its own
// applied vector and those its peers reported, and for each of its
// tombstones whether the sweeper may collect it (its version is below the
// horizon) or must keep it.
func (e *simEnv) handleHorizon(d *datadriven.TestData) error {
	for _, n := range e.names {
		r := e.regions[n]
		peers := e.peersOf(n)
		h := tombstoneHorizon(n, peers, appliedVector(r.db, peers, len(r.backfills) > 0), r.reports)
		e.printf("%s: horizon %s", n, e.tsString(h))
		for _, tn := range r.db.TableNames() {
			if err := e.printTombstones(r, tn, h); err != nil {
				return err
			}
		}
	}
	return nil
}
