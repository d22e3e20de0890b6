package sigv4

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	terminator     = "aws4_request"
	amzDateLayout  = "20060102T150405Z"
	unsignedBody   = "UNSIGNED-PAYLOAD"
	maxPresignLife = 7 * 24 * time.Hour
)

// presented is what a request claims about its signature, from either the
// Authorization header or a presigned query string, before any of it is
// checked against the request or the credentials.
type presented struct {
	algorithm Algorithm
	// credential is keyid/date/region/service/terminator for SigV4 and
	// keyid/date/service/terminator for SigV4a.
	credential    string
	signedHeaders string // as sent: semicolon-separated lowercase names
	signature     string // hex
	amzDate       string // the timestamp as it enters the string to sign
	time          time.Time
	// dateHeader is the lowercase name of the header that carried the date;
	// it must be signed. Empty for a presigned request, whose date is in the
	// (always signed) query string.
	dateHeader string
	presigned  bool
	// expires is X-Amz-Expires of a presigned request, zero when absent.
	expires time.Duration
	// regionSet is SigV4a's X-Amz-Region-Set, every value joined by commas
	// as they are in the canonical request; empty for SigV4.
	regionSet string
}

// parseAlgorithm returns the algorithm a request names, or an
// ErrIncompleteSignature error when it is not one the verifier accepts.
// SigV4a is refused, as DynamoDB refuses it, unless allowV4a is set.
func parseAlgorithm(alg string, allowV4a bool) (Algorithm, error) {
	switch a := Algorithm(alg); {
	case a == AlgorithmV4, a == AlgorithmV4a && allowV4a:
		return a, nil
	}
	return "", fail(ErrIncompleteSignature, "Unsupported AWS 'algorithm': '"+alg+"'")
}

// parseAuthorization reads the Authorization header, and for SigV4a the
// X-Amz-Region-Set header. Like DynamoDB it splits the parameters on commas
// and spaces, and reports every missing piece in one message.
func parseAuthorization(h http.Header, auth string, allowV4a bool) (presented, error) {
	var p presented
	for tok := range authTokens(auth) {
		if p.algorithm == "" {
			var err error
			if p.algorithm, err = parseAlgorithm(tok, allowV4a); err != nil {
				return p, err
			}
			continue
		}
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			return p, fail(ErrIncompleteSignature,
				"'"+tok+"' not a valid key=value pair (missing equal-sign) in Authorization header: '"+auth+"'.")
		}
		switch k {
		case "Credential":
			p.credential = firstOf(p.credential, v)
		case "SignedHeaders":
			p.signedHeaders = firstOf(p.signedHeaders, v)
		case "Signature":
			p.signature = firstOf(p.signature, v)
		}
	}

	date, dateHeader := h.Get("X-Amz-Date"), "x-amz-date"
	if date == "" {
		date, dateHeader = h.Get("Date"), "date"
	}
	var msg strings.Builder
	if p.credential == "" {
		msg.WriteString("Authorization header requires 'Credential' parameter. ")
	}
	if p.signature == "" {
		msg.WriteString("Authorization header requires 'Signature' parameter. ")
	}
	if p.signedHeaders == "" {
		msg.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
	}
	if date == "" {
		msg.WriteString(msgMissingDateHeader)
	}
	if p.algorithm == AlgorithmV4a {
		if vs := h.Values("X-Amz-Region-Set"); len(vs) > 0 {
			p.regionSet = strings.Join(vs, ",")
		} else {
			msg.WriteString(msgMissingRegionSetHeader)
		}
	}
	if msg.Len() > 0 {
		msg.WriteString("Authorization=")
		msg.WriteString(auth)
		return p, fail(ErrIncompleteSignature, msg.String())
	}

	p.dateHeader = dateHeader
	if dateHeader == "x-amz-date" {
		t, ok := parseAmzDate(date)
		if !ok {
			return p, fail(ErrIncompleteSignature, msgDateFormatPrefix+date+msgDateFormatSuffix)
		}
		p.time, p.amzDate = t, date
		return p, nil
	}
	t, err := http.ParseTime(date)
	if err != nil {
		var ok bool
		if t, ok = parseAmzDate(date); !ok {
			return p, fail(ErrIncompleteSignature, msgDateFormatPrefix+date+msgDateFormatSuffix)
		}
	}
	p.time, p.amzDate = t.UTC(), t.UTC().Format(amzDateLayout)
	if len(p.amzDate) != len(amzDateLayout) { // a year outside 0000-9999
		return p, fail(ErrIncompleteSignature, msgDateFormatPrefix+date+msgDateFormatSuffix)
	}
	return p, nil
}

// firstOf keeps the first value of a parameter that is given twice.
func firstOf(have, v string) string {
	if have != "" {
		return have
	}
	return v
}

// authTokens yields the non-empty pieces of an Authorization header split on
// commas, spaces and tabs.
func authTokens(auth string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for auth != "" {
			i := strings.IndexAny(auth, ", \t")
			if i < 0 {
				yield(auth)
				return
			}
			if i > 0 && !yield(auth[:i]) {
				return
			}
			auth = auth[i+1:]
		}
	}
}

// presignParams are the query parameters a presigned request must carry, in
// the order DynamoDB names the missing ones.
var presignParams = [...]string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"}

// parsePresigned reads the X-Amz-* parameters of a presigned query string,
// and for SigV4a X-Amz-Region-Set.
func parsePresigned(query []queryParam, allowV4a bool) (presented, error) {
	p := presented{presigned: true}
	var vals [len(presignParams)]string
	var msg strings.Builder
	for i, name := range presignParams {
		vals[i], _ = lookup(query, name)
		if vals[i] == "" {
			msg.WriteString("AWS query-string parameters must include '" + name + "'. ")
		}
	}
	if allowV4a && Algorithm(vals[0]) == AlgorithmV4a {
		if p.regionSet = lookupAll(query, "X-Amz-Region-Set"); p.regionSet == "" {
			msg.WriteString("AWS query-string parameters must include 'X-Amz-Region-Set'. ")
		}
	}
	if msg.Len() > 0 {
		msg.WriteString("Re-examine the query-string parameters.")
		return p, fail(ErrIncompleteSignature, msg.String())
	}
	var err error
	if p.algorithm, err = parseAlgorithm(vals[0], allowV4a); err != nil {
		return p, err
	}
	p.credential, p.signature, p.signedHeaders, p.amzDate = vals[1], vals[2], vals[3], vals[4]
	t, ok := parseAmzDate(p.amzDate)
	if !ok {
		return p, fail(ErrIncompleteSignature, msgDateFormatPrefix+p.amzDate+msgDateFormatSuffix)
	}
	p.time = t
	if e, ok := lookup(query, "X-Amz-Expires"); ok {
		n, err := strconv.Atoi(e)
		if err != nil || n < 1 || time.Duration(n)*time.Second > maxPresignLife {
			return p, fail(ErrIncompleteSignature, msgExpiresMalformed+e+"'.")
		}
		p.expires = time.Duration(n) * time.Second
	}
	return p, nil
}

// parseAmzDate parses the ISO 8601 basic format SigV4 uses,
// 20060102T150405Z, and nothing looser: the string goes into the string to
// sign as it is, so it must be the one canonical spelling of its time.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != len(amzDateLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(amzDateLayout, s)
	var buf [len(amzDateLayout)]byte
	if err != nil || string(t.AppendFormat(buf[:0], amzDateLayout)) != s {
		return time.Time{}, false
	}
	return t, true
}

// scope is the parsed credential: keyid/date/region/service/terminator for
// SigV4, keyid/date/service/terminator for SigV4a, whose region is empty.
type scope struct {
	accessKeyID, date, region, service, terminator string
	// str is the credential after the key id, as it enters the string to
	// sign.
	str string
}

// parseCredential splits a credential into its five parts, or for SigV4a
// (v4a) its four.
func parseCredential(c string, v4a bool) (scope, bool) {
	var parts [5]string
	n := len(parts)
	if v4a {
		n = 4
	}
	rest := c
	for i := range n {
		if i == n-1 {
			if strings.IndexByte(rest, '/') >= 0 {
				return scope{}, false
			}
			parts[i] = rest
			break
		}
		var ok bool
		if parts[i], rest, ok = strings.Cut(rest, "/"); !ok {
			return scope{}, false
		}
	}
	if v4a {
		return scope{
			accessKeyID: parts[0], date: parts[1], service: parts[2], terminator: parts[3],
			str: c[len(parts[0])+1:],
		}, true
	}
	return scope{
		accessKeyID: parts[0], date: parts[1], region: parts[2], service: parts[3], terminator: parts[4],
		str: c[len(parts[0])+1:],
	}, true
}
