package bind_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"testing"

	"github.com/gyre-dev/gyre/internal/leakcheck"
)

// childEnv, set in a re-executed test binary, makes it a holder instead of
// a test run: it listens on os.Args[2] ("tcp" or "udp") at os.Args[3],
// prints the bound address on a line, and keeps the address until its
// standard input closes.
const childEnv = "GYRE_BIND_TEST_HOLDER"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(holdPort(os.Args[1:]))
	}
	leakcheck.Main(m)
}

// holdPort is the child's main: args are "hold", the network and the
// address.
func holdPort(args []string) int {
	if len(args) != 3 || args[0] != "hold" {
		fmt.Fprintf(os.Stderr, "holder: want arguments hold NETWORK ADDR, got %q\n", args)
		return 2
	}
	var c io.Closer
	var addr net.Addr
	switch args[1] {
	case "tcp", "tcp4", "tcp6":
		ln, err := net.Listen(args[1], args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "holder:", err)
			return 1
		}
		c, addr = ln, ln.Addr()
	default:
		pc, err := net.ListenPacket(args[1], args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "holder:", err)
			return 1
		}
		c, addr = pc, pc.LocalAddr()
	}
	defer c.Close()
	fmt.Println(addr)
	io.Copy(io.Discard, os.Stdin)
	return 0
}
