//go:build linux

package bind

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lookupOwner finds the process holding a socket that keeps local from
// being bound on network, and returns its pid and command line, or 0 and
// "" when none can be found. Files it may not read, and processes that
// exit while it looks, are skipped.
func lookupOwner(network string, local netip.AddrPort) (pid int, cmdline string) {
	var files []string
	var listening bool
	switch network {
	case "tcp", "tcp4", "tcp6":
		// An IPv6 wildcard listener holds IPv4 ports too, and an IPv4
		// one blocks a dual-stack bind, so both tables count.
		files, listening = []string{"/proc/net/tcp", "/proc/net/tcp6"}, true
	case "udp", "udp4", "udp6":
		files = []string{"/proc/net/udp", "/proc/net/udp6"}
	default:
		return 0, ""
	}
	var socks []socket
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			socks = append(socks, parseProcNet(data, binary.NativeEndian)...)
		}
	}
	inodes, exact := holders(socks, local, listening)
	if len(inodes) == 0 {
		return 0, ""
	}
	pid = findProcess(inodes, exact)
	if pid == 0 {
		return 0, ""
	}
	return pid, readCmdline(pid)
}

// findProcess returns a process with a descriptor on one of inodes, or 0.
// The first exact of inodes are exact matches, preferred to the rest: the
// search stops at the first process holding one of them, or, when there
// are none, at the first holding any.
func findProcess(inodes []uint64, exact int) int {
	rank := make(map[uint64]bool, len(inodes)) // inode -> is an exact match
	for i, ino := range inodes {
		rank[ino] = i < exact
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	fallback := 0
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid <= 0 {
			continue
		}
		dir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(dir, fd.Name()))
			if err != nil {
				continue
			}
			ino, ok := parseSocketLink(target)
			if !ok {
				continue
			}
			isExact, held := rank[ino]
			if !held {
				continue
			}
			if isExact || exact == 0 {
				return pid
			}
			if fallback == 0 {
				fallback = pid
			}
			// This process holds a wildcard socket; an exact holder
			// may still come.
			break
		}
	}
	return fallback
}

// readCmdline returns pid's command line for a message, or its command
// name in brackets, as ps shows it, when the command line is empty.
func readCmdline(pid int) string {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	if raw, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
		if s := formatCmdline(raw); s != "" {
			return s
		}
	}
	if comm, err := os.ReadFile(filepath.Join(dir, "comm")); err == nil {
		if s := formatCmdline(comm); s != "" {
			return "[" + s + "]"
		}
	}
	return ""
}

// unprivilegedPortStart is the lowest port a process without privilege
// may bind, from net.ipv4.ip_unprivileged_port_start, 1024 when unknown.
func unprivilegedPortStart() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil {
		return 1024
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 1024
	}
	return n
}
