package bind_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/gyre-dev/gyre/internal/bind"
)

// holder is a socket some process keeps bound for a test.
type holder struct {
	port    int
	pid     int
	cmdline string // as an *InUseError should show it
}

// holdHere binds network addr in this process until the test ends.
func holdHere(t *testing.T, network, addr string) holder {
	t.Helper()
	var c io.Closer
	var port int
	if strings.HasPrefix(network, "tcp") {
		ln, err := net.Listen(network, addr)
		if err != nil {
			t.Skipf("cannot hold %s %s here: %v", network, addr, err)
		}
		c, port = ln, ln.Addr().(*net.TCPAddr).Port
	} else {
		pc, err := net.ListenPacket(network, addr)
		if err != nil {
			t.Skipf("cannot hold %s %s here: %v", network, addr, err)
		}
		c, port = pc, pc.LocalAddr().(*net.UDPAddr).Port
	}
	t.Cleanup(func() { c.Close() })
	return holder{port: port, pid: os.Getpid(), cmdline: shown(os.Args...)}
}

// holdInChild re-executes the test binary to bind network addr, and waits
// for it to print the bound address before returning. The child exits
// when the test ends.
func holdInChild(t *testing.T, network, addr string) holder {
	t.Helper()
	args := []string{"hold", network, addr}
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the holder: %v", err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stdin.Close()
		cmd.Wait()
		t.Fatalf("the holder printed no address (%v); stderr:\n%s", err, stderr.String())
	}
	ap, err := netip.ParseAddrPort(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("the holder printed %q, not an address: %v", line, err)
	}
	return holder{port: int(ap.Port()), pid: cmd.Process.Pid, cmdline: shown(append([]string{os.Args[0]}, args...)...)}
}

// shown is a command line as an *InUseError shows it, for command lines
// short enough not to be cut.
func shown(args ...string) string {
	s := strings.Join(args, " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func TestListenInUse(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finding the holder needs /proc")
	}
	tests := []struct {
		name     string
		hold     func(t *testing.T, network, addr string) holder
		holdNet  string // network and address the holder binds; port 0
		holdAddr string
		network  string // network and host passed to bind, on the holder's port
		host     string
	}{
		{"tcp held by this process", holdHere, "tcp", "127.0.0.1:0", "tcp", "127.0.0.1"},
		{"tcp held by a child", holdInChild, "tcp", "127.0.0.1:0", "tcp", "127.0.0.1"},
		{"udp held by this process", holdHere, "udp", "127.0.0.1:0", "udp", "127.0.0.1"},
		{"udp held by a child", holdInChild, "udp", "127.0.0.1:0", "udp", "127.0.0.1"},
		{"tcp6 loopback held by a child", holdInChild, "tcp6", "[::1]:0", "tcp6", "::1"},
		{"udp6 loopback held by this process", holdHere, "udp6", "[::1]:0", "udp6", "::1"},
		{"tcp4 wildcard holds 127.0.0.1", holdHere, "tcp4", "0.0.0.0:0", "tcp", "127.0.0.1"},
		{"dual-stack wildcard holds 127.0.0.1", holdHere, "tcp", ":0", "tcp4", "127.0.0.1"},
		{"udp4 wildcard holds 127.0.0.1", holdInChild, "udp4", "0.0.0.0:0", "udp", "127.0.0.1"},
		{"127.0.0.1 holds the wildcard", holdHere, "tcp4", "127.0.0.1:0", "tcp4", "0.0.0.0"},
		{"a name resolves to the held address", holdHere, "tcp", "127.0.0.1:0", "tcp", "localhost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.hold(t, tt.holdNet, tt.holdAddr)
			addr := net.JoinHostPort(tt.host, fmt.Sprint(h.port))
			c, err := open(tt.network, addr)
			if err == nil {
				c.Close()
				t.Fatalf("opening %s %s beside the holder succeeded; want it in use", tt.network, addr)
			}
			t.Logf("error: %v", err)
			var inUse *bind.InUseError
			if !errors.As(err, &inUse) {
				t.Fatalf("error is %T %q; want *bind.InUseError", err, err)
			}
			if !errors.Is(err, syscall.EADDRINUSE) {
				t.Errorf("errors.Is(err, EADDRINUSE) is false for %q", err)
			}
			if inUse.Network != tt.network || inUse.Addr != addr {
				t.Errorf("error names %s %s; want %s %s", inUse.Network, inUse.Addr, tt.network, addr)
			}
			if inUse.PID != h.pid || inUse.Cmdline != h.cmdline {
				t.Errorf("error names pid %d %q; want pid %d %q", inUse.PID, inUse.Cmdline, h.pid, h.cmdline)
			}
			want := fmt.Sprintf("%s (%s) is already in use by pid %d: %s", addr, tt.network, h.pid, h.cmdline)
			if err.Error() != want {
				t.Errorf("message\n %q\nwant\n %q", err, want)
			}
		})
	}
}

// open opens a listener with bind on network addr, by kind.
func open(network, addr string) (io.Closer, error) {
	if strings.HasPrefix(network, "udp") {
		return bind.ListenPacket(network, addr)
	}
	return bind.Listen(network, addr)
}

func TestListenNotAvailable(t *testing.T) {
	// 203.0.113.0/24 is TEST-NET-3: on no host's interfaces, so the bind
	// fails in the kernel and nothing is sent.
	const ip = "203.0.113.1"
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.String() == ip {
			t.Skipf("%s is an address of this host", ip)
		}
	}
	for _, network := range []string{"tcp", "tcp4", "udp", "udp4"} {
		t.Run(network, func(t *testing.T) {
			addr := ip + ":0"
			c, err := open(network, addr)
			if err == nil {
				c.Close()
				t.Skipf("opening %s %s succeeded: this host binds non-local addresses", network, addr)
			}
			t.Logf("error: %v", err)
			var e *bind.Error
			if !errors.As(err, &e) {
				t.Fatalf("error is %T %q; want *bind.Error", err, err)
			}
			if !errors.Is(err, syscall.EADDRNOTAVAIL) {
				t.Errorf("errors.Is(err, EADDRNOTAVAIL) is false for %q", err)
			}
			want := fmt.Sprintf("cannot listen on %s (%s): %s is not an address of this host", addr, network, ip)
			if err.Error() != want {
				t.Errorf("message\n %q\nwant\n %q", err, want)
			}
		})
	}
}

func TestListenPrivileged(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may bind privileged ports")
	}
	c, err := bind.Listen("tcp", "127.0.0.1:1")
	if err == nil {
		c.Close()
		t.Skip("this host lets anyone bind port 1")
	}
	t.Logf("error: %v", err)
	var e *bind.Error
	if !errors.As(err, &e) || !errors.Is(err, syscall.EACCES) {
		t.Fatalf("error is %T %q; want *bind.Error wrapping EACCES", err, err)
	}
	if !strings.HasPrefix(e.Reason, "permission denied: port 1 is privileged") {
		t.Errorf("reason %q; want it to say port 1 is privileged", e.Reason)
	}
}

func TestListenOtherErrors(t *testing.T) {
	tests := []struct {
		network, addr string
		want          string
	}{
		{"tcp", "127.0.0.1", "cannot listen on 127.0.0.1 (tcp): address 127.0.0.1: missing port in address"},
		{"udp", "127.0.0.1:70000", "cannot listen on 127.0.0.1:70000 (udp): address 70000: invalid port"},
	}
	for _, tt := range tests {
		t.Run(tt.network+" "+tt.addr, func(t *testing.T) {
			c, err := open(tt.network, tt.addr)
			if err == nil {
				c.Close()
				t.Fatalf("opening %s %s succeeded; want an error", tt.network, tt.addr)
			}
			var e *bind.Error
			if !errors.As(err, &e) {
				t.Fatalf("error is %T %q; want *bind.Error", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("message\n %q\nwant\n %q", err, tt.want)
			}
		})
	}
}

func TestListenOtherNetworks(t *testing.T) {
	// A unix socket path in use is not an IP address: net's error comes
	// back as it is.
	path := t.TempDir() + "/gyre.sock"
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Skipf("no unix sockets here: %v", err)
	}
	defer ln.Close()
	_, err = bind.Listen("unix", path)
	var inUse *bind.InUseError
	var e *bind.Error
	if err == nil || errors.As(err, &inUse) || errors.As(err, &e) {
		t.Fatalf("error is %T %v; want net's own", err, err)
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&bind.InUseError{Network: "tcp", Addr: "127.0.0.1:8080", PID: 4242, Cmdline: "gyre up --config gyre.yaml"},
			"127.0.0.1:8080 (tcp) is already in use by pid 4242: gyre up --config gyre.yaml"},
		{&bind.InUseError{Network: "tcp", Addr: "127.0.0.1:8080"},
			"127.0.0.1:8080 (tcp) is already in use by another program"},
		{&bind.InUseError{Network: "udp", Addr: "127.0.0.1:8053", PID: 7},
			"127.0.0.1:8053 (udp) is already in use by pid 7"},
		{&bind.Error{Network: "tcp", Addr: "127.0.2.1:8080", Reason: "127.0.2.1 is not an address of this host"},
			"cannot listen on 127.0.2.1:8080 (tcp): 127.0.2.1 is not an address of this host"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("message\n %q\nwant\n %q", got, tt.want)
		}
		wrapped := fmt.Errorf("front door: %w; stop it, or set routing.front_door in gyre.yaml", tt.err)
		if !errors.Is(wrapped, tt.err) {
			t.Errorf("errors.Is does not find %q in %q", tt.err, wrapped)
		}
	}
}
