package sigv4

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// dynamoErrorType maps Verify's errors to DynamoDB error types, as the
// protocol layer does; the tests use it to answer the real SDK client.
func dynamoErrorType(err error) string {
	switch {
	case errors.Is(err, ErrMissingAuthenticationToken):
		return "MissingAuthenticationTokenException"
	case errors.Is(err, ErrIncompleteSignature):
		return "IncompleteSignatureException"
	case errors.Is(err, ErrUnrecognizedClient):
		return "UnrecognizedClientException"
	case errors.Is(err, ErrInvalidSignature):
		return "InvalidSignatureException"
	}
	return "InternalServerError"
}

// verified is what the test server saw for one request.
type verified struct {
	id  Identity
	err error
}

// dynamoServer is a real HTTP server that verifies every request and answers
// ListTables and GetItem with empty results.
type dynamoServer struct {
	*httptest.Server
	clock *fakeClock
	seen  chan verified
}

func newDynamoServer(t *testing.T) *dynamoServer {
	t.Helper()
	s := &dynamoServer{clock: newFakeClock(time.Now()), seen: make(chan verified, 1)}
	v := newTestVerifier(t, s.clock, nil)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		id, err := v.Verify(r, body)
		s.seen <- verified{id, err}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if err != nil {
			var e *Error
			errors.As(err, &e)
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{
				"__type":  "com.amazon.coral.service#" + dynamoErrorType(err),
				"message": e.Message,
			})
			return
		}
		switch r.Header.Get("X-Amz-Target") {
		case "DynamoDB_20120810.ListTables":
			io.WriteString(w, `{"TableNames":[]}`)
		default:
			io.WriteString(w, `{}`)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// tamperingClient changes each request after the SDK has signed it.
type tamperingClient struct {
	inner  *http.Client
	tamper func(*http.Request)
}

func (c tamperingClient) Do(r *http.Request) (*http.Response, error) {
	c.tamper(r)
	return c.inner.Do(r)
}

func TestDynamoDBClient(t *testing.T) {
	srv := newDynamoServer(t)

	type client struct {
		region      string
		creds       aws.CredentialsProvider
		tamper      func(*http.Request)
		skew        time.Duration // server clock minus real time
		op          string        // "ListTables" (default) or "GetItem"
		wantErrType string
		wantMsg     string // prefix of the message
		wantID      Identity
	}
	static := func(id, secret, token string) aws.CredentialsProvider {
		return credentials.NewStaticCredentialsProvider(id, secret, token)
	}
	cases := []struct {
		name string
		client
	}{
		{name: "accepted", client: client{
			creds:  static(testKeyID, testSecret, ""),
			wantID: Identity{AccessKeyID: testKeyID, Algorithm: AlgorithmV4, Region: "us-east-1"},
		}},
		{name: "accepted GetItem", client: client{
			creds: static(testKeyID, testSecret, ""), op: "GetItem",
			wantID: Identity{AccessKeyID: testKeyID, Algorithm: AlgorithmV4, Region: "us-east-1"},
		}},
		{name: "other region", client: client{
			region: "eu-west-1", creds: static(testKeyID, testSecret, ""),
			wantID: Identity{AccessKeyID: testKeyID, Algorithm: AlgorithmV4, Region: "eu-west-1"},
		}},
		{name: "session token", client: client{
			creds:  static(testKeyID, testSecret, "IQoJb3JpZ2luX2VjEJr//////////session+token="),
			wantID: Identity{AccessKeyID: testKeyID, Algorithm: AlgorithmV4, Region: "us-east-1", SessionToken: "IQoJb3JpZ2luX2VjEJr//////////session+token="},
		}},
		{name: "unsigned", client: client{
			creds:       aws.AnonymousCredentials{},
			wantErrType: "MissingAuthenticationTokenException", wantMsg: "Request is missing Authentication Token",
		}},
		{name: "wrong secret", client: client{
			creds:       static(testKeyID, "not-the-secret", ""),
			wantErrType: "InvalidSignatureException", wantMsg: msgMismatch,
		}},
		{name: "unknown key", client: client{
			creds:       static("AKIDNOBODY", testSecret, ""),
			wantErrType: "UnrecognizedClientException", wantMsg: "The security token included in the request is invalid.",
		}},
		{name: "expired", client: client{
			creds: static(testKeyID, testSecret, ""), skew: 20 * time.Minute,
			wantErrType: "InvalidSignatureException", wantMsg: "Signature expired: ",
		}},
		{name: "not yet current", client: client{
			creds: static(testKeyID, testSecret, ""), skew: -20 * time.Minute,
			wantErrType: "InvalidSignatureException", wantMsg: "Signature not yet current: ",
		}},
		{name: "tampered body", client: client{
			creds: static(testKeyID, testSecret, ""), op: "GetItem",
			tamper: func(r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				body = bytes.Replace(body, []byte("Music"), []byte("Bills"), 1)
				r.Body = io.NopCloser(bytes.NewReader(body))
			},
			wantErrType: "InvalidSignatureException", wantMsg: msgMismatch,
		}},
		{name: "tampered header", client: client{
			creds: static(testKeyID, testSecret, ""),
			tamper: func(r *http.Request) {
				r.Header.Set("X-Amz-Target", "DynamoDB_20120810.DescribeLimits")
			},
			wantErrType: "InvalidSignatureException", wantMsg: msgMismatch,
		}},
		{name: "signed header removed", client: client{
			creds:       static(testKeyID, testSecret, ""),
			tamper:      func(r *http.Request) { r.Header.Del("X-Amz-Target") },
			wantErrType: "IncompleteSignatureException", wantMsg: "'x-amz-target' is named as a SignedHeader",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var httpClient aws.HTTPClient = srv.Client()
			if tc.tamper != nil {
				httpClient = tamperingClient{srv.Client(), tc.tamper}
			}
			db := dynamodb.NewFromConfig(aws.Config{
				Region:           or(tc.region, "us-east-1"),
				Credentials:      tc.creds,
				BaseEndpoint:     aws.String(srv.URL),
				HTTPClient:       httpClient,
				RetryMaxAttempts: 1,
			})
			srv.clock.Set(time.Now().Add(tc.skew))

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var err error
			switch or(tc.op, "ListTables") {
			case "ListTables":
				_, err = db.ListTables(ctx, &dynamodb.ListTablesInput{})
			case "GetItem":
				_, err = db.GetItem(ctx, &dynamodb.GetItemInput{
					TableName: aws.String("Music"),
					Key:       map[string]types.AttributeValue{"Artist": &types.AttributeValueMemberS{Value: "No One You Know"}},
				})
			}
			var got verified
			select {
			case got = <-srv.seen:
			default:
				t.Fatalf("the server saw no request; client error: %v", err)
			}

			if tc.wantErrType == "" {
				if err != nil || got.err != nil {
					t.Fatalf("client error %v, server error %v; want success", err, got.err)
				}
				if got.id != tc.wantID {
					t.Errorf("identity = %+v, want %+v", got.id, tc.wantID)
				}
				return
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("client error = %v, want a %s API error (server: %v)", err, tc.wantErrType, got.err)
			}
			if apiErr.ErrorCode() != tc.wantErrType || !strings.HasPrefix(apiErr.ErrorMessage(), tc.wantMsg) {
				t.Fatalf("client error %s: %q, want %s: %q...", apiErr.ErrorCode(), apiErr.ErrorMessage(), tc.wantErrType, tc.wantMsg)
			}
		})
	}
}
