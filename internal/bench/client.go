package bench

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
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
// request's and throttling is counted, not absorbed — with one exception, see
// closedConnRetryer.
func newClient(o *Options) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * o.Concurrency
	tr.MaxIdleConnsPerHost = o.Concurrency
	db := dynamodb.New(dynamodb.Options{
		Region:       o.Region,
		BaseEndpoint: aws.String(o.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, ""),
		HTTPClient:   &http.Client{Transport: tr, Timeout: requestTimeoutCap},
		Retryer:      closedConnRetryer(),
	})
	return &client{db: db, transport: tr}
}

// closedConnRetryer retries a request once, at once, when it failed with
// net.ErrClosed and nothing else. That error is the Go SDK's own race (aws-sdk-go-v2
// issues 1825 and 2737): the SDK closes the request body when the response
// arrives, and when a fast server answers before the transport has finished
// its last read of the request body, the transport tears the connection down
// under the response. The SDK's default retryer retries it for the same
// reason; counting it as the server's error would misreport the endpoint.
func closedConnRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 2
		o.RateLimiter = ratelimit.None
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			return aws.BoolTernary(errors.Is(err, net.ErrClosed))
		})}
	})
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
