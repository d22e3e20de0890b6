package wan

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"time"
)

const (
	// readChunk is the most the inbound pump reads from the socket at once.
	readChunk = 32 << 10
	// writeBatch is the most the outbound pump hands the socket at once.
	writeBatch = 256 << 10
	// lingerTimeout bounds how long bytes written before Close may take
	// to drain into the socket after their delivery time, as SO_LINGER
	// would.
	lingerTimeout = 2 * time.Second
)

// aLongTimeAgo is a deadline in the past, to unblock a socket read.
var aLongTimeAgo = time.Unix(1, 0)

// errWriteShut is returned by Write after CloseWrite.
var errWriteShut = errors.New("wan: write after CloseWrite")

// conn is the dialing end of a connection across the WAN. It wraps the
// real connection and holds every byte for its link's delay: bytes written
// wait in the outbound queue until their delivery time, when the outbound
// pump (writeLoop) hands them to the socket; bytes the socket receives are
// stamped by the inbound pump (readLoop) and wait in the inbound queue
// until Read may return them. Delivery times never decrease along a queue,
// so bytes arrive in order whatever the jitter, and the pumps deliver in
// batches, so latency costs no throughput.
//
// The connection ends in one of two ways. Close stops reads at once and
// lets the outbound pump deliver what is queued (as TCP's close does)
// before it closes the socket. breakLink, when the link goes down, fails
// everything at once and closes the socket.
type conn struct {
	w        *WAN
	raw      net.Conn
	network  string
	from, to string
	i, j     int
	pair     pair
	limit    int
	fwd, rev *link // fwd carries from -> to, rev to -> from

	// readMu and writeMu serialize Reads and Writes, so each Write's bytes
	// stay together as they do on a socket.
	readMu    sync.Mutex
	readTimer *time.Timer // guarded by readMu
	writeMu   sync.Mutex

	rdl, wdl deadline

	// Each signal channel holds at most one token, sent without blocking
	// after the change it announces; a waiter rechecks the state when it
	// takes one.
	outReady chan struct{} // Write queued bytes, or CloseWrite: writeLoop
	outSpace chan struct{} // writeLoop freed room: Write
	inReady  chan struct{} // readLoop queued bytes or the end: Read
	inSpace  chan struct{} // Read freed room: readLoop

	closing chan struct{} // closed by Close
	broken  chan struct{} // closed by breakLink

	finishOnce sync.Once

	mu struct {
		sync.Mutex
		out, in   queue
		closed    bool
		writeShut bool
		brokenErr error // the *LinkError that broke the connection
		outErr    error // the socket's write error
	}
}

// queue is one direction's bytes in flight.
type queue struct {
	fifo
	bytes int // queued bytes
	// lastDue is the delivery time of the last chunk queued; the next
	// chunk is never due before it.
	lastDue time.Time
	rand    *rand.Rand
}

// stamp returns the delivery time of a chunk sent now over l.
func (q *queue) stamp(l *link, now time.Time) time.Time {
	due := now.Add(l.params.Load().delay(q.rand))
	if due.Before(q.lastDue) {
		due = q.lastDue
	}
	q.lastDue = due
	return due
}

// drop forgets every queued chunk.
func (q *queue) drop() {
	q.fifo.reset()
	q.bytes = 0
}

// newConn wraps raw, dialed from regions[i] to regions[j]. Nothing arrives
// before ready: the peer could not have sent it before the handshake
// completed.
func newConn(w *WAN, raw net.Conn, network string, i, j int, ready time.Time, seed [4]uint64) *conn {
	c := &conn{
		w: w, raw: raw, network: network,
		from: w.regions[i], to: w.regions[j], i: i, j: j, pair: pairOf(i, j),
		limit:     w.opts.BufferSize,
		fwd:       w.links[i][j],
		rev:       w.links[j][i],
		readTimer: stoppedTimer(),
		rdl:       makeDeadline(),
		wdl:       makeDeadline(),
		outReady:  make(chan struct{}, 1),
		outSpace:  make(chan struct{}, 1),
		inReady:   make(chan struct{}, 1),
		inSpace:   make(chan struct{}, 1),
		closing:   make(chan struct{}),
		broken:    make(chan struct{}),
	}
	c.mu.out.rand = rand.New(rand.NewPCG(seed[0], seed[1]))
	c.mu.in.rand = rand.New(rand.NewPCG(seed[2], seed[3]))
	c.mu.in.lastDue = ready
	return c
}

// start runs the pumps.
func (c *conn) start() {
	go c.readLoop()
	go c.writeLoop()
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// Read returns bytes whose delivery time has come, waiting for them as a
// socket read does. It returns io.EOF once the peer's close has arrived.
func (c *conn) Read(p []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	for {
		c.mu.Lock()
		if err := c.readErrLocked(); err != nil {
			c.mu.Unlock()
			return 0, c.opError("read", err)
		}
		if c.rdl.expired() {
			c.mu.Unlock()
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		}
		if len(p) == 0 {
			c.mu.Unlock()
			return 0, nil
		}
		n, wait, err := c.takeLocked(p, time.Now())
		c.mu.Unlock()
		if n > 0 {
			signal(c.inSpace)
			c.rev.m.bytes.Add(float64(n))
			return n, nil
		}
		if err != nil {
			return 0, c.opError("read", err)
		}
		var timer <-chan time.Time
		if wait > 0 {
			c.readTimer.Reset(wait)
			timer = c.readTimer.C
		}
		select {
		case <-c.inReady:
		case <-timer:
		case <-c.rdl.wait():
		case <-c.closing:
		case <-c.broken:
		}
		if wait > 0 {
			c.readTimer.Stop()
		}
	}
}

// takeLocked copies into p the bytes due by now. When none are, it returns
// how long until the first is due (0: nothing is queued), or the error that
// ended the stream.
func (c *conn) takeLocked(p []byte, now time.Time) (n int, wait time.Duration, err error) {
	q := &c.mu.in
	for n < len(p) && q.len() > 0 {
		h := q.peek()
		if h.due.After(now) {
			if n == 0 {
				wait = h.due.Sub(now)
			}
			break
		}
		if h.err != nil {
			if n == 0 {
				// Left in place: every later Read fails the same way.
				err = h.err
			}
			break
		}
		k := copy(p[n:], h.buf)
		n += k
		q.bytes -= k
		h.buf = h.buf[k:]
		if len(h.buf) == 0 {
			q.pop()
		}
	}
	return n, wait, err
}

func (c *conn) readErrLocked() error {
	switch {
	case c.mu.closed:
		return net.ErrClosed
	case c.mu.brokenErr != nil:
		return c.mu.brokenErr
	}
	return nil
}

// Write queues p for delivery after the link's delay and returns once it
// is queued. It blocks only while the outbound queue is full, as a socket
// write blocks on a full send buffer; the write deadline bounds the wait.
func (c *conn) Write(p []byte) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	n := 0
	for {
		c.mu.Lock()
		if err := c.writeErrLocked(); err != nil {
			c.mu.Unlock()
			return n, c.opError("write", err)
		}
		if c.wdl.expired() {
			c.mu.Unlock()
			return n, c.opError("write", os.ErrDeadlineExceeded)
		}
		if len(p) == 0 {
			c.mu.Unlock()
			return n, nil
		}
		q := &c.mu.out
		if room := c.limit - q.bytes; room > 0 {
			k := min(room, len(p))
			buf := make([]byte, k)
			copy(buf, p)
			q.push(chunk{buf: buf, due: q.stamp(c.fwd, time.Now())})
			q.bytes += k
			c.mu.Unlock()
			signal(c.outReady)
			p = p[k:]
			n += k
			continue
		}
		c.mu.Unlock()
		select {
		case <-c.outSpace:
		case <-c.wdl.wait():
		case <-c.closing:
		case <-c.broken:
		}
	}
}

func (c *conn) writeErrLocked() error {
	switch {
	case c.mu.closed:
		return net.ErrClosed
	case c.mu.brokenErr != nil:
		return c.mu.brokenErr
	case c.mu.outErr != nil:
		return c.mu.outErr
	case c.mu.writeShut:
		return errWriteShut
	}
	return nil
}

// writeLoop is the outbound pump: it hands queued chunks to the socket
// when they are due. It exits when the link breaks, or after Close once
// the queue is drained, closing the socket.
func (c *conn) writeLoop() {
	timer := stoppedTimer()
	var bufs net.Buffers
	shut := false
	for {
		c.mu.Lock()
		if c.mu.brokenErr != nil {
			c.mu.Unlock()
			return
		}
		q := &c.mu.out
		if q.len() == 0 {
			closed, writeShut := c.mu.closed, c.mu.writeShut
			c.mu.Unlock()
			switch {
			case closed:
				c.finish()
				return
			case writeShut && !shut:
				shut = true
				if cw, ok := c.raw.(closeWriter); ok {
					cw.CloseWrite()
				}
				continue
			}
			select {
			case <-c.outReady:
			case <-c.closing:
			case <-c.broken:
			}
			continue
		}
		due := q.peek().due
		c.mu.Unlock()

		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-c.broken:
				timer.Stop()
				return
			}
		}

		// Gather every chunk due now. Only this goroutine removes chunks,
		// so the first k stay put while the lock is released.
		c.mu.Lock()
		now := time.Now()
		bufs = bufs[:0]
		total, k := 0, 0
		for k < q.len() && total < writeBatch {
			h := q.at(k)
			if h.due.After(now) {
				break
			}
			bufs = append(bufs, h.buf)
			total += len(h.buf)
			k++
		}
		c.mu.Unlock()

		batch := bufs // WriteTo consumes its receiver; keep bufs' array
		written, err := batch.WriteTo(c.raw)
		c.fwd.m.bytes.Add(float64(written))
		clear(bufs)

		c.mu.Lock()
		if c.mu.brokenErr != nil {
			// breakLink dropped the queue and closed the socket.
			c.mu.Unlock()
			return
		}
		for range k {
			q.pop()
		}
		q.bytes -= total
		if err != nil && c.mu.outErr == nil {
			c.mu.outErr = err
			q.drop()
		}
		c.mu.Unlock()
		signal(c.outSpace)
	}
}

type closeWriter interface{ CloseWrite() error }

// readLoop is the inbound pump: it reads the socket and queues what it
// reads, stamped with its delivery time, then the end of the stream. It
// stops reading while the inbound queue is full, so TCP pushes back on the
// peer, and exits at the end of the stream, on Close or when the link
// breaks.
func (c *conn) readLoop() {
	buf := make([]byte, readChunk)
	for {
		c.mu.Lock()
		for c.mu.in.bytes >= c.limit && !c.mu.closed && c.mu.brokenErr == nil {
			c.mu.Unlock()
			select {
			case <-c.inSpace:
			case <-c.closing:
			case <-c.broken:
			}
			c.mu.Lock()
		}
		stop := c.mu.closed || c.mu.brokenErr != nil
		c.mu.Unlock()
		if stop {
			return
		}

		n, err := c.raw.Read(buf)

		c.mu.Lock()
		if c.mu.closed || c.mu.brokenErr != nil {
			c.mu.Unlock()
			return
		}
		q := &c.mu.in
		now := time.Now()
		if n > 0 {
			b := make([]byte, n)
			copy(b, buf[:n])
			q.push(chunk{buf: b, due: q.stamp(c.rev, now)})
			q.bytes += n
		}
		if err != nil {
			// The end of the stream (the peer's FIN or RST) travels the
			// link like any byte.
			q.push(chunk{err: err, due: q.stamp(c.rev, now)})
		}
		c.mu.Unlock()
		signal(c.inReady)
		if err != nil {
			return
		}
	}
}

// Close closes the connection: pending and later Reads and Writes fail with
// net.ErrClosed. Bytes already written are still delivered at their time,
// then the socket is closed (if they cannot drain within lingerTimeout of
// their time, the rest is dropped). Close does not wait for that.
func (c *conn) Close() error {
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return c.opError("close", net.ErrClosed)
	}
	c.mu.closed = true
	broken := c.mu.brokenErr != nil
	pending := c.mu.out.len() > 0
	lastDue := c.mu.out.lastDue
	c.mu.in.drop()
	c.mu.Unlock()
	close(c.closing)
	if !broken {
		// Unblock the inbound pump; the outbound one sees closing.
		c.raw.SetReadDeadline(aLongTimeAgo)
		if pending {
			c.raw.SetWriteDeadline(lastDue.Add(lingerTimeout))
		}
	}
	return nil
}

// CloseWrite shuts down the writing side once the bytes already written
// are delivered, as TCP's CloseWrite does: the peer then reads EOF, and
// this side can still read. It fails when the real connection cannot
// half-close.
func (c *conn) CloseWrite() error {
	if _, ok := c.raw.(closeWriter); !ok {
		return c.opError("close", errors.ErrUnsupported)
	}
	c.mu.Lock()
	err := c.readErrLocked()
	if err == nil {
		c.mu.writeShut = true
	}
	c.mu.Unlock()
	if err != nil {
		return c.opError("close", err)
	}
	signal(c.outReady)
	return nil
}

// breakLink fails the connection because its link went down: pending and
// later Reads and Writes return err, queued bytes are dropped, and the
// socket is closed at once, so the peer sees the connection end.
func (c *conn) breakLink(err *LinkError) {
	c.mu.Lock()
	if c.mu.brokenErr != nil {
		c.mu.Unlock()
		return
	}
	c.mu.brokenErr = err
	c.mu.in.drop()
	c.mu.out.drop()
	c.mu.Unlock()
	close(c.broken)
	c.fwd.m.broken.Inc()
	c.finish()
}

// finish closes the socket and forgets the connection, once.
func (c *conn) finish() {
	c.finishOnce.Do(func() {
		c.raw.Close()
		c.w.forget(c)
		c.fwd.m.open.Dec()
	})
}

// LocalAddr returns the real connection's local address.
func (c *conn) LocalAddr() net.Addr { return c.raw.LocalAddr() }

// RemoteAddr returns the real connection's remote address.
func (c *conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline sets both deadlines.
func (c *conn) SetDeadline(t time.Time) error {
	if err := c.deadlineErr(); err != nil {
		return err
	}
	c.rdl.set(t)
	c.wdl.set(t)
	return nil
}

// SetReadDeadline bounds pending and later Reads, which then fail with an
// error wrapping os.ErrDeadlineExceeded. A zero t means none.
func (c *conn) SetReadDeadline(t time.Time) error {
	if err := c.deadlineErr(); err != nil {
		return err
	}
	c.rdl.set(t)
	return nil
}

// SetWriteDeadline bounds how long pending and later Writes wait for room
// in the outbound queue. Bytes already queued are delivered regardless.
func (c *conn) SetWriteDeadline(t time.Time) error {
	if err := c.deadlineErr(); err != nil {
		return err
	}
	c.wdl.set(t)
	return nil
}

func (c *conn) deadlineErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		return c.opError("set", net.ErrClosed)
	}
	return nil
}

// opError wraps err as the net package would, so callers classify it as a
// network error. io.EOF and errors that already are *net.OpError pass
// unchanged.
func (c *conn) opError(op string, err error) error {
	if _, ok := err.(*net.OpError); ok || err == io.EOF {
		return err
	}
	return &net.OpError{Op: op, Net: c.network, Source: c.raw.LocalAddr(), Addr: c.raw.RemoteAddr(), Err: err}
}
