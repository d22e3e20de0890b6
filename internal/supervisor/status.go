package supervisor

import (
	"fmt"
	"syscall"
	"time"
)

// Status is a snapshot of a Supervisor, from Supervisor.Status. It is a
// copy: the caller may keep it.
type Status struct {
	// App and Region are Options.App and Options.Region.
	App, Region string
	// Running reports whether the app's main process is running.
	Running bool
	// PID is the main process's id while it runs, 0 otherwise. It is also
	// the id of the app's process group.
	PID int
	// Started is when the current run started, or the last one if none
	// runs; zero before the first.
	Started time.Time
	// Restarts counts the starts after the first, failed ones included.
	Restarts int
	// LastExit is how the last run ended; nil before the first ended.
	LastExit *Exit
	// LastError is why the latest start failed; empty once a start
	// succeeds.
	LastError string
	// NextRestart is when the pending restart is due; zero when none is.
	NextRestart time.Time
}

// Exit is how a run of an app ended.
type Exit struct {
	// Code is the exit code, or -1 when the process was killed by a
	// signal.
	Code int
	// Signal is the signal that killed the process, 0 when it exited.
	Signal syscall.Signal
	// Time is when the main process was reaped.
	Time time.Time
	// Ran is how long the run lasted.
	Ran time.Duration
}

// String says how the run ended: "exit code 3" or "killed by SIGKILL".
func (e Exit) String() string {
	if e.Signal != 0 {
		return "killed by " + signalName(e.Signal)
	}
	return fmt.Sprintf("exit code %d", e.Code)
}

// attrs are e's log attributes.
func (e Exit) attrs() []any {
	if e.Signal != 0 {
		return []any{"signal", signalName(e.Signal), "ran", e.Ran}
	}
	return []any{"exit_code", e.Code, "ran", e.Ran}
}
