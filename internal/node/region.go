package node

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gyre-dev/gyre/internal/app"
	"github.com/gyre-dev/gyre/internal/control"
	"github.com/gyre-dev/gyre/internal/dynamo"
	"github.com/gyre-dev/gyre/internal/health"
	"github.com/gyre-dev/gyre/internal/hlc"
	"github.com/gyre-dev/gyre/internal/repl"
	"github.com/gyre-dev/gyre/internal/serverlog"
	"github.com/gyre-dev/gyre/internal/sigv4"
	"github.com/gyre-dev/gyre/internal/store"
	"github.com/gyre-dev/gyre/internal/supervisor"
	"github.com/gyre-dev/gyre/internal/topology"
)

// Gyre's documented development credentials: what a region accepts when it
// is given none.
const (
	DevAccessKey = topology.DevAccessKey
	DevSecretKey = topology.DevSecretKey
)

// DefaultShutdownGrace is how long a region waits, by default, for
// requests in flight when it shuts down.
const DefaultShutdownGrace = 5 * time.Second

// RegionOptions configure one region.
type RegionOptions struct {
	// Name is the region's name, e.g. us-east-1. Required.
	Name string
	// Listen is the address of the region's DynamoDB endpoint. Default
	// 127.0.0.1:8000. Port 0 picks a free port (see Region.Addr).
	Listen string
	// Listener, when set, is used instead of listening on Listen.
	Listener net.Listener
	// DataDir holds the region's tables. Required.
	DataDir string
	// Credentials maps access key ids to secret keys accepted by SigV4
	// verification. Default: DevAccessKey -> DevSecretKey.
	Credentials map[string]string
	// ClockSkew shifts the region's clock, to test last-writer-wins under
	// skewed clocks. Default 0.
	ClockSkew time.Duration
	// ShutdownGrace bounds how long Shutdown waits for requests in flight.
	// Default 5s.
	ShutdownGrace time.Duration
	// LameDuck is how long Shutdown keeps serving after /health turns
	// unhealthy, so that routing moves away first. Default 0.
	LameDuck time.Duration
	// Logger receives the region's logs. Default slog.Default().
	Logger *slog.Logger

	// PublicListener, when set, serves the region's public endpoint: the
	// DynamoDB API and GET /health, what DNS answers with and the front
	// door proxies to.
	PublicListener net.Listener
	// PublicListen records the public address, for restarting a region.
	PublicListen string
	// AdminListener, when set, serves the region's admin API (status,
	// replication for peers, the WAN controls) behind AdminToken. A
	// standalone region has none.
	AdminListener net.Listener
	// AdminListen records the admin address, for restarting a region.
	AdminListen string
	// AdminToken is the bearer token the admin API requires. Required with
	// an AdminListener.
	AdminToken string
	// AdminHandlers are extra admin endpoints, by pattern (e.g. the WAN's
	// "/wan/").
	AdminHandlers map[string]http.Handler
	// Regions are every region of the deployment, this one included, where
	// replicas may be placed; empty for a region running alone.
	Regions []string
	// Replication configures replication with peers; nil for none.
	Replication *repl.Options
	// Tables are global tables to create at start if missing.
	Tables []*store.Table
	// Gatherers are extra metrics to serve with the region's (e.g. the
	// WAN's, shared by the regions of one process).
	Gatherers prometheus.Gatherers
	// HealthChecks are run from this region as a vantage point, and
	// reported on the admin API for the router to collect. Needs an admin
	// listener and HealthDial.
	HealthChecks []health.Check
	// HealthDial dials health probes from this region (through the WAN).
	HealthDial health.DialFunc
	// Control runs this region's routing-control node, served on the admin
	// API at /controls; nil for none. Its Logger and Registerer are set
	// per region.
	Control *control.Options
	// ControlListen records the control listener's address, for
	// restarting a region.
	ControlListen string

	// App runs the reference application on the public endpoint; nil for
	// none. Its Region, Endpoint and Logger are set by StartRegion.
	App *app.Options
	// UserApps are users' applications run beside the region, each under
	// a supervisor, and routed to from the public endpoint. Needs a
	// public listener.
	UserApps []UserApp
	// PublicHTTPSListener, when set with TLS, serves the public endpoint
	// over HTTPS too.
	PublicHTTPSListener net.Listener
	// PublicHTTPSListen records the HTTPS address, for restarting a region.
	PublicHTTPSListen string
	// TLS is the configuration of the public endpoint's HTTPS listener
	// (its certificate). Required with PublicHTTPSListener.
	TLS *tls.Config
}

// UserApp is one instance of a user's application in a region.
type UserApp struct {
	// Name is the app's name.
	Name string
	// Process runs the app; its Region and Logger are set by StartRegion.
	Process supervisor.Options
	// Addr is the host:port the app listens on, where the public endpoint
	// sends its requests.
	Addr string
	// Host is the host name whose requests the public endpoint routes to
	// the app, path unchanged.
	Host string
	// Path is the path prefix whose requests the public endpoint routes to
	// the app, with the prefix removed.
	Path string
}

func (o *RegionOptions) ensureDefaults() {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8000"
	}
	if len(o.Credentials) == 0 {
		o.Credentials = map[string]string{DevAccessKey: DevSecretKey}
	}
	if o.ShutdownGrace == 0 {
		o.ShutdownGrace = DefaultShutdownGrace
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

func (o *RegionOptions) validate() error {
	var errs []error
	if o.Name == "" {
		errs = append(errs, errors.New("node: region name is required"))
	}
	if o.DataDir == "" {
		errs = append(errs, errors.New("node: region data directory is required"))
	}
	for k, v := range o.Credentials {
		if k == "" || v == "" {
			errs = append(errs, errors.New("node: credentials need a non-empty access key and secret key"))
			break
		}
	}
	if o.ShutdownGrace < 0 {
		errs = append(errs, fmt.Errorf("node: shutdown grace %v is negative", o.ShutdownGrace))
	}
	if o.AdminListener != nil && o.AdminToken == "" {
		errs = append(errs, errors.New("node: an admin listener needs an admin token"))
	}
	if o.PublicHTTPSListener != nil && o.TLS == nil {
		errs = append(errs, errors.New("node: an HTTPS listener needs a TLS configuration"))
	}
	if (o.App != nil || len(o.UserApps) > 0) && o.PublicListener == nil {
		errs = append(errs, errors.New("node: applications need a public listener"))
	}
	return errors.Join(errs...)
}

// Region is one running region: its store, its DynamoDB endpoint, and when
// it has peers its replicator and admin API.
type Region struct {
	opts     RegionOptions
	log      *slog.Logger
	db       *store.DB
	repl     *repl.Replicator
	listener net.Listener
	servers  []*server
	registry *prometheus.Registry
	draining atomic.Bool
	prober   *health.Prober
	control  *control.Service
	app      *app.App
	apps     []*supervisor.Supervisor
}

// server is one HTTP server of a region.
type server struct {
	http     *http.Server
	listener net.Listener
	served   chan error

	mu struct {
		sync.Mutex
		// fresh holds the connections that have not sent a request yet.
		fresh map[net.Conn]struct{}
		// closing is set when shutdown begins.
		closing bool
	}
}

func startServer(ln net.Listener, h http.Handler, log *slog.Logger) *server {
	s := &server{
		listener: ln,
		http: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          serverlog.New(log.Handler()),
		},
		served: make(chan error, 1),
	}
	s.mu.fresh = map[net.Conn]struct{}{}
	s.http.ConnState = s.track
	go func() { s.served <- s.http.Serve(ln) }()
	return s
}

// track follows the connections that have not sent a request yet, and
// closes those that arrive once shutdown has begun.
func (s *server) track(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case state == http.StateNew && s.mu.closing:
		c.Close()
	case state == http.StateNew:
		s.mu.fresh[c] = struct{}{}
	default:
		delete(s.mu.fresh, c)
	}
}

func (s *server) shutdown(ctx context.Context) error {
	// http.Server.Shutdown closes idle connections at once but waits up to
	// 5s for a new one's first request. Peers' HTTP transports dial
	// connections ahead of need and pool them unused, so a stopping region
	// would often wait out the 5s: close them as the idle ones.
	s.mu.Lock()
	s.mu.closing = true
	for c := range s.mu.fresh {
		c.Close()
	}
	s.mu.Unlock()
	err := s.http.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.http.Close()
	}
	if serr := <-s.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// StartRegion opens the region's store and starts serving. The caller must
// Shutdown the region.
func StartRegion(o RegionOptions) (_ *Region, err error) {
	o.ensureDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	log := o.Logger.With("region", o.Name)
	r := &Region{opts: o, log: log, registry: prometheus.NewRegistry()}
	r.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.db, err = store.Open(store.Options{
		Dir:    o.DataDir,
		Region: o.Name,
		Clock:  hlc.NewClock(nil, o.ClockSkew),
		Logger: log,
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err == nil {
			return
		}
		// Stop whatever started: with the replicator made, Shutdown knows
		// how (each part stops whether or not it was started).
		if r.repl != nil {
			r.Shutdown(context.Background())
		} else {
			r.db.Close()
		}
		// The listeners it was given and had not served yet are closed
		// too (closing a served one again is harmless).
		for _, ln := range []net.Listener{o.Listener, o.PublicListener, o.PublicHTTPSListener, o.AdminListener} {
			if ln != nil {
				ln.Close()
			}
		}
	}()
	api, err := r.dataPlane()
	if err != nil {
		return nil, err
	}
	if err := r.serve(api); err != nil {
		return nil, err
	}
	if err := r.startBackground(); err != nil {
		return nil, err
	}
	attrs := []any{"dynamodb", "http://" + r.listener.Addr().String(), "data", o.DataDir}
	if o.PublicListener != nil {
		attrs = append(attrs, "public", "http://"+o.PublicListener.Addr().String())
	}
	if o.PublicHTTPSListener != nil {
		attrs = append(attrs, "public_https", "https://"+o.PublicHTTPSListener.Addr().String())
	}
	if o.AdminListener != nil {
		attrs = append(attrs, "admin", "http://"+o.AdminListener.Addr().String())
	}
	log.Info("region serving", attrs...)
	return r, nil
}

// dataPlane creates the region's tables from the topology, and makes its
// DynamoDB API and its replicator (a region on its own still has one,
// with no peers: it truncates the change log, which nobody else reads).
func (r *Region) dataPlane() (*dynamo.Server, error) {
	o := &r.opts
	for _, t := range o.Tables {
		if created, err := r.db.EnsureTable(t); err != nil {
			return nil, fmt.Errorf("node: creating table %s: %w", t.Name, err)
		} else if created {
			r.log.Info("created global table", "table", t.Name, "replicas", t.LiveReplicas())
		}
	}
	creds := o.Credentials
	verifier, err := sigv4.New(sigv4.Options{Credentials: func(id string) (string, bool) {
		s, ok := creds[id]
		return s, ok
	}})
	if err != nil {
		return nil, err
	}
	api, err := dynamo.New(dynamo.Options{
		DB: r.db,
		Auth: dynamo.AuthenticatorFunc(func(req *http.Request, body []byte) error {
			_, err := verifier.Verify(req, body)
			return err
		}),
		Region:     o.Name,
		Regions:    o.Regions,
		Logger:     o.Logger, // it adds the region itself
		Registerer: r.registry,
	})
	if err != nil {
		return nil, err
	}
	var ro repl.Options
	if o.Replication != nil {
		ro = *o.Replication
	}
	ro.DB, ro.Logger, ro.Registerer = r.db, o.Logger, r.registry // it adds the region itself
	if r.repl, err = repl.New(ro); err != nil {
		return nil, err
	}
	return api, nil
}

// serve starts the region's HTTP servers: the DynamoDB endpoint, the
// public endpoint with the apps (HTTP and HTTPS), and the admin API with
// the services it serves.
func (r *Region) serve(api *dynamo.Server) error {
	o := &r.opts
	ln := o.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", o.Listen); err != nil {
			return fmt.Errorf("node: region %s: %w", o.Name, err)
		}
	}
	r.listener = ln
	metrics := promhttp.HandlerFor(append(prometheus.Gatherers{r.registry}, o.Gatherers...), promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /health", r.serveHealth)
	r.servers = append(r.servers, startServer(ln, mux, r.log))
	if o.App != nil {
		ao := *o.App
		ao.Region, ao.Endpoint, ao.Logger = o.Name, "http://"+ln.Addr().String(), o.Logger
		ao.Writable = r.db.Healthy
		var err error
		if r.app, err = app.New(ao); err != nil {
			return err
		}
	}
	if o.PublicListener != nil {
		pub := r.publicHandler(api, metrics)
		r.servers = append(r.servers, startServer(o.PublicListener, pub, r.log))
		if o.PublicHTTPSListener != nil {
			r.servers = append(r.servers, startServer(tls.NewListener(o.PublicHTTPSListener, o.TLS), pub, r.log))
		}
	}
	if o.AdminListener == nil {
		return nil
	}
	admin, err := r.adminHandler(metrics)
	if err != nil {
		return err
	}
	r.servers = append(r.servers, startServer(o.AdminListener, requireToken(o.AdminToken, admin), r.log))
	return nil
}

// adminHandler makes the admin API: status, replication for peers, the
// routing-control node, health reports and the extra handlers.
func (r *Region) adminHandler(metrics http.Handler) (http.Handler, error) {
	o := &r.opts
	admin := http.NewServeMux()
	admin.Handle("GET /metrics", metrics)
	admin.HandleFunc("GET /status", r.serveStatus)
	admin.Handle("/repl/", r.repl.Handler())
	if o.Control != nil {
		co := *o.Control
		co.Logger, co.Registerer = o.Logger, r.registry // it adds the region itself
		var err error
		if r.control, err = control.New(co); err != nil {
			return nil, err
		}
		admin.Handle("/controls", r.control.Handler())
	}
	if len(o.HealthChecks) > 0 {
		var err error
		if r.prober, err = health.NewProber(health.ProberOptions{
			Vantage: o.Name, Checks: o.HealthChecks, Dial: o.HealthDial,
			Logger: r.log, Registerer: r.registry,
		}); err != nil {
			return nil, err
		}
		admin.Handle(health.ReportPath, r.prober.Handler())
	}
	for pattern, h := range o.AdminHandlers {
		admin.Handle(pattern, h)
	}
	return admin, nil
}

// startBackground starts the region's background work, once it serves:
// replication, health probes, the routing-control node, the reference
// app's setup and the users' apps.
func (r *Region) startBackground() error {
	o := &r.opts
	if err := r.repl.Start(); err != nil {
		return err
	}
	if r.prober != nil {
		if err := r.prober.Start(context.Background()); err != nil {
			return err
		}
	}
	if r.control != nil {
		if err := r.control.Start(context.Background()); err != nil {
			return err
		}
	}
	if r.app != nil {
		if err := r.app.Start(context.Background()); err != nil {
			return err
		}
	}
	for _, ua := range o.UserApps {
		po := ua.Process
		po.Region, po.Logger = o.Name, o.Logger
		sup, err := supervisor.New(po)
		if err != nil {
			return fmt.Errorf("node: region %s: app %s: %w", o.Name, ua.Name, err)
		}
		if err := sup.Start(context.Background()); err != nil {
			return err // it names the app, the region and the fix
		}
		r.apps = append(r.apps, sup)
	}
	return nil
}

// serveHealth answers a health check: 200 while the region serves, 503
// once it has begun shutting down, so that routing moves away before its
// listeners close, or while its storage refuses writes.
func (r *Region) serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if r.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "draining "+r.opts.Name+"\n")
		return
	}
	if err := r.db.Healthy(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "unhealthy "+r.opts.Name+": "+err.Error()+"\n")
		return
	}
	io.WriteString(w, "ok "+r.opts.Name+"\n")
}

// requireToken lets through only requests bearing the admin token.
func requireToken(token string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		got := []byte(req.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("WWW-Authenticate", `Bearer realm="gyre-admin"`)
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"code": "Unauthorized", "error": "the admin API needs Authorization: Bearer <admin token>"})
			return
		}
		next.ServeHTTP(w, req)
	})
}

// RegionStatus is what GET /status on a region's admin API answers.
type RegionStatus struct {
	Region      string       `json:"region"`
	DynamoDB    string       `json:"dynamodb"`
	ClockSkew   string       `json:"clock_skew"`
	Tables      []TableState `json:"tables"`
	Replication *repl.Status `json:"replication,omitempty"`
}

// TableState is one table as a region sees it.
type TableState struct {
	Name     string          `json:"name"`
	Status   string          `json:"status"`
	Items    int64           `json:"items"`
	Replicas []store.Replica `json:"replicas,omitempty"`
}

// Status reports the region's tables and replication.
func (r *Region) Status() RegionStatus {
	s := RegionStatus{Region: r.opts.Name, DynamoDB: r.listener.Addr().String(), ClockSkew: r.opts.ClockSkew.String(), Tables: []TableState{}}
	for _, name := range r.db.TableNames() {
		t, err := r.db.Table(name)
		if err != nil {
			continue
		}
		st, _, _ := r.db.Stats(t)
		s.Tables = append(s.Tables, TableState{Name: name, Status: string(t.Status), Items: st.Items, Replicas: t.Replicas})
	}
	rs := r.repl.Status()
	s.Replication = &rs
	return s
}

func (r *Region) serveStatus(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(r.Status())
}

// App returns the region's reference application, or nil.
func (r *Region) App() *app.App { return r.app }

// UserApps returns the supervisors of the region's user applications.
func (r *Region) UserApps() []*supervisor.Supervisor { return r.apps }

// PublicHTTPSAddr returns the public endpoint's HTTPS address, or nil
// without one.
func (r *Region) PublicHTTPSAddr() net.Addr {
	if r.opts.PublicHTTPSListener == nil {
		return nil
	}
	return r.opts.PublicHTTPSListener.Addr()
}

// Name returns the region's name.
func (r *Region) Name() string { return r.opts.Name }

// Addr returns the address the region's DynamoDB endpoint listens on.
func (r *Region) Addr() net.Addr { return r.listener.Addr() }

// PublicAddr returns the public endpoint's address, or nil without one.
func (r *Region) PublicAddr() net.Addr {
	if r.opts.PublicListener == nil {
		return nil
	}
	return r.opts.PublicListener.Addr()
}

// AdminAddr returns the admin API's address, or nil without one.
func (r *Region) AdminAddr() net.Addr {
	if r.opts.AdminListener == nil {
		return nil
	}
	return r.opts.AdminListener.Addr()
}

// DB returns the region's store.
func (r *Region) DB() *store.DB { return r.db }

// Control returns the region's routing-control node, or nil.
func (r *Region) Control() *control.Service { return r.control }

// Replicator returns the region's replicator.
func (r *Region) Replicator() *repl.Replicator { return r.repl }

// Shutdown stops the region in order: stop serving clients (waiting up to
// the shutdown grace for requests in flight), stop replication, close the
// store. It is safe to call more than once.
func (r *Region) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.ShutdownGrace)
	defer cancel()
	var errs []error
	// Report unhealthy, and after the lame-duck delay stop serving
	// clients; then replication, which also ends the streams peers hold
	// open on the admin API; then the admin API; the store last.
	r.draining.Store(true)
	if r.app != nil {
		r.app.Drain()
	}
	if r.opts.LameDuck > 0 && len(r.servers) > 0 {
		select {
		case <-time.After(r.opts.LameDuck):
		case <-ctx.Done():
		}
	}
	clients, admin := r.servers, []*server(nil)
	if r.opts.AdminListener != nil && len(r.servers) > 0 {
		clients, admin = r.servers[:len(r.servers)-1], r.servers[len(r.servers)-1:]
	}
	for _, s := range clients {
		errs = append(errs, s.shutdown(ctx))
	}
	if r.app != nil {
		errs = append(errs, r.app.Shutdown(ctx))
	}
	for _, sup := range r.apps {
		errs = append(errs, sup.Shutdown(ctx))
	}
	errs = append(errs, r.repl.Shutdown(ctx))
	if r.prober != nil {
		errs = append(errs, r.prober.Shutdown(ctx))
	}
	if r.control != nil {
		errs = append(errs, r.control.Shutdown(ctx))
	}
	for _, s := range admin {
		errs = append(errs, s.shutdown(ctx))
	}
	r.servers = nil
	errs = append(errs, r.db.Close())
	r.log.Info("region stopped")
	return errors.Join(errs...)
}
