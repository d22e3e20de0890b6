package sigv4

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
)

// This file builds the parts of the canonical request that depend on how
// clients encode a request: the URI, the query string and header values. The
// rules are those of the SDKs for services other than S3, which is what
// DynamoDB clients use.

// wirePath returns the request's path as it was written on the request line,
// still percent-encoded. Signers encode the path they put on the wire a second
// time, so the verifier must start from the wire form, not the decoded Path:
// "/a%2Fb" and "/a/b" decode alike but sign differently. For a request parsed
// by net/http, RawPath holds the wire form whenever it differs from the
// default encoding of Path. Opaque is handled as the Go SDK does, for requests
// built by hand.
func wirePath(u *url.URL) string {
	var p string
	switch {
	case u.Opaque != "":
		p = u.Opaque
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		p = strings.TrimPrefix(p, "//")
		if i := strings.IndexByte(p, '/'); i >= 0 {
			p = p[i:]
		} else {
			p = ""
		}
	case u.RawPath != "":
		p = u.RawPath
	default:
		p = u.EscapedPath()
	}
	if p == "" {
		return "/"
	}
	return p
}

// normalizePath removes empty, "." and ".." segments from p as botocore,
// the JavaScript v3 SDK and the Java v2 SDK do before they sign for a service
// other than S3 (the Go SDK does not). A leading slash is kept, and a trailing
// one when any segment remains. Segments are compared in their encoded form,
// so "%2E" is not a dot. It returns p unchanged when there is nothing to do.
func normalizePath(p string) string {
	if !needsNormalizing(p) {
		return p
	}
	return removeDotSegments(p)
}

// removeDotSegments does normalizePath's work, needed or not.
func removeDotSegments(p string) string {
	if p == "" {
		return "/"
	}
	segs := make([]string, 0, strings.Count(p, "/")+1)
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, seg)
		}
	}
	var b strings.Builder
	b.Grow(len(p))
	if strings.HasPrefix(p, "/") {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(segs, "/"))
	if len(segs) > 0 && strings.HasSuffix(p, "/") {
		b.WriteByte('/')
	}
	return b.String()
}

// needsNormalizing reports whether normalizePath would change p.
func needsNormalizing(p string) bool {
	if p == "" || strings.Contains(p, "//") {
		return true
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// unreserved reports whether SigV4 leaves c unencoded (RFC 3986 unreserved).
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

const upperhex = "0123456789ABCDEF"

// appendEscaped appends s percent-encoded as SigV4 requires: every byte but
// the unreserved ones becomes %XX with uppercase hex, and '/' is kept when
// keepSlash is set (paths) and encoded otherwise (query components).
func appendEscaped(dst []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || c == '/' && keepSlash {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperhex[c>>4], upperhex[c&15])
		}
	}
	return dst
}

// escapeQuery returns s encoded for the canonical query string.
func escapeQuery(s string) string {
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			return string(appendEscaped(make([]byte, 0, len(s)+16), s, false))
		}
	}
	return s
}

// queryParam is one name=value pair of the query string, decoded.
type queryParam struct{ key, value string }

// parseQuery splits a raw query string the way net/url.ParseQuery does,
// including dropping the pairs it rejects (a bad escape, a semicolon), because
// the Go SDK signs what (*url.URL).Query returns and a Go handler reads the
// same. A dropped pair is not covered by the signature, but no Go code can
// read it either.
func parseQuery(raw string) []queryParam {
	var params []queryParam
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		v, err = url.QueryUnescape(v)
		if err != nil {
			continue
		}
		params = append(params, queryParam{k, v})
	}
	return params
}

// lookup returns the first value of key and whether key is present.
func lookup(params []queryParam, key string) (string, bool) {
	for _, p := range params {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}

// lookupAll returns every value of key joined by commas, as a repeated
// header's values are; "" when key is absent.
func lookupAll(params []queryParam, key string) string {
	var all string
	n := 0
	for _, p := range params {
		if p.key != key {
			continue
		}
		if n == 0 {
			all = p.value
		} else {
			all += "," + p.value
		}
		n++
	}
	return all
}

// appendCanonicalQuery appends the canonical query string: every pair but
// those named skip, each name and value encoded, sorted by encoded name and
// then encoded value (SigV4 sorts after encoding), joined by '&'.
func appendCanonicalQuery(dst []byte, params []queryParam, skip string) []byte {
	if len(params) == 0 {
		return dst
	}
	enc := make([]queryParam, 0, len(params))
	for _, p := range params {
		if skip != "" && p.key == skip {
			continue
		}
		enc = append(enc, queryParam{escapeQuery(p.key), escapeQuery(p.value)})
	}
	slices.SortFunc(enc, func(a, b queryParam) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.value, b.value)
	})
	for i, p := range enc {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, p.key...)
		dst = append(dst, '=')
		dst = append(dst, p.value...)
	}
	return dst
}

// appendHeaderValue appends v trimmed of surrounding whitespace and with runs
// of spaces collapsed to one, as the SDKs canonicalize header values.
func appendHeaderValue(dst []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}
