package repl

import (
	"github.com/cockroachdb/datadriven"
)

// handleDelete deletes an item in a region, leaving a tombstone.
func (e *simEnv) handleDelete(d *datadriven.TestData) error {
	r, err := e.region(d)
	if err != nil {
		return err
	}
	table, err := e.tableArg(d)
	if err != nil {
		return err
	}
	key, err := mustArg(d, "key")
	if err != nil {
		return err
	}
	return e.write(r, table, key, nil)
}
