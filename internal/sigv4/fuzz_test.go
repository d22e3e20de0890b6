package sigv4

import (
	"bytes"
	"errors"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
)

// fuzzInput is the part of a request FuzzVerify varies.
type fuzzInput struct {
	method, rawPath, rawQuery, host, auth, date, hname, hvalue string
	body                                                       []byte
}

func (in fuzzInput) request() *http.Request {
	r := &http.Request{
		Method:        in.method,
		URL:           &url.URL{RawQuery: in.rawQuery},
		Host:          in.host,
		Header:        http.Header{},
		ContentLength: int64(len(in.body)),
	}
	// The path as a server would hold it: decoded in Path, the wire form in
	// RawPath when it differs; a path that does not decode stays raw.
	if p, err := url.PathUnescape(in.rawPath); err == nil {
		r.URL.Path, r.URL.RawPath = p, in.rawPath
	} else {
		r.URL.Path = in.rawPath
	}
	// Headers go in raw, bypassing net/http's checks, so the verifier sees
	// values no parser would let through.
	if in.auth != "" {
		r.Header["Authorization"] = []string{in.auth}
	}
	if in.date != "" {
		r.Header["X-Amz-Date"] = []string{in.date}
	}
	if in.hname != "" {
		k := textproto.CanonicalMIMEHeaderKey(in.hname)
		r.Header[k] = append(r.Header[k], in.hvalue)
	}
	return r
}

// fuzzSeeds returns requests signed by the SDK, in the shape fuzzInput can
// express, followed by malformed ones.
func fuzzSeeds(t testing.TB) []fuzzInput {
	s := sdkRequest{
		method: "POST",
		url:    "http://dynamodb.local:8000/a/b?x=1&y=%2F",
		header: http.Header{"X-Amz-Target": {"DynamoDB_20120810.ListTables"}},
		body:   []byte(`{"Limit":1}`),
	}
	r, body := sign(t, s)
	signed := fuzzInput{
		method: r.Method, rawPath: wirePath(r.URL), rawQuery: r.URL.RawQuery, host: r.Host,
		auth: r.Header.Get("Authorization"), date: r.Header.Get("X-Amz-Date"),
		hname: "X-Amz-Target", hvalue: r.Header.Get("X-Amz-Target"), body: body,
	}
	unsigned := signed
	unsigned.hname, unsigned.hvalue = "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"
	return []fuzzInput{
		signed,
		{method: "GET", rawPath: "/", host: "h"},
		{method: "POST", rawPath: "/", host: "h", auth: "AWS4-HMAC-SHA256", date: "20240101T000000Z"},
		{method: "POST", rawPath: "/%zz/./../", rawQuery: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20240101%2Fr%2Fdynamodb%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00&X-Amz-Expires=-1", host: "h"},
		{method: "POST", rawPath: "//", host: "", auth: "AWS4-HMAC-SHA256 Credential=////, SignedHeaders=;;;, Signature==", date: "20240101T000000Z", hname: "x", hvalue: "  "},
		{method: "", rawPath: "", auth: ",,,  ,", date: "99999999T999999Z"},
		unsigned,
	}
}

// TestFuzzSeeds checks that the first seed is a request Verify accepts, so
// the fuzzer starts next to the success path.
func TestFuzzSeeds(t *testing.T) {
	v := newTestVerifier(t, newFakeClock(signedAt), nil)
	in := fuzzSeeds(t)[0]
	if _, err := v.Verify(in.request(), in.body); err != nil {
		t.Fatalf("the signed seed does not verify: %v", err)
	}
}

// FuzzVerify feeds Verify arbitrary requests. Verify must not panic, every
// error must be an *Error of exactly one class, and a request it accepts must
// be refused once its body changes, unless the payload is declared unsigned.
func FuzzVerify(f *testing.F) {
	for _, in := range fuzzSeeds(f) {
		f.Add(in.method, in.rawPath, in.rawQuery, in.host, in.auth, in.date, in.hname, in.hvalue, in.body)
	}
	v := newTestVerifier(f, newFakeClock(signedAt), nil)
	classes := []error{ErrMissingAuthenticationToken, ErrIncompleteSignature, ErrUnrecognizedClient, ErrInvalidSignature}
	f.Fuzz(func(t *testing.T, method, rawPath, rawQuery, host, auth, date, hname, hvalue string, body []byte) {
		in := fuzzInput{method, rawPath, rawQuery, host, auth, date, hname, hvalue, body}
		id, err := v.Verify(in.request(), body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Message == "" {
				t.Fatalf("Verify error %T %v is not an *Error with a message", err, err)
			}
			n := 0
			for _, c := range classes {
				if errors.Is(err, c) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("Verify error %v matches %d classes, want 1", err, n)
			}
			return
		}
		if id.AccessKeyID != testKeyID {
			t.Fatalf("Verify accepted access key %q", id.AccessKeyID)
		}
		if in.request().Header.Get("X-Amz-Content-Sha256") == unsignedBody || strings.Contains(rawQuery, unsignedBody) {
			return
		}
		changed := append(bytes.Clone(body), 'x')
		if _, err := v.Verify(in.request(), changed); err == nil {
			t.Fatalf("Verify accepted the request with its body changed")
		}
	})
}
