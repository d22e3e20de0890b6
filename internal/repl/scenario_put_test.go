package repl

import (
	"github.com/cockroachdb/datadriven"

	"github.com/gyre-dev/gyre/internal/attr"
)

// handlePut writes an item in a region, as its DynamoDB API would.
func (e *simEnv) handlePut(d *datadriven.TestData) error {
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
	val, err := mustArg(d, "val")
	if err != nil {
		return err
	}
	return e.write(r, table, key, attr.Item{"pk": attr.S(key), "v": attr.S(val)})
}
