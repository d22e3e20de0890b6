package health

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// directDial dials without a WAN, recording the regions it was asked for.
type directDial struct {
	mu      sync.Mutex
	regions []string
}

func (d *directDial) dial(ctx context.Context, region, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.regions = append(d.regions, region)
	d.mu.Unlock()
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func plainDial(ctx context.Context, _, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

// probeOnce runs check c once with dial and returns the result.
func probeOnce(t *testing.T, c Check, dial DialFunc) Result {
	t.Helper()
	if c.Interval == 0 {
		// A generous timeout (2s), for TLS handshakes under the race
		// detector on a loaded machine.
		c.Interval = 10 * time.Second
	}
	c.EnsureDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	r, ok := newProbe(c, dial).run(context.Background(), time.Now)
	if !ok {
		t.Fatal("the probe reported it was cut short")
	}
	return r
}

// hostPort returns the host:port of a test server's URL.
func hostPort(url string) string {
	return strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://")
}

// testServer answers /code/N with status N, /body?at=N&len=L with L bytes
// of dots holding "needle" at offset N, and /echo with the request line,
// Host and User-Agent.
func testServer() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/code/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n >= 300 && n < 400 {
			w.Header().Set("Location", "/code/500")
		}
		w.WriteHeader(n)
		fmt.Fprint(w, "needle")
	})
	mux.HandleFunc("/body", func(w http.ResponseWriter, r *http.Request) {
		at, _ := strconv.Atoi(r.URL.Query().Get("at"))
		n, _ := strconv.Atoi(r.URL.Query().Get("len"))
		body := []byte(strings.Repeat(".", n))
		if at >= 0 {
			copy(body[at:], "needle")
		}
		if r.URL.Query().Has("chunked") {
			// Flushing halfway forces a chunked body.
			w.Write(body[:n/2])
			w.(http.Flusher).Flush()
			w.Write(body[n/2:])
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		w.Write(body)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		sni := ""
		if r.TLS != nil {
			sni = r.TLS.ServerName
		}
		fmt.Fprintf(w, "uri=%s host=%s ua=%s sni=%s", r.RequestURI, r.Host, r.UserAgent(), sni)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	return mux
}

func TestProbeHTTPStatus(t *testing.T) {
	srv := httptest.NewServer(testServer())
	defer srv.Close()
	tests := []struct {
		code int
		want Outcome
	}{
		{200, OutcomeOK},
		{204, OutcomeOK},
		{301, OutcomeOK}, // not followed: its target answers 500
		{302, OutcomeOK},
		{307, OutcomeOK},
		{399, OutcomeOK},
		{400, OutcomeStatus},
		{404, OutcomeStatus},
		{500, OutcomeStatus},
		{503, OutcomeStatus},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			r := probeOnce(t, Check{ID: "c", Target: hostPort(srv.URL), Path: fmt.Sprint("/code/", tt.code)}, plainDial)
			if r.Outcome != tt.want || r.StatusCode != tt.code {
				t.Errorf("HTTP %d: outcome %s, status %d (%s); want %s", tt.code, r.Outcome, r.StatusCode, r.Error, tt.want)
			}
			if r.OK() != (tt.want == OutcomeOK) {
				t.Errorf("OK() = %v for outcome %s", r.OK(), r.Outcome)
			}
			if r.Time.IsZero() || r.Latency <= 0 {
				t.Errorf("result time %v latency %v: want both set", r.Time, r.Latency)
			}
		})
	}
}

func TestProbeSearchString(t *testing.T) {
	srv := httptest.NewServer(testServer())
	defer srv.Close()
	tests := []struct {
		name string
		path string
		want Outcome
	}{
		{"at the start", "/body?at=0&len=10000", OutcomeOK},
		{"ending on the last byte searched", "/body?at=5114&len=10000", OutcomeOK},
		{"ending one byte beyond", "/body?at=5115&len=10000", OutcomeMismatch},
		{"well beyond 5,120 bytes", "/body?at=6000&len=10000", OutcomeMismatch},
		{"in a short body", "/body?at=3&len=20", OutcomeOK},
		{"absent", "/body?at=-1&len=100", OutcomeMismatch},
		{"empty body", "/body?at=-1&len=0", OutcomeMismatch},
		{"in a chunked body", "/body?at=5000&len=10000&chunked", OutcomeOK},
		{"beyond the window of a chunked body", "/body?at=5200&len=10000&chunked", OutcomeMismatch},
		{"in the body of an error", "/code/500", OutcomeStatus},
		{"in the body of a redirect", "/code/302", OutcomeOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := probeOnce(t, Check{ID: "c", Target: hostPort(srv.URL), Path: tt.path, SearchString: "needle"}, plainDial)
			if r.Outcome != tt.want {
				t.Errorf("%s: outcome %s (%s), want %s", tt.path, r.Outcome, r.Error, tt.want)
			}
		})
	}
}

func TestProbeRequest(t *testing.T) {
	srv := httptest.NewServer(testServer())
	defer srv.Close()
	d := &directDial{}
	c := Check{ID: "c", Target: hostPort(srv.URL), Region: "eu-west-1", Path: "/echo?x=1", Host: "api.gyre.test",
		SearchString: "uri=/echo?x=1 host=api.gyre.test ua=" + userAgent}
	if r := probeOnce(t, c, d.dial); !r.OK() {
		t.Errorf("probe with path, query and Host: %s (%s)", r.Outcome, r.Error)
	}
	if fmt.Sprint(d.regions) != "[eu-west-1]" {
		t.Errorf("dial was asked for regions %v, want the check's region once", d.regions)
	}
	c.Host = ""
	c.SearchString = "host=" + hostPort(srv.URL)
	if r := probeOnce(t, c, d.dial); !r.OK() {
		t.Errorf("probe without Host should send the target as Host: %s (%s)", r.Outcome, r.Error)
	}
}

func TestProbeHTTPSSelfSigned(t *testing.T) {
	srv := httptest.NewTLSServer(testServer()) // a certificate nobody trusts
	defer srv.Close()
	r := probeOnce(t, Check{ID: "c", Type: TypeHTTPS, Target: hostPort(srv.URL), Path: "/code/200"}, plainDial)
	if !r.OK() || r.StatusCode != 200 {
		t.Errorf("HTTPS to a self-signed server: %s %d (%s), want ok 200", r.Outcome, r.StatusCode, r.Error)
	}
	c := Check{ID: "c", Type: TypeHTTPS, Target: hostPort(srv.URL), Path: "/echo", Host: "api.gyre.test:8443",
		SearchString: "host=api.gyre.test:8443 ua=" + userAgent + " sni=api.gyre.test"}
	if r := probeOnce(t, c, plainDial); !r.OK() {
		t.Errorf("HTTPS with a Host: want it as the Host header and the server name: %s (%s)", r.Outcome, r.Error)
	}

	plain := httptest.NewServer(testServer())
	defer plain.Close()
	r = probeOnce(t, Check{ID: "c", Type: TypeHTTPS, Target: hostPort(plain.URL)}, plainDial)
	if r.Outcome != OutcomeError || !strings.Contains(r.Error, "TLS handshake") {
		t.Errorf("HTTPS to a plain HTTP server: %s (%s), want a TLS handshake error", r.Outcome, r.Error)
	}
}

func TestProbeTimeout(t *testing.T) {
	srv := httptest.NewServer(testServer())
	defer srv.Close()
	const timeout = 100 * time.Millisecond
	r := probeOnce(t, Check{ID: "c", Target: hostPort(srv.URL), Path: "/hang", Interval: time.Second, Timeout: timeout}, plainDial)
	if r.Outcome != OutcomeTimeout || !strings.HasPrefix(r.Error, "no answer within 100ms") {
		t.Errorf("a server that never answers: %s (%s), want a timeout", r.Outcome, r.Error)
	}
	if time.Duration(r.Latency) < timeout {
		t.Errorf("latency %v is less than the timeout %v", r.Latency, timeout)
	}

	// A dial that hangs (a black-holed network) times out too.
	hang := func(ctx context.Context, _, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	for _, typ := range []Type{TypeTCP, TypeHTTP} {
		r := probeOnce(t, Check{ID: "c", Type: typ, Target: "192.0.2.1:80", Interval: time.Second, Timeout: timeout}, hang)
		if r.Outcome != OutcomeTimeout {
			t.Errorf("%s with a hanging dial: %s (%s), want a timeout", typ, r.Outcome, r.Error)
		}
	}
}

func TestProbeCutShort(t *testing.T) {
	srv := httptest.NewServer(testServer())
	defer srv.Close()
	c := Check{ID: "c", Target: hostPort(srv.URL), Path: "/hang"}
	c.EnsureDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	pr := newProbe(c, func(dctx context.Context, region, network, addr string) (net.Conn, error) {
		conn, err := plainDial(dctx, region, network, addr)
		cancel() // shut down while the probe is in flight
		return conn, err
	})
	if r, ok := pr.run(ctx, time.Now); ok {
		t.Errorf("a probe cut short by its context returned a result: %+v", r)
	}
}

func TestProbeTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	})
	defer wg.Wait()
	defer ln.Close()
	d := &directDial{}
	if r := probeOnce(t, Check{ID: "c", Type: TypeTCP, Target: ln.Addr().String(), Region: "us-west-2"}, d.dial); !r.OK() || r.StatusCode != 0 {
		t.Errorf("TCP to a listener: %s (%s), want ok", r.Outcome, r.Error)
	}
	if fmt.Sprint(d.regions) != "[us-west-2]" {
		t.Errorf("dial was asked for regions %v, want [us-west-2]", d.regions)
	}

	// A port nobody listens on: take one and let it go.
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := free.Addr().String()
	free.Close()
	for _, typ := range []Type{TypeTCP, TypeHTTP, TypeHTTPS} {
		r := probeOnce(t, Check{ID: "c", Type: typ, Target: addr}, plainDial)
		if r.Outcome != OutcomeConnect || !strings.Contains(r.Error, "refused") {
			t.Errorf("%s to a closed port: %s (%s), want connect refused", typ, r.Outcome, r.Error)
		}
	}
}

func TestProbeDialError(t *testing.T) {
	// What the WAN returns across a partition.
	partitioned := func(context.Context, string, string, string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("wan: link router -> eu-west-1 is down (partitioned)")}
	}
	r := probeOnce(t, Check{ID: "c", Target: "127.0.0.1:9", Region: "eu-west-1"}, partitioned)
	if r.Outcome != OutcomeConnect || !strings.Contains(r.Error, "partitioned") {
		t.Errorf("partitioned: %s (%s), want connect", r.Outcome, r.Error)
	}
}
