package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
)

// client is the SDK client a run uses, with the HTTP transport it owns.
type client struct {
	db        *dynamodb.Client
	transport *http.Transport
}

// requestTimeoutCap bounds every request the client sends, setup included;
// workers bound theirs by Options.Timeout, which Validate keeps within it.
const requestTimeoutCap = maxLatency

// newClient builds a DynamoDB client for the options: static credentials,
// the endpoint as base URL, a transport of its own that keeps an idle
// connection per worker (Go's default keeps two per host, so most workers
// would dial for every request), and no retries, so that a latency is one
// request's and throttling is counted, not absorbed.
func newClient(o *Options) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * o.Concurrency
	tr.MaxIdleConnsPerHost = o.Concurrency
	db := dynamodb.New(dynamodb.Options{
		Region:       o.Region,
		BaseEndpoint: aws.String(o.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, ""),
		HTTPClient:   &http.Client{Transport: ownBody{tr}, Timeout: requestTimeoutCap},
		Retryer:      aws.NopRetryer{},
	})
	return &client{db: db, transport: tr}
}

// ownBody gives the transport a request body of its own. The Go SDK closes
// the body it made as soon as the response arrives (aws-sdk-go-v2 issues
// 1825 and 2737); when a fast server answers before the transport's last
// read of that body, the transport fails the read and tears the connection
// down under the response. Against a real endpoint that happens rarely; at
// loopback speed it would fail about one request in a hundred, which a
// benchmark must not blame on the endpoint. DynamoDB requests are small,
// so copying them costs little.
type ownBody struct{ rt http.RoundTripper }

func (o ownBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return o.rt.RoundTrip(req)
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	r.ContentLength = int64(len(b))
	return o.rt.RoundTrip(r)
}

// close releases the client's idle connections.
func (c *client) close() { c.transport.CloseIdleConnections() }

// errorCode names a failed request's error for the report: the DynamoDB
// error type when the endpoint answered with one, else "Timeout",
// "ConnectionError" or "ClientError".
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() != "" {
		return apiErr.ErrorCode()
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		return "Timeout"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "ConnectionError"
	}
	return "ClientError"
}
