package node

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/gyre-dev/gyre/internal/bind"
)

// listenFor opens a TCP listener for what (e.g. "region us-east-1: public
// endpoint"), set by the topology field at path; when it cannot, the error
// says who holds the address, or why it cannot be had, and the fix.
func listenFor(what, path, addr string) (net.Listener, error) {
	ln, err := bind.Listen("tcp", addr)
	if err != nil {
		return nil, listenError(what, path, err)
	}
	return ln, nil
}

// listenError words a failure to listen for a newcomer: what the address
// is for, the cause from package bind (without the wrapping of the layers
// between) and the fix.
func listenError(what, path string, err error) error {
	if e, ok := errors.AsType[*bind.InUseError](err); ok {
		err = e
	} else if e, ok := errors.AsType[*bind.Error](err); ok {
		err = e
	}
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("%s: %w; stop it, or set %s in gyre.yaml to another address", what, err, path)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("%s: %w; on macOS add the loopback alias first (sudo ifconfig lo0 alias HOST up), or set %s in gyre.yaml", what, err, path)
	}
	return fmt.Errorf("%s: %w (set %s in gyre.yaml)", what, err, path)
}
