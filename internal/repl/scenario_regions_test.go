package repl

import (
	"errors"
	"slices"
	"strconv"

	"github.com/cockroachdb/datadriven"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// handleRegions opens the regions, each on an empty in-memory disk, and has
// every link dial.
func (e *simEnv) handleRegions(d *datadriven.TestData) error {
	if len(e.names) > 0 {
		return errors.New("regions given twice")
	}
	e.names = positional(d)
	if len(e.names) < 2 {
		return errors.New("regions needs two regions or more")
	}
	if v := optArg(d, "batch", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("batch= needs a positive number")
		}
		e.opts.BatchSize = n
	}
	if v := optArg(d, "max-retained", ""); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return err
		}
		e.maxRetained = n
	}
	for _, n := range e.names {
		if slices.Contains(e.names[:slices.Index(e.names, n)], n) {
			return errors.New("region " + n + " listed twice")
		}
		r := &simRegion{name: n, fs: vfs.NewMem()}
		e.regions[n] = r
		if err := e.open(r); err != nil {
			return err
		}
	}
	for _, l := range e.sortedLinks(nil) {
		if err := e.dial(l); err != nil {
			return err
		}
	}
	return nil
}
