//go:build linux

package supervisor

import (
	"log/slog"
	"sync"
	"syscall"
)

// sysProcAttr puts the app in a process group of its own, and has the
// kernel SIGKILL it when Gyre dies. Pdeathsig fires when the thread that
// forked the app ends, not the process; the Go runtime ends a thread only
// when a goroutine locked to it returns, and the goroutines that start
// apps never lock theirs.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER of <linux/prctl.h>.
const prSetChildSubreaper = 36

var subreaper sync.Once

// becomeSubreaper makes the Gyre process a child subreaper, once: the
// processes an app leaves behind are then reparented to Gyre, which reaps
// them (see reapGroup), instead of to an init that may never reap them.
func becomeSubreaper(log *slog.Logger) {
	subreaper.Do(func() {
		if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
			log.Warn("supervisor: cannot become a child subreaper; processes apps leave behind may outlive Shutdown", "error", errno)
		}
	})
}
