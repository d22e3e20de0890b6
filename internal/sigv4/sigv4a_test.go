package sigv4

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"testing/quick"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
)

// TestDeriveV4aKey checks the key derivation against the public key the AWS
// SDK for Go's SigV4a tests pin for the same access key pair. The botocore
// interop tests check it against the common runtime as well, since a
// signature botocore makes verifies only under the same key.
func TestDeriveV4aKey(t *testing.T) {
	const (
		keyID  = "AKISORANDOMAASORANDOM"
		secret = "q+jcrXGc+0zWN6uzclKVhvMmUsIfRPa4rlRandom"
		wantX  = "15d242ceebf8d8169fd6a8b5a746c41140414c3b07579038da06af89190fffcb"
		wantY  = "0515242cedd82e94799482e4c0514b505afccf2c0c98d6a553bf539f424c5ec0"
	)
	pub, err := deriveV4aPublicKey(keyID, secret)
	if err != nil {
		t.Fatalf("deriveV4aPublicKey: %v", err)
	}
	point, err := pub.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(point), "04"+wantX+wantY; got != want {
		t.Errorf("public key\n got %s\nwant %s", got, want)
	}

	priv, err := deriveV4aKey(keyID, secret)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.PublicKey.Equal(pub) {
		t.Errorf("deriveV4aKey and deriveV4aPublicKey disagree")
	}
	other, err := deriveV4aPublicKey(keyID+"X", secret)
	if err != nil {
		t.Fatal(err)
	}
	if other.Equal(pub) {
		t.Errorf("the access key id does not enter the derivation")
	}
}

// TestPickScalar checks the candidate loop on candidates the KDF would take
// 2^32 tries to produce.
func TestPickScalar(t *testing.T) {
	n := elliptic.P256().Params().N
	be := func(x *big.Int) (b [32]byte) {
		x.FillBytes(b[:])
		return b
	}
	nMinus := func(k int64) [32]byte { return be(new(big.Int).Sub(n, big.NewInt(k))) }
	var ones [32]byte
	for i := range ones {
		ones[i] = 0xff
	}
	cases := []struct {
		name       string
		candidates [][32]byte // the last one repeats
		wantD      [32]byte
		wantCalls  int
		wantOK     bool
	}{
		{name: "zero", candidates: [][32]byte{{}}, wantD: be(big.NewInt(1)), wantCalls: 1, wantOK: true},
		{name: "N-2 is the largest accepted", candidates: [][32]byte{nMinus(2)}, wantD: nMinus(1), wantCalls: 1, wantOK: true},
		{name: "N-1 is refused", candidates: [][32]byte{nMinus(1), nMinus(3)}, wantD: nMinus(2), wantCalls: 2, wantOK: true},
		{name: "N is refused", candidates: [][32]byte{be(n), ones, {0x7f}}, wantD: [32]byte{0x7f, 31: 1}, wantCalls: 3, wantOK: true},
		{name: "carry", candidates: [][32]byte{{31: 0xff, 30: 0xff}}, wantD: [32]byte{29: 1}, wantCalls: 1, wantOK: true},
		{name: "exhausted", candidates: [][32]byte{ones}, wantCalls: maxKeyCounter},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			d, ok := pickScalar(func(counter byte) [32]byte {
				calls++
				if int(counter) != calls {
					t.Fatalf("call %d has counter %d, want counters 1, 2, ...", calls, counter)
				}
				return tc.candidates[min(calls, len(tc.candidates))-1]
			})
			if ok != tc.wantOK || d != tc.wantD || calls != tc.wantCalls {
				t.Errorf("pickScalar = %x, %v after %d calls; want %x, %v after %d", d, ok, calls, tc.wantD, tc.wantOK, tc.wantCalls)
			}
		})
	}
}

// TestGreaterBE checks the constant-time comparison against math/big.
func TestGreaterBE(t *testing.T) {
	prop := func(a, b [32]byte, samePrefix uint8) bool {
		copy(b[:samePrefix%33], a[:]) // make long common prefixes likely
		want := new(big.Int).SetBytes(a[:]).Cmp(new(big.Int).SetBytes(b[:])) > 0
		return greaterBE(&a, &b) == want
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 5000}); err != nil {
		t.Error(err)
	}
	if a := p256NMinus2; greaterBE(&a, &a) {
		t.Error("greaterBE(x, x) = true")
	}
}

func TestRegionSetCovers(t *testing.T) {
	cases := []struct {
		set, region string
		want        bool
	}{
		{"*", "us-east-1", true},
		{"*", "gyre-local-1", true},
		{"us-east-1", "us-east-1", true},
		{"us-east-1", "us-east-2", false},
		{"us-east-1", "us-east-11", false},
		{"us-east-1,us-west-2", "us-west-2", true},
		{"us-east-1,us-west-2", "eu-west-1", false},
		{" us-east-1 , us-west-2 ", "us-west-2", true},
		{"us-east-1,\tus-west-2\t", "us-west-2", true},
		{"us-*", "us-east-1", true},
		{"us-*", "us-", true},
		{"us-*", "eu-west-1", false},
		{"us-*", "aus-east-1", false},
		{"eu-*", "eu-central-1", true},
		{"*-east-*", "us-east-1", true},
		{"*-east-*", "us-west-1", false},
		{"*1", "us-east-1", true},
		{"*1", "us-east-2", false},
		{"u*t*1", "us-east-1", true},
		{"**", "us-east-1", true},
		{"us-east-1*", "us-east-1", true},
		{"", "us-east-1", false},
		{",", "us-east-1", false},
		{" , ,", "us-east-1", false},
		{"us-east-1,", "us-east-1", true},
		{",*", "us-east-1", true},
		{"US-EAST-1", "us-east-1", false},
		{"us east 1", "us-east-1", false},
		{"?s-east-1", "us-east-1", false}, // '?' is not a wildcard
		{"us-east-1;us-west-2", "us-west-2", false},
	}
	for _, tc := range cases {
		if got := regionSetCovers(tc.set, tc.region); got != tc.want {
			t.Errorf("regionSetCovers(%q, %q) = %v, want %v", tc.set, tc.region, got, tc.want)
		}
	}
}

// TestMatchWildcard checks matchWildcard against a regular expression over
// a small alphabet, where backtracking matters.
func TestMatchWildcard(t *testing.T) {
	alphabet := []byte("ab*-")
	word := func(seed []byte, n int) string {
		var b strings.Builder
		for _, c := range seed[:min(len(seed), n)] {
			b.WriteByte(alphabet[int(c)%len(alphabet)])
		}
		return b.String()
	}
	prop := func(p, s []byte) bool {
		pattern, str := word(p, 12), strings.ReplaceAll(word(s, 10), "*", "a")
		parts := strings.Split(pattern, "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		want := regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(str)
		if got := matchWildcard(pattern, str); got != want {
			t.Logf("matchWildcard(%q, %q) = %v, want %v", pattern, str, got, want)
			return false
		}
		return true
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 20000}); err != nil {
		t.Error(err)
	}
}

// TestMatchWildcardHostile checks that a long pattern built to force
// backtracking costs little: a region set is the client's to choose.
func TestMatchWildcardHostile(t *testing.T) {
	pattern := strings.Repeat("*u", 1<<17) + "x"
	if matchWildcard(pattern, "us-east-1-uuuuuuuuuuuuuuuu") {
		t.Fatal("matched")
	}
	set := strings.Repeat("*-*-*-*,", 1<<16) + "us-*" // only the last entry covers us-east-1
	if !regionSetCovers(set, "us-east-1") {
		t.Fatal("the set does not cover us-east-1")
	}
	if testing.AllocsPerRun(10, func() { regionSetCovers(set, "us-east-1") }) != 0 {
		t.Error("regionSetCovers allocates")
	}
}

const v4aService = "execute-api"

// v4aOptions configures a test verifier for the reference application:
// execute-api in us-east-1, SigV4a allowed.
func v4aOptions(region string) func(*Options) {
	return func(o *Options) {
		o.Service, o.Region, o.AllowSigV4a = v4aService, region, true
	}
}

// apiRequest is a request shaped like the reference application's: JSON to
// execute-api.
func apiRequest() sdkRequest {
	return sdkRequest{
		method:  "POST",
		url:     "http://api.gyre.local:8080/orders/42?expand=items&tag=a%2Fb",
		header:  http.Header{"Content-Type": {"application/json"}},
		body:    []byte(`{"item":"tea","quantity":2}`),
		service: v4aService,
	}
}

// buildV4a signs s with SigV4a for regionSet and returns the client-side
// request. It leaves the canonical request to the AWS SDK's SigV4 signer,
// which signs every header, X-Amz-Region-Set included, and builds the same
// canonical request SigV4a does; only the scope, the string to sign and the
// signature differ, and those it computes here.
func (s sdkRequest) buildV4a(t testing.TB, regionSet string) *http.Request {
	t.Helper()
	s.header = s.header.Clone()
	if s.header == nil {
		s.header = http.Header{}
	}
	s.header.Set("X-Amz-Region-Set", regionSet)
	var canonical string
	s.signerOptions = func(o *v4.SignerOptions) {
		o.LogSigning = true
		o.Logger = logging.LoggerFunc(func(_ logging.Classification, _ string, v ...any) {
			canonical = v[0].(string)
		})
	}
	req := s.build(t)
	if canonical == "" {
		t.Fatal("the SDK signer logged no canonical request")
	}
	_, signedHeaders, _ := strings.Cut(req.Header.Get("Authorization"), "SignedHeaders=")
	signedHeaders, _, _ = strings.Cut(signedHeaders, ",")
	date := req.Header.Get("X-Amz-Date")
	keyID := or(s.keyID, testKeyID)
	scope := date[:8] + "/" + or(s.service, "dynamodb") + "/aws4_request"
	crHash := sha256.Sum256([]byte(canonical))
	sts := string(AlgorithmV4a) + "\n" + date + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])
	priv, err := deriveV4aKey(keyID, or(s.secret, testSecret))
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(sts))
	sig, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", fmt.Sprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%x",
		AlgorithmV4a, keyID, scope, signedHeaders, sig))
	return req
}

// signV4a is sign for SigV4a.
func signV4a(t testing.TB, s sdkRequest, regionSet string) (*http.Request, []byte) {
	t.Helper()
	return throughWire(t, s.buildV4a(t, regionSet)), s.body
}

func TestVerifySigV4a(t *testing.T) {
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
		name      string
		regionSet string            // default "*"
		sign      func(*sdkRequest) // changes how the request is signed
		tamper    func(*request)    // changes the request after signing
		region    string            // the verifier's; default us-east-1
		opts      func(*Options)    // after v4aOptions
		now       time.Time         // default signedAt
		kind      error             // nil: accepted
		msg       string
	}{
		{name: "star"},
		{name: "star in another region", region: "ap-southeast-2"},
		{name: "list", regionSet: "us-east-1,us-west-2"},
		{name: "list second region", regionSet: "us-east-1,us-west-2", region: "us-west-2"},
		{name: "list with spaces", regionSet: "us-west-2, us-east-1"},
		{name: "pattern", regionSet: "us-*"},
		{name: "pattern in europe", regionSet: "eu-*", region: "eu-central-1"},
		{name: "empty body", sign: func(s *sdkRequest) { s.method, s.body = "GET", nil }},
		{name: "session token", sign: func(s *sdkRequest) { s.token = "session/token==" }},
		{name: "unsigned payload", sign: func(s *sdkRequest) {
			s.header.Set("X-Amz-Content-Sha256", unsignedBody)
			s.payloadHash = unsignedBody
		}},
		{
			name: "list without the region", regionSet: "us-east-1,us-west-2", region: "eu-west-1",
			kind: ErrInvalidSignature,
			msg:  "X-Amz-Region-Set 'us-east-1,us-west-2' does not include the region this endpoint serves: 'eu-west-1'. ",
		},
		{
			name: "pattern without the region", regionSet: "eu-*",
			kind: ErrInvalidSignature,
			msg:  "X-Amz-Region-Set 'eu-*' does not include the region this endpoint serves: 'us-east-1'. ",
		},
		{
			name: "every scope problem at once", regionSet: "eu-*",
			opts: func(o *Options) { o.Service = "other" },
			kind: ErrInvalidSignature,
			msg:  "X-Amz-Region-Set 'eu-*' does not include the region this endpoint serves: 'us-east-1'. Credential should be scoped to correct service: 'other'. ",
		},
		{
			name: "region set widened after signing", regionSet: "eu-*",
			tamper: func(q *request) { q.r.Header.Set("X-Amz-Region-Set", "*") },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "region set repeated after signing",
			tamper: func(q *request) { q.r.Header.Add("X-Amz-Region-Set", "us-east-1") },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "region set header removed",
			tamper: func(q *request) { q.r.Header.Del("X-Amz-Region-Set") },
			kind:   ErrIncompleteSignature,
			msg:    "~Authorization header requires existence of a 'X-Amz-Region-Set' header. Authorization=AWS4-ECDSA-P256-SHA256 Credential=AKIDGYRETEST/20240101/execute-api/aws4_request, ",
		},
		{
			name:   "region set not signed",
			tamper: replaceAuth(";x-amz-region-set", ""),
			kind:   ErrInvalidSignature, msg: msgRegionSetNotSigned,
		},
		{
			name: "SigV4a not allowed",
			opts: func(o *Options) { o.AllowSigV4a = false },
			kind: ErrIncompleteSignature, msg: "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'",
		},
		{
			name:   "credential with a region",
			tamper: replaceAuth("/20240101/", "/20240101/us-east-1/"),
			kind:   ErrIncompleteSignature,
			msg:    "Credential must have exactly 4 slash-delimited elements, e.g. keyid/date/service/term, got 'AKIDGYRETEST/20240101/us-east-1/execute-api/aws4_request'",
		},
		{
			name: "wrong service",
			sign: func(s *sdkRequest) { s.service = "dynamodb" },
			kind: ErrInvalidSignature, msg: "Credential should be scoped to correct service: 'execute-api'. ",
		},
		{
			name:   "wrong terminator",
			tamper: replaceAuth("/aws4_request", "/aws4a_request"),
			kind:   ErrInvalidSignature, msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4a_request'. ",
		},
		{
			name: "unknown access key",
			sign: func(s *sdkRequest) { s.keyID = "AKIDUNKNOWN" },
			kind: ErrUnrecognizedClient, msg: msgUnrecognized,
		},
		{
			name: "wrong secret",
			sign: func(s *sdkRequest) { s.secret = "not-the-secret" },
			kind: ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "tampered body",
			tamper: func(q *request) { q.body = bytes.Replace(q.body, []byte("tea"), []byte("gin"), 1) },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "tampered header",
			tamper: func(q *request) { q.r.Header.Set("Content-Type", "text/plain") },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "tampered query",
			tamper: func(q *request) { q.r.URL.RawQuery = strings.Replace(q.r.URL.RawQuery, "items", "users", 1) },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "tampered path",
			tamper: func(q *request) { q.r.URL.Path = "/orders/43" },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "tampered date within skew",
			tamper: func(q *request) { q.r.Header.Set("X-Amz-Date", "20240101T000001Z") },
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name: "signature of another request",
			tamper: func(q *request) {
				other := apiRequest()
				other.body = []byte(`{}`)
				r, _ := signV4a(t, other, "*")
				q.r.Header.Set("Authorization", r.Header.Get("Authorization"))
			},
			kind: ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "signature not hex",
			tamper: setAuth(func(a string) string { return a[:len(a)-2] + "zz" }),
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "signature odd length",
			tamper: setAuth(func(a string) string { return a[:len(a)-1] }),
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name: "signature too long",
			tamper: setAuth(func(a string) string {
				return a[:strings.Index(a, "Signature=")] + "Signature=" + strings.Repeat("30", maxDERSignature+1)
			}),
			kind: ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name:   "signature with trailing bytes",
			tamper: setAuth(func(a string) string { return a + "00" }),
			kind:   ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name: "a SigV4 signature",
			tamper: setAuth(func(a string) string {
				return a[:strings.Index(a, "Signature=")] + "Signature=" + strings.Repeat("ab", sha256.Size)
			}),
			kind: ErrSignatureMismatch, msg: msgMismatch,
		},
		{
			name: "expired",
			now:  signedAt.Add(16 * time.Minute),
			kind: ErrSignatureExpired,
			msg:  "Signature expired: 20240101T000000Z is now earlier than 20240101T000100Z (20240101T001600Z - 15 min.)",
		},
		{
			name: "not yet current",
			now:  signedAt.Add(-16 * time.Minute),
			kind: ErrSignatureNotYetCurrent,
			msg:  "Signature not yet current: 20240101T000000Z is still later than 20231231T235900Z (20231231T234400Z + 15 min.)",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := apiRequest()
			if tc.sign != nil {
				tc.sign(&s)
			}
			regionSet := or(tc.regionSet, "*")
			r, body := signV4a(t, s, regionSet)
			q := &request{r, body}
			if tc.tamper != nil {
				tc.tamper(q)
			}
			now := tc.now
			if now.IsZero() {
				now = signedAt
			}
			region := or(tc.region, "us-east-1")
			v := newTestVerifier(t, newFakeClock(now), func(o *Options) {
				v4aOptions(region)(o)
				if tc.opts != nil {
					tc.opts(o)
				}
			})
			id, err := v.Verify(q.r, q.body)
			if tc.kind == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want success\nAuthorization: %s", err, q.r.Header.Get("Authorization"))
				}
				want := Identity{AccessKeyID: testKeyID, Algorithm: AlgorithmV4a, Region: region, RegionSet: regionSet, SessionToken: s.token}
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

// TestVerifySigV4aDisabledByDefault checks that a verifier built as the
// DynamoDB endpoint builds it refuses SigV4a, in both forms, as before.
func TestVerifySigV4aDisabledByDefault(t *testing.T) {
	v := newTestVerifier(t, newFakeClock(signedAt), nil)
	r, body := signV4a(t, dynamoRequest(), "*")
	_, err := v.Verify(r, body)
	checkErr(t, err, ErrIncompleteSignature, "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'")

	r.Header.Del("Authorization")
	r.URL.RawQuery = "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=AKIDGYRETEST%2F20240101%2Fdynamodb%2Faws4_request" +
		"&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=3006020101020101"
	_, err = v.Verify(r, body)
	checkErr(t, err, ErrIncompleteSignature, "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'")
}

// TestVerifySigV4Region checks SigV4 on a verifier that serves one region:
// without AllowRegion, the scope must name that region.
func TestVerifySigV4Region(t *testing.T) {
	for _, tc := range []struct {
		signed string
		ok     bool
	}{{"us-east-1", true}, {"us-west-2", false}, {"*", false}} {
		t.Run(tc.signed, func(t *testing.T) {
			s := apiRequest()
			s.region = tc.signed
			r, body := sign(t, s)
			v := newTestVerifier(t, newFakeClock(signedAt), v4aOptions("us-east-1"))
			id, err := v.Verify(r, body)
			if !tc.ok {
				checkErr(t, err, ErrInvalidSignature, msgInvalidRegion)
				return
			}
			want := Identity{AccessKeyID: testKeyID, Algorithm: AlgorithmV4, Region: "us-east-1"}
			if err != nil || id != want {
				t.Fatalf("Verify = %+v, %v; want %+v", id, err, want)
			}
		})
	}
}

func TestNewOptionsSigV4a(t *testing.T) {
	cases := []struct {
		name    string
		o       Options // Credentials are added unless noCreds
		noCreds bool
		want    []string // substrings of the error; none: valid
	}{
		{name: "app", o: Options{Service: v4aService, Region: "us-east-1", AllowSigV4a: true}},
		{name: "region alone", o: Options{Region: "gyre-local-1"}},
		{name: "SigV4a without region", o: Options{AllowSigV4a: true}, want: []string{"Options.Region is required when AllowSigV4a is set"}},
		{name: "pattern as region", o: Options{Region: "us-*", AllowSigV4a: true}, want: []string{`Options.Region "us-*" must be a region name`}},
		{name: "list as region", o: Options{Region: "us-east-1,us-west-2"}, want: []string{`Options.Region "us-east-1,us-west-2"`}},
		{name: "space in region", o: Options{Region: "us-east-1 "}, want: []string{`Options.Region "us-east-1 "`}},
		{name: "everything at once", o: Options{Region: "a/b", MaxSkew: -1}, noCreds: true,
			want: []string{`Options.Region "a/b"`, "MaxSkew", "Credentials is required"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.noCreds {
				tc.o.Credentials = testCredentials
			}
			v, err := New(tc.o)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("New = %v, want success", err)
				}
				if v.region != tc.o.Region || v.allowV4a != tc.o.AllowSigV4a {
					t.Errorf("verifier region %q allowV4a %v, want %q %v", v.region, v.allowV4a, tc.o.Region, tc.o.AllowSigV4a)
				}
				if !v.allowRegion(tc.o.Region) || v.allowRegion("elsewhere-1") {
					t.Errorf("with Region %q and no AllowRegion, SigV4 must be allowed for that region alone", tc.o.Region)
				}
				return
			}
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New error %q does not mention %q", err, w)
				}
			}
		})
	}
	v, err := New(Options{Credentials: testCredentials})
	if err != nil {
		t.Fatal(err)
	}
	if v.allowV4a || v.region != "" {
		t.Errorf("defaults: allowV4a=%v region=%q, want false and empty", v.allowV4a, v.region)
	}
}

func TestV4aKeyCache(t *testing.T) {
	t.Run("bounded", func(t *testing.T) {
		keys := map[string]string{"AKID1": "s1", "AKID2": "s2", "AKID3": "s3"}
		v := newTestVerifier(t, newFakeClock(signedAt), func(o *Options) {
			v4aOptions("us-east-1")(o)
			o.KeyCacheSize = 2
			o.Credentials = func(id string) (string, bool) { s, ok := keys[id]; return s, ok }
		})
		for _, id := range []string{"AKID1", "AKID2", "AKID3", "AKID1"} {
			s := apiRequest()
			s.keyID, s.secret = id, keys[id]
			r, body := signV4a(t, s, "*")
			if _, err := v.Verify(r, body); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			if n := v.v4aKeys.len(); n > 2 {
				t.Fatalf("cache holds %d keys, want at most 2", n)
			}
		}
		if n := v.keys.len(); n != 0 {
			t.Errorf("SigV4a verification put %d keys in the SigV4 cache", n)
		}
	})
	t.Run("failures are not cached", func(t *testing.T) {
		v := newTestVerifier(t, newFakeClock(signedAt), v4aOptions("us-east-1"))
		s := apiRequest()
		s.secret = "wrong"
		r, body := signV4a(t, s, "*")
		if _, err := v.Verify(r, body); !errors.Is(err, ErrSignatureMismatch) {
			t.Fatalf("Verify = %v, want mismatch", err)
		}
		if n := v.v4aKeys.len(); n != 0 {
			t.Fatalf("cache holds %d keys after a failed verification, want 0", n)
		}
	})
	t.Run("cached", func(t *testing.T) {
		v := newTestVerifier(t, newFakeClock(signedAt), v4aOptions("us-east-1"))
		r, body := signV4a(t, apiRequest(), "*")
		for range 2 {
			if _, err := v.Verify(r, body); err != nil {
				t.Fatal(err)
			}
		}
		if n := v.v4aKeys.len(); n != 1 {
			t.Fatalf("cache holds %d keys, want 1", n)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		v := newTestVerifier(t, newFakeClock(signedAt), func(o *Options) {
			v4aOptions("us-east-1")(o)
			o.KeyCacheSize = -1
		})
		r, body := signV4a(t, apiRequest(), "*")
		for range 2 {
			if _, err := v.Verify(r, body); err != nil {
				t.Fatal(err)
			}
		}
		if n := v.v4aKeys.len(); n != 0 {
			t.Fatalf("disabled cache holds %d keys", n)
		}
	})
	t.Run("rotated secret", func(t *testing.T) {
		var secret atomic.Value
		secret.Store(testSecret)
		v := newTestVerifier(t, newFakeClock(signedAt), func(o *Options) {
			v4aOptions("us-east-1")(o)
			o.Credentials = func(string) (string, bool) { return secret.Load().(string), true }
		})
		r, body := signV4a(t, apiRequest(), "*")
		if _, err := v.Verify(r, body); err != nil {
			t.Fatal(err)
		}
		secret.Store("rotated")
		if _, err := v.Verify(r, body); !errors.Is(err, ErrSignatureMismatch) {
			t.Fatalf("Verify after rotation = %v, want mismatch: the cached key must not outlive its secret", err)
		}
	})
}

// TestVerifySigV4aConcurrent runs SigV4a and SigV4 verification from many
// goroutines on one Verifier, for the race detector, over access keys enough
// to churn a small public key cache.
func TestVerifySigV4aConcurrent(t *testing.T) {
	keys := map[string]string{"AKID1": "s1", "AKID2": "s2", "AKID3": "s3"}
	v := newTestVerifier(t, newFakeClock(signedAt), func(o *Options) {
		v4aOptions("us-east-1")(o)
		o.KeyCacheSize = 2
		o.Credentials = func(id string) (string, bool) { s, ok := keys[id]; return s, ok }
	})
	var reqs []signed
	for id, secret := range keys {
		s := apiRequest()
		s.keyID, s.secret = id, secret
		r, body := signV4a(t, s, "us-*")
		reqs = append(reqs, signed{r, body})
		r, body = sign(t, s)
		reqs = append(reqs, signed{r, body})
	}
	verifyConcurrently(t, v, reqs, 4, 30)
}
