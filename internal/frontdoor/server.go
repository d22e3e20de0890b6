package frontdoor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gyre-dev/gyre/internal/geo"
	"github.com/gyre-dev/gyre/internal/serverlog"
)

// Header names the front door reads and writes.
const (
	// LocationHeader lets a client say where it is (a location of the
	// geo table), overriding its network.
	LocationHeader = "X-Gyre-Client-Location"
	// RegionHeader names the region that served a response.
	RegionHeader = "X-Gyre-Region"
)

// Region is a region the front door can send requests to.
type Region struct {
	// Name of the region.
	Name string
	// URL of the region's public endpoint, e.g. http://127.0.1.1:8080.
	URL string
}

// Service is a set of requests, those of one application, that only some
// regions serve and whose health is its own: a user's app, selected by its
// host name or its path prefix.
type Service struct {
	// Name names the service in logs.
	Name string
	// Hosts are the host names (of the Host header, without the port,
	// case-insensitive) whose requests are the service's.
	Hosts []string
	// PathPrefix, when set, makes requests for that path or under it (for
	// /notes: /notes and /notes/...) the service's. The path is passed on
	// unchanged.
	PathPrefix string
	// Regions are the regions the service runs in. Required.
	Regions []string
	// Healthy reports the service's health in a region. Default: the
	// front door's Healthy.
	Healthy func(region string) bool
}

// Options configure a Server.
type Options struct {
	// Addr is where the front door listens. Default 127.0.0.1:8080.
	Addr string
	// Listener, when set, is used instead of listening on Addr.
	Listener net.Listener
	// TLSConfig, when set, makes the front door also serve HTTPS with it,
	// on TLSListener or else TLSAddr. Requests go on to the regions over
	// plain HTTP, with X-Forwarded-Proto saying which the client used.
	TLSConfig *tls.Config
	// TLSAddr is where the front door serves HTTPS. Required with
	// TLSConfig, unless TLSListener is set.
	TLSAddr string
	// TLSListener, when set, is used instead of listening on TLSAddr.
	TLSListener net.Listener
	// Services route the requests of applications that run in only some
	// regions, or have health of their own; requests no service matches go
	// to every region, by Healthy. Optional.
	Services []Service
	// Regions to route to. Required.
	Regions []Region
	// Geo locates clients and ranks regions. Required.
	Geo *geo.Table
	// Healthy reports a region's health. Default: every region healthy.
	Healthy func(region string) bool
	// On reports a region's routing control. Default: every control on.
	On func(region string) bool
	// Transport returns the round tripper to reach a region (through the
	// simulated WAN). Default: one plain http.Transport per region.
	Transport func(region string) http.RoundTripper
	// AttemptTimeout bounds how long one attempt may wait for the
	// response headers; after it an idempotent request moves on to the
	// next region. Zero means no timeout. Default 10s.
	AttemptTimeout time.Duration
	// MaxReplayBytes bounds the request body kept to replay an idempotent
	// request after a failure past the first byte. Larger bodies are
	// streamed and replayed only when no attempt has read them. Default
	// 1 MiB.
	MaxReplayBytes int64
	// Logger receives retries and failures. Default slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics. Default: none.
	Registerer prometheus.Registerer
}

// Server is the front door. It is an http.Handler, and it can serve on its
// own listener with Start.
type Server struct {
	opts    Options
	log     *slog.Logger
	urls    map[string]*url.URL
	names   []string
	rts     map[string]http.RoundTripper
	metrics *metrics

	srv, tlsSrv *http.Server
	ln, tlsLn   net.Listener
	served      chan error
	once        sync.Once
}

// New returns a Server, reporting every problem with o at once.
func New(o Options) (*Server, error) {
	var errs []error
	if len(o.Regions) == 0 {
		errs = append(errs, errors.New("frontdoor: at least one region is required"))
	}
	if o.Geo == nil {
		errs = append(errs, errors.New("frontdoor: Options.Geo is required"))
	}
	if o.AttemptTimeout < 0 || o.MaxReplayBytes < 0 {
		errs = append(errs, errors.New("frontdoor: AttemptTimeout and MaxReplayBytes must not be negative"))
	}
	s := &Server{urls: map[string]*url.URL{}, rts: map[string]http.RoundTripper{}}
	for _, r := range o.Regions {
		u, err := url.Parse(r.URL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("frontdoor: region %s: %q is not an http(s) URL", r.Name, r.URL))
			continue
		}
		if _, dup := s.urls[r.Name]; dup {
			errs = append(errs, fmt.Errorf("frontdoor: region %s listed twice", r.Name))
		}
		s.urls[r.Name] = u
		s.names = append(s.names, r.Name)
	}
	for i, svc := range o.Services {
		if len(svc.Regions) == 0 {
			errs = append(errs, fmt.Errorf("frontdoor: service %d (%s) has no regions", i, svc.Name))
		}
		for _, r := range svc.Regions {
			if _, ok := s.urls[r]; !ok {
				errs = append(errs, fmt.Errorf("frontdoor: service %s: region %s is not one of the front door's", svc.Name, r))
			}
		}
		if len(svc.Hosts) == 0 && svc.PathPrefix == "" {
			errs = append(errs, fmt.Errorf("frontdoor: service %s needs hosts or a path prefix", svc.Name))
		}
	}
	if o.TLSConfig != nil && o.TLSAddr == "" && o.TLSListener == nil {
		errs = append(errs, errors.New("frontdoor: TLSConfig needs TLSAddr or TLSListener"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	if o.Healthy == nil {
		o.Healthy = func(string) bool { return true }
	}
	if o.On == nil {
		o.On = func(string) bool { return true }
	}
	if o.AttemptTimeout == 0 {
		o.AttemptTimeout = 10 * time.Second
	}
	if o.MaxReplayBytes == 0 {
		o.MaxReplayBytes = 1 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	for _, name := range s.names {
		if o.Transport != nil {
			s.rts[name] = o.Transport(name)
		} else {
			s.rts[name] = &http.Transport{
				Proxy:               nil,
				MaxIdleConnsPerHost: 64,
				IdleConnTimeout:     90 * time.Second,
				TLSClientConfig:     &tls.Config{},
			}
		}
	}
	for i := range o.Services {
		svc := &o.Services[i]
		if svc.Healthy == nil {
			svc.Healthy = o.Healthy
		}
		for j, h := range svc.Hosts {
			svc.Hosts[j] = strings.ToLower(strings.TrimSuffix(h, "."))
		}
	}
	s.opts = o
	s.log = o.Logger.With("component", "frontdoor")
	s.metrics = newMetrics(o.Registerer)
	return s, nil
}

// Start listens (unless given a listener) and serves until Shutdown.
func (s *Server) Start(context.Context) error {
	ln := s.opts.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.opts.Addr); err != nil {
			return fmt.Errorf("frontdoor: %w", err)
		}
	}
	var tlsLn net.Listener
	if s.opts.TLSConfig != nil {
		tlsLn = s.opts.TLSListener
		if tlsLn == nil {
			var err error
			if tlsLn, err = net.Listen("tcp", s.opts.TLSAddr); err != nil {
				if s.opts.Listener == nil {
					ln.Close()
				}
				return fmt.Errorf("frontdoor: https: %w", err)
			}
		}
	}
	s.ln = ln
	newServer := func() *http.Server {
		return &http.Server{
			Handler:           s,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          serverlog.New(s.log.Handler()),
		}
	}
	s.srv = newServer()
	s.served = make(chan error, 2)
	go func() { s.served <- s.srv.Serve(ln) }()
	attrs := []any{"addr", "http://" + ln.Addr().String()}
	if tlsLn != nil {
		s.tlsLn = tlsLn
		s.tlsSrv = newServer()
		s.tlsSrv.TLSConfig = s.opts.TLSConfig
		go func() { s.served <- s.tlsSrv.ServeTLS(tlsLn, "", "") }()
		attrs = append(attrs, "https", "https://"+tlsLn.Addr().String())
	}
	s.log.Info("front door serving", attrs...)
	return nil
}

// Addr returns the address the front door listens on, once started.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// TLSAddr returns the address the front door serves HTTPS on, once
// started, or nil when it does not.
func (s *Server) TLSAddr() net.Addr {
	if s.tlsLn == nil {
		return nil
	}
	return s.tlsLn.Addr()
}

// Shutdown stops serving, waiting for requests in flight until ctx is done.
// It is idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.once.Do(func() {
		if s.srv == nil {
			return
		}
		servers := []*http.Server{s.srv}
		if s.tlsSrv != nil {
			servers = append(servers, s.tlsSrv)
		}
		for _, srv := range servers {
			serr := srv.Shutdown(ctx)
			if errors.Is(serr, context.DeadlineExceeded) {
				serr = srv.Close()
			}
			if err == nil {
				err = serr
			}
		}
		for range servers {
			if serr := <-s.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
				err = serr
			}
		}
		for _, rt := range s.rts {
			if t, ok := rt.(interface{ CloseIdleConnections() }); ok {
				t.CloseIdleConnections()
			}
		}
	})
	return err
}

// locate decides where the client of a request is.
func (s *Server) locate(r *http.Request) string {
	if loc := r.Header.Get(LocationHeader); loc != "" && s.opts.Geo.Known(loc) {
		return loc
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return s.opts.Geo.Locate(ap.Addr())
	}
	return s.opts.Geo.Default()
}

// service returns the service a request is for, or nil.
func (s *Server) service(r *http.Request) *Service {
	if len(s.opts.Services) == 0 {
		return nil
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for i := range s.opts.Services {
		svc := &s.opts.Services[i]
		for _, h := range svc.Hosts {
			if h == host {
				return svc
			}
		}
		if p := svc.PathPrefix; p != "" && (r.URL.Path == p || strings.HasPrefix(r.URL.Path, p+"/")) {
			return svc
		}
	}
	return nil
}

// idempotent reports whether a method may be sent twice (RFC 9110 9.2.2).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// hopHeaders are the connection-level headers a proxy must not forward.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHopHeaders(h http.Header) {
	for _, f := range h.Values("Connection") {
		for _, name := range strings.Split(f, ",") {
			h.Del(strings.TrimSpace(name))
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
}

// ServeHTTP routes one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	loc := s.locate(r)
	names, healthy := s.names, s.opts.Healthy
	if svc := s.service(r); svc != nil {
		names, healthy = svc.Regions, svc.Healthy
	}
	plan := Plan(s.opts.Geo, loc, names, healthy, s.opts.On)
	body := newReplayBody(r.Body, s.opts.MaxReplayBytes)
	defer body.close()
	var lastErr error
	for i, region := range plan {
		resp, sent, err := s.attempt(r, region, body)
		if err == nil {
			s.metrics.requests.WithLabelValues(region, statusClass(resp.StatusCode)).Inc()
			s.metrics.duration.WithLabelValues(region).Observe(time.Since(start).Seconds())
			s.relay(w, resp, region)
			return
		}
		lastErr = err
		retry := !sent || (idempotent(r.Method) && body.replayable())
		reason := "connect"
		if sent {
			reason = "after-send"
		}
		if !retry || i == len(plan)-1 || r.Context().Err() != nil {
			s.log.Warn("request failed", "region", region, "method", r.Method, "path", r.URL.Path, "sent", sent, "err", err)
			break
		}
		s.metrics.retries.WithLabelValues(region, reason).Inc()
		s.log.Debug("retrying in the next region", "failed", region, "next", plan[i+1], "reason", reason, "err", err)
	}
	s.metrics.requests.WithLabelValues("none", "error").Inc()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadGateway)
	fmt.Fprintf(w, "{\"error\":%q,\"code\":\"BadGateway\"}\n", "no region could serve the request: "+errString(lastErr))
}

func errString(err error) string {
	if err == nil {
		return "no regions"
	}
	return err.Error()
}

func statusClass(code int) string {
	return fmt.Sprintf("%dxx", code/100)
}

// attempt sends the request to one region. sent reports whether any of the
// request reached the region (so a failure may have had an effect there).
func (s *Server) attempt(r *http.Request, region string, body *replayBody) (*http.Response, bool, error) {
	if !body.rewind() {
		// An earlier attempt read part of a body too large to keep.
		return nil, true, errors.New("frontdoor: request body already consumed")
	}
	target := s.urls[region]
	ctx := r.Context()
	var cancel context.CancelFunc
	if s.opts.AttemptTimeout > 0 {
		ctx, cancel = context.WithCancel(ctx)
	}
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteHeaderField: func(string, []string) { wrote.Store(true) },
		WroteHeaders:     func() { wrote.Store(true) },
	})
	out := r.Clone(ctx)
	out.URL.Scheme, out.URL.Host = target.Scheme, target.Host
	out.Host = r.Host // keep the client's Host: SigV4 signs it
	out.RequestURI = ""
	out.Body = body.reader()
	if r.ContentLength == 0 && r.Body == http.NoBody {
		out.Body = nil
	}
	out.ContentLength = r.ContentLength
	removeHopHeaders(out.Header)
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	out.Header.Set("X-Forwarded-Proto", proto)
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if prior := out.Header.Get("X-Forwarded-For"); prior != "" {
			ip = prior + ", " + ip
		}
		out.Header.Set("X-Forwarded-For", ip)
	}
	var timer *time.Timer
	if cancel != nil {
		timer = time.AfterFunc(s.opts.AttemptTimeout, cancel)
	}
	resp, err := s.rts[region].RoundTrip(out)
	if timer != nil {
		timer.Stop()
	}
	if err != nil {
		if cancel != nil {
			cancel()
		}
		return nil, wrote.Load() || body.touched(), err
	}
	if cancel != nil {
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	}
	return resp, true, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// relay streams a region's response to the client.
func (s *Server) relay(w http.ResponseWriter, resp *http.Response, region string) {
	defer resp.Body.Close()
	removeHopHeaders(resp.Header)
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	h.Set(RegionHeader, region)
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			// Flush as data comes, so streamed responses stream.
			rc.Flush()
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.log.Warn("response cut short", "region", region, "err", err)
			}
			return
		}
	}
}
