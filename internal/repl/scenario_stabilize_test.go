package repl

import (
	"errors"

	"github.com/cockroachdb/datadriven"
)

// handleStabilize delivers everything in flight, and what that makes the
// origins send, until nothing deliverable is left. Time stands still: no
// acks, heartbeats or redials.
func (e *simEnv) handleStabilize(d *datadriven.TestData) error {
	for range 1000 {
		busy := false
		for _, l := range e.sortedLinks(nil) {
			if !e.deliverable(l) {
				continue
			}
			if (l.open && len(l.inflight) > 0) || len(l.acks) > 0 {
				busy = true
				if err := e.deliverFrames(l, nil); err != nil {
					return err
				}
				e.deliverAcks(l)
			}
		}
		if !busy {
			return nil
		}
		e.pumpAll()
	}
	return errors.New("still busy after 1000 rounds")
}
