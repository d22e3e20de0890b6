// Package bind opens Gyre's listeners and, when one cannot be opened, says
// why in words a newcomer can act on.
//
// Listen and ListenPacket behave as net.Listen and net.ListenPacket for the
// IP networks ("tcp", "tcp4", "tcp6", "udp", "udp4", "udp6"). When the
// address is taken they return an *InUseError that names the process
// holding it, found on Linux through /proc: the socket bound to the port
// (on that address or on the wildcard) in /proc/net/{tcp,tcp6,udp,udp6},
// then the process with a file descriptor on that socket. Other failures,
// an address that is not on this host or a privileged port, come back as an
// *Error whose Reason names the cause.
//
// Both error types describe the address only: the caller wraps them with
// what the address is for and how to fix it, for example
//
//	ln, err := bind.Listen("tcp", cfg.FrontDoor)
//	if err != nil {
//		return fmt.Errorf("front door: %w; stop it, or set routing.front_door in gyre.yaml", err)
//	}
//
// and may still use errors.As to reach the fields, or errors.Is with
// syscall.EADDRINUSE, syscall.EADDRNOTAVAIL or syscall.EACCES to test the
// cause.
//
// Finding the owner reads only what the calling user may read: another
// user's process, or a host without /proc, gives an *InUseError with no PID.
package bind
