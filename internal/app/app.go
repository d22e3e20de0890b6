package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
)

// Tables names the application's four tables.
type Tables struct {
	// Items holds the /data items; partition key id (S).
	Items string
	// Customers and Products hold the order flow's customers and
	// products; partition key id (S).
	Customers, Products string
	// Orders holds orders; partition key orderId (S).
	Orders string
}

func (t Tables) names() []string { return []string{t.Items, t.Customers, t.Products, t.Orders} }

// Options configure an App.
type Options struct {
	// Region is the region the App serves in, written into every item it
	// stores and named as servedBy in every read. Required.
	Region string
	// Endpoint is the URL of the region's DynamoDB endpoint, e.g.
	// http://127.0.0.1:8001. Required.
	Endpoint string
	// AccessKey and SecretKey are the credentials the App signs its
	// DynamoDB requests with. Required.
	AccessKey, SecretKey string
	// Tables names the tables. Required, all four distinct.
	Tables Tables
	// Primary is the primary region: the App running there creates the
	// tables, with a replica in each of Replicas, and seeds the sample
	// data; the others wait for the tables to arrive. Default: Region.
	Primary string
	// Replicas are the regions the tables need a replica in, besides the
	// primary. Default: none.
	Replicas []string
	// Authenticate, when set, checks each request but GET /health before it
	// is served, given the whole body; an error is answered 403 with its
	// message. Default: no authentication.
	Authenticate func(r *http.Request, body []byte) error
	// Writable, when set, reports whether the region can make writes
	// durable (nil) or why not; GET /health answers 503 with the reason
	// while it fails, as reads alone would not show a full disk. Default:
	// not asked.
	Writable func() error
	// HTTPClient carries the App's DynamoDB requests. Default: a client of
	// its own, closed by Shutdown.
	HTTPClient *http.Client
	// MaxBodyBytes bounds a request body; a larger one is answered 413.
	// Default 64 KiB.
	MaxBodyBytes int64
	// HealthTimeout bounds the read GET /health makes. Default 500ms, so
	// that a probe with the default one-second timeout gets an answer.
	HealthTimeout time.Duration
	// RequestTimeout bounds the DynamoDB calls of one request. Default 5s.
	RequestTimeout time.Duration
	// Logger receives the App's logs. Default slog.Default().
	Logger *slog.Logger
}

// DefaultMaxBodyBytes is the default of Options.MaxBodyBytes.
const DefaultMaxBodyBytes = 64 << 10

func (o *Options) ensureDefaults() {
	if o.Primary == "" {
		o.Primary = o.Region
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.HealthTimeout == 0 {
		o.HealthTimeout = 500 * time.Millisecond
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.Region == "" {
		errs = append(errs, errors.New("app: Options.Region is required"))
	}
	if o.Endpoint == "" {
		errs = append(errs, errors.New("app: Options.Endpoint is required"))
	}
	if o.AccessKey == "" || o.SecretKey == "" {
		errs = append(errs, errors.New("app: Options.AccessKey and SecretKey are required"))
	}
	names := o.Tables.names()
	if slices.Contains(names, "") {
		errs = append(errs, errors.New("app: Options.Tables needs all four table names"))
	}
	slices.Sort(names)
	if len(slices.Compact(names)) != 4 {
		errs = append(errs, errors.New("app: Options.Tables names must be distinct"))
	}
	if o.MaxBodyBytes < 0 || o.HealthTimeout < 0 || o.RequestTimeout < 0 {
		errs = append(errs, errors.New("app: MaxBodyBytes, HealthTimeout and RequestTimeout must not be negative"))
	}
	return errors.Join(errs...)
}

// App is the reference application of one region. It is an http.Handler
// for the paths Paths lists, safe for concurrent use.
type App struct {
	opts    Options
	log     *slog.Logger
	db      *dynamodb.Client
	client  *http.Client
	ownHTTP bool
	mux     *http.ServeMux

	// ready is set once every table is ACTIVE here (and, in the primary,
	// seeded); until then requests but /health are answered 503.
	ready atomic.Bool
	// waiting says what setup is waiting for, for /health and 503s.
	waiting atomic.Pointer[string]
	// draining is set by Drain: /health answers 503 from then on.
	draining atomic.Bool

	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Paths are the path patterns the App serves, to mount on a ServeMux.
var Paths = []string{"/data", "/data/", "/orders", "/orders/", "/fill", "/health"}

// New returns an App for o, reporting every problem with o at once. It
// makes no request until Start.
func New(o Options) (*App, error) {
	o.ensureDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	a := &App{opts: o, log: o.Logger.With("component", "app", "region", o.Region), done: make(chan struct{})}
	a.client = o.HTTPClient
	if a.client == nil {
		a.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}}
		a.ownHTTP = true
	}
	a.db = dynamodb.New(dynamodb.Options{
		Region:       o.Region,
		BaseEndpoint: aws.String(o.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, ""),
		HTTPClient:   a.client,
	})
	first := "checking its tables"
	a.waiting.Store(&first)
	a.mux = http.NewServeMux()
	a.routes()
	return a, nil
}

// Start begins setting the tables up in the background (see the package
// comment) and returns at once: the App answers 503 until they are ready.
func (a *App) Start(ctx context.Context) error {
	ctx, a.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(a.done)
		defer func() {
			if p := recover(); p != nil {
				a.log.Error("app setup panicked", "panic", p, "stack", string(debug.Stack()))
			}
		}()
		a.setup(ctx)
	}()
	return nil
}

// Ready reports whether the tables are ready and the App serves.
func (a *App) Ready() bool { return a.ready.Load() }

// Drain makes GET /health answer 503 from now on, so that routing moves
// away before the region stops serving.
func (a *App) Drain() { a.draining.Store(true) }

// Shutdown stops setting up and closes the App's idle connections. It is
// idempotent; requests in flight are the server's to wait for.
func (a *App) Shutdown(ctx context.Context) error {
	var err error
	a.once.Do(func() {
		a.draining.Store(true)
		if a.cancel == nil {
			return
		}
		a.cancel()
		select {
		case <-a.done:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if a.ownHTTP {
			a.client.CloseIdleConnections()
		}
	})
	return err
}

// ServeHTTP serves one request to the application: it reads the body
// (bounded), authenticates the request, and routes it.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.opts.MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, errorf(http.StatusRequestEntityTooLarge, "RequestTooLarge", "the request body is over the limit of %d bytes", a.opts.MaxBodyBytes))
			return
		}
		writeError(w, badRequest("reading the request body: %v", err))
		return
	}
	if a.opts.Authenticate != nil && !(r.URL.Path == "/health" && (r.Method == http.MethodGet || r.Method == http.MethodHead)) {
		if err := a.opts.Authenticate(r, body); err != nil {
			writeError(w, errorf(http.StatusForbidden, "AccessDenied", "%s", authMessage(err)))
			return
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	a.mux.ServeHTTP(w, r)
}

// authMessage is what a client is told about a failed authentication.
func authMessage(err error) string {
	if m, ok := err.(interface{ ClientMessage() string }); ok {
		return m.ClientMessage()
	}
	return err.Error()
}

// handler is a route's function: it answers itself, or returns the error to
// answer with.
type handler func(w http.ResponseWriter, r *http.Request) *apiError

// route registers h for pattern ("METHOD /path"), answering 503 until the
// App is ready.
func (a *App) route(pattern string, h handler) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if !a.ready.Load() {
			writeError(w, a.notReady())
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), a.opts.RequestTimeout)
		defer cancel()
		if e := h(w, r.WithContext(ctx)); e != nil {
			writeError(w, e)
		}
	})
}

// methods answers 405 with Allow for the methods a path lacks.
func (a *App) methods(path string, allowed ...string) {
	a.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "%s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allowed, " or ")))
	})
}

func (a *App) routes() {
	a.route("POST /data", a.createItem)
	a.route("GET /data", a.listItems)
	a.methods("/data", "GET", "POST")
	a.route("GET /data/{id}", a.getItem)
	a.route("PUT /data/{id}", a.putItem)
	a.route("DELETE /data/{id}", a.deleteItem)
	a.methods("/data/{id}", "GET", "PUT", "DELETE")
	a.route("POST /fill", a.fill)
	a.methods("/fill", "POST")
	a.route("POST /orders", a.createOrder)
	a.methods("/orders", "POST")
	a.route("GET /orders/{orderId}", a.getOrder)
	a.methods("/orders/{orderId}", "GET")
	a.mux.HandleFunc("GET /health", a.serveHealth)
	a.methods("/health", "GET")
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, notFound("no route for %s %s", r.Method, r.URL.Path))
	})
}

func (a *App) notReady() *apiError {
	return errorf(http.StatusServiceUnavailable, "NotReady", "the app in %s is not ready: %s", a.opts.Region, *a.waiting.Load())
}

// dynamoError turns an error of a DynamoDB call into the answer to give.
// Validation errors are the client's (a value DynamoDB refuses); anything
// else is the region's.
func (a *App) dynamoError(op string, err error) *apiError {
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		switch ae.ErrorCode() {
		case "ValidationException":
			return badRequest("%s", ae.ErrorMessage())
		case "ResourceNotFoundException":
			return errorf(http.StatusServiceUnavailable, "NotReady", "the app in %s cannot find its table: %s", a.opts.Region, ae.ErrorMessage())
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded":
			return errorf(http.StatusTooManyRequests, "Throttled", "%s", ae.ErrorMessage())
		case "InternalServerError":
			// The region refused the write (a full disk, failing storage)
			// and logs why itself; not once per request here.
			return errorf(http.StatusServiceUnavailable, "Unavailable", "the data plane of %s failed %s: %s", a.opts.Region, op, ae.ErrorMessage())
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errorf(http.StatusGatewayTimeout, "Timeout", "the data plane of %s did not answer %s in time", a.opts.Region, op)
	}
	a.log.Warn("data plane call failed", "op", op, "err", err)
	return errorf(http.StatusServiceUnavailable, "Unavailable", "the data plane of %s failed %s: %v", a.opts.Region, op, err)
}
