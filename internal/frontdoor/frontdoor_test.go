package frontdoor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gyre-dev/gyre/internal/geo"
)

var regions = []string{"us-east-1", "us-west-2", "eu-west-1"}

func geoTable(t testing.TB) *geo.Table {
	g, err := geo.New(geo.Options{Regions: regions})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestPlan(t *testing.T) {
	g := geoTable(t)
	all := func(string) bool { return true }
	not := func(r string) func(string) bool { return func(x string) bool { return x != r } }
	for _, tc := range []struct {
		name, location string
		healthy, on    func(string) bool
		want           string
	}{
		{"nearest first", "dublin", all, all, "[eu-west-1 us-east-1 us-west-2]"},
		{"unhealthy goes last", "dublin", not("eu-west-1"), all, "[us-east-1 us-west-2 eu-west-1]"},
		{"control off is never tried", "dublin", all, not("eu-west-1"), "[us-east-1 us-west-2]"},
		{"every control off: all tried", "oregon", all, func(string) bool { return false }, "[us-west-2 us-east-1 eu-west-1]"},
	} {
		if got := fmt.Sprint(Plan(g, tc.location, regions, tc.healthy, tc.on)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// backend is a region's public endpoint on its own loopback address.
type backend struct {
	name string
	ln   net.Listener
	srv  *http.Server
	hits atomic.Int64
}

func startBackend(t *testing.T, name string, i int) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.%d.1:0", i+1))
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{name: name, ln: ln}
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Backend", name)
		w.Header().Set("X-Seen-Host", r.Host)
		if r.URL.Path == "/stream" {
			for i := range 3 {
				fmt.Fprintf(w, "chunk %d\n", i)
				w.(http.Flusher).Flush()
			}
			return
		}
		fmt.Fprintf(w, "%s %s %s", name, r.Method, body)
	})}
	go b.srv.Serve(ln)
	t.Cleanup(func() { b.srv.Close() })
	return b
}

// kill stops the backend abruptly: listener and connections closed.
func (b *backend) kill() { b.srv.Close() }

func startFrontDoor(t *testing.T, bs []*backend, o Options) *Server {
	t.Helper()
	for _, b := range bs {
		o.Regions = append(o.Regions, Region{Name: b.name, URL: "http://" + b.ln.Addr().String()})
	}
	o.Geo = geoTable(t)
	o.Addr = "127.0.0.1:0"
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return s
}

func startAll(t *testing.T) []*backend {
	var bs []*backend
	for i, r := range regions {
		bs = append(bs, startBackend(t, r, i))
	}
	return bs
}

func get(t *testing.T, c *http.Client, url, location string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if location != "" {
		req.Header.Set(LocationHeader, location)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestRoutesByLocationAndNamesTheRegion(t *testing.T) {
	bs := startAll(t)
	fd := startFrontDoor(t, bs, Options{})
	base := "http://" + fd.Addr().String()
	for loc, want := range map[string]string{"virginia": "us-east-1", "oregon": "us-west-2", "dublin": "eu-west-1", "tokyo": "us-west-2"} {
		resp, body := get(t, http.DefaultClient, base+"/x", loc)
		if got := resp.Header.Get(RegionHeader); got != want || !strings.HasPrefix(body, want) {
			t.Errorf("from %s: served by %s (%q), want %s", loc, got, body, want)
		}
		if h := resp.Header.Get("X-Seen-Host"); h != fd.Addr().String() {
			t.Errorf("the region saw Host %q, want the front door's %q", h, fd.Addr().String())
		}
	}
	// Without the header, the router's location (virginia) decides.
	if resp, _ := get(t, http.DefaultClient, base+"/x", ""); resp.Header.Get(RegionHeader) != "us-east-1" {
		t.Errorf("no location header: served by %s", resp.Header.Get(RegionHeader))
	}
}

// TestRegionKilledUnderSteadyGets kills the nearest region while a steady
// stream of GETs flows; health checking is not involved (the front door
// still believes the region healthy), so every request that hits the dead
// region must be retried elsewhere at once. No client may see an error.
func TestRegionKilledUnderSteadyGets(t *testing.T) {
	bs := startAll(t)
	fd := startFrontDoor(t, bs, Options{})
	url := "http://" + fd.Addr().String() + "/steady"
	client := &http.Client{Timeout: 10 * time.Second}
	var failures, served atomic.Int64
	byRegion := sync.Map{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header.Set(LocationHeader, "virginia")
				resp, err := client.Do(req)
				if err != nil {
					failures.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failures.Add(1)
					continue
				}
				served.Add(1)
				n, _ := byRegion.LoadOrStore(resp.Header.Get(RegionHeader), new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}
		}()
	}
	waitFor(t, "traffic to us-east-1", func() bool { return bs[0].hits.Load() > 200 })
	bs[0].kill()
	before := served.Load()
	waitFor(t, "traffic after the kill", func() bool { return served.Load() > before+500 })
	close(stop)
	wg.Wait()
	if f := failures.Load(); f != 0 {
		t.Fatalf("%d client-visible failures out of %d requests", f, served.Load()+f)
	}
	n, _ := byRegion.Load("us-west-2")
	if n == nil || n.(*atomic.Int64).Load() == 0 {
		t.Fatalf("no request moved to the next region")
	}
	t.Logf("%d requests, none failed; us-east-1 killed mid-stream", served.Load())
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestBodiesAreReplayedToTheNextRegion(t *testing.T) {
	bs := startAll(t)
	bs[0].kill()
	fd := startFrontDoor(t, bs, Options{})
	req, _ := http.NewRequest(http.MethodPost, "http://"+fd.Addr().String()+"/put", strings.NewReader("payload"))
	req.Header.Set(LocationHeader, "virginia")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "us-west-2 POST payload" {
		t.Errorf("a POST refused by a dead region reached the next one as %q", body)
	}
}

// A POST whose region fails after the request was sent is not sent again.
func TestNonIdempotentNotResentAfterSend(t *testing.T) {
	var hits atomic.Int64
	ln, _ := net.Listen("tcp", "127.0.1.1:0")
	// Accept, read the request, then drop the connection without answering.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			hits.Add(1)
			buf := make([]byte, 4096)
			c.Read(buf)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	other := startBackend(t, "us-west-2", 1)
	g := geoTable(t)
	fd, err := New(Options{Addr: "127.0.0.1:0", Geo: g, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Regions: []Region{
		{Name: "us-east-1", URL: "http://" + ln.Addr().String()}, {Name: "us-west-2", URL: "http://" + other.ln.Addr().String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	fd.Start(context.Background())
	defer fd.Shutdown(context.Background())
	url := "http://" + fd.Addr().String() + "/x"

	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte("once")))
	req.Header.Set(LocationHeader, "virginia")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || other.hits.Load() != 0 {
		t.Errorf("POST after send: status %d, next region hit %d times; want 502 and 0", resp.StatusCode, other.hits.Load())
	}
	// The same failure on a GET moves on.
	resp, body := get(t, http.DefaultClient, url, "virginia")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "us-west-2") {
		t.Errorf("GET after send: %d %q, want us-west-2's answer", resp.StatusCode, body)
	}
}

func TestStreamsResponses(t *testing.T) {
	bs := startAll(t)
	fd := startFrontDoor(t, bs, Options{})
	_, body := get(t, http.DefaultClient, "http://"+fd.Addr().String()+"/stream", "dublin")
	if body != "chunk 0\nchunk 1\nchunk 2\n" {
		t.Errorf("streamed body %q", body)
	}
}

func TestControlOffMovesTraffic(t *testing.T) {
	bs := startAll(t)
	var eastOn atomic.Bool
	eastOn.Store(true)
	fd := startFrontDoor(t, bs, Options{On: func(r string) bool { return r != "us-east-1" || eastOn.Load() }})
	url := "http://" + fd.Addr().String() + "/x"
	if resp, _ := get(t, http.DefaultClient, url, "virginia"); resp.Header.Get(RegionHeader) != "us-east-1" {
		t.Fatalf("precondition: served by %s", resp.Header.Get(RegionHeader))
	}
	eastOn.Store(false)
	if resp, _ := get(t, http.DefaultClient, url, "virginia"); resp.Header.Get(RegionHeader) != "us-west-2" {
		t.Errorf("with us-east-1's control off, served by %s", resp.Header.Get(RegionHeader))
	}
}

// BenchmarkOverhead measures what the front door adds to a request: the
// same GET sent directly to a region and through the front door.
func BenchmarkOverhead(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.1.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(ln)
	defer srv.Close()
	g, _ := geo.New(geo.Options{Regions: []string{"us-east-1"}})
	fd, _ := New(Options{Addr: "127.0.0.1:0", Geo: g, Regions: []Region{{Name: "us-east-1", URL: "http://" + ln.Addr().String()}}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	fd.Start(context.Background())
	defer fd.Shutdown(context.Background())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for _, tc := range []struct{ name, url string }{
		{"direct", "http://" + ln.Addr().String() + "/"},
		{"front-door", "http://" + fd.Addr().String() + "/"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				resp, err := client.Get(tc.url)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}
