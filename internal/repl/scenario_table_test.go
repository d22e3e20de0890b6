package repl

import (
	"github.com/cockroachdb/datadriven"
)

// handleTable creates a global table of the topology in each of its
// replicas, as a region does at start-up.
func (e *simEnv) handleTable(d *datadriven.TestData) error {
	name, err := mustArg(d, "name")
	if err != nil {
		return err
	}
	replicas := listArg(d, "replicas")
	if replicas == nil {
		replicas = e.names
	}
	t := simTable(name, replicas)
	e.tables = append(e.tables, t)
	for _, rn := range replicas {
		r, err := e.regionNamed(rn)
		if err != nil {
			return err
		}
		if _, err := r.db.EnsureTable(t); err != nil {
			return err
		}
	}
	return nil
}
