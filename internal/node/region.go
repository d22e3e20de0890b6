package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gyre-dev/gyre/internal/dynamo"
	"github.com/gyre-dev/gyre/internal/hlc"
	"github.com/gyre-dev/gyre/internal/sigv4"
	"github.com/gyre-dev/gyre/internal/store"
)

// Gyre's documented development credentials: what a region accepts when it
// is given none.
const (
	DevAccessKey = "gyre"
	DevSecretKey = "gyregyregyre"
)

// RegionOptions configure one region.
type RegionOptions struct {
	// Name is the region's name, e.g. us-east-1. Required.
	Name string
	// Listen is the address of the region's DynamoDB endpoint. Default
	// 127.0.0.1:8000. Port 0 picks a free port (see Region.Addr).
	Listen string
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
	// Logger receives the region's logs. Default slog.Default().
	Logger *slog.Logger
}

func (o *RegionOptions) ensureDefaults() {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8000"
	}
	if len(o.Credentials) == 0 {
		o.Credentials = map[string]string{DevAccessKey: DevSecretKey}
	}
	if o.ShutdownGrace == 0 {
		o.ShutdownGrace = 5 * time.Second
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
	return errors.Join(errs...)
}

// Region is one running region: its store and its DynamoDB endpoint.
type Region struct {
	opts     RegionOptions
	log      *slog.Logger
	db       *store.DB
	listener net.Listener
	server   *http.Server
	served   chan error
	registry *prometheus.Registry
}

// StartRegion opens the region's store and starts serving its DynamoDB
// endpoint. The caller must Shutdown the region.
func StartRegion(o RegionOptions) (_ *Region, err error) {
	o.ensureDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	log := o.Logger.With("region", o.Name)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	db, err := store.Open(store.Options{
		Dir:    o.DataDir,
		Region: o.Name,
		Clock:  hlc.NewClock(nil, o.ClockSkew),
		Logger: log,
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	creds := o.Credentials
	verifier, err := sigv4.New(sigv4.Options{Credentials: func(id string) (string, bool) {
		s, ok := creds[id]
		return s, ok
	}})
	if err != nil {
		return nil, err
	}
	api, err := dynamo.New(dynamo.Options{
		DB: db,
		Auth: dynamo.AuthenticatorFunc(func(r *http.Request, body []byte) error {
			_, err := verifier.Verify(r, body)
			return err
		}),
		Region:     o.Name,
		Logger:     log,
		Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("node: region %s: %w", o.Name, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	r := &Region{
		opts: o, log: log, db: db, listener: ln, registry: reg,
		server: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		served: make(chan error, 1),
	}
	go func() { r.served <- r.server.Serve(ln) }()
	log.Info("region serving", "dynamodb", "http://"+ln.Addr().String(), "data", o.DataDir)
	return r, nil
}

// Addr returns the address the region's DynamoDB endpoint listens on.
func (r *Region) Addr() net.Addr { return r.listener.Addr() }

// DB returns the region's store.
func (r *Region) DB() *store.DB { return r.db }

// Shutdown stops serving, waiting up to the shutdown grace for requests in
// flight, then closes the store. It is safe to call more than once.
func (r *Region) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.ShutdownGrace)
	defer cancel()
	err := r.server.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = r.server.Close()
	}
	if serr := <-r.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	r.served <- http.ErrServerClosed
	if cerr := r.db.Close(); cerr != nil && err == nil {
		err = cerr
	}
	r.log.Info("region stopped")
	return err
}
