package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Every connection between nodes opens with one byte naming its protocol,
// so that Raft's RPCs and forwarded changes share the one listener.
const (
	protoRaft    byte = 'R' // hashicorp/raft's NetworkTransport RPCs
	protoForward byte = 'F' // one forwarded change (forward.go)
)

// handshakeTimeout bounds the wait for a new connection's protocol byte.
const handshakeTimeout = 10 * time.Second

// mux owns a node's listener and every connection between it and the other
// nodes. It hands connections that open with protoRaft to Raft (through
// streamLayer) and those that open with protoForward to serveForward. Close
// closes the listener and every connection, inbound and outbound, and
// waits for the goroutines it started.
type mux struct {
	ln   net.Listener
	log  *slog.Logger
	self Peer
	dial func(ctx context.Context, to, network, addr string) (net.Conn, error)
	// byAddr maps a peer's RaftAddr to its ID, for Raft's dials, which
	// know the address alone.
	byAddr map[string]string
	// serveForward handles a forwarding connection; it owns the
	// connection.
	serveForward func(net.Conn)

	ctx    context.Context // canceled by Close: ends dials in flight
	cancel context.CancelFunc
	raftCh chan net.Conn // connections for Raft's Accept
	wg     sync.WaitGroup

	mu struct {
		sync.Mutex
		closed bool
		conns  map[*trackedConn]struct{}
	}
}

func newMux(ln net.Listener, self Peer, peers []Peer, dial func(ctx context.Context, to, network, addr string) (net.Conn, error), log *slog.Logger, serveForward func(net.Conn)) *mux {
	m := &mux{
		ln: ln, log: log, self: self, dial: dial, serveForward: serveForward,
		byAddr: make(map[string]string, len(peers)),
		raftCh: make(chan net.Conn),
	}
	for _, p := range peers {
		m.byAddr[p.RaftAddr] = p.ID
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.mu.conns = make(map[*trackedConn]struct{})
	return m
}

// start starts accepting connections.
func (m *mux) start() {
	m.wg.Add(1)
	go m.acceptLoop()
}

func (m *mux) acceptLoop() {
	defer m.wg.Done()
	var delay time.Duration
	for {
		c, err := m.ln.Accept()
		if err != nil {
			if m.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient failure (out of file descriptors): back off, as
			// net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			m.log.Warn("accepting a connection failed", "err", err, "retry_in", delay)
			select {
			case <-time.After(delay):
				continue
			case <-m.ctx.Done():
				return
			}
		}
		delay = 0
		tc, ok := m.track(c)
		if !ok {
			return
		}
		m.wg.Add(1)
		go m.handshake(tc)
	}
}

// handshake reads a new connection's protocol byte and hands it on.
func (m *mux) handshake(c *trackedConn) {
	defer m.wg.Done()
	defer func() {
		if p := recover(); p != nil {
			m.log.Error("panic serving a peer connection", "panic", p, "remote", c.RemoteAddr().String())
			c.Close()
		}
	}()
	var b [1]byte
	c.SetReadDeadline(time.Now().Add(handshakeTimeout))
	if _, err := c.Read(b[:]); err != nil {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	switch b[0] {
	case protoRaft:
		select {
		case m.raftCh <- c:
		case <-m.ctx.Done():
			c.Close()
		}
	case protoForward:
		m.serveForward(c)
	default:
		m.log.Debug("connection with an unknown protocol byte", "byte", b[0], "remote", c.RemoteAddr().String())
		c.Close()
	}
}

// dialPeer connects to the peer at addr and announces proto.
func (m *mux) dialPeer(ctx context.Context, to, addr string, proto byte) (net.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(m.ctx, cancel)
	defer stop()
	c, err := m.dial(ctx, to, "tcp", addr)
	if err != nil {
		return nil, err
	}
	tc, ok := m.track(c)
	if !ok {
		return nil, net.ErrClosed
	}
	if d, ok := ctx.Deadline(); ok {
		tc.SetWriteDeadline(d)
	}
	if _, err := tc.Write([]byte{proto}); err != nil {
		tc.Close()
		return nil, err
	}
	tc.SetWriteDeadline(time.Time{})
	return tc, nil
}

// track registers c, to be closed by Close. It closes c and reports false
// once the mux is closed.
func (m *mux) track(c net.Conn) (*trackedConn, bool) {
	tc := &trackedConn{Conn: c, m: m}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.closed {
		c.Close()
		return nil, false
	}
	m.mu.conns[tc] = struct{}{}
	return tc, true
}

// Close closes the listener and every connection, and waits for the
// mux's goroutines. It is idempotent.
func (m *mux) Close() error {
	m.mu.Lock()
	if m.mu.closed {
		m.mu.Unlock()
		m.wg.Wait()
		return nil
	}
	m.mu.closed = true
	conns := m.mu.conns
	m.mu.conns = nil
	m.mu.Unlock()
	m.cancel()
	err := m.ln.Close()
	for c := range conns {
		c.Conn.Close()
	}
	m.wg.Wait()
	return err
}

// trackedConn is a connection the mux closes at Close.
type trackedConn struct {
	net.Conn
	m    *mux
	once sync.Once
}

// Close untracks and closes the connection.
func (c *trackedConn) Close() error {
	var err error
	c.once.Do(func() {
		c.m.mu.Lock()
		delete(c.m.mu.conns, c)
		c.m.mu.Unlock()
		err = c.Conn.Close()
	})
	return err
}

// streamLayer is the mux as Raft's NetworkTransport sees it.
type streamLayer struct{ m *mux }

var _ raft.StreamLayer = streamLayer{}

// Accept returns the next connection that opened with protoRaft.
func (s streamLayer) Accept() (net.Conn, error) {
	select {
	case c := <-s.m.raftCh:
		return c, nil
	case <-s.m.ctx.Done():
		return nil, net.ErrClosed
	}
}

// Close does nothing: the Service closes the mux after Raft has stopped.
func (s streamLayer) Close() error { return nil }

// Addr returns the address the other nodes reach this one at.
func (s streamLayer) Addr() net.Addr { return peerAddr(s.m.self.RaftAddr) }

// Dial connects to the node at address for Raft.
func (s streamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	to, ok := s.m.byAddr[string(address)]
	if !ok {
		return nil, fmt.Errorf("control: raft dials %q, which is no peer's address", address)
	}
	ctx, cancel := context.WithTimeout(s.m.ctx, timeout)
	defer cancel()
	return s.m.dialPeer(ctx, to, string(address), protoRaft)
}

// peerAddr is a peer's host:port as a net.Addr.
type peerAddr string

func (a peerAddr) Network() string { return "tcp" }
func (a peerAddr) String() string  { return string(a) }
