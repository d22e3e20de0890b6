package wan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// DialContext connects from region from to addr in region to, as
// net.Dialer.DialContext does, through the link between them. It dials the
// real address, then holds the connection for one round trip of the link
// (the TCP handshake) before returning it, honouring ctx throughout; the
// connection it returns delays every byte by the link's latency and jitter
// (see the package documentation). A refused dial pays the round trip too.
//
// When the link is down it fails at once, without dialing, with a
// *net.OpError wrapping a *LinkError (errors.Is(err, ErrPartitioned)).
// Dialing from a region to itself is not a WAN connection: it is the plain
// dial, without delay. Unknown region names fail with ErrUnknownRegion.
//
// The caller owns the connection and must Close it; its two goroutines end
// soon after.
func (w *WAN) DialContext(ctx context.Context, from, to, network, addr string) (net.Conn, error) {
	i, ok := w.index[from]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownRegion, from)
	}
	j, ok := w.index[to]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownRegion, to)
	}
	if i == j {
		return w.opts.Dialer.DialContext(ctx, network, addr)
	}
	fwd, rev := w.links[i][j], w.links[j][i]
	m := &fwd.m
	m.dials.Inc()

	start := time.Now()
	var seed [4]uint64
	w.mu.Lock()
	lerr := w.linkErrLocked(i, j)
	handshake := fwd.params.Load().delay(w.mu.seed) + rev.params.Load().delay(w.mu.seed)
	for k := range seed {
		seed[k] = w.mu.seed.Uint64()
	}
	w.mu.Unlock()
	if lerr != nil {
		m.dialFailed(lerr.reason())
		w.log.Debug("dial refused", "from", from, "to", to, "addr", addr, "err", lerr)
		return nil, &net.OpError{Op: "dial", Net: network, Addr: stringAddr{network, addr}, Err: lerr}
	}
	ready := start.Add(handshake)

	raw, err := w.opts.Dialer.DialContext(ctx, network, addr)
	if err != nil {
		// A refusal comes back after a round trip, as a RST would.
		reason := reasonError
		if ctx.Err() != nil || sleepUntil(ctx, ready, nil) != nil {
			reason = reasonCanceled
		}
		m.dialFailed(reason)
		return nil, err
	}
	c := newConn(w, raw, network, i, j, ready, seed)
	if lerr := w.register(c); lerr != nil {
		raw.Close()
		m.dialFailed(lerr.reason())
		return nil, &net.OpError{Op: "dial", Net: network, Addr: raw.RemoteAddr(), Err: lerr}
	}
	c.start()
	if werr := sleepUntil(ctx, ready, c.broken); werr != nil {
		c.mu.Lock()
		lerr, _ := c.mu.brokenErr.(*LinkError)
		c.mu.Unlock()
		c.Close()
		if lerr != nil {
			m.dialFailed(lerr.reason())
			return nil, &net.OpError{Op: "dial", Net: network, Addr: raw.RemoteAddr(), Err: lerr}
		}
		m.dialFailed(reasonCanceled)
		return nil, &net.OpError{Op: "dial", Net: network, Addr: raw.RemoteAddr(), Err: werr}
	}
	return c, nil
}

// sleepUntil waits until t, returning ctx's error if ctx ends first, or
// errBroken if stop is closed first.
func sleepUntil(ctx context.Context, t time.Time, stop <-chan struct{}) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-stop:
		return errBroken
	}
}

// errBroken is sleepUntil's report that stop was closed.
var errBroken = errors.New("wan: connection broke during the handshake")

// DialFunc returns DialContext bound to a pair of regions, in the shape of
// http.Transport.DialContext and similar hooks.
func (w *WAN) DialFunc(from, to string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return w.DialContext(ctx, from, to, network, addr)
	}
}

// Transport returns a new HTTP transport whose connections are dialed
// from region from to region to through the WAN. Its settings are
// http.DefaultTransport's, except that it ignores proxy settings in the
// environment (the peers are local addresses) and keeps up to 16 idle
// connections per host. TLS, when the URL asks for it, runs over the
// delayed connection, so its handshake pays the link's round trips too.
//
// The caller owns the transport: keep it for as long as the client it
// serves, and call CloseIdleConnections when done, or its idle
// connections (and their goroutines) stay open until IdleConnTimeout.
func (w *WAN) Transport(from, to string) *http.Transport {
	return &http.Transport{
		DialContext:           w.DialFunc(from, to),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}

// HTTPClient returns a new HTTP client on a new Transport(from, to). It
// sets no overall timeout, as replication streams are long-lived; bound
// each request with its context. The caller owns the client and should
// call CloseIdleConnections when done with it.
func (w *WAN) HTTPClient(from, to string) *http.Client {
	return &http.Client{Transport: w.Transport(from, to)}
}

// stringAddr is the net.Addr of a dial that never reached the socket.
type stringAddr struct{ network, addr string }

func (a stringAddr) Network() string { return a.network }
func (a stringAddr) String() string  { return a.addr }
