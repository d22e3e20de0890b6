//go:build unix

package supervisor

// The external tests (examples_test.go, in package supervisor_test because
// it imports internal/node, which imports this package) use the internal
// tests' helpers through these names.

type (
	// Recorder is recorder.
	Recorder = recorder
	// Record is record.
	Record = record
)

// WaitTimeout is waitTimeout.
const WaitTimeout = waitTimeout

// NewRecorder is newRecorder.
func NewRecorder() *Recorder { return newRecorder() }

// Output is output.
func Output(rec *Recorder, stream string) []string { return output(rec, stream) }

// GroupGone is groupGone.
func GroupGone(pgid int) error { return groupGone(pgid) }
