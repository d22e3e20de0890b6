package sigv4

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gyre-dev/gyre/internal/pytool"
)

// botocoreRequest is one request for testdata/botocore_sign.py to sign; see
// the script for what the fields mean.
type botocoreRequest struct {
	Name      string            `json:"name"`
	Signer    string            `json:"signer"` // v4a, v4a-query or v4
	Region    string            `json:"region"` // the region set for SigV4a
	Service   string            `json:"service"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      string            `json:"body,omitempty"`
	Expires   int               `json:"expires,omitempty"`
	Token     string            `json:"token,omitempty"`
	AccessKey string            `json:"access_key,omitempty"`
	SecretKey string            `json:"secret_key,omitempty"`
	Send      bool              `json:"send,omitempty"`
}

// botocoreSigned is a request as botocore signed it, and, when the script
// sent it, the response.
type botocoreSigned struct {
	Name     string      `json:"name"`
	Method   string      `json:"method"`
	URL      string      `json:"url"`
	Headers  [][2]string `json:"headers"`
	Body     string      `json:"body"`
	Status   int         `json:"status"`
	Response string      `json:"response"`
}

// runBotocore has botocore sign reqs at signedAt with the test credentials
// and returns the results by name.
func runBotocore(t *testing.T, reqs []botocoreRequest) map[string]botocoreSigned {
	t.Helper()
	py := pytool.Find(t, "botocore", "awscrt", "requests")
	job, err := json.Marshal(map[string]any{
		"access_key": testKeyID, "secret_key": testSecret, "time": signedAt.Unix(), "requests": reqs,
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), py, "testdata/botocore_sign.py")
	cmd.Stdin = bytes.NewReader(job)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("botocore_sign.py: %v\n%s", err, stderr.String())
	}
	var res struct {
		Results []botocoreSigned `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("botocore_sign.py printed %q: %v", out, err)
	}
	byName := make(map[string]botocoreSigned, len(res.Results))
	for _, r := range res.Results {
		byName[r.Name] = r
	}
	return byName
}

// request rebuilds the signed request as a Go client would send it, and
// returns it as the server receives it.
func (b botocoreSigned) request(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	req, err := http.NewRequest(b.Method, b.URL, strings.NewReader(b.Body))
	if err != nil {
		t.Fatalf("%s: %v", b.Name, err)
	}
	for _, h := range b.Headers {
		if strings.EqualFold(h[0], "Host") {
			req.Host = h[1]
			continue
		}
		req.Header.Add(h[0], h[1])
	}
	return throughWire(t, req), []byte(b.Body)
}

const apiURL = "http://api.gyre.local:8080"

// botocoreCases returns the requests TestBotocore has botocore sign.
func botocoreCases() []botocoreRequest {
	reqs := []botocoreRequest{
		{Name: "get-query-star", Signer: "v4a", Region: "*", Method: "GET",
			URL: apiURL + "/items?limit=10&start=a%2Fb&q=tea%20cup"},
		{Name: "post-json-us", Signer: "v4a", Region: "us-east-1,us-west-2", Method: "POST",
			URL: apiURL + "/orders", Headers: map[string]string{"Content-Type": "application/json"},
			Body: `{"item":"tea","quantity":2}`},
		{Name: "post-json-eu", Signer: "v4a", Region: "eu-*", Method: "POST",
			URL: apiURL + "/orders/42", Headers: map[string]string{"Content-Type": "application/json"},
			Body: `{"item":"coffee"}`},
		{Name: "put-session-token", Signer: "v4a", Region: "us-*", Method: "PUT",
			URL: apiURL + "/orders/42", Body: `{"quantity":3}`, Token: "IQoJb3JpZ2luX2VjEJr//////////gyre+session="},
		{Name: "get-dot-segments", Signer: "v4a", Region: "*", Method: "GET",
			URL: apiURL + "/a/./b/../c//d"},
		{Name: "sdk-key-pair", Signer: "v4a", Region: "*", Method: "GET", URL: apiURL + "/",
			AccessKey: "AKISORANDOMAASORANDOM", SecretKey: "q+jcrXGc+0zWN6uzclKVhvMmUsIfRPa4rlRandom"},
		{Name: "presign-star", Signer: "v4a-query", Region: "*", Method: "GET",
			URL: apiURL + "/items?limit=10", Expires: 300},
		{Name: "presign-us", Signer: "v4a-query", Region: "us-east-1,us-west-2", Method: "GET",
			URL: apiURL + "/items", Expires: 300, Token: "presigned/token=="},
		{Name: "sigv4", Signer: "v4", Region: "us-east-1", Method: "POST",
			URL: apiURL + "/orders", Headers: map[string]string{"Content-Type": "application/json"},
			Body: `{"item":"tea"}`},
		{Name: "sigv4-other-region", Signer: "v4", Region: "us-west-2", Method: "GET", URL: apiURL + "/items"},
	}
	for i := range reqs {
		reqs[i].Service = v4aService
	}
	return reqs
}

// TestBotocore verifies requests botocore signs, SigV4a with the common
// runtime and SigV4 with botocore's own signer, against verifiers for the
// reference application in regions inside and outside the region set, and
// after tampering.
func TestBotocore(t *testing.T) {
	signed := runBotocore(t, botocoreCases())

	type request struct {
		r    *http.Request
		body []byte
	}
	setQuery := func(key, value string) func(*request) {
		return func(q *request) {
			qs := q.r.URL.Query()
			if value == "" {
				qs.Del(key)
			} else {
				qs.Set(key, value)
			}
			q.r.URL.RawQuery = qs.Encode()
		}
	}
	cases := []struct {
		name    string
		request string         // the name of the signed request
		region  string         // the verifier's; default us-east-1
		opts    func(*Options) // after v4aOptions
		tamper  func(*request)
		now     time.Time // default signedAt
		kind    error     // nil: accepted
		msg     string    // exact; a leading '~' means "contains"
		want    Identity  // when accepted; AccessKeyID defaults to testKeyID
	}{
		{name: "star", request: "get-query-star",
			want: Identity{Algorithm: AlgorithmV4a, Region: "us-east-1", RegionSet: "*"}},
		{name: "star in another region", request: "get-query-star", region: "ap-south-1",
			want: Identity{Algorithm: AlgorithmV4a, Region: "ap-south-1", RegionSet: "*"}},
		{name: "list", request: "post-json-us",
			want: Identity{Algorithm: AlgorithmV4a, Region: "us-east-1", RegionSet: "us-east-1,us-west-2"}},
		{name: "list second region", request: "post-json-us", region: "us-west-2",
			want: Identity{Algorithm: AlgorithmV4a, Region: "us-west-2", RegionSet: "us-east-1,us-west-2"}},
		{name: "list outside", request: "post-json-us", region: "eu-west-1",
			kind: ErrInvalidSignature,
			msg:  "X-Amz-Region-Set 'us-east-1,us-west-2' does not include the region this endpoint serves: 'eu-west-1'. "},
		{name: "pattern", request: "post-json-eu", region: "eu-west-1",
			want: Identity{Algorithm: AlgorithmV4a, Region: "eu-west-1", RegionSet: "eu-*"}},
		{name: "pattern other region", request: "post-json-eu", region: "eu-central-1",
			want: Identity{Algorithm: AlgorithmV4a, Region: "eu-central-1", RegionSet: "eu-*"}},
		{name: "pattern outside", request: "post-json-eu",
			kind: ErrInvalidSignature,
			msg:  "X-Amz-Region-Set 'eu-*' does not include the region this endpoint serves: 'us-east-1'. "},
		{name: "pattern widened", request: "post-json-eu",
			tamper: func(q *request) { q.r.Header.Set("X-Amz-Region-Set", "*") },
			kind:   ErrSignatureMismatch, msg: msgMismatch},
		{name: "session token", request: "put-session-token",
			want: Identity{Algorithm: AlgorithmV4a, Region: "us-east-1", RegionSet: "us-*", SessionToken: "IQoJb3JpZ2luX2VjEJr//////////gyre+session="}},
		{name: "dot segments", request: "get-dot-segments",
			want: Identity{Algorithm: AlgorithmV4a, Region: "us-east-1", RegionSet: "*"}},
		{name: "key derived as the SDKs derive it", request: "sdk-key-pair",
			opts: func(o *Options) {
				o.Credentials = func(id string) (string, bool) {
					return "q+jcrXGc+0zWN6uzclKVhvMmUsIfRPa4rlRandom", id == "AKISORANDOMAASORANDOM"
				}
			},
			want: Identity{AccessKeyID: "AKISORANDOMAASORANDOM", Algorithm: AlgorithmV4a, Region: "us-east-1", RegionSet: "*"}},
		{name: "tampered body", request: "post-json-us",
			tamper: func(q *request) { q.body = bytes.Replace(q.body, []byte("tea"), []byte("gin"), 1) },
			kind:   ErrSignatureMismatch, msg: msgMismatch},
		{name: "tampered header", request: "post-json-us",
			tamper: func(q *request) { q.r.Header.Set("Content-Type", "text/plain") },
			kind:   ErrSignatureMismatch, msg: msgMismatch},
		{name: "tampered query", request: "get-query-star", tamper: setQuery("limit", "1000"),
			kind: ErrSignatureMismatch, msg: msgMismatch},
		{name: "tampered signature", request: "post-json-us",
			tamper: func(q *request) {
				a := q.r.Header.Get("Authorization")
				flipped := byte('0')
				if a[len(a)-1] == '0' {
					flipped = '1'
				}
				q.r.Header.Set("Authorization", a[:len(a)-1]+string(flipped))
			},
			kind: ErrSignatureMismatch, msg: msgMismatch},
		{name: "region set header removed", request: "post-json-us",
			tamper: func(q *request) { q.r.Header.Del("X-Amz-Region-Set") },
			kind:   ErrIncompleteSignature, msg: "~Authorization header requires existence of a 'X-Amz-Region-Set' header. "},
		{name: "SigV4a not allowed", request: "post-json-us",
			opts: func(o *Options) { o.AllowSigV4a = false },
			kind: ErrIncompleteSignature, msg: "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'"},
		{name: "wrong service", request: "post-json-us",
			opts: func(o *Options) { o.Service = "dynamodb" },
			kind: ErrInvalidSignature, msg: "Credential should be scoped to correct service: 'dynamodb'. "},
		{name: "expired", request: "post-json-us", now: signedAt.Add(16 * time.Minute),
			kind: ErrSignatureExpired,
			msg:  "Signature expired: 20240101T000000Z is now earlier than 20240101T000100Z (20240101T001600Z - 15 min.)"},

		{name: "presigned", request: "presign-star", now: signedAt.Add(4 * time.Minute),
			want: Identity{Algorithm: AlgorithmV4a, Region: "us-east-1", RegionSet: "*"}},
		{name: "presigned with token", request: "presign-us", region: "us-west-2",
			want: Identity{Algorithm: AlgorithmV4a, Region: "us-west-2", RegionSet: "us-east-1,us-west-2", SessionToken: "presigned/token=="}},
		{name: "presigned outside", request: "presign-us", region: "eu-west-1",
			kind: ErrInvalidSignature,
			msg:  "X-Amz-Region-Set 'us-east-1,us-west-2' does not include the region this endpoint serves: 'eu-west-1'. "},
		{name: "presigned widened", request: "presign-us", region: "eu-west-1", tamper: setQuery("X-Amz-Region-Set", "*"),
			kind: ErrSignatureMismatch, msg: msgMismatch},
		{name: "presigned without region set", request: "presign-star", tamper: setQuery("X-Amz-Region-Set", ""),
			kind: ErrIncompleteSignature,
			msg:  "AWS query-string parameters must include 'X-Amz-Region-Set'. Re-examine the query-string parameters."},
		{name: "presigned expired", request: "presign-star", now: signedAt.Add(6 * time.Minute),
			kind: ErrSignatureExpired,
			msg:  "Signature expired: 20240101T000000Z is now earlier than 20240101T000100Z (20240101T000600Z - 5 min.)"},
		{name: "presigned tampered", request: "presign-star", tamper: setQuery("limit", "1000"),
			kind: ErrSignatureMismatch, msg: msgMismatch},
		{name: "presigned not allowed", request: "presign-star", opts: func(o *Options) { o.AllowSigV4a = false },
			kind: ErrIncompleteSignature, msg: "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'"},

		{name: "SigV4 in the region served", request: "sigv4",
			want: Identity{Algorithm: AlgorithmV4, Region: "us-east-1"}},
		{name: "SigV4 for another region", request: "sigv4-other-region",
			kind: ErrInvalidSignature, msg: msgInvalidRegion},
		{name: "SigV4 tampered body", request: "sigv4",
			tamper: func(q *request) { q.body = append(q.body, ' ') },
			kind:   ErrSignatureMismatch, msg: msgMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, ok := signed[tc.request]
			if !ok {
				t.Fatalf("botocore did not sign %q", tc.request)
			}
			r, body := b.request(t)
			q := &request{r, body}
			if tc.tamper != nil {
				tc.tamper(q)
			}
			now := tc.now
			if now.IsZero() {
				now = signedAt
			}
			v := newTestVerifier(t, newFakeClock(now), func(o *Options) {
				v4aOptions(or(tc.region, "us-east-1"))(o)
				if tc.opts != nil {
					tc.opts(o)
				}
			})
			id, err := v.Verify(q.r, q.body)
			if tc.kind == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want success\n%s %s\n%q", err, q.r.Method, q.r.URL, q.r.Header)
				}
				want := tc.want
				want.AccessKeyID = or(want.AccessKeyID, testKeyID)
				if id != want {
					t.Errorf("identity = %+v, want %+v", id, want)
				}
				return
			}
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

// apiAnswer is what the test server answers: who signed, or why not.
type apiAnswer struct {
	Identity Identity `json:"identity"`
	Class    string   `json:"class,omitempty"`
	Message  string   `json:"message,omitempty"`
}

// TestBotocoreOverTheWire has botocore sign requests for a real server and
// send them itself, with requests and urllib, so that what Verify sees is
// what a Python client puts on the wire.
func TestBotocoreOverTheWire(t *testing.T) {
	v := newTestVerifier(t, newFakeClock(signedAt), v4aOptions("us-east-1"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		var ans apiAnswer
		status := http.StatusOK
		if ans.Identity, err = v.Verify(r, body); err != nil {
			var e *Error
			errors.As(err, &e)
			ans.Class, ans.Message = dynamoErrorType(err), e.Message
			status = http.StatusForbidden
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(ans)
	}))
	defer srv.Close()
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u := func(path string) string { return base.JoinPath(path).String() }
	jsonType := map[string]string{"Content-Type": "application/json"}
	reqs := []botocoreRequest{
		{Name: "header", Signer: "v4a", Region: "us-east-1,us-west-2", Method: "POST", URL: u("/orders"),
			Headers: jsonType, Body: `{"item":"tea","quantity":2}`, Send: true},
		{Name: "header star query", Signer: "v4a", Region: "*", Method: "GET", URL: u("/items") + "?limit=10&start=a%2Fb", Send: true},
		{Name: "header outside", Signer: "v4a", Region: "eu-*", Method: "POST", URL: u("/orders"),
			Headers: jsonType, Body: `{"item":"coffee"}`, Send: true},
		{Name: "presigned", Signer: "v4a-query", Region: "*", Method: "GET", URL: u("/items") + "?limit=10", Expires: 300, Send: true},
		{Name: "sigv4", Signer: "v4", Region: "us-east-1", Method: "POST", URL: u("/orders"),
			Headers: jsonType, Body: `{"item":"tea"}`, Send: true},
	}
	for i := range reqs {
		reqs[i].Service = v4aService
	}
	got := runBotocore(t, reqs)

	v4a := func(set string) apiAnswer {
		return apiAnswer{Identity: Identity{AccessKeyID: testKeyID, Algorithm: AlgorithmV4a, Region: "us-east-1", RegionSet: set}}
	}
	want := map[string]struct {
		status int
		answer apiAnswer
	}{
		"header":            {http.StatusOK, v4a("us-east-1,us-west-2")},
		"header star query": {http.StatusOK, v4a("*")},
		"header outside": {http.StatusForbidden, apiAnswer{Class: "InvalidSignatureException",
			Message: "X-Amz-Region-Set 'eu-*' does not include the region this endpoint serves: 'us-east-1'. "}},
		"presigned": {http.StatusOK, v4a("*")},
		"sigv4":     {http.StatusOK, apiAnswer{Identity: Identity{AccessKeyID: testKeyID, Algorithm: AlgorithmV4, Region: "us-east-1"}}},
	}
	for _, r := range reqs {
		t.Run(r.Name, func(t *testing.T) {
			res, w := got[r.Name], want[r.Name]
			var ans apiAnswer
			if err := json.Unmarshal([]byte(res.Response), &ans); err != nil {
				t.Fatalf("status %d, response %q: %v", res.Status, res.Response, err)
			}
			if res.Status != w.status || ans != w.answer {
				t.Errorf("got %d %+v\nwant %d %+v", res.Status, ans, w.status, w.answer)
			}
		})
	}
}
