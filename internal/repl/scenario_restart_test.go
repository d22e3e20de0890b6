package repl

import (
	"io"
	"slices"

	"github.com/cockroachdb/datadriven"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gyre-dev/gyre/internal/store"
)

// handleRestart stops a region and starts it again: its streams end, its
// store is reopened (lose-data: on an empty disk, as after losing it, with
// the topology's tables created afresh and a new incarnation), and it
// resumes its backfills and dials every peer.
func (e *simEnv) handleRestart(d *datadriven.TestData) error {
	r, err := e.region(d)
	if err != nil {
		return err
	}
	lose := slices.Contains(positional(d), "lose-data")
	for _, l := range e.sortedLinks(nil) {
		if l.origin == r.name && l.open {
			e.ended(l, io.EOF)
		}
		if l.dest == r.name {
			delete(e.links, [2]string{l.origin, l.dest})
		}
	}
	if err := r.db.Close(); err != nil {
		return err
	}
	if lose {
		r.fs = vfs.NewMem()
	}
	if err := e.open(r); err != nil {
		return err
	}
	if lose {
		for _, t := range e.tables {
			if t.Replica(r.name) != nil {
				if _, err := r.db.EnsureTable(t); err != nil {
					return err
				}
			}
		}
	}
	e.printf("%s: restarted, incarnation %s, log head %d", r.name, e.incName(r.db.Incarnation()), r.db.LogHead())
	for _, name := range r.db.TableNames() {
		if t, err := r.db.Table(name); err == nil {
			if mine := t.Replica(r.name); mine != nil && mine.Status == store.StatusCreating {
				e.startBackfill(r, name)
			}
		}
	}
	for _, l := range e.sortedLinks(func(l *simLink) bool { return l.dest == r.name }) {
		if err := e.dial(l); err != nil {
			return err
		}
	}
	return nil
}
