package sigv4

import (
	"crypto/ecdsa"
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

	// AllowRegion reports whether a SigV4 request may be signed for region
	// (the region of the credential scope). Default when nil: Region alone
	// when Region is set; otherwise any non-empty region, so that one
	// endpoint can serve every region and the caller decides what
	// Identity.Region means. It must be safe for concurrent use. SigV4a
	// requests, which carry a region set instead, are checked against Region.
	AllowRegion func(region string) bool

	// Region is the region this verifier serves, e.g. "us-east-1". A SigV4a
	// request is accepted only when its region set (X-Amz-Region-Set) covers
	// Region; see AllowSigV4a. When AllowRegion is nil, a SigV4 request must
	// be scoped to Region too. Default empty, which leaves SigV4's regions
	// to AllowRegion. It is required when AllowSigV4a is set, and it must not
	// contain ',', '*', '/' or whitespace: it is a region name, not a pattern.
	Region string

	// AllowSigV4a makes Verify accept SigV4a (AWS4-ECDSA-P256-SHA256), the
	// multi-region form whose one signature is valid in every region of its
	// region set, in the Authorization header and presigned. Default false:
	// like DynamoDB, Verify then refuses SigV4a as an unsupported algorithm
	// (ErrIncompleteSignature). Setting it requires Region.
	AllowSigV4a bool

	// MaxSkew is how far the request's X-Amz-Date (or Date) may be from Now,
	// either way. Default 15m, DynamoDB's limit, when zero; it must not be
	// negative. A presigned request with X-Amz-Expires may be as old as that
	// instead (at most a week), but no further in the future than MaxSkew.
	MaxSkew time.Duration

	// Now returns the current time. Default time.Now when nil; tests pass a
	// fake clock. It must be safe for concurrent use.
	Now func() time.Time

	// KeyCacheSize bounds how many derived keys are kept: SigV4 signing keys
	// (one per secret, day and region), saving four of the five HMACs a
	// request would otherwise cost, and, in a second cache of the same bound,
	// SigV4a public keys (one per access key pair), saving a scalar
	// multiplication that costs more than verifying the signature. Default
	// 1024 when zero; a negative size disables both caches.
	KeyCacheSize int
}

// Identity is who signed a request that Verify accepted, and how.
type Identity struct {
	// AccessKeyID is the key the request was signed with.
	AccessKeyID string
	// Algorithm is how the request was signed: AlgorithmV4 or AlgorithmV4a.
	Algorithm Algorithm
	// Region is, for SigV4, the region of the credential scope, the region
	// the client believes it is talking to. For SigV4a, whose scope has no
	// region, it is Options.Region, which RegionSet was found to cover.
	Region string
	// RegionSet is the SigV4a region set as signed: X-Amz-Region-Set, its
	// values joined by commas when it was given more than once, e.g. "*" or
	// "us-east-1,us-west-2". Empty for SigV4.
	RegionSet string
	// SessionToken is the X-Amz-Security-Token the client sent with temporary
	// credentials, when the signature covers it; otherwise empty. Verify does
	// not judge it: a caller that issues session tokens must check it belongs
	// to AccessKeyID.
	SessionToken string
}

// Verifier checks SigV4 and, when allowed, SigV4a signatures. It is safe for
// concurrent use by multiple goroutines.
type Verifier struct {
	creds       func(string) (string, bool)
	service     string
	allowRegion func(string) bool
	region      string
	allowV4a    bool
	maxSkew     time.Duration
	now         func() time.Time
	keys        *keyCache[keyCacheKey, signingKey]
	v4aKeys     *keyCache[v4aKeyCacheKey, *ecdsa.PublicKey]
}

// New returns a Verifier for o, after filling in defaults. It reports every
// problem with o at once.
func New(o Options) (*Verifier, error) {
	if o.Service == "" {
		o.Service = "dynamodb"
	}
	if o.AllowRegion == nil {
		if only := o.Region; only != "" {
			o.AllowRegion = func(region string) bool { return region == only }
		} else {
			o.AllowRegion = func(region string) bool { return region != "" }
		}
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
	if strings.ContainsAny(o.Region, ",*/ \t\r\n\v\f") {
		problems = append(problems, fmt.Errorf("Options.Region %q must be a region name, without ',', '*', '/' or whitespace", o.Region))
	}
	if o.AllowSigV4a && o.Region == "" {
		problems = append(problems, errors.New("Options.Region is required when AllowSigV4a is set"))
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
		region:      o.Region,
		allowV4a:    o.AllowSigV4a,
		maxSkew:     o.MaxSkew,
		now:         o.Now,
		keys:        newKeyCache[keyCacheKey, signingKey](o.KeyCacheSize),
		v4aKeys:     newKeyCache[v4aKeyCacheKey, *ecdsa.PublicKey](o.KeyCacheSize),
	}, nil
}

// Verify checks the SigV4 signature of r, signed either in the Authorization
// header or in a presigned query string; with Options.AllowSigV4a, a SigV4a
// signature too, whose region set must cover Options.Region. body is the
// complete request body, already read by the caller (who bounds its size);
// Verify does not touch r.Body. r must be the request as the server received
// it: Host, the path and the query string as the client sent them, so a proxy
// in front must not rewrite them.
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
		p, err = parseAuthorization(r.Header, auth, v.allowV4a)
	case presign:
		p, err = parsePresigned(query, v.allowV4a)
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
	v4a := p.algorithm == AlgorithmV4a
	sc, ok := parseCredential(p.credential, v4a)
	if !ok {
		if v4a {
			return Identity{}, fail(ErrIncompleteSignature, msgCredentialPartsV4a+p.credential+"'")
		}
		return Identity{}, fail(ErrIncompleteSignature, msgCredentialParts+p.credential+"'")
	}

	var hostSigned, dateSigned, tokenSigned, regionSetSigned bool
	for name := range strings.SplitSeq(p.signedHeaders, ";") {
		switch name {
		case "host":
			hostSigned = true
		case p.dateHeader:
			dateSigned = true
		case "x-amz-security-token":
			tokenSigned = true
		case "x-amz-region-set":
			regionSetSigned = true
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
	// A presigned request's region set is in the query, which is always
	// signed.
	if v4a && !p.presigned && !regionSetSigned {
		return Identity{}, fail(ErrInvalidSignature, msgRegionSetNotSigned)
	}

	if err := v.checkTime(p); err != nil {
		return Identity{}, err
	}
	if err := v.checkScope(&sc, p); err != nil {
		return Identity{}, err
	}

	secret, ok := v.creds(sc.accessKeyID)
	if !ok {
		return Identity{}, fail(ErrUnrecognizedClient, msgUnrecognized)
	}

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

	var matched bool
	if v4a {
		matched = v.matchV4a(r, s, p, &sc, secret)
	} else {
		matched = v.matchV4(r, s, p, &sc, secret)
	}
	if !matched {
		return Identity{}, fail(ErrSignatureMismatch, msgMismatch)
	}

	id := Identity{AccessKeyID: sc.accessKeyID, Algorithm: p.algorithm, Region: sc.region}
	if v4a {
		id.Region, id.RegionSet = v.region, p.regionSet
	}
	switch {
	case p.presigned:
		id.SessionToken, _ = lookup(query, "X-Amz-Security-Token")
	case tokenSigned:
		id.SessionToken = r.Header.Get("X-Amz-Security-Token")
	}
	return id, nil
}

// candidatePaths calls match with the request's path as sent and, when that
// does not match and normalizing changes it, with the path normalized, and
// reports whether either matched. The Go SDK signs the path as sent;
// botocore, the common runtime and the JavaScript and Java SDKs sign it with
// dot segments and repeated slashes removed. Both are SigV4 for a non-S3
// service, so Verify accepts either.
func candidatePaths(r *http.Request, match func(path string) bool) bool {
	path := wirePath(r.URL)
	if match(path) {
		return true
	}
	np := normalizePath(path)
	return np != path && match(np)
}

// matchV4 checks a SigV4 signature against the canonical request whose tail
// is in s, with the signing key from the cache or derived from secret,
// caching a derived key once it has verified the signature.
func (v *Verifier) matchV4(r *http.Request, s *scratch, p *presented, sc *scope, secret string) bool {
	want, wellFormed := decodeSignature(p.signature)
	if !wellFormed {
		return false
	}
	ck := keyCacheKey{secret: secret, date: sc.date, region: sc.region}
	key, cached := v.keys.get(ck)
	if !cached {
		key = deriveKey(secret, sc.date, sc.region, v.service)
	}
	matched := candidatePaths(r, func(path string) bool {
		return s.matchesHMAC(r.Method, path, p, sc, &key, &want)
	})
	if matched && !cached {
		v.keys.put(ck, key)
	}
	return matched
}

// matchV4a checks a SigV4a signature as matchV4 checks a SigV4 one, with the
// public key derived from the access key pair.
func (v *Verifier) matchV4a(r *http.Request, s *scratch, p *presented, sc *scope, secret string) bool {
	sig, wellFormed := decodeDER(p.signature)
	if !wellFormed {
		return false
	}
	ck := v4aKeyCacheKey{accessKeyID: sc.accessKeyID, secret: secret}
	pub, cached := v.v4aKeys.get(ck)
	if !cached {
		var err error
		if pub, err = deriveV4aPublicKey(sc.accessKeyID, secret); err != nil {
			return false // no key, so no signature can verify
		}
	}
	matched := candidatePaths(r, func(path string) bool {
		return s.matchesECDSA(r.Method, path, p, sc, pub, &sig)
	})
	if matched && !cached {
		v.v4aKeys.put(ck, pub)
	}
	return matched
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

// canonicalHash returns the SHA-256 of the canonical request for path and
// the tail already in s. It leaves the request in s.buf, which the caller
// may overwrite.
func (s *scratch) canonicalHash(method, path string) [sha256.Size]byte {
	cr := append(s.buf[:0], method...)
	cr = append(cr, '\n')
	cr = appendEscaped(cr, path, true)
	cr = append(cr, s.tail...)
	s.buf = cr
	return sha256.Sum256(cr)
}

// appendStringToSign appends the string to sign, which is the same for both
// algorithms but for its first line.
func appendStringToSign(dst []byte, p *presented, sc *scope, crHash *[sha256.Size]byte) []byte {
	dst = append(dst, p.algorithm...)
	dst = append(dst, '\n')
	dst = append(dst, p.amzDate...)
	dst = append(dst, '\n')
	dst = append(dst, sc.str...)
	dst = append(dst, '\n')
	return hex.AppendEncode(dst, crHash[:])
}

// matchesHMAC computes the SigV4 signature of the canonical request for path
// (and the tail already in s) and compares it with want in constant time.
func (s *scratch) matchesHMAC(method, path string, p *presented, sc *scope, key *signingKey, want *[sha256.Size]byte) bool {
	crHash := s.canonicalHash(method, path)
	// The string to sign goes straight after the HMAC's inner key block.
	sts := appendInnerKey(s.buf[:0], key)
	sts = appendStringToSign(sts, p, sc, &crHash)
	s.buf = sts
	got := finishHMAC(key, sts)
	return hmac.Equal(got[:], want[:])
}

// matchesECDSA checks the SigV4a signature sig of the canonical request for
// path (and the tail already in s): an ECDSA signature over the SHA-256 of
// the string to sign.
func (s *scratch) matchesECDSA(method, path string, p *presented, sc *scope, pub *ecdsa.PublicKey, sig *derSignature) bool {
	crHash := s.canonicalHash(method, path)
	sts := appendStringToSign(s.buf[:0], p, sc, &crHash)
	s.buf = sts
	digest := sha256.Sum256(sts)
	return ecdsa.VerifyASN1(pub, digest[:], sig.b[:sig.n])
}

// decodeSignature decodes a hex SigV4 signature; false when it is not 32
// bytes of hex, which can never match.
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

// checkScope compares the credential scope with the request: for SigV4 the
// region must be allowed, for SigV4a the region set must cover the region
// the verifier serves; the service must be ours, the terminator aws4_request
// and the date the request's date. Like DynamoDB, it names every mismatch in
// one message.
func (v *Verifier) checkScope(sc *scope, p *presented) error {
	var msg strings.Builder
	if p.algorithm == AlgorithmV4a {
		if !regionSetCovers(p.regionSet, v.region) {
			msg.WriteString("X-Amz-Region-Set '" + p.regionSet + "' does not include the region this endpoint serves: '" + v.region + "'. ")
		}
	} else if !v.allowRegion(sc.region) {
		msg.WriteString(msgInvalidRegion)
	}
	if sc.service != v.service {
		msg.WriteString("Credential should be scoped to correct service: '" + v.service + "'. ")
	}
	if sc.terminator != terminator {
		msg.WriteString("Credential should be scoped with a valid terminator: '" + terminator + "', not '" + sc.terminator + "'. ")
	}
	if day := p.amzDate[:8]; sc.date != day {
		msg.WriteString("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
			sc.date + "' != '" + day + "', from '" + p.amzDate + "'. ")
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
