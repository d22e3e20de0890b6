package sigv4

import (
	"math/rand"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/quick"
)

func TestNormalizePath(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/", "/"},
		{"", "/"},
		{"/a/b", "/a/b"},
		{"/a/b/", "/a/b/"},
		{"//", "/"},
		{"//example//", "/example/"},
		{"/./", "/"},
		{"/./example", "/example"},
		{"/example/..", "/"},
		{"/example1/example2/../..", "/"},
		{"/a/../../b", "/b"},
		{"/a//b/../c/./d", "/a/c/d"},
		{"/a/%2E%2E/b", "/a/%2E%2E/b"},
		{"/a/.../b", "/a/.../b"},
		{"/a/..b/", "/a/..b/"},
	}
	for _, tc := range cases {
		if got := normalizePath(tc.in); got != tc.want {
			t.Errorf("normalizePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestNeedsNormalizing checks the fast path against the slow one on paths
// made of the pieces that matter.
func TestNeedsNormalizing(t *testing.T) {
	pieces := []string{"/", ".", "..", "a", "%2E", "/"}
	cfg := &quick.Config{MaxCount: 5000, Values: func(v []reflect.Value, r *rand.Rand) {
		var b strings.Builder
		b.WriteByte('/')
		for range r.Intn(8) {
			b.WriteString(pieces[r.Intn(len(pieces))])
		}
		v[0] = reflect.ValueOf(b.String())
	}}
	prop := func(p string) bool {
		n := removeDotSegments(p)
		return needsNormalizing(p) == (n != p) && removeDotSegments(n) == n
	}
	if err := quick.Check(prop, cfg); err != nil {
		t.Error(err)
	}
}

func TestWirePath(t *testing.T) {
	cases := []struct {
		name string
		u    url.URL
		want string
	}{
		{"empty", url.URL{}, "/"},
		{"plain", url.URL{Path: "/a/b"}, "/a/b"},
		{"escaped by default", url.URL{Path: "/a b"}, "/a%20b"},
		{"raw path kept", url.URL{Path: "/a/b", RawPath: "/a%2Fb"}, "/a%2Fb"},
		{"raw utf8 as sent", url.URL{Path: "/ሴ", RawPath: "/ሴ"}, "/ሴ"},
		{"opaque", url.URL{Opaque: "//host:80/a%2Fb?q=1"}, "/a%2Fb"},
		{"opaque without path", url.URL{Opaque: "//host"}, "/"},
	}
	for _, tc := range cases {
		if got := wirePath(&tc.u); got != tc.want {
			t.Errorf("%s: wirePath = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestAppendEscaped(t *testing.T) {
	cases := []struct {
		in        string
		keepSlash bool
		want      string
	}{
		{"/-._~AZaz09", true, "/-._~AZaz09"},
		{"/a%2Fb", true, "/a%252Fb"},
		{"/a b+c", true, "/a%20b%2Bc"},
		{"/ሴ", true, "/%E1%88%B4"},
		{"a/b", false, "a%2Fb"},
		{"!*'();:@&=+$,?#[]", false, "%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%3F%23%5B%5D"},
	}
	for _, tc := range cases {
		if got := string(appendEscaped(nil, tc.in, tc.keepSlash)); got != tc.want {
			t.Errorf("appendEscaped(%q, %v) = %q, want %q", tc.in, tc.keepSlash, got, tc.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	cases := []struct{ raw, skip, want string }{
		{"", "", ""},
		{"b=2&a=1", "", "a=1&b=2"},
		{"Param2=value2&Param1=value1&param1=0", "", "Param1=value1&Param2=value2&param1=0"},
		{"x=a/b&x=a-b", "", "x=a%2Fb&x=a-b"}, // sorted after encoding: '%' < '-'
		{"q=a+b&r=a%20b&s=a%2Bb", "", "q=a%20b&r=a%20b&s=a%2Bb"},
		{"a&b=", "", "a=&b="},
		{"&&a=1&", "", "a=1"},
		{"%zz=1&ok=1&bad=%g", "", "ok=1"},
		{"a=1;b=2&c=3", "", "c=3"},
		{"k=~-._", "", "k=~-._"},
		{"ሴ=bar", "", "%E1%88%B4=bar"},
		{"X-Amz-Signature=abc&X-Amz-Date=1", "X-Amz-Signature", "X-Amz-Date=1"},
	}
	for _, tc := range cases {
		if got := string(appendCanonicalQuery(nil, parseQuery(tc.raw), tc.skip)); got != tc.want {
			t.Errorf("canonical query of %q = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestAppendHeaderValue(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"value", "value"},
		{"  a   b    c  ", "a b c"},
		{"\t a \t", "a"},
		{"a\t\tb", "a\t\tb"},
		{`"a   b   c"`, `"a b c"`},
	}
	for _, tc := range cases {
		if got := string(appendHeaderValue(nil, tc.in)); got != tc.want {
			t.Errorf("appendHeaderValue(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestHeaderByName(t *testing.T) {
	h := map[string][]string{
		"X-Amz-Date":            {"d"},
		"Amz-Sdk-Invocation-Id": {"i"},
		"Content-Md5":           {"m"},
		"X-Odd_name":            {"o"},
	}
	for name, want := range map[string]string{
		"x-amz-date":            "d",
		"amz-sdk-invocation-id": "i",
		"content-md5":           "m",
		"x-odd_name":            "o", // not a plain token: falls back to textproto
		"absent":                "",
	} {
		got := strings.Join(headerByName(h, name), ",")
		if got != want {
			t.Errorf("headerByName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestParseCredential(t *testing.T) {
	cases := []struct {
		cred string
		v4a  bool
		want scope
		ok   bool
	}{
		{cred: "AKID/20240101/us-east-1/dynamodb/aws4_request", ok: true,
			want: scope{"AKID", "20240101", "us-east-1", "dynamodb", "aws4_request", "20240101/us-east-1/dynamodb/aws4_request"}},
		{cred: "////", ok: true, want: scope{str: "///"}},
		{cred: ""}, {cred: "AKID"}, {cred: "a/b/c/d"}, {cred: "a/b/c/d/e/f"},
		{cred: "AKID/20240101/execute-api/aws4_request", v4a: true, ok: true,
			want: scope{"AKID", "20240101", "", "execute-api", "aws4_request", "20240101/execute-api/aws4_request"}},
		{cred: "///", v4a: true, ok: true, want: scope{str: "//"}},
		{cred: "", v4a: true}, {cred: "a/b/c", v4a: true}, {cred: "a/b/c/d/e", v4a: true},
	}
	for _, tc := range cases {
		sc, ok := parseCredential(tc.cred, tc.v4a)
		if ok != tc.ok || ok && sc != tc.want {
			t.Errorf("parseCredential(%q, v4a=%v) = %+v, %v; want %+v, %v", tc.cred, tc.v4a, sc, ok, tc.want, tc.ok)
		}
	}
}

func TestAuthTokens(t *testing.T) {
	got := slices.Collect(authTokens(" AWS4-HMAC-SHA256  Credential=a/b,SignedHeaders=host;x ,\tSignature=c,"))
	want := []string{"AWS4-HMAC-SHA256", "Credential=a/b", "SignedHeaders=host;x", "Signature=c"}
	if !slices.Equal(got, want) {
		t.Errorf("authTokens = %q, want %q", got, want)
	}
}

func TestParseAmzDate(t *testing.T) {
	for s, ok := range map[string]bool{
		"20240101T000000Z":     true,
		"20241231T235959Z":     true,
		"20240230T000000Z":     false, // no such day
		"2024011T0000000Z":     false,
		"20240101T000000":      false,
		"20240101t000000z":     false,
		"2024-01-01T00:00:00Z": false,
	} {
		if _, got := parseAmzDate(s); got != ok {
			t.Errorf("parseAmzDate(%q) ok = %v, want %v", s, got, ok)
		}
	}
}
