package wan

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"
)

// The tests below assert lower bounds on time only: a delay must be at
// least what the link imposes. How fast things go is for the benchmarks.

func TestRoundTripPaysLatency(t *testing.T) {
	const latency = 30 * time.Millisecond
	w := newTestWAN(t, Link{From: "a", To: "b", Latency: latency})
	srv := newEchoServer(t)

	start := time.Now()
	c := dial(t, w, "a", "b", srv.addr())
	if d := time.Since(start); d < 2*latency {
		t.Errorf("dial took %v, want at least a round trip (%v)", d, 2*latency)
	}
	for i := range 3 {
		if d := roundTrip(t, c, "ping"); d < 2*latency {
			t.Errorf("round trip %d took %v, want at least %v", i, d, 2*latency)
		}
	}
}

func TestOneWayLatencies(t *testing.T) {
	const there, back = 40 * time.Millisecond, 10 * time.Millisecond
	w := newTestWAN(t,
		Link{From: "a", To: "b", Latency: there, OneWay: true},
		Link{From: "b", To: "a", Latency: back, OneWay: true},
	)
	// The server notes when each byte arrives and when it answers; the
	// test runs in one process, so the clocks agree.
	arrived, answered := make(chan time.Time, 1), make(chan time.Time, 1)
	srv := newServer(t, func(c net.Conn) {
		b := make([]byte, 1)
		if _, err := io.ReadFull(c, b); err != nil {
			return
		}
		arrived <- time.Now()
		answered <- time.Now()
		c.Write(b)
		io.Copy(io.Discard, c)
	})
	c := dial(t, w, "a", "b", srv.addr())
	sent := time.Now()
	if _, err := c.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	got := time.Now()
	if d := (<-arrived).Sub(sent); d < there {
		t.Errorf("a -> b took %v, want at least %v", d, there)
	}
	if d := got.Sub(<-answered); d < back {
		t.Errorf("b -> a took %v, want at least %v", d, back)
	}
}

func TestFIFOUnderJitter(t *testing.T) {
	for _, tc := range []struct {
		name            string
		latency, jitter time.Duration
	}{
		{"jitter below latency", 5 * time.Millisecond, 3 * time.Millisecond},
		{"jitter above latency", time.Millisecond, 20 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newTestWAN(t, Link{From: "a", To: "b", Latency: tc.latency, Jitter: tc.jitter})
			srv := newEchoServer(t)
			c := dial(t, w, "a", "b", srv.addr())
			const n = 3000
			r := rand.New(rand.NewPCG(1, 2))
			errc := make(chan error, 1)
			go func() {
				// Many small writes of varied size, each a run of
				// sequence numbers.
				var b []byte
				for i := uint32(0); i < n; {
					b = b[:0]
					for k := r.IntN(4) + 1; k > 0 && i < n; k-- {
						b = binary.BigEndian.AppendUint32(b, i)
						i++
					}
					if _, err := c.Write(b); err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
			buf := make([]byte, 4*n)
			if _, err := io.ReadFull(c, buf); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			for i := range uint32(n) {
				if got := binary.BigEndian.Uint32(buf[4*i:]); got != i {
					t.Fatalf("number %d arrived as %d: bytes reordered", i, got)
				}
			}
		})
	}
}

func TestLatencyDoesNotSerializeWrites(t *testing.T) {
	const latency, writes, size = 50 * time.Millisecond, 100, 1024
	w := newTestWAN(t, Link{From: "a", To: "b", Latency: latency})
	done := make(chan time.Time, 1)
	srv := newServer(t, func(c net.Conn) {
		if _, err := io.ReadFull(c, make([]byte, writes*size)); err == nil {
			done <- time.Now()
		}
		io.Copy(io.Discard, c)
	})
	c := dial(t, w, "a", "b", srv.addr())
	msg := bytes.Repeat([]byte{'x'}, size)
	start := time.Now()
	for range writes {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	d := (<-done).Sub(start)
	if d < latency {
		t.Errorf("%d writes arrived in %v, less than the latency %v", writes, d, latency)
	}
	// A loose bound that only fails if writes wait for each other
	// (serialized they would take writes*latency = 5s).
	if d >= 10*latency {
		t.Errorf("%d writes over a %v link took %v: writes are serialized", writes, latency, d)
	}
}

func TestSetAppliesToOpenConnections(t *testing.T) {
	w := newTestWAN(t)
	srv := newEchoServer(t)
	c := dial(t, w, "a", "b", srv.addr())
	roundTrip(t, c, "before")
	const latency = 40 * time.Millisecond
	must(t, w.Set("a", "b", latency, 0))
	if d := roundTrip(t, c, "after"); d < 2*latency {
		t.Errorf("round trip after Set took %v, want at least %v", d, 2*latency)
	}
}

func TestPartitionBreaksConnectionsAndDials(t *testing.T) {
	w := newTestWAN(t)
	serverSaw := make(chan error, 4)
	srv := newServer(t, func(c net.Conn) {
		_, err := io.Copy(c, c)
		if err == nil {
			err = io.EOF
		}
		serverSaw <- err
	})
	c := dial(t, w, "a", "b", srv.addr())
	other := dial(t, w, "a", "c", srv.addr())
	roundTrip(t, c, "hello")

	readErr := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		readErr <- err
	}()
	must(t, w.Partition("a", "b"))

	le := checkLinkDown(t, "pending read", <-readErr)
	if le.From != "a" || le.To != "b" || !le.Partitioned || le.Isolated {
		t.Errorf("LinkError = %+v, want a -> b partitioned", le)
	}
	_, err := c.Write([]byte("x"))
	checkLinkDown(t, "write after partition", err)
	_, err = c.Read(make([]byte, 1))
	checkLinkDown(t, "read after partition", err)
	if err := <-serverSaw; err == nil {
		t.Error("the server did not see the connection end")
	}

	for _, dir := range [][2]string{{"a", "b"}, {"b", "a"}} {
		_, err = w.DialContext(t.Context(), dir[0], dir[1], "tcp", srv.addr())
		checkLinkDown(t, "dial "+dir[0]+" -> "+dir[1], err)
	}
	roundTrip(t, other, "a -> c is still up")

	// HTTP clients see the same error, wrapped.
	hs := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { rw.Write([]byte("ok")) }))
	defer hs.Close()
	hc := w.HTTPClient("a", "b")
	defer hc.CloseIdleConnections()
	_, err = hc.Get(hs.URL)
	checkLinkDown(t, "HTTP GET across the partition", err)

	w.Heal()
	c2 := dial(t, w, "a", "b", srv.addr())
	roundTrip(t, c2, "healed")
	resp, err := hc.Get(hs.URL)
	if err != nil {
		t.Fatalf("HTTP GET after Heal: %v", err)
	}
	resp.Body.Close()
	_, err = c.Read(make([]byte, 1))
	if !errors.Is(err, ErrPartitioned) {
		t.Errorf("a connection broken by the partition works again after Heal: %v", err)
	}
}

func TestPartitionBreaksHTTPInFlight(t *testing.T) {
	w := newTestWAN(t)
	inHandler := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		// A long poll, as a replication stream is.
		rw.WriteHeader(http.StatusOK)
		rw.(http.Flusher).Flush()
		close(inHandler)
		<-r.Context().Done()
	}))
	defer hs.Close()
	hc := w.HTTPClient("a", "b")
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-inHandler
	must(t, w.Partition("b", "a"))
	_, err = io.ReadAll(resp.Body)
	checkLinkDown(t, "reading a streamed body across the partition", err)
}

func TestIsolateBreaksOnlyTheRegionsLinks(t *testing.T) {
	w := newTestWAN(t)
	srv := newEchoServer(t)
	ab := dial(t, w, "a", "b", srv.addr())
	cb := dial(t, w, "c", "b", srv.addr())
	cd := dial(t, w, "c", "d", srv.addr())
	da := dial(t, w, "d", "a", srv.addr())
	bb := dial(t, w, "b", "b", srv.addr()) // not a WAN connection

	must(t, w.Isolate("b"))
	for name, c := range map[string]net.Conn{"a -> b": ab, "c -> b": cb} {
		_, err := c.Read(make([]byte, 1))
		le := checkLinkDown(t, name, err)
		if !le.Isolated {
			t.Errorf("%s: LinkError = %+v, want Isolated", name, le)
		}
	}
	roundTrip(t, cd, "c -> d is up")
	roundTrip(t, da, "d -> a is up")
	roundTrip(t, bb, "b -> b is not a link")
	for _, r := range []string{"a", "c", "d"} {
		_, err := w.DialContext(t.Context(), "b", r, "tcp", srv.addr())
		checkLinkDown(t, "dial b -> "+r, err)
	}

	must(t, w.Rejoin("b"))
	roundTrip(t, dial(t, w, "b", "c", srv.addr()), "rejoined")
}

func TestPartitionDuringHandshake(t *testing.T) {
	w := newTestWAN(t, Link{From: "a", To: "b", Latency: 5 * time.Second})
	srv := newEchoServer(t)
	errc := make(chan error, 1)
	go func() {
		c, err := w.DialContext(t.Context(), "a", "b", "tcp", srv.addr())
		if c != nil {
			c.Close()
		}
		errc <- err
	}()
	<-srv.accepted // the real dial is done; the handshake is under way
	must(t, w.Partition("a", "b"))
	checkLinkDown(t, "dial cut by a partition", <-errc)
}

func TestDialHonoursContext(t *testing.T) {
	w := newTestWAN(t, Link{From: "a", To: "b", Latency: 5 * time.Second})
	srv := newEchoServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	c, err := w.DialContext(ctx, "a", "b", "tcp", srv.addr())
	if err == nil {
		c.Close()
		t.Fatal("a dial over a 10s round trip beat a 20ms context")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("%v is not a net.Error with Timeout", err)
	}
}

func TestRefusedDialPaysRoundTrip(t *testing.T) {
	const latency = 30 * time.Millisecond
	w := newTestWAN(t, Link{From: "a", To: "b", Latency: latency})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	c, err := w.DialContext(t.Context(), "a", "b", "tcp", addr)
	if err == nil {
		c.Close()
		t.Skip("something else took the port")
	}
	if d := time.Since(start); d < 2*latency {
		t.Errorf("a refused dial failed after %v, want at least a round trip (%v)", d, 2*latency)
	}
	if errors.Is(err, ErrPartitioned) {
		t.Errorf("a refused dial says partitioned: %v", err)
	}
}

func TestDeadlines(t *testing.T) {
	const latency = 100 * time.Millisecond
	w, err := New(Options{
		Regions:    testRegions,
		Links:      []Link{{From: "a", To: "b", Latency: latency}},
		BufferSize: 1024,
		Logger:     quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := newEchoServer(t)
	checkTimeout := func(what string, err error) {
		t.Helper()
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("%s: got %v, want a timeout wrapping os.ErrDeadlineExceeded", what, err)
		}
	}

	t.Run("read deadline in the past", func(t *testing.T) {
		c := dial(t, w, "a", "b", srv.addr())
		must(t, c.SetReadDeadline(time.Now().Add(-time.Second)))
		_, err := c.Read(make([]byte, 1))
		checkTimeout("read", err)
	})

	t.Run("read deadline before the data, then the data", func(t *testing.T) {
		c := dial(t, w, "a", "b", srv.addr())
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		must(t, c.SetReadDeadline(start.Add(20*time.Millisecond)))
		_, err := c.Read(make([]byte, 4))
		checkTimeout("read", err)
		if d := time.Since(start); d < 20*time.Millisecond {
			t.Errorf("read timed out after %v, before its 20ms deadline", d)
		}
		must(t, c.SetReadDeadline(time.Time{}))
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
			t.Errorf("after clearing the deadline read %q, %v; want ping", buf, err)
		}
	})

	t.Run("deadline set while a read waits", func(t *testing.T) {
		c := dial(t, w, "a", "b", srv.addr())
		errc := make(chan error, 1)
		go func() {
			_, err := c.Read(make([]byte, 1))
			errc <- err
		}()
		must(t, c.SetDeadline(time.Now().Add(10*time.Millisecond)))
		checkTimeout("blocked read", <-errc)
	})

	t.Run("write deadline on a full buffer", func(t *testing.T) {
		c := dial(t, w, "a", "b", srv.addr())
		must(t, c.SetWriteDeadline(time.Now().Add(20*time.Millisecond)))
		// 1024 bytes fit in the buffer; the rest wait for room, which the
		// link frees only after 100ms.
		n, err := c.Write(make([]byte, 4096))
		checkTimeout("write", err)
		if n >= 4096 {
			t.Fatalf("the timed-out write queued all %d bytes", n)
		}
		must(t, c.SetWriteDeadline(time.Time{}))
		// What was queued still arrives.
		if _, err := io.ReadFull(c, make([]byte, n)); err != nil {
			t.Errorf("reading the echo of the %d queued bytes: %v", n, err)
		}
	})
}

func TestCloseUnblocksAndFails(t *testing.T) {
	w, err := New(Options{
		Regions:    testRegions,
		Links:      []Link{{From: "a", To: "b", Latency: 50 * time.Millisecond}},
		BufferSize: 1024,
		Logger:     quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := newEchoServer(t)
	c := dial(t, w, "a", "b", srv.addr())
	readErr, writeErr := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		readErr <- err
	}()
	go func() {
		_, err := c.Write(make([]byte, 1<<20)) // blocks on the full buffer
		writeErr <- err
	}()
	// Wait for the writer to fill the buffer, by readiness.
	for {
		c := c.(*conn)
		c.mu.Lock()
		full := c.mu.out.bytes >= c.limit
		c.mu.Unlock()
		if full {
			break
		}
		time.Sleep(time.Millisecond)
	}
	must(t, c.Close())
	for name, ch := range map[string]chan error{"read": readErr, "write": writeErr} {
		if err := <-ch; !errors.Is(err, net.ErrClosed) {
			t.Errorf("pending %s after Close: %v, want net.ErrClosed", name, err)
		}
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after Close: %v, want net.ErrClosed", err)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v, want net.ErrClosed", err)
	}
	if err := c.SetDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetDeadline after Close: %v, want net.ErrClosed", err)
	}
}

func TestCloseDeliversWrittenBytes(t *testing.T) {
	w := newTestWAN(t, Link{From: "a", To: "b", Latency: 30 * time.Millisecond})
	got := make(chan []byte, 1)
	srv := newServer(t, func(c net.Conn) {
		b, _ := io.ReadAll(c)
		got <- b
	})
	c, err := w.DialContext(t.Context(), "a", "b", "tcp", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("0123456789"), 10000)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	must(t, c.Close())
	if b := <-got; !bytes.Equal(b, msg) {
		t.Errorf("the server read %d bytes before EOF, want the %d written before Close", len(b), len(msg))
	}
}

func TestCloseWriteAndEOF(t *testing.T) {
	const latency = 20 * time.Millisecond
	w := newTestWAN(t, Link{From: "a", To: "b", Latency: latency})
	srv := newEchoServer(t) // half-closes after echoing everything
	c := dial(t, w, "a", "b", srv.addr())
	msg := bytes.Repeat([]byte("abc"), 5000)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	must(t, c.(interface{ CloseWrite() error }).CloseWrite())
	if _, err := c.Write([]byte("x")); err == nil {
		t.Error("Write after CloseWrite succeeded")
	}
	b, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(b, msg) {
		t.Fatalf("read back %d bytes, %v; want the %d written, then EOF", len(b), err, len(msg))
	}
	if d := time.Since(start); d < 2*latency {
		t.Errorf("EOF came %v after CloseWrite, want at least a round trip (%v)", d, 2*latency)
	}
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read after EOF: %v, want io.EOF again", err)
	}
}

func TestSelfDialIsPlain(t *testing.T) {
	w := newTestWAN(t)
	srv := newEchoServer(t)
	c := dial(t, w, "c", "c", srv.addr())
	if _, ok := c.(*net.TCPConn); !ok {
		t.Errorf("a dial from a region to itself returned %T, want the plain *net.TCPConn", c)
	}
	must(t, w.Isolate("c"))
	roundTrip(t, c, "isolation cuts links, not a region from itself")
}

func TestConcurrentTrafficAndPartitions(t *testing.T) {
	w := newTestWAN(t,
		Link{From: "a", To: "b", Latency: time.Millisecond, Jitter: time.Millisecond},
		Link{From: "c", To: "d", Latency: time.Millisecond, Jitter: time.Millisecond},
	)
	srv := newEchoServer(t)
	var wg sync.WaitGroup
	trips := make(chan struct{}, 64)
	stop := make(chan struct{})
	for k := range 8 {
		from, to := "a", "b"
		if k%2 == 1 {
			from, to = "c", "d"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				changed := w.Changed()
				c, err := w.DialContext(t.Context(), from, to, "tcp", srv.addr())
				if err != nil {
					if !errors.Is(err, ErrPartitioned) {
						t.Errorf("dial: %v", err)
						return
					}
					select {
					case <-changed:
					case <-stop:
					}
					continue
				}
				for range 5 {
					if _, err := c.Write([]byte("hello")); err != nil {
						break
					}
					if _, err := io.ReadFull(c, make([]byte, 5)); err != nil {
						if !errors.Is(err, ErrPartitioned) {
							t.Errorf("read: %v", err)
						}
						break
					}
					select {
					case trips <- struct{}{}:
					default:
					}
				}
				c.Close()
			}
		}()
	}
	for range 10 {
		// Let traffic flow before each cut.
		for range 8 {
			<-trips
		}
		must(t, w.Partition("a", "b"))
		must(t, w.Isolate("d"))
		_ = w.Snapshot()
		w.Heal()
		must(t, w.Set("a", "b", 0, time.Millisecond))
	}
	close(stop)
	wg.Wait()
}

func TestHTTPClientPaysLatency(t *testing.T) {
	const latency = 20 * time.Millisecond
	w := newTestWAN(t, Link{From: "a", To: "b", Latency: latency})
	hs := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Write([]byte("hello from b"))
	}))
	defer hs.Close()
	hc := w.HTTPClient("a", "b")
	defer hc.CloseIdleConnections()
	get := func() time.Duration {
		t.Helper()
		start := time.Now()
		resp, err := hc.Get(hs.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != "hello from b" {
			t.Fatalf("GET read %q, %v", b, err)
		}
		return time.Since(start)
	}
	// A new connection pays the handshake's round trip, then the
	// request's; a reused one only the request's.
	if d := get(); d < 4*latency {
		t.Errorf("first GET took %v, want at least %v", d, 4*latency)
	}
	if d := get(); d < 2*latency {
		t.Errorf("second GET took %v, want at least %v", d, 2*latency)
	}
}
