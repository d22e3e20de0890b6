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
	method, rawPath, rawQuery, host, auth, date, regionSet, hname, hvalue string
	body                                                                  []byte
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
	if in.regionSet != "" {
		r.Header["X-Amz-Region-Set"] = []string{in.regionSet}
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

	r, body = signV4a(t, s, "us-*, eu-west-1")
	signedV4a := fuzzInput{
		method: r.Method, rawPath: wirePath(r.URL), rawQuery: r.URL.RawQuery, host: r.Host,
		auth: r.Header.Get("Authorization"), date: r.Header.Get("X-Amz-Date"), regionSet: r.Header.Get("X-Amz-Region-Set"),
		hname: "X-Amz-Target", hvalue: r.Header.Get("X-Amz-Target"), body: body,
	}
	const v4aPresigned = "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=AKIDGYRETEST%2F20240101%2Fdynamodb%2Faws4_request" +
		"&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=300&X-Amz-Region-Set=%2A" +
		"&X-Amz-Signature=3044022055710461c4221eab570849951deea0777036ef5fe2a4cb5de1edb31c0770e5ac022015891334a8986b9bd90f8fa4df942fb17dbbe451359319010f4c03f91eec061c"
	return []fuzzInput{
		signed,
		signedV4a,
		{method: "GET", rawPath: "/", rawQuery: v4aPresigned, host: "h"},
		{method: "GET", rawPath: "/", host: "h", auth: "AWS4-ECDSA-P256-SHA256 Credential=AKIDGYRETEST/20240101/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-region-set, Signature=3006020101020101",
			date: "20240101T000000Z", regionSet: "*,,u*-*-?, ,***"},
		{method: "GET", rawPath: "/", host: "h", auth: "AWS4-ECDSA-P256-SHA256 Credential=AKIDGYRETEST/20240101/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=30",
			date: "20240101T000000Z"},
		{method: "GET", rawPath: "/", host: "h"},
		{method: "POST", rawPath: "/", host: "h", auth: "AWS4-HMAC-SHA256", date: "20240101T000000Z"},
		{method: "POST", rawPath: "/%zz/./../", rawQuery: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20240101%2Fr%2Fdynamodb%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00&X-Amz-Expires=-1", host: "h"},
		{method: "POST", rawPath: "//", host: "", auth: "AWS4-HMAC-SHA256 Credential=////, SignedHeaders=;;;, Signature==", date: "20240101T000000Z", hname: "x", hvalue: "  "},
		{method: "", rawPath: "", auth: ",,,  ,", date: "99999999T999999Z"},
		unsigned,
	}
}

// fuzzVerifiers returns the verifiers FuzzVerify runs: DynamoDB's, which
// refuses SigV4a, and one that serves us-east-1 and accepts it.
func fuzzVerifiers(t testing.TB) (dynamo, app *Verifier) {
	clock := newFakeClock(signedAt)
	return newTestVerifier(t, clock, nil), newTestVerifier(t, clock, func(o *Options) {
		o.Region, o.AllowSigV4a = "us-east-1", true
	})
}

// TestFuzzSeeds checks that the first seeds are requests Verify accepts, a
// SigV4a one only where SigV4a is allowed, so the fuzzer starts next to the
// success paths.
func TestFuzzSeeds(t *testing.T) {
	dynamo, app := fuzzVerifiers(t)
	seeds := fuzzSeeds(t)
	v4, v4a := seeds[0], seeds[1]
	for _, v := range []*Verifier{dynamo, app} {
		if _, err := v.Verify(v4.request(), v4.body); err != nil {
			t.Fatalf("the signed seed does not verify: %v", err)
		}
	}
	if id, err := app.Verify(v4a.request(), v4a.body); err != nil || id.Algorithm != AlgorithmV4a {
		t.Fatalf("the SigV4a seed does not verify: %+v, %v", id, err)
	}
	if _, err := dynamo.Verify(v4a.request(), v4a.body); !errors.Is(err, ErrIncompleteSignature) {
		t.Fatalf("the SigV4a seed on a verifier that refuses SigV4a: %v, want ErrIncompleteSignature", err)
	}
}

// FuzzVerify feeds arbitrary requests, SigV4 and SigV4a, to two verifiers:
// DynamoDB's, which refuses SigV4a, and one that accepts it. Verify must not
// panic, every error must be an *Error of exactly one class, the first
// verifier must never accept SigV4a, and a request either accepts must be
// refused once its body changes, unless the payload is declared unsigned.
func FuzzVerify(f *testing.F) {
	for _, in := range fuzzSeeds(f) {
		f.Add(in.method, in.rawPath, in.rawQuery, in.host, in.auth, in.date, in.regionSet, in.hname, in.hvalue, in.body)
	}
	dynamo, app := fuzzVerifiers(f)
	f.Fuzz(func(t *testing.T, method, rawPath, rawQuery, host, auth, date, regionSet, hname, hvalue string, body []byte) {
		in := fuzzInput{method, rawPath, rawQuery, host, auth, date, regionSet, hname, hvalue, body}
		if id := checkFuzzVerify(t, dynamo, in); id.Algorithm == AlgorithmV4a {
			t.Fatalf("a verifier that refuses SigV4a accepted %+v", id)
		}
		if id := checkFuzzVerify(t, app, in); id.Algorithm == AlgorithmV4a && !regionSetCovers(id.RegionSet, "us-east-1") {
			t.Fatalf("accepted region set %q, which does not cover us-east-1", id.RegionSet)
		}
	})
}

// checkFuzzVerify runs v on in and checks what FuzzVerify promises. It
// returns the identity when v accepts in.
func checkFuzzVerify(t *testing.T, v *Verifier, in fuzzInput) Identity {
	id, err := v.Verify(in.request(), in.body)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Message == "" {
			t.Fatalf("Verify error %T %v is not an *Error with a message", err, err)
		}
		n := 0
		for _, c := range []error{ErrMissingAuthenticationToken, ErrIncompleteSignature, ErrUnrecognizedClient, ErrInvalidSignature} {
			if errors.Is(err, c) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("Verify error %v matches %d classes, want 1", err, n)
		}
		return Identity{}
	}
	if id.AccessKeyID != testKeyID {
		t.Fatalf("Verify accepted access key %q", id.AccessKeyID)
	}
	if id.Algorithm != AlgorithmV4 && id.Algorithm != AlgorithmV4a {
		t.Fatalf("Verify accepted algorithm %q", id.Algorithm)
	}
	if in.request().Header.Get("X-Amz-Content-Sha256") == unsignedBody || strings.Contains(in.rawQuery, unsignedBody) {
		return id
	}
	changed := append(bytes.Clone(in.body), 'x')
	if _, err := v.Verify(in.request(), changed); err == nil {
		t.Fatalf("Verify accepted the request with its body changed")
	}
	return id
}
