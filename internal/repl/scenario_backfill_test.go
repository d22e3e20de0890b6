package repl

import (
	"fmt"

	"github.com/cockroachdb/datadriven"
)

// handleBackfill carries out a region's pending backfill of a table as
// Replicator.backfill does: it tells every peer it holds their tombstones
// (an ack claiming to have applied nothing), then applies the snapshot of
// every other live replica, then marks its replica ACTIVE. A peer it cannot
// reach stops it there; run it again after heal.
func (e *simEnv) handleBackfill(d *datadriven.TestData) error {
	r, err := e.region(d)
	if err != nil {
		return err
	}
	table, err := e.tableArg(d)
	if err != nil {
		return err
	}
	if !r.backfills[table] {
		return fmt.Errorf("%s is not backfilling %s", r.name, table)
	}
	t, err := r.db.Table(table)
	if err != nil {
		return err
	}
	for _, p := range e.peersOf(r.name) {
		if e.cut(r.name, p) != "" {
			e.printf("%s: cannot tell %s it holds tombstones: the backfill waits", r.name, p)
			return nil
		}
		c := e.links[[2]string{p, r.name}].core.cursor
		peer := e.regions[p]
		peer.outbound[r.name].Acknowledge(c)
		peer.reports[r.name] = appliedVector(r.db, e.peersOf(r.name), true)
		e.printf("%s: %s acknowledged %s, applied nothing (holding tombstones)", p, r.name, e.cursorString(c))
	}
	for _, region := range t.LiveReplicas() {
		if region == r.name {
			continue
		}
		if _, err := e.snapshot(e.regions[region], r, table); err != nil {
			e.printf("%s: %v: the backfill waits", r.name, err)
			return nil
		}
	}
	if err := r.db.SetReplicaActive(table); err != nil {
		return err
	}
	delete(r.backfills, table)
	e.printf("%s: %s is ACTIVE here, log head %d", r.name, table, r.db.LogHead())
	return nil
}
