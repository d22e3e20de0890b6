package wan

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"
)

// quiet discards the WAN's logs in tests.
var quiet = slog.New(slog.DiscardHandler)

// testRegions are the regions of most tests: names the built-in table does
// not know, so that every link starts at zero delay (see newTestWAN).
var testRegions = []string{"a", "b", "c", "d"}

// newTestWAN returns a WAN over testRegions whose links have no delay
// unless links say otherwise.
func newTestWAN(t testing.TB, links ...Link) *WAN {
	t.Helper()
	w, err := New(Options{
		Regions:         testRegions,
		Links:           links,
		FallbackLatency: -1,
		JitterFraction:  -1,
		Logger:          quiet,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return w
}

// server is a TCP server on 127.0.0.1:0 running handle on every
// connection. Close (registered as a cleanup) stops it and waits for its
// goroutines.
type server struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]bool
	// accepted receives every connection as it is accepted, when not nil
	// and not full.
	accepted chan net.Conn
}

func newServer(t testing.TB, handle func(net.Conn)) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &server{ln: ln, conns: map[net.Conn]bool{}, accepted: make(chan net.Conn, 16)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			select {
			case s.accepted <- c:
			default:
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(s.Close)
	return s
}

func (s *server) addr() string { return s.ln.Addr().String() }

func (s *server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// echo copies what it reads back to the writer, then half-closes.
func echo(c net.Conn) {
	io.Copy(c, c)
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}

func newEchoServer(t testing.TB) *server { return newServer(t, echo) }

// dial dials from -> to through w, failing the test on error, and closes
// the connection at cleanup.
func dial(t testing.TB, w *WAN, from, to, addr string) net.Conn {
	t.Helper()
	c, err := w.DialContext(context.Background(), from, to, "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s -> %s: %v", from, to, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes msg and reads as many bytes back, returning how long it
// took.
func roundTrip(t testing.TB, c net.Conn, msg string) time.Duration {
	t.Helper()
	start := time.Now()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(buf) != msg {
		t.Fatalf("echo returned %q, want %q", buf, msg)
	}
	return time.Since(start)
}

// checkLinkDown checks that err is what a down link gives: a net.Error
// wrapping ErrPartitioned and a *LinkError.
func checkLinkDown(t testing.TB, what string, err error) *LinkError {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want one wrapping ErrPartitioned", what)
	}
	if !errors.Is(err, ErrPartitioned) {
		t.Fatalf("%s: got %v, want an error wrapping ErrPartitioned", what, err)
	}
	var ne net.Error
	if !errors.As(err, &ne) {
		t.Errorf("%s: %v (%T) is not a net.Error", what, err, err)
	}
	var le *LinkError
	if !errors.As(err, &le) {
		t.Fatalf("%s: %v has no *LinkError", what, err)
	}
	return le
}
