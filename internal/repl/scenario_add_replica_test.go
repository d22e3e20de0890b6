package repl

import (
	"github.com/cockroachdb/datadriven"
)

// handleAddReplica makes another region a replica of a table through one
// region's API (UpdateTable with ReplicaUpdates); the new replica learns of
// it from the schema entry in that region's log, and backfills.
func (e *simEnv) handleAddReplica(d *datadriven.TestData) error {
	r, err := e.region(d)
	if err != nil {
		return err
	}
	table, err := e.tableArg(d)
	if err != nil {
		return err
	}
	added, err := mustArg(d, "new")
	if err != nil {
		return err
	}
	if _, err := r.db.AddReplica(table, added); err != nil {
		return err
	}
	e.printf("%s: log head %d", r.name, r.db.LogHead())
	return nil
}
