//go:build unix

package supervisor

import (
	"strconv"
	"syscall"
)

// supported reports whether supervisors run on this system.
func supported() error { return nil }

// signalGroup sends sig to every process of process group pgid.
func signalGroup(pgid int, sig syscall.Signal) error { return syscall.Kill(-pgid, sig) }

// reapGroup reaps this process's children in process group pgid, whose
// leader's pid is pgid, as they exit, and returns when none is left,
// calling leaderExited when the leader exits with its exit code (-1 when
// killed by a signal) and the signal. On Linux, where Gyre is a
// subreaper, the processes the leader leaves behind become Gyre's children
// and are reaped here too, so none is left when it returns. Elsewhere
// they are not Gyre's to wait for: whatever of the group remains then is
// killed.
func reapGroup(pgid int, leaderExited func(code int, sig syscall.Signal)) {
	reaped := false
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-pgid, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			// ECHILD: no child of ours is left in the group.
			break
		}
		if pid != pgid {
			continue
		}
		reaped = true
		code, sig := ws.ExitStatus(), syscall.Signal(0)
		if ws.Signaled() {
			code, sig = -1, ws.Signal()
		}
		leaderExited(code, sig)
	}
	if !reaped {
		// Reaped behind our back: Gyre ignores SIGCHLD, or another
		// part of it waited for any child.
		leaderExited(-1, 0)
	}
	if signalGroup(pgid, 0) == nil {
		_ = signalGroup(pgid, syscall.SIGKILL)
	}
}

var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT",
	syscall.SIGILL: "SIGILL", syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT",
	syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE", syscall.SIGKILL: "SIGKILL",
	syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM",
}

// signalName returns sig's name, such as SIGKILL.
func signalName(sig syscall.Signal) string {
	if name, ok := signalNames[sig]; ok {
		return name
	}
	return "signal " + strconv.Itoa(int(sig))
}
