//go:build unix && !linux

package supervisor

import (
	"log/slog"
	"syscall"
)

// sysProcAttr puts the app in a process group of its own. Without
// Linux's Pdeathsig, an app outlives a Gyre that is killed with SIGKILL.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// becomeSubreaper does nothing: without Linux's child subreapers, what an
// app leaves behind is reparented to init, which reaps it.
func becomeSubreaper(*slog.Logger) {}
