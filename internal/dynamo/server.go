package dynamo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/store"
)

// Authenticator checks a request's signature over its body. *sigv4.Verifier
// satisfies it through VerifierFunc.
type Authenticator interface {
	Authenticate(r *http.Request, body []byte) error
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request, body []byte) error

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(r *http.Request, body []byte) error { return f(r, body) }

// Options configure a Server.
type Options struct {
	// DB holds the region's tables. Required.
	DB *store.DB
	// Auth verifies every request's signature. Required: Gyre never serves
	// the data plane unauthenticated.
	Auth Authenticator
	// Region is the region name in ARNs and the health answer. Default
	// DB.Region().
	Region string
	// Regions are the regions of the deployment, where ReplicaUpdates may
	// place replicas. Empty for a region running alone.
	Regions []string
	// AccountID is the account in ARNs. Default "000000000000".
	AccountID string
	// MaxRequestBytes bounds a request body. Default 16 MiB, DynamoDB's
	// largest request (a full BatchWriteItem); must be positive.
	MaxRequestBytes int64
	// Logger receives errors that are Gyre's fault. Default slog.Default().
	Logger *slog.Logger
	// Registerer receives the server's metrics. Default: none.
	Registerer prometheus.Registerer
}

// Server serves DynamoDB's JSON 1.0 protocol over HTTP for one region. It is
// an http.Handler and safe for concurrent use.
type Server struct {
	opts    Options
	db      *store.DB
	log     *slog.Logger
	metrics *metrics
}

// New returns a Server. It reports every problem with o at once.
func New(o Options) (*Server, error) {
	var errs []error
	if o.DB == nil {
		errs = append(errs, errors.New("dynamo: Options.DB is required"))
	}
	if o.Auth == nil {
		errs = append(errs, errors.New("dynamo: Options.Auth is required"))
	}
	if o.MaxRequestBytes < 0 {
		errs = append(errs, fmt.Errorf("dynamo: Options.MaxRequestBytes %d is negative", o.MaxRequestBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.Region == "" {
		o.Region = o.DB.Region()
	}
	if o.AccountID == "" {
		o.AccountID = "000000000000"
	}
	if o.MaxRequestBytes == 0 {
		o.MaxRequestBytes = 16 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Server{opts: o, db: o.DB, log: o.Logger.With("component", "dynamo", "region", o.Region)}
	s.metrics = newMetrics(o.Registerer, o.Region)
	return s, nil
}

// targetPrefix is the X-Amz-Target prefix of DynamoDB's JSON 1.0 protocol.
const targetPrefix = "DynamoDB_20120810."

type handler func(s *Server, ctx context.Context, body []byte) (any, error)

var operations = map[string]handler{
	"CreateTable":        (*Server).createTable,
	"DescribeTable":      (*Server).describeTable,
	"ListTables":         (*Server).listTables,
	"DeleteTable":        (*Server).deleteTable,
	"UpdateTable":        (*Server).updateTable,
	"UpdateTimeToLive":   (*Server).updateTimeToLive,
	"DescribeTimeToLive": (*Server).describeTimeToLive,
	"DescribeEndpoints":  (*Server).describeEndpoints,
	"DescribeLimits":     (*Server).describeLimits,
	"TagResource":        (*Server).tagResource,
	"UntagResource":      (*Server).untagResource,
	"ListTagsOfResource": (*Server).listTagsOfResource,
	"PutItem":            (*Server).putItem,
	"GetItem":            (*Server).getItem,
	"UpdateItem":         (*Server).updateItem,
	"DeleteItem":         (*Server).deleteItem,
	"Query":              (*Server).query,
	"Scan":               (*Server).scan,
	"BatchGetItem":       (*Server).batchGetItem,
	"BatchWriteItem":     (*Server).batchWriteItem,
	"TransactWriteItems": (*Server).transactWriteItems,
	"TransactGetItems":   (*Server).transactGetItems,
}

// Operations returns the names of the operations the server implements.
func Operations() []string {
	names := make([]string, 0, len(operations))
	for n := range operations {
		names = append(names, n)
	}
	return names
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w.Header().Set("x-amzn-RequestId", requestID())
	if r.Method == http.MethodGet && r.URL.Path == "/" {
		// DynamoDB answers a plain GET with a health line; load balancers
		// and Gyre's health checks use it.
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "healthy: dynamodb."+s.opts.Region+".gyre\n")
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	code := s.serve(w, r, op)
	s.metrics.observe(op, code, time.Since(start))
}

// serve handles a DynamoDB request and returns the code it answered with
// ("OK" or the error type), for metrics.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, op string) string {
	fail := func(e *apiError) string {
		writeError(w, e)
		return e.Type[strings.IndexByte(e.Type, '#')+1:]
	}
	if r.Method != http.MethodPost {
		return fail(newError(http.StatusMethodNotAllowed, nsService+"UnknownOperationException", "Only POST is supported"))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxRequestBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fail(newError(http.StatusRequestEntityTooLarge, nsService+"SerializationException",
				"Request size %d bytes exceeded the limit of %d bytes", r.ContentLength, s.opts.MaxRequestBytes))
		}
		return fail(serializationErr("Reading the request body: %v", err))
	}
	if err := s.opts.Auth.Authenticate(r, body); err != nil {
		e, _ := toAPIError(err)
		return fail(e)
	}
	h, ok := operations[op]
	if !ok || !strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix) {
		return fail(newError(http.StatusBadRequest, nsService+"UnknownOperationException", "%s", "Unknown operation: "+r.Header.Get("X-Amz-Target")))
	}
	resp, err := s.call(h, r.Context(), body)
	if err != nil {
		e, ours := toAPIError(err)
		if !ours {
			s.log.Error("request failed", "operation", op, "err", err)
		}
		return fail(e)
	}
	out, err := encodeResponse(resp)
	if err != nil {
		s.log.Error("encoding response", "operation", op, "err", err)
		return fail(internalErr())
	}
	writeJSON(w, http.StatusOK, out)
	return "OK"
}

// jsonAppender is a response that writes its own JSON. The item-carrying
// responses do, because encoding/json re-validates and compacts the output
// of every MarshalJSON, which for items costs as much as encoding them.
type jsonAppender interface {
	appendJSON(buf []byte) ([]byte, error)
}

func encodeResponse(resp any) ([]byte, error) {
	if a, ok := resp.(jsonAppender); ok {
		return a.appendJSON(make([]byte, 0, 512))
	}
	return json.Marshal(resp)
}

// call runs a handler, turning a panic into an internal error so that no
// input can take the region down.
func (s *Server) call(h handler, ctx context.Context, body []byte) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("handler panicked", "panic", p)
			resp, err = nil, fmt.Errorf("dynamo: handler panicked: %v", p)
		}
	}()
	return h(s, ctx, body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	// SDKs verify the body against this checksum when it is present.
	h.Set("x-amz-crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	w.WriteHeader(status)
	w.Write(body)
}

func requestID() string {
	var b [16]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// maxRequestDepth bounds how deeply a request's JSON may nest: an attribute
// value nested as deeply as DynamoDB allows (two JSON levels per map or list,
// one for the innermost value) inside the deepest request envelope
// (BatchWriteItem's RequestItems, table, list, PutRequest, Item: six), with
// room to spare.
const maxRequestDepth = 2*attr.MaxDepth + 16

// decode unmarshals a request body. An empty body is an empty request.
func decode(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	// Attribute values decode level by level, each level re-reading all it
	// holds, so a deeply nested value costs the square of its size; refuse
	// nesting no valid request has before decoding anything.
	if tooDeep(body, maxRequestDepth) {
		return validationErr("Nesting Levels have exceeded supported limits: Nested levels allowed is %d", attr.MaxDepth)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return err
	}
	return emptyExpression(body)
}

// emptyExpression refuses an expression parameter given as "", which
// DynamoDB rejects but the request structs cannot tell from an absent one.
// Only a body that contains such a value pays for the second look.
func emptyExpression(body []byte) error {
	if !bytes.Contains(body, []byte(`Expression":""`)) && !bytes.Contains(body, []byte(`Expression": ""`)) {
		return nil
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil
	}
	for k, v := range top {
		if strings.HasSuffix(k, "Expression") && string(v) == `""` {
			return validationErr("Invalid %s: The expression can not be empty;", k)
		}
	}
	return nil
}

// tooDeep reports whether the JSON in b nests objects and arrays more than
// limit levels deep. It does not validate b; json.Unmarshal does that.
func tooDeep(b []byte, limit int) bool {
	depth := 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > limit {
				return true
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}
