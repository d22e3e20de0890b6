package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKeyID  = "AKIDGYRETEST"
	testSecret = "gyre/Secret+Key/0123456789abcdefghijKLMN"
)

// signedAt is when the test requests are signed, unless a case says otherwise.
var signedAt = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeClock is a clock the tests set by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.Set(t)
	return c
}

func (c *fakeClock) Now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

func testCredentials(id string) (string, bool) {
	if id == testKeyID {
		return testSecret, true
	}
	return "", false
}

func newTestVerifier(t testing.TB, clock *fakeClock, edit func(*Options)) *Verifier {
	t.Helper()
	o := Options{Credentials: testCredentials, Now: clock.Now}
	if edit != nil {
		edit(&o)
	}
	v, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

func bodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// sdkRequest describes a request to sign with the AWS SDK's signer.
type sdkRequest struct {
	method  string
	url     string
	header  http.Header
	body    []byte
	region  string // default us-east-1
	service string // default dynamodb
	token   string
	at      time.Time // default signedAt
	secret  string    // default testSecret
	keyID   string    // default testKeyID
	// payloadHash overrides the hash of the body given to the signer.
	payloadHash string
	// signerOptions, when set, configures the SDK's signer.
	signerOptions func(*v4.SignerOptions)
}

// dynamoRequest is a request shaped like the SDK's DynamoDB calls.
func dynamoRequest() sdkRequest {
	return sdkRequest{
		method: "POST",
		url:    "http://dynamodb.local:8000/",
		header: http.Header{
			"Content-Type":          {"application/x-amz-json-1.0"},
			"X-Amz-Target":          {"DynamoDB_20120810.GetItem"},
			"Accept-Encoding":       {"identity"},
			"Amz-Sdk-Invocation-Id": {"5b0f8b5a-4c2b-4e8f-9d43-2e7a1c7c0f11"},
			"Amz-Sdk-Request":       {"attempt=1; max=3"},
		},
		body: []byte(`{"TableName":"Music","Key":{"Artist":{"S":"No One You Know"}}}`),
	}
}

// sign signs s with the SDK and returns the request as a server would
// receive it: written to the wire and parsed back by net/http.
func sign(t testing.TB, s sdkRequest) (*http.Request, []byte) {
	t.Helper()
	req := s.build(t)
	return throughWire(t, req), s.body
}

// build returns the signed client-side request.
func (s sdkRequest) build(t testing.TB) *http.Request {
	t.Helper()
	req, err := http.NewRequest(s.method, s.url, bytes.NewReader(s.body))
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	for k, vs := range s.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	creds := aws.Credentials{AccessKeyID: or(s.keyID, testKeyID), SecretAccessKey: or(s.secret, testSecret), SessionToken: s.token}
	at := s.at
	if at.IsZero() {
		at = signedAt
	}
	ph := or(s.payloadHash, bodyHash(s.body))
	var opts []func(*v4.SignerOptions)
	if s.signerOptions != nil {
		opts = append(opts, s.signerOptions)
	}
	if err := v4.NewSigner(opts...).SignHTTP(context.Background(), creds, req, ph, or(s.service, "dynamodb"), or(s.region, "us-east-1"), at); err != nil {
		t.Fatalf("SignHTTP: %v", err)
	}
	return req
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// throughWire writes a client request as net/http would send it and parses it
// back as net/http's server would.
func throughWire(t testing.TB, req *http.Request) *http.Request {
	t.Helper()
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		t.Fatalf("writing request: %v", err)
	}
	got, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		t.Fatalf("reading request back: %v\n%s", err, wire.String())
	}
	return got
}

func TestVerifyAcceptsSDKSignedRequests(t *testing.T) {
	large := bytes.Repeat([]byte(`{"S":"0123456789abcdef"},`), 1<<16) // ~1.5 MiB
	cases := []struct {
		name   string
		edit   func(*sdkRequest)
		region string
		token  string
	}{
		{name: "dynamodb GetItem", edit: func(*sdkRequest) {}},
		{name: "empty body", edit: func(s *sdkRequest) { s.body = nil }},
		{name: "empty body GET", edit: func(s *sdkRequest) { s.method, s.body = "GET", nil }},
		{name: "large body", edit: func(s *sdkRequest) { s.body = large }},
		{name: "path", edit: func(s *sdkRequest) { s.url = "http://dynamodb.local:8000/a/b/c" }},
		{name: "path trailing slash", edit: func(s *sdkRequest) { s.url = "http://dynamodb.local:8000/a/b/" }},
		{name: "path encoded slash", edit: func(s *sdkRequest) { s.url = "http://dynamodb.local:8000/a%2Fb" }},
		{name: "path space", edit: func(s *sdkRequest) { s.url = "http://dynamodb.local:8000/with%20space/x" }},
		{name: "path utf8", edit: func(s *sdkRequest) { s.url = "http://dynamodb.local:8000/ሴ/é" }},
		{name: "path reserved characters", edit: func(s *sdkRequest) { s.url = "http://dynamodb.local:8000/a:b@c!$&'()*+,;=" }},
		{name: "path not normalized", edit: func(s *sdkRequest) { s.url = "http://dynamodb.local:8000/a//b/../c/./d" }},
		{name: "query sorted by key", edit: func(s *sdkRequest) { s.url = "http://dynamodb.local:8000/?b=2&a=1&A=0" }},
		{name: "query repeated key sorted after encoding", edit: func(s *sdkRequest) { s.url = "http://dynamodb.local:8000/?x=a-b&x=a/b&x=a%2Bb" }},
		{name: "query plus is a space", edit: func(s *sdkRequest) { s.url = "http://dynamodb.local:8000/?q=a+b&r=a%20b" }},
		{name: "query empty value and bare key", edit: func(s *sdkRequest) { s.url = "http://dynamodb.local:8000/?a=&b&c=3" }},
		{name: "query utf8", edit: func(s *sdkRequest) { s.url = "http://dynamodb.local:8000/?%E1%88%B4=bar&k=%C3%A9" }},
		{name: "query reserved characters", edit: func(s *sdkRequest) {
			s.url = "http://dynamodb.local:8000/?k=%21%27%28%29%2A%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D~"
		}},
		{name: "header odd spacing", edit: func(s *sdkRequest) {
			s.header.Set("X-Gyre-Spaces", "   a   b    c  d   ")
			s.header.Set("X-Gyre-Tab", "a\t b")
		}},
		{name: "header repeated", edit: func(s *sdkRequest) {
			s.header["X-Gyre-Multi"] = []string{"v2", "  v1 ", "v2"}
		}},
		{name: "header value case kept", edit: func(s *sdkRequest) { s.header.Set("X-Gyre-Case", "MiXeD") }},
		{name: "host default port stripped", edit: func(s *sdkRequest) { s.url = "http://dynamodb.local:80/" }},
		{name: "host ip and port", edit: func(s *sdkRequest) { s.url = "http://127.0.0.1:49152/" }},
		{name: "host ipv6", edit: func(s *sdkRequest) { s.url = "http://[::1]:8000/" }},
		{name: "declared content sha256", edit: func(s *sdkRequest) {
			s.header.Set("X-Amz-Content-Sha256", bodyHash(s.body))
		}},
		{name: "unsigned payload", edit: func(s *sdkRequest) {
			s.header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			s.payloadHash = "UNSIGNED-PAYLOAD"
		}},
		{name: "session token", token: "FwoGZXIvYXdzEJr//////////wEaDGyre+session/token==", edit: func(*sdkRequest) {}},
		{name: "region eu-west-1", region: "eu-west-1", edit: func(*sdkRequest) {}},
		{name: "region ap-southeast-2", region: "ap-southeast-2", edit: func(*sdkRequest) {}},
		{name: "custom region name", region: "gyre-local-1", edit: func(*sdkRequest) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := dynamoRequest()
			s.region, s.token = tc.region, tc.token
			tc.edit(&s)
			r, body := sign(t, s)
			v := newTestVerifier(t, newFakeClock(signedAt), nil)
			id, err := v.Verify(r, body)
			if err != nil {
				t.Fatalf("Verify = %v, want success\nAuthorization: %s", err, r.Header.Get("Authorization"))
			}
			want := Identity{AccessKeyID: testKeyID, Algorithm: AlgorithmV4, Region: or(tc.region, "us-east-1"), SessionToken: tc.token}
			if id != want {
				t.Errorf("Verify identity = %+v, want %+v", id, want)
			}
		})
	}
}

// TestVerifyNormalizedPath checks the path form botocore and the JavaScript
// and Java SDKs sign: dot segments and repeated slashes removed.
func TestVerifyNormalizedPath(t *testing.T) {
	s := dynamoRequest()
	s.url = "http://dynamodb.local:8000/a/c/d"
	req := s.build(t)
	// The client sends the unnormalized path but signed the normalized one.
	req.URL.Path = "/a//b/../c/./d"
	r := throughWire(t, req)
	v := newTestVerifier(t, newFakeClock(signedAt), nil)
	if _, err := v.Verify(r, s.body); err != nil {
		t.Fatalf("Verify = %v, want success for a path signed in normalized form", err)
	}
}

func TestVerifyPresigned(t *testing.T) {
	presign := func(t *testing.T, expires string, token string) *http.Request {
		t.Helper()
		u := "http://dynamodb.local:8000/?Action=ListTables"
		if expires != "" {
			u += "&X-Amz-Expires=" + expires
		}
		req, err := http.NewRequest("GET", u, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables") // hoisted into the query
		creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret, SessionToken: token}
		signed, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, bodyHash(nil), "dynamodb", "us-west-2", signedAt)
		if err != nil {
			t.Fatalf("PresignHTTP: %v", err)
		}
		out, err := http.NewRequest("GET", signed, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range hdr {
			if k != "Host" {
				out.Header[k] = vs
			}
		}
		return throughWire(t, out)
	}

	t.Run("accepted", func(t *testing.T) {
		r := presign(t, "300", "")
		clock := newFakeClock(signedAt.Add(4 * time.Minute))
		id, err := newTestVerifier(t, clock, nil).Verify(r, nil)
		if err != nil {
			t.Fatalf("Verify = %v, want success\nURL: %s", err, r.URL)
		}
		if want := (Identity{AccessKeyID: testKeyID, Algorithm: AlgorithmV4, Region: "us-west-2"}); id != want {
			t.Errorf("identity = %+v, want %+v", id, want)
		}
	})
	t.Run("session token", func(t *testing.T) {
		r := presign(t, "", "session/token==")
		id, err := newTestVerifier(t, newFakeClock(signedAt), nil).Verify(r, nil)
		if err != nil {
			t.Fatalf("Verify = %v, want success", err)
		}
		if id.SessionToken != "session/token==" {
			t.Errorf("SessionToken = %q, want %q", id.SessionToken, "session/token==")
		}
	})
	t.Run("long expiry outlives MaxSkew", func(t *testing.T) {
		r := presign(t, "86400", "")
		clock := newFakeClock(signedAt.Add(23 * time.Hour))
		if _, err := newTestVerifier(t, clock, nil).Verify(r, nil); err != nil {
			t.Fatalf("Verify = %v, want success within X-Amz-Expires", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		r := presign(t, "300", "")
		clock := newFakeClock(signedAt.Add(6 * time.Minute))
		_, err := newTestVerifier(t, clock, nil).Verify(r, nil)
		const want = "Signature expired: 20240101T000000Z is now earlier than 20240101T000100Z (20240101T000600Z - 5 min.)"
		checkErr(t, err, ErrSignatureExpired, want)
	})
	t.Run("tampered query", func(t *testing.T) {
		r := presign(t, "300", "")
		r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "ListTables", "DeleteTable", 2)
		_, err := newTestVerifier(t, newFakeClock(signedAt), nil).Verify(r, nil)
		checkErr(t, err, ErrSignatureMismatch, msgMismatch)
	})
	t.Run("bad expires", func(t *testing.T) {
		r := presign(t, "604801", "")
		_, err := newTestVerifier(t, newFakeClock(signedAt), nil).Verify(r, nil)
		checkErr(t, err, ErrIncompleteSignature, msgExpiresMalformed+"604801'.")
	})
	t.Run("missing parameters", func(t *testing.T) {
		r := presign(t, "300", "")
		q := r.URL.Query()
		q.Del("X-Amz-Credential")
		q.Del("X-Amz-Date")
		r.URL.RawQuery = q.Encode()
		_, err := newTestVerifier(t, newFakeClock(signedAt), nil).Verify(r, nil)
		checkErr(t, err, ErrIncompleteSignature,
			"AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.")
	})
}

// checkErr fails t unless err is an *Error wrapping kind with message msg.
func checkErr(t testing.TB, err error, kind error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Verify succeeded, want %v: %q", kind, msg)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("Verify = %v, want an error wrapping %v", err, kind)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Verify = %T %v, want *Error", err, err)
	}
	if e.Message != msg {
		t.Fatalf("message:\n got %q\nwant %q", e.Message, msg)
	}
}

func TestVerifyRejects(t *testing.T) {
	type request struct {
		r    *http.Request
		body []byte
	}
	setAuth := func(f func(string) string) func(*request) {
		return func(q *request) { q.r.Header.Set("Authorization", f(q.r.Header.Get("Authorization"))) }
	}
	replaceAuth := func(old, new string) func(*request) {
		return setAuth(func(a string) string { return strings.Replace(a, old, new, 1) })
	}
	cases := []struct {
		name   string
		sign   func(*sdkRequest) // changes how the request is signed
		tamper func(*request)    // changes the request after signing
		now    time.Time         // default signedAt
		opts   func(*Options)
		kind   error
		msg    string // exact; a leading '~' means "contains"
	}{
		{
			name:   "no authorization",
			tamper: func(q *request) { q.r.Header.Del("Authorization") },
			kind:   ErrMissingAuthenticationToken, msg: "Request is missing Authentication Token",
		},
		{
			name:   "blank authorization",
			tamper: setAuth(func(string) string { return "   " }),
			kind:   ErrMissingAuthenticationToken, msg: "Request is missing Authentication Token",
		},
		{
			name:   "other scheme",
			tamper: setAuth(func(string) string { return "Basic dXNlcjpwYXNz" }),
			kind:   ErrIncompleteSignature, msg: "Unsupported AWS 'algorithm': 'Basic'",
		},
		{
			name:   "other algorithm",
			tamper: replaceAuth("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
			kind:   ErrIncompleteSignature, msg: "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'",
		},
		{
			name: "missing signature",
			tamper: setAuth(func(a string) string {
				return a[:strings.Index(a, ", Signature=")]
			}),
			kind: ErrIncompleteSignature,
			msg:  "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=AKIDGYRETEST/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=accept-encoding;amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-target",
		},
		{
			name: "nothing but the algorithm, and no date",
			tamper: func(q *request) {
				q.r.Header.Set("Authorization", "AWS4-HMAC-SHA256")
				q.r.Header.Del("X-Amz-Date")
			},
			kind: ErrIncompleteSignature,
			msg:  "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256",
		},
		{
			name:   "space inside credential",
			tamper: replaceAuth("Credential=AKIDGYRETEST/", "Credential=AKIDGYRETEST /"),
			kind:   ErrIncompleteSignature,
			msg:    "~'/20240101/us-east-1/dynamodb/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential=AKIDGYRETEST /20240101",
		},
		{
			name:   "malformed date",
			tamper: func(q *request) { q.r.Header.Set("X-Amz-Date", "2024-01-01T00:00:00Z") },
			kind:   ErrIncompleteSignature,
			msg:    "Date must be in ISO-8601 'basic format'. Got '2024-01-01T00:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601",
		},
		{
			name:   "credential with four parts",
			tamper: replaceAuth("/us-east-1/", "/"),
			kind:   ErrIncompleteSignature,
			msg:    "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDGYRETEST/20240101/dynamodb/aws4_request'",
		},
		{
			name:   "host not signed",
			tamper: replaceAuth(";host;", ";"),
			kind:   ErrInvalidSignature, msg: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
		},
		{
			name:   "date not signed",
			tamper: replaceAuth(";x-amz-date;", ";"),
			kind:   ErrInvalidSignature, msg: "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
		},
		{
			name:   "signed header absent",
			tamper: func(q *request) { q.r.Header.Del("X-Amz-Target") },
			kind:   ErrIncompleteSignature, msg: "'x-amz-target' is named as a SignedHeader, but it does not exist in the HTTP request.",
		},
		{
			name:   "both header and query signature",
			tamper: func(q *request) { q.r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256" },
			kind:   ErrInvalidSignature, msg: "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
		},
		{
			name: "wrong service",
			sign: func(s *sdkRequest) { s.service = "s3" },
			kind: ErrInvalidSignature, msg: "Credential should be scoped to correct service: 'dynamodb'. ",
		},
		{
			name: "region not allowed",
			sign: func(s *sdkRequest) { s.region = "eu-west-1" },
			opts: func(o *Options) { o.AllowRegion = func(r string) bool { return r == "us-east-1" } },
			kind: ErrInvalidSignature, msg: "Credential should be scoped to a valid region. ",
		},
		{
			name:   "empty region",
			tamper: replaceAuth("/us-east-1/", "//"),
			kind:   ErrInvalidSignature, msg: "Credential should be scoped to a valid region. ",
		},
		{
			name:   "wrong terminator",
			tamper: replaceAuth("/aws4_request", "/aws5_request"),
			kind:   ErrInvalidSignature, msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. ",
		},
		{
			name: "scope date is not the request's date",
			sign: func(s *sdkRequest) { s.at = time.Date(2023, 12, 31, 23, 59, 0, 0, time.UTC) },
			tamper: func(q *request) {
				q.r.Header.Set("X-Amz-Date", "20240101T000100Z")
			},
			kind: ErrInvalidSignature,
			msg:  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20231231' != '20240101', from '20240101T000100Z'. ",
		},
		{
			name: "unknown access key",
			sign: func(s *sdkRequest) { s.keyID = "AKIDUNKNOWN" },
			kind: ErrUnrecognizedClient, msg: "The security token included in the request is invalid.",
		},
		{
			name: "wrong secret",
			sign: func(s *sdkRequest) { s.secret = "not-the-secret" },
			kind: ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "tampered body",
			tamper: func(q *request) { q.body = bytes.Replace(q.body, []byte("Music"), []byte("Bills"), 1) },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "truncated body",
			tamper: func(q *request) { q.body = q.body[:len(q.body)-1] },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "tampered header",
			tamper: func(q *request) { q.r.Header.Set("X-Amz-Target", "DynamoDB_20120810.DeleteTable") },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "added header value",
			tamper: func(q *request) { q.r.Header.Add("X-Amz-Target", "DynamoDB_20120810.DeleteTable") },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "tampered host",
			tamper: func(q *request) { q.r.Host = "other.local:8000" },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "tampered path",
			tamper: func(q *request) { q.r.URL.Path = "/admin" },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "tampered method",
			tamper: func(q *request) { q.r.Method = "PUT" },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "added query parameter",
			tamper: func(q *request) { q.r.URL.RawQuery = "Limit=1" },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "tampered date within skew",
			tamper: func(q *request) { q.r.Header.Set("X-Amz-Date", "20240101T000001Z") },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name: "content sha256 does not match body",
			sign: func(s *sdkRequest) { s.header.Set("X-Amz-Content-Sha256", bodyHash(s.body)) },
			tamper: func(q *request) {
				q.body = append(q.body, ' ')
			},
			kind: ErrSignatureMismatch, msg: "The provided 'x-amz-content-sha256' header does not match what was computed.",
		},
		{
			name: "unsigned payload declared after signing",
			tamper: func(q *request) {
				q.r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			},
			kind: ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "signature not hex",
			tamper: setAuth(func(a string) string { return a[:len(a)-64] + strings.Repeat("z", 64) }),
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "signature too short",
			tamper: setAuth(func(a string) string { return a[:len(a)-2] }),
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name: "expired",
			now:  time.Date(2024, 1, 1, 0, 25, 0, 0, time.UTC),
			kind: ErrSignatureExpired,
			msg:  "Signature expired: 20240101T000000Z is now earlier than 20240101T001000Z (20240101T002500Z - 15 min.)",
		},
		{
			name: "not yet current",
			sign: func(s *sdkRequest) { s.at = time.Date(2024, 1, 1, 1, 0, 0, 0, time.UTC) },
			now:  time.Date(2024, 1, 1, 0, 25, 0, 0, time.UTC),
			kind: ErrSignatureNotYetCurrent,
			msg:  "Signature not yet current: 20240101T010000Z is still later than 20240101T004000Z (20240101T002500Z + 15 min.)",
		},
		{
			name: "expired with a custom MaxSkew",
			now:  signedAt.Add(91 * time.Second),
			opts: func(o *Options) { o.MaxSkew = 90 * time.Second },
			kind: ErrSignatureExpired,
			msg:  "Signature expired: 20240101T000000Z is now earlier than 20240101T000001Z (20240101T000131Z - 90 sec.)",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := dynamoRequest()
			if tc.sign != nil {
				tc.sign(&s)
			}
			r, body := sign(t, s)
			q := &request{r, body}
			if tc.tamper != nil {
				tc.tamper(q)
			}
			now := tc.now
			if now.IsZero() {
				now = signedAt
			}
			v := newTestVerifier(t, newFakeClock(now), tc.opts)
			id, err := v.Verify(q.r, q.body)
			if err == nil {
				t.Fatalf("Verify = %+v, nil; want %v", id, tc.kind)
			}
			if msg, ok := strings.CutPrefix(tc.msg, "~"); ok {
				var e *Error
				if !errors.As(err, &e) || !errors.Is(err, tc.kind) || !strings.Contains(e.Message, msg) {
					t.Fatalf("Verify = %v, want %v containing %q", err, tc.kind, msg)
				}
				return
			}
			checkErr(t, err, tc.kind, tc.msg)
		})
	}
}

// TestVerifyDateHeader checks requests dated by the Date header instead of
// X-Amz-Date, which SigV4 allows. The AWS test suite's 2011 vector covers a
// good one; these are the bad ones.
func TestVerifyDateHeader(t *testing.T) {
	r, body := sign(t, dynamoRequest())
	r.Header.Del("X-Amz-Date")
	r.Header.Set("Date", signedAt.Format(http.TimeFormat))
	v := newTestVerifier(t, newFakeClock(signedAt), nil)
	_, err := v.Verify(r, body)
	checkErr(t, err, ErrInvalidSignature, "'Date' must be a 'SignedHeader' in the AWS Authorization.")

	r.Header.Set("Date", "yesterday")
	_, err = v.Verify(r, body)
	checkErr(t, err, ErrIncompleteSignature, "Date must be in ISO-8601 'basic format'. Got 'yesterday'. See http://en.wikipedia.org/wiki/ISO_8601")
}

// TestVerifyHandBuiltRequest checks requests that never crossed the wire,
// such as a caller or test might build: Host only in the URL, no
// RequestURI.
func TestVerifyHandBuiltRequest(t *testing.T) {
	s := dynamoRequest()
	s.url = "http://dynamodb.local:8000/a%2Fb?x=1"
	req := s.build(t)
	req.Host = ""
	v := newTestVerifier(t, newFakeClock(signedAt), nil)
	if _, err := v.Verify(req, s.body); err != nil {
		t.Fatalf("Verify = %v, want success", err)
	}
	req.URL.Opaque = "//dynamodb.local:8000/a%2Fb"
	if _, err := v.Verify(req, s.body); err != nil {
		t.Fatalf("Verify with Opaque = %v, want success", err)
	}
}

func TestVerifyNilRequest(t *testing.T) {
	v := newTestVerifier(t, newFakeClock(signedAt), nil)
	for _, r := range []*http.Request{nil, {}, {URL: &url.URL{}}} {
		_, err := v.Verify(r, nil)
		checkErr(t, err, ErrMissingAuthenticationToken, msgMissingToken)
	}
}

func TestErrorClasses(t *testing.T) {
	for _, kind := range []error{ErrSignatureMismatch, ErrSignatureExpired, ErrSignatureNotYetCurrent} {
		if !errors.Is(kind, ErrInvalidSignature) {
			t.Errorf("errors.Is(%v, ErrInvalidSignature) = false, want true", kind)
		}
		for _, other := range []error{ErrMissingAuthenticationToken, ErrIncompleteSignature, ErrUnrecognizedClient} {
			if errors.Is(kind, other) {
				t.Errorf("errors.Is(%v, %v) = true, want false", kind, other)
			}
		}
	}
	err := fail(ErrSignatureExpired, "Signature expired: x")
	if got, want := err.Error(), "sigv4: signature expired: Signature expired: x"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestNewOptions(t *testing.T) {
	v, err := New(Options{Credentials: testCredentials})
	if err != nil {
		t.Fatalf("New with only Credentials: %v", err)
	}
	if v.service != "dynamodb" || v.maxSkew != 15*time.Minute || v.keys.limit != 1024 || v.now == nil {
		t.Errorf("defaults: service=%q maxSkew=%v cache=%d, want dynamodb, 15m, 1024", v.service, v.maxSkew, v.keys.limit)
	}
	if v.allowRegion("") || !v.allowRegion("us-east-1") {
		t.Errorf("default AllowRegion must refuse only the empty region")
	}

	_, err = New(Options{Service: "dynamo/db", MaxSkew: -time.Second})
	if err == nil {
		t.Fatal("New with three problems succeeded")
	}
	for _, want := range []string{"Credentials is required", `Service "dynamo/db"`, "MaxSkew -1s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New error %q does not mention %q", err, want)
		}
	}
}

func TestKeyCache(t *testing.T) {
	t.Run("bounded", func(t *testing.T) {
		v := newTestVerifier(t, newFakeClock(signedAt), func(o *Options) { o.KeyCacheSize = 2 })
		for _, region := range []string{"us-east-1", "eu-west-1", "ap-south-1", "us-east-1"} {
			s := dynamoRequest()
			s.region = region
			r, body := sign(t, s)
			if _, err := v.Verify(r, body); err != nil {
				t.Fatalf("%s: %v", region, err)
			}
			if n := v.keys.len(); n > 2 {
				t.Fatalf("cache holds %d keys, want at most 2", n)
			}
		}
	})
	t.Run("failures are not cached", func(t *testing.T) {
		v := newTestVerifier(t, newFakeClock(signedAt), nil)
		s := dynamoRequest()
		s.secret = "wrong"
		r, body := sign(t, s)
		if _, err := v.Verify(r, body); !errors.Is(err, ErrSignatureMismatch) {
			t.Fatalf("Verify = %v, want mismatch", err)
		}
		if n := v.keys.len(); n != 0 {
			t.Fatalf("cache holds %d keys after a failed verification, want 0", n)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		v := newTestVerifier(t, newFakeClock(signedAt), func(o *Options) { o.KeyCacheSize = -1 })
		r, body := sign(t, dynamoRequest())
		for range 2 {
			if _, err := v.Verify(r, body); err != nil {
				t.Fatal(err)
			}
		}
		if n := v.keys.len(); n != 0 {
			t.Fatalf("disabled cache holds %d keys", n)
		}
	})
	t.Run("rotated secret", func(t *testing.T) {
		var secret atomic.Value
		secret.Store(testSecret)
		v := newTestVerifier(t, newFakeClock(signedAt), func(o *Options) {
			o.Credentials = func(string) (string, bool) { return secret.Load().(string), true }
		})
		r, body := sign(t, dynamoRequest())
		if _, err := v.Verify(r, body); err != nil {
			t.Fatal(err)
		}
		secret.Store("rotated")
		if _, err := v.Verify(r, body); !errors.Is(err, ErrSignatureMismatch) {
			t.Fatalf("Verify after rotation = %v, want mismatch: the cached key must not outlive its secret", err)
		}
	})
}

// TestVerifyConcurrent runs Verify from many goroutines on one Verifier, for
// the race detector, over regions enough to churn a small key cache.
func TestVerifyConcurrent(t *testing.T) {
	v := newTestVerifier(t, newFakeClock(signedAt), func(o *Options) { o.KeyCacheSize = 3 })
	regions := []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1"}
	var reqs []signed
	for _, region := range regions {
		s := dynamoRequest()
		s.region = region
		r, body := sign(t, s)
		reqs = append(reqs, signed{r, body})
	}
	verifyConcurrently(t, v, reqs, 8, 200)
}

// signed is a signed request and its body.
type signed struct {
	r    *http.Request
	body []byte
}

// verifyConcurrently has goroutines each verify rounds of reqs, in turn,
// at once, and reports every failure.
func verifyConcurrently(t *testing.T, v *Verifier, reqs []signed, goroutines, rounds int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range rounds {
				q := reqs[(g+i)%len(reqs)]
				if _, err := v.Verify(q.r, q.body); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
