package sigv4

import "errors"

// The sentinels below classify every error Verify returns. Verify always
// returns an *Error whose Err is one of them, so a caller picks the DynamoDB
// error type with errors.Is and the client-facing message from Error.Message.
// DynamoDB answers all of them with HTTP 400. The four class sentinels cover
// every failure; the finer ones below them also match their class, so
// errors.Is(err, ErrInvalidSignature) holds for an expired signature too.
var (
	// ErrMissingAuthenticationToken is returned by Verify when the request
	// carries neither an Authorization header nor a presigned query string.
	// DynamoDB: MissingAuthenticationTokenException, "Request is missing
	// Authentication Token".
	ErrMissingAuthenticationToken = errors.New("sigv4: missing authentication token")

	// ErrIncompleteSignature is returned by Verify when the signature cannot be
	// checked because the request does not say enough: a missing Credential,
	// SignedHeaders or Signature, a malformed credential or date, an
	// unsupported algorithm (SigV4a among them unless Options.AllowSigV4a is
	// set), a SigV4a request without X-Amz-Region-Set, a signed header the
	// request does not carry.
	// DynamoDB: IncompleteSignatureException; the message names what is wrong,
	// e.g. "Authorization header requires 'Signature' parameter.
	// Authorization=...".
	ErrIncompleteSignature = errors.New("sigv4: incomplete signature")

	// ErrUnrecognizedClient is returned by Verify when Options.Credentials does
	// not know the access key id. DynamoDB: UnrecognizedClientException, "The
	// security token included in the request is invalid."
	ErrUnrecognizedClient = errors.New("sigv4: unrecognized client")

	// ErrInvalidSignature is the class of errors for a signature that is
	// well-formed but not acceptable: it does not match, it is outside the
	// allowed time window, its credential scope names the wrong date, region
	// or service, its SigV4a region set does not cover Options.Region, or it
	// leaves Host, the date or the SigV4a region set unsigned. DynamoDB:
	// InvalidSignatureException, with the message from Error.Message, e.g.
	// "Credential should be scoped to correct service: 'dynamodb'. ".
	ErrInvalidSignature = errors.New("sigv4: invalid signature")
)

// Finer kinds of ErrInvalidSignature, for callers and tests that care which
// check failed. Each also matches ErrInvalidSignature with errors.Is.
var (
	// ErrSignatureMismatch is returned by Verify when the signature it computed
	// differs from the one the request carries, or when X-Amz-Content-Sha256
	// does not match the body. DynamoDB: InvalidSignatureException, "The
	// request signature we calculated does not match the signature you
	// provided. Check your AWS Secret Access Key and signing method. Consult
	// the service documentation for details."
	ErrSignatureMismatch error = &kindError{"sigv4: signature mismatch", ErrInvalidSignature}

	// ErrSignatureExpired is returned by Verify when the request's date is
	// more than Options.MaxSkew before the current time (for a presigned
	// request, more than X-Amz-Expires). DynamoDB: InvalidSignatureException,
	// "Signature expired: 20240101T000000Z is now earlier than
	// 20240101T001000Z (20240101T002500Z - 15 min.)".
	ErrSignatureExpired error = &kindError{"sigv4: signature expired", ErrInvalidSignature}

	// ErrSignatureNotYetCurrent is returned by Verify when the request's date
	// is more than Options.MaxSkew after the current time. DynamoDB:
	// InvalidSignatureException, "Signature not yet current: 20240101T010000Z
	// is still later than 20240101T004000Z (20240101T002500Z + 15 min.)".
	ErrSignatureNotYetCurrent error = &kindError{"sigv4: signature not yet current", ErrInvalidSignature}
)

// Error is the error Verify returns. It is safe to send Message to the client:
// it holds nothing the client did not send or could not compute itself.
type Error struct {
	// Err is one of the package's sentinels; it decides the DynamoDB error
	// type. Error unwraps to it.
	Err error
	// Message explains the failure in DynamoDB's words, for the response body.
	Message string
}

// Error returns the sentinel's text followed by the client-facing message.
func (e *Error) Error() string { return e.Err.Error() + ": " + e.Message }

// Unwrap returns e.Err, so errors.Is matches the sentinels.
func (e *Error) Unwrap() error { return e.Err }

// kindError is a finer sentinel that also matches its class.
type kindError struct {
	msg   string
	class error
}

func (k *kindError) Error() string { return k.msg }
func (k *kindError) Unwrap() error { return k.class }

// Messages DynamoDB sends for the fixed-text failures.
const (
	msgMissingToken           = "Request is missing Authentication Token"
	msgUnrecognized           = "The security token included in the request is invalid."
	msgMismatch               = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgHostNotSigned          = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	msgBothAuth               = "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
	msgContentSHA256          = "The provided 'x-amz-content-sha256' header does not match what was computed."
	msgInvalidRegion          = "Credential should be scoped to a valid region. "
	msgCredentialParts        = "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"
	msgCredentialPartsV4a     = "Credential must have exactly 4 slash-delimited elements, e.g. keyid/date/service/term, got '"
	msgDateFormatPrefix       = "Date must be in ISO-8601 'basic format'. Got '"
	msgDateFormatSuffix       = "'. See http://en.wikipedia.org/wiki/ISO_8601"
	msgExpiresMalformed       = "X-Amz-Expires must be a whole number of seconds from 1 to 604800 (one week), not '"
	msgMissingDateHeader      = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
	msgMissingRegionSetHeader = "Authorization header requires existence of a 'X-Amz-Region-Set' header. "
	msgRegionSetNotSigned     = "'X-Amz-Region-Set' must be a 'SignedHeader' in the AWS Authorization."
)

func fail(kind error, msg string) error { return &Error{Err: kind, Message: msg} }
