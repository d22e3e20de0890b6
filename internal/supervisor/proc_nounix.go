//go:build !unix

package supervisor

import (
	"fmt"
	"log/slog"
	"runtime"
	"syscall"
)

// supported reports that supervisors need process groups and POSIX
// signals, which this system does not have.
func supported() error {
	return fmt.Errorf("supervisor: running apps is not supported on %s", runtime.GOOS)
}

// The functions below are never called: New fails first.

func sysProcAttr() *syscall.SysProcAttr { return nil }

func becomeSubreaper(*slog.Logger) {}

func signalGroup(int, syscall.Signal) error { return supported() }

func reapGroup(int, func(int, syscall.Signal)) {}

func signalName(sig syscall.Signal) string { return sig.String() }
