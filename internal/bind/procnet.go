package bind

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// socket is one row of /proc/net/tcp, tcp6, udp or udp6.
type socket struct {
	local netip.AddrPort // IPv4-mapped IPv6 addresses are unmapped
	state uint8
	inode uint64 // 0 for sockets no process holds, such as TIME_WAIT
}

// tcpListen is the state column of a listening TCP socket.
const tcpListen = 0x0A

// parseProcNet parses the contents of /proc/net/tcp, tcp6, udp or udp6.
// The kernel prints each 32-bit word of an address as a hexadecimal number
// in the host's byte order, so order must be that of the host whose file
// it is. The header, and any row that does not parse, are skipped.
func parseProcNet(data []byte, order binary.ByteOrder) []socket {
	var socks []socket
	for line := range strings.Lines(string(data)) {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
		f := strings.Fields(line)
		if len(f) < 10 || !strings.HasSuffix(f[0], ":") {
			continue
		}
		local, ok := parseHexAddrPort(f[1], order)
		if !ok {
			continue
		}
		state, err := strconv.ParseUint(f[3], 16, 8)
		if err != nil {
			continue
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			continue
		}
		socks = append(socks, socket{local: local, state: uint8(state), inode: inode})
	}
	return socks
}

// parseHexAddrPort parses an address column of /proc/net/tcp and friends:
// "0100007F:1F90" is 127.0.0.1:8080 on a little-endian host. The port is a
// plain hexadecimal number; the address is one (IPv4) or four (IPv6)
// 32-bit words, each in the host's byte order.
func parseHexAddrPort(s string, order binary.ByteOrder) (netip.AddrPort, bool) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	if !ok || len(hexPort) != 4 {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	words := len(hexIP) / 8
	if len(hexIP)%8 != 0 || words != 1 && words != 4 {
		return netip.AddrPort{}, false
	}
	var b [16]byte
	for i := range words {
		w, err := strconv.ParseUint(hexIP[i*8:i*8+8], 16, 32)
		if err != nil {
			return netip.AddrPort{}, false
		}
		order.PutUint32(b[i*4:], uint32(w))
	}
	ip := netip.AddrFrom4([4]byte(b[:4]))
	if words == 4 {
		ip = netip.AddrFrom16(b).Unmap()
	}
	return netip.AddrPortFrom(ip, uint16(port)), true
}

// holders returns the inodes of the sockets in socks that keep want from
// being bound: those on want's port whose address is want's, exact
// matches first, then those where either side is a wildcard. With
// listening, only TCP sockets in LISTEN state count: a bound UDP socket
// holds its port whatever its state. exact is how many of the inodes are
// exact matches.
func holders(socks []socket, want netip.AddrPort, listening bool) (inodes []uint64, exact int) {
	w := want.Addr().WithZone("").Unmap()
	var wild []uint64
	for _, s := range socks {
		if s.inode == 0 || s.local.Port() != want.Port() || listening && s.state != tcpListen {
			continue
		}
		have := s.local.Addr().WithZone("").Unmap()
		switch {
		case have == w:
			inodes = append(inodes, s.inode)
		case covers(have, w) || covers(w, have):
			wild = append(wild, s.inode)
		}
	}
	return append(inodes, wild...), len(inodes)
}

// covers reports whether a socket bound to the wildcard a also takes the
// port on b: the IPv4 wildcard covers IPv4 addresses, and the IPv6 one
// covers everything, since Gyre's and most programs' IPv6 wildcard
// sockets are dual-stack.
func covers(a, b netip.Addr) bool {
	switch {
	case !a.IsUnspecified():
		return false
	case a.Is6():
		return true
	}
	return b.Is4()
}

// parseSocketLink returns the inode of a /proc/<pid>/fd/<n> link target
// "socket:[12345]", and false for any other target.
func parseSocketLink(target string) (uint64, bool) {
	s, ok := strings.CutPrefix(target, "socket:[")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return 0, false
	}
	inode, err := strconv.ParseUint(s, 10, 64)
	return inode, err == nil
}

// maxCmdline is how many bytes of a command line an *InUseError keeps:
// enough for a program and its flags, not a screenful.
const maxCmdline = 200

// formatCmdline turns the contents of /proc/<pid>/cmdline, arguments
// separated by NUL bytes, into one line: arguments joined with spaces,
// control characters and invalid UTF-8 replaced, cut at maxCmdline bytes
// with "..." appended.
func formatCmdline(raw []byte) string {
	s := strings.TrimRight(string(raw), "\x00")
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) <= maxCmdline {
		return s
	}
	cut := maxCmdline
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
