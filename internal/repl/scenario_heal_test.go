package repl

import (
	"github.com/cockroachdb/datadriven"
)

// handleHeal lifts every partition and drop. Streams a partition ended stay
// ended (their links redial on their own time); those a drop held resume.
func (e *simEnv) handleHeal(d *datadriven.TestData) error {
	clear(e.cuts)
	return nil
}
