package bind

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

// Listen announces on the local network address, as net.Listen does. For
// the networks "tcp", "tcp4" and "tcp6", a failure is returned as an
// *InUseError when the address is taken and as an *Error otherwise, both
// wrapping the error from net; for other networks the error from net is
// returned unchanged. The caller owns the listener and must close it.
func Listen(network, addr string) (net.Listener, error) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		switch network {
		case "tcp", "tcp4", "tcp6":
			return nil, explain(network, addr, err)
		}
		return nil, err
	}
	return ln, nil
}

// ListenPacket announces on the local network address, as net.ListenPacket
// does. For the networks "udp", "udp4" and "udp6", a failure is returned as
// an *InUseError when the address is taken and as an *Error otherwise, both
// wrapping the error from net; for other networks the error from net is
// returned unchanged. The caller owns the connection and must close it.
func ListenPacket(network, addr string) (net.PacketConn, error) {
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		switch network {
		case "udp", "udp4", "udp6":
			return nil, explain(network, addr, err)
		}
		return nil, err
	}
	return pc, nil
}

// InUseError reports that a listener could not be opened because its
// address is already in use, and by whom when that could be found.
// errors.Is(err, syscall.EADDRINUSE) holds for it.
type InUseError struct {
	// Network is the network passed to Listen or ListenPacket: "tcp", "udp6"...
	Network string
	// Addr is the address passed to Listen or ListenPacket, as written.
	Addr string
	// PID is the process holding the address, or 0 when it could not be
	// found: another user's process, or a host without /proc.
	PID int
	// Cmdline is the holder's command line, its arguments joined with
	// spaces and cut to about 200 bytes; empty when PID is 0 or the
	// command line could not be read.
	Cmdline string
	// Err is the error from the net package.
	Err error
}

// Error reads "127.0.0.1:8080 (tcp) is already in use by pid 4242: gyre up",
// or "... by another program" when the holder is unknown.
func (e *InUseError) Error() string {
	switch {
	case e.PID == 0:
		return fmt.Sprintf("%s (%s) is already in use by another program", e.Addr, e.Network)
	case e.Cmdline == "":
		return fmt.Sprintf("%s (%s) is already in use by pid %d", e.Addr, e.Network, e.PID)
	}
	return fmt.Sprintf("%s (%s) is already in use by pid %d: %s", e.Addr, e.Network, e.PID, e.Cmdline)
}

// Unwrap returns the error from the net package.
func (e *InUseError) Unwrap() error { return e.Err }

// Error reports a listener that could not be opened for a reason other
// than its address being in use: an address that is not on this host, a
// privileged port, a descriptor limit. errors.Is with the syscall.Errno
// (syscall.EADDRNOTAVAIL, syscall.EACCES...) holds for it.
type Error struct {
	// Network is the network passed to Listen or ListenPacket.
	Network string
	// Addr is the address passed to Listen or ListenPacket, as written.
	Addr string
	// Reason is the cause in words, such as "127.0.2.1 is not an address
	// of this host".
	Reason string
	// Err is the error from the net package.
	Err error
}

// Error reads "cannot listen on 127.0.2.1:8080 (tcp): 127.0.2.1 is not an
// address of this host".
func (e *Error) Error() string {
	return fmt.Sprintf("cannot listen on %s (%s): %s", e.Addr, e.Network, e.Reason)
}

// Unwrap returns the error from the net package.
func (e *Error) Unwrap() error { return e.Err }

// explain turns a failure of net.Listen or net.ListenPacket on an IP
// network into an *InUseError or an *Error.
func explain(network, addr string, err error) error {
	local := localAddr(addr, err)
	var errno syscall.Errno
	if errors.As(err, &errno) && errno == syscall.EADDRINUSE {
		e := &InUseError{Network: network, Addr: addr, Err: err}
		if local.IsValid() {
			e.PID, e.Cmdline = lookupOwner(network, local)
		}
		return e
	}
	var cause string
	var op *net.OpError
	switch {
	case errno != 0:
		cause = reason(errno, host(addr, local), local.Port(), unprivilegedPortStart())
	case errors.As(err, &op) && op.Err != nil:
		// Drop net's "listen tcp 127.0.0.1:x: " prefix: Error says it.
		cause = op.Err.Error()
	default:
		cause = err.Error()
	}
	return &Error{Network: network, Addr: addr, Reason: cause, Err: err}
}

// reason says in words why binding failed with errno on host and port;
// ports below privilegedBelow need privilege to bind.
func reason(errno syscall.Errno, host string, port uint16, privilegedBelow int) string {
	switch errno {
	case syscall.EADDRNOTAVAIL:
		return host + " is not an address of this host"
	case syscall.EACCES:
		if port != 0 && int(port) < privilegedBelow {
			return "permission denied: port " + strconv.Itoa(int(port)) +
				" is privileged (below " + strconv.Itoa(privilegedBelow) + ")"
		}
		return "permission denied"
	}
	return errno.Error()
}

// localAddr is the address the failed listen tried to bind: the one net
// resolved when it says, else addr parsed. An empty host gives the IPv6
// wildcard, which is what net binds for it; an address that cannot be
// known gives the zero AddrPort.
func localAddr(addr string, err error) netip.AddrPort {
	var ap netip.AddrPort
	var op *net.OpError
	if errors.As(err, &op) {
		switch a := op.Addr.(type) {
		case *net.TCPAddr:
			ap = a.AddrPort()
		case *net.UDPAddr:
			ap = a.AddrPort()
		}
	}
	if !ap.Addr().IsValid() {
		h, p, splitErr := net.SplitHostPort(addr)
		port, portErr := strconv.ParseUint(p, 10, 16)
		if splitErr != nil || portErr != nil {
			return netip.AddrPort{}
		}
		ip, ipErr := netip.ParseAddr(h)
		switch {
		case h == "":
			ip = netip.IPv6Unspecified()
		case ipErr != nil:
			return netip.AddrPort{}
		}
		ap = netip.AddrPortFrom(ip, uint16(port))
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// host is the host to name in a message: the address bound when known,
// else the host part of addr as written.
func host(addr string, local netip.AddrPort) string {
	if local.IsValid() {
		return local.Addr().String()
	}
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
