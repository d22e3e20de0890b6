package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a Verifier.
type Options struct {
	// Credentials returns the secret access key for an access key id, and
	// false when the key is unknown. Required. Verify calls it once per
	// request whose signature is well-formed, from any goroutine, so it must
	// be safe for concurrent use and should not block.
	Credentials func(accessKeyID string) (secret string, ok bool)

	// Service is the service name the credential scope must carry. Default
	// "dynamodb" when empty; it must not contain '/'.
	Service string

	// AllowRegion reports whether a request may be signed for region (the
	// region of the credential scope). Default when nil: any non-empty
	// region, so that one endpoint can serve every region and the caller
	// decides what Identity.Region means. It must be safe for concurrent use.
	AllowRegion func(region string) bool

	// MaxSkew is how far the request's X-Amz-Date (or Date) may be from Now,
	// either way. Default 15m, DynamoDB's limit, when zero; it must not be
	// negative. A presigned request with X-Amz-Expires may be as old as that
	// instead (at most a week), but no further in the future than MaxSkew.
	MaxSkew time.Duration

	// Now returns the current time. Default time.Now when nil; tests pass a
	// fake clock. It must be safe for concurrent use.
	Now func() time.Time

	// KeyCacheSize bounds how many derived signing keys (one per secret, day
	// and region) are kept, saving four of the five HMACs a request would
	// otherwise cost. Default 1024 when zero; a negative size disables the
	// cache.
	KeyCacheSize int
}

// Identity is who signed a request that Verify accepted.
type Identity struct {
	// AccessKeyID is the key the request was signed with.
	AccessKeyID string
	// Region is the region of the credential scope, the region the client
	// believes it is talking to.
	Region string
	// SessionToken is the X-Amz-Security-Token the client sent with temporary
	// credentials, when the signature covers it; otherwise empty. Verify does
	// not judge it: a caller that issues session tokens must check it belongs
	// to AccessKeyID.
	SessionToken string
}

// Verifier checks SigV4 signatures. It is safe for concurrent use by multiple
// goroutines.
type Verifier struct {
	creds       func(string) (string, bool)
	service     string
	allowRegion func(string) bool
	maxSkew     time.Duration
	now         func() time.Time
	keys        *keyCache
}

// New returns a Verifier for o, after filling in defaults. It reports every
// problem with o at once.
func New(o Options) (*Verifier, error) {
	if o.Service == "" {
		o.Service = "dynamodb"
	}
	if o.AllowRegion == nil {
		o.AllowRegion = func(region string) bool { return region != "" }
	}
	if o.MaxSkew == 0 {
		o.MaxSkew = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.KeyCacheSize == 0 {
		o.KeyCacheSize = 1024
	}
	var problems []error
	if o.Credentials == nil {
		problems = append(problems, errors.New("Options.Credentials is required"))
	}
	if strings.Contains(o.Service, "/") {
		problems = append(problems, fmt.Errorf("Options.Service %q must not contain '/'", o.Service))
	}
	if o.MaxSkew < 0 {
		problems = append(problems, fmt.Errorf("Options.MaxSkew %v must not be negative", o.MaxSkew))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("sigv4: invalid options: %w", errors.Join(problems...))
	}
	return &Verifier{
		creds:       o.Credentials,
		service:     o.Service,
		allowRegion: o.AllowRegion,
		maxSkew:     o.MaxSkew,
		now:         o.Now,
		keys:        newKeyCache(o.KeyCacheSize),
	}, nil
}

// Verify checks the SigV4 signature of r, signed either in the Authorization
// header or in a presigned query string. body is the complete request body,
// already read by the caller (who bounds its size); Verify does not touch
// r.Body. r must be the request as the server received it: Host, the path and
// the query string as the client sent them, so a proxy in front must not
// rewrite them.
//
// On success it returns who signed the request. On failure the error is an
// *Error wrapping one of the package's sentinels, which decides the DynamoDB
// error to answer with. Verify never panics, whatever r holds.
func (v *Verifier) Verify(r *http.Request, body []byte) (Identity, error) {
	if r == nil || r.URL == nil {
		return Identity{}, fail(ErrMissingAuthenticationToken, msgMissingToken)
	}
	var query []queryParam
	if r.URL.RawQuery != "" {
		query = parseQuery(r.URL.RawQuery)
	}
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	_, presign := lookup(query, "X-Amz-Algorithm")

	var p presented
	var err error
	switch {
	case auth != "" && presign:
		err = fail(ErrInvalidSignature, msgBothAuth)
	case auth != "":
		p, err = parseAuthorization(r.Header, auth)
	case presign:
		p, err = parsePresigned(query)
	default:
		err = fail(ErrMissingAuthenticationToken, msgMissingToken)
	}
	if err != nil {
		return Identity{}, err
	}
	return v.verify(r, body, query, &p)
}

// verify checks a parsed signature: first its shape, then its time window and
// scope, then the credentials, then the signature itself.
func (v *Verifier) verify(r *http.Request, body []byte, query []queryParam, p *presented) (Identity, error) {
	sc, ok := parseCredential(p.credential)
	if !ok {
		return Identity{}, fail(ErrIncompleteSignature, msgCredentialParts+p.credential+"'")
	}

	var hostSigned, dateSigned, tokenSigned bool
	for name := range strings.SplitSeq(p.signedHeaders, ";") {
		switch name {
		case "host":
			hostSigned = true
		case p.dateHeader:
			dateSigned = true
		case "x-amz-security-token":
			tokenSigned = true
		}
	}
	if !hostSigned {
		return Identity{}, fail(ErrInvalidSignature, msgHostNotSigned)
	}
	if !p.presigned && !dateSigned {
		name := "X-Amz-Date"
		if p.dateHeader == "date" {
			name = "Date"
		}
		return Identity{}, fail(ErrInvalidSignature, "'"+name+"' must be a 'SignedHeader' in the AWS Authorization.")
	}

	if err := v.checkTime(p); err != nil {
		return Identity{}, err
	}
	if err := v.checkScope(&sc, p.amzDate); err != nil {
		return Identity{}, err
	}

	secret, ok := v.creds(sc.accessKeyID)
	if !ok {
		return Identity{}, fail(ErrUnrecognizedClient, msgUnrecognized)
	}

	want, wellFormed := decodeSignature(p.signature)

	s := scratchPool.Get().(*scratch)
	defer s.release()
	// The tail of the canonical request, everything after the URI, is the
	// same for every candidate URI.
	skip := ""
	if p.presigned {
		skip = "X-Amz-Signature"
	}
	tail := append(s.tail[:0], '\n')
	tail = appendCanonicalQuery(tail, query, skip)
	tail = append(tail, '\n')
	tail, err := appendCanonicalHeaders(tail, r, p.signedHeaders)
	s.tail = tail
	if err != nil {
		return Identity{}, err
	}
	tail = append(tail, '\n')
	tail = append(tail, p.signedHeaders...)
	tail = append(tail, '\n')
	tail, err = appendPayloadHash(tail, r, query, p.presigned, body)
	s.tail = tail
	if err != nil {
		return Identity{}, err
	}

	ck := keyCacheKey{secret: secret, date: sc.date, region: sc.region}
	key, cached := v.keys.get(ck)
	if !cached {
		key = deriveKey(secret, sc.date, sc.region, v.service)
	}

	// The Go SDK signs the path as sent; botocore and the JavaScript and Java
	// SDKs sign it with dot segments and repeated slashes removed. Both are
	// SigV4 for a non-S3 service, so accept either.
	path := wirePath(r.URL)
	matched := wellFormed && s.matches(r.Method, path, p, &sc, &key, &want)
	if !matched && wellFormed {
		if np := normalizePath(path); np != path {
			matched = s.matches(r.Method, np, p, &sc, &key, &want)
		}
	}
	if !matched {
		return Identity{}, fail(ErrSignatureMismatch, msgMismatch)
	}
	if !cached {
		v.keys.put(ck, key)
	}

	id := Identity{AccessKeyID: sc.accessKeyID, Region: sc.region}
	switch {
	case p.presigned:
		id.SessionToken, _ = lookup(query, "X-Amz-Security-Token")
	case tokenSigned:
		id.SessionToken = r.Header.Get("X-Amz-Security-Token")
	}
	return id, nil
}

// scratch holds the buffers one Verify call builds the canonical request in.
type scratch struct {
	tail []byte // the canonical request after the URI
	buf  []byte // the whole canonical request, then the string to sign
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{tail: make([]byte, 0, 512), buf: make([]byte, 0, 1024)}
}}

// release returns s to the pool unless a huge request made it grow.
func (s *scratch) release() {
	if cap(s.tail)+cap(s.buf) <= 64<<10 {
		scratchPool.Put(s)
	}
}

// matches computes the signature of the canonical request for path (and the
// tail already in s) and compares it with want in constant time.
func (s *scratch) matches(method, path string, p *presented, sc *scope, key *signingKey, want *[sha256.Size]byte) bool {
	cr := append(s.buf[:0], method...)
	cr = append(cr, '\n')
	cr = appendEscaped(cr, path, true)
	cr = append(cr, s.tail...)
	crHash := sha256.Sum256(cr)

	// The string to sign goes straight after the HMAC's inner key block.
	sts := appendInnerKey(cr[:0], key)
	sts = append(sts, algorithm+"\n"...)
	sts = append(sts, p.amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, sc.str...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, crHash[:])
	s.buf = sts

	got := finishHMAC(key, sts)
	return hmac.Equal(got[:], want[:])
}

// decodeSignature decodes a hex signature; false when it is not 32 bytes of
// hex, which can never match.
func decodeSignature(s string) ([sha256.Size]byte, bool) {
	var sig [sha256.Size]byte
	if len(s) != 2*sha256.Size {
		return sig, false
	}
	if _, err := hex.Decode(sig[:], []byte(s)); err != nil {
		return sig, false
	}
	return sig, true
}

// checkTime enforces the time window: the request's date may be at most
// MaxSkew ahead of now, and at most MaxSkew (or, presigned, X-Amz-Expires)
// behind it.
func (v *Verifier) checkTime(p *presented) error {
	now := v.now().UTC()
	past := v.maxSkew
	if p.presigned && p.expires > 0 {
		past = p.expires
	}
	if earliest := now.Add(-past); p.time.Before(earliest) {
		return fail(ErrSignatureExpired, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			p.amzDate, earliest.Format(amzDateLayout), now.Format(amzDateLayout), formatWindow(past)))
	}
	if latest := now.Add(v.maxSkew); p.time.After(latest) {
		return fail(ErrSignatureNotYetCurrent, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
			p.amzDate, latest.Format(amzDateLayout), now.Format(amzDateLayout), formatWindow(v.maxSkew)))
	}
	return nil
}

// formatWindow writes a duration as AWS does in its skew messages: "15 min".
func formatWindow(d time.Duration) string {
	switch {
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + " sec"
	default:
		return d.String()
	}
}

// checkScope compares the credential scope with the request: the region must
// be allowed, the service ours, the terminator aws4_request and the date the
// request's date. Like DynamoDB, it names every mismatch in one message.
func (v *Verifier) checkScope(sc *scope, amzDate string) error {
	var msg strings.Builder
	if !v.allowRegion(sc.region) {
		msg.WriteString(msgInvalidRegion)
	}
	if sc.service != v.service {
		msg.WriteString("Credential should be scoped to correct service: '" + v.service + "'. ")
	}
	if sc.terminator != terminator {
		msg.WriteString("Credential should be scoped with a valid terminator: '" + terminator + "', not '" + sc.terminator + "'. ")
	}
	if day := amzDate[:8]; sc.date != day {
		msg.WriteString("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
			sc.date + "' != '" + day + "', from '" + amzDate + "'. ")
	}
	if msg.Len() > 0 {
		return fail(ErrInvalidSignature, msg.String())
	}
	return nil
}

// appendPayloadHash appends the hash that ends the canonical request: the
// X-Amz-Content-Sha256 the client declared, which must match the body unless
// it is UNSIGNED-PAYLOAD, or else the hash of the body.
func appendPayloadHash(dst []byte, r *http.Request, query []queryParam, presigned bool, body []byte) ([]byte, error) {
	declared := r.Header.Get("X-Amz-Content-Sha256")
	if presigned && declared == "" {
		declared, _ = lookup(query, "X-Amz-Content-Sha256")
	}
	if declared == unsignedBody {
		return append(dst, declared...), nil
	}
	sum := sha256.Sum256(body)
	var actual [2 * sha256.Size]byte
	hex.Encode(actual[:], sum[:])
	if declared != "" && declared != string(actual[:]) {
		return dst, fail(ErrSignatureMismatch, msgContentSHA256)
	}
	return append(dst, actual[:]...), nil
}

// appendCanonicalHeaders appends one line per signed header, in the order
// SignedHeaders names them: the name, a colon, and the header's values
// trimmed, with runs of spaces collapsed, joined by commas.
func appendCanonicalHeaders(dst []byte, r *http.Request, signed string) ([]byte, error) {
	for name := range strings.SplitSeq(signed, ";") {
		one, many, ok := headerValues(r, name)
		if !ok {
			return dst, fail(ErrIncompleteSignature, "'"+name+"' is named as a SignedHeader, but it does not exist in the HTTP request.")
		}
		dst = append(dst, name...)
		dst = append(dst, ':')
		if many == nil {
			dst = appendHeaderValue(dst, one)
		}
		for i, val := range many {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendHeaderValue(dst, val)
		}
		dst = append(dst, '\n')
	}
	return dst, nil
}

// headerValues returns the values of the header called name (lowercase), as
// the client sent them: either one value in one, or all of them in many.
// net/http moves some headers out of r.Header: Host to r.Host, and
// Transfer-Encoding and, for chunked bodies, Content-Length into fields of
// their own.
func headerValues(r *http.Request, name string) (one string, many []string, ok bool) {
	switch name {
	case "host":
		host := r.Host
		if host == "" {
			host = r.URL.Host
		}
		return host, nil, host != ""
	case "":
		return "", nil, false
	}
	if vs := headerByName(r.Header, name); len(vs) > 0 {
		return "", vs, true
	}
	switch name {
	case "content-length":
		if r.ContentLength >= 0 {
			return strconv.FormatInt(r.ContentLength, 10), nil, true
		}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return "", r.TransferEncoding, true
		}
	}
	return "", nil, false
}

// headerByName returns h's values for the lowercase header name, as
// h[textproto.CanonicalMIMEHeaderKey(name)] would but without allocating for
// the usual names.
func headerByName(h http.Header, name string) []string {
	var buf [64]byte
	if len(name) > len(buf) {
		return h[textproto.CanonicalMIMEHeaderKey(name)]
	}
	key := buf[:len(name)]
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z':
			if upper {
				c -= 'a' - 'A'
			}
		case 'A' <= c && c <= 'Z':
			if !upper {
				c += 'a' - 'A'
			}
		case '0' <= c && c <= '9' || c == '-':
		default:
			// CanonicalMIMEHeaderKey has rules of its own for other bytes.
			return h[textproto.CanonicalMIMEHeaderKey(name)]
		}
		key[i] = c
		upper = c == '-'
	}
	return h[string(key)]
}
