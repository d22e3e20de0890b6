//go:build !linux

package bind

import "net/netip"

// lookupOwner would find the process holding local; without /proc it
// cannot, and returns 0 and "", so the error says "another program".
func lookupOwner(network string, local netip.AddrPort) (pid int, cmdline string) {
	return 0, ""
}

// unprivilegedPortStart is the lowest port a process without privilege
// may bind, taken to be the traditional 1024 where there is no /proc to
// ask.
func unprivilegedPortStart() int { return 1024 }
