package supervisor

import (
	"errors"
	"fmt"
)

// ErrStopped is returned by Start once Shutdown has been called.
var ErrStopped = errors.New("supervisor: stopped")

// StartError is returned by Start when the app's command cannot start and
// trying again would fail the same way: the program is missing or not
// executable, a script's interpreter is missing, the working directory
// does not exist. Its message names the app, the command, the cause and
// the fix. Unwrap gives the cause, so errors.Is(err, fs.ErrNotExist) and
// errors.Is(err, exec.ErrNotFound) work as expected.
type StartError struct {
	// App and Region are Options.App and Options.Region.
	App, Region string
	// Command is Options.Command.
	Command []string
	// Err is the cause.
	Err error
	// Fix says what to change for the command to start.
	Fix string
}

// Error returns the message.
func (e *StartError) Error() string {
	return fmt.Sprintf("supervisor: app %q in %s cannot start %q: %v; %s", e.App, e.Region, e.Command, e.Err, e.Fix)
}

// Unwrap returns the cause.
func (e *StartError) Unwrap() error { return e.Err }
