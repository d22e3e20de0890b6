package repl

import (
	"github.com/cockroachdb/datadriven"
)

// handleDrop makes the link between two regions a silent blackhole, as a
// real partition is: nothing gets through either way and nothing fails.
// Frames sent meanwhile wait (TCP would retransmit them after heal); only a
// stall watchdog notices. Dials across it fail as timeouts.
func (e *simEnv) handleDrop(d *datadriven.TestData) error {
	a, b, err := e.pairArg(d)
	if err != nil {
		return err
	}
	e.cuts[pair(a, b)] = "drop"
	return nil
}
