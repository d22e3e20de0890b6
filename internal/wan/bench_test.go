package wan

import (
	"fmt"
	"io"
	"net"
	"testing"
)

// The benchmarks measure what the wrapper costs over a 0 ms link, against
// the same traffic on a plain loopback connection.

// benchDial returns a connection to srv: plain, or through a WAN link with
// no delay.
func benchDial(b *testing.B, viaWAN bool, addr string) net.Conn {
	b.Helper()
	if !viaWAN {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		return c
	}
	return dial(b, newTestWAN(b), "a", "b", addr)
}

// BenchmarkThroughput writes size-byte messages to a server that discards
// them, and stops the clock when the server has read them all.
func BenchmarkThroughput(b *testing.B) {
	for _, size := range []int{128, 4 << 10, 64 << 10} {
		for _, viaWAN := range []bool{false, true} {
			b.Run(fmt.Sprintf("size=%d/wan=%v", size, viaWAN), func(b *testing.B) {
				got := make(chan int64, 1)
				want := make(chan int64, 1)
				srv := newServer(b, func(c net.Conn) {
					n := <-want
					m, _ := io.CopyN(io.Discard, c, n)
					got <- m
				})
				c := benchDial(b, viaWAN, srv.addr())
				msg := make([]byte, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				want <- int64(b.N) * int64(size)
				b.ResetTimer()
				for range b.N {
					if _, err := c.Write(msg); err != nil {
						b.Fatal(err)
					}
				}
				if m := <-got; m != int64(b.N)*int64(size) {
					b.Fatalf("server read %d bytes, want %d", m, int64(b.N)*int64(size))
				}
			})
		}
	}
}

// BenchmarkRoundTrip measures one small request and its echo: the latency
// the wrapper adds.
func BenchmarkRoundTrip(b *testing.B) {
	for _, viaWAN := range []bool{false, true} {
		b.Run(fmt.Sprintf("wan=%v", viaWAN), func(b *testing.B) {
			srv := newEchoServer(b)
			c := benchDial(b, viaWAN, srv.addr())
			msg := []byte("ping")
			buf := make([]byte, len(msg))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDial measures a dial through a 0 ms link against a plain one.
func BenchmarkDial(b *testing.B) {
	for _, viaWAN := range []bool{false, true} {
		b.Run(fmt.Sprintf("wan=%v", viaWAN), func(b *testing.B) {
			srv := newServer(b, func(c net.Conn) { io.Copy(io.Discard, c) })
			w := newTestWAN(b)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				var c net.Conn
				var err error
				if viaWAN {
					c, err = w.DialContext(b.Context(), "a", "b", "tcp", srv.addr())
				} else {
					c, err = net.Dial("tcp", srv.addr())
				}
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}
