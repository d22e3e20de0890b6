package dynamo

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/sigv4"
	"github.com/gyre-dev/gyre/internal/store"
)

// apiError is an error in DynamoDB's shape: the __type a client's SDK turns
// into a typed exception, the message, the HTTP status, and for some types
// extra members (the item of a failed condition, cancellation reasons).
type apiError struct {
	Status  int
	Type    string // full __type, e.g. com.amazonaws.dynamodb.v20120810#ResourceNotFoundException
	Message string
	Item    attr.Item            // ConditionalCheckFailedException with ReturnValuesOnConditionCheckFailure
	Reasons []cancellationReason // TransactionCanceledException
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

type cancellationReason struct {
	Code    string    `json:"Code"`
	Message string    `json:"Message,omitempty"`
	Item    attr.Item `json:"Item,omitempty"`
}

// The __type namespaces DynamoDB uses: validation and protocol errors come
// from the service framework, the rest from DynamoDB itself.
const (
	nsDynamo   = "com.amazonaws.dynamodb.v20120810#"
	nsValidate = "com.amazon.coral.validate#"
	nsService  = "com.amazon.coral.service#"
)

func newError(status int, typ, format string, args ...any) *apiError {
	return &apiError{Status: status, Type: typ, Message: fmt.Sprintf(format, args...)}
}

func validationErr(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, nsValidate+"ValidationException", format, args...)
}

func serializationErr(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, nsService+"SerializationException", format, args...)
}

func resourceNotFound(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, nsDynamo+"ResourceNotFoundException", format, args...)
}

func resourceInUse(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, nsDynamo+"ResourceInUseException", format, args...)
}

func limitExceeded(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, nsDynamo+"LimitExceededException", format, args...)
}

func conditionFailed(item attr.Item) *apiError {
	e := newError(http.StatusBadRequest, nsDynamo+"ConditionalCheckFailedException", "The conditional request failed")
	e.Item = item
	return e
}

func internalErr() *apiError {
	return newError(http.StatusInternalServerError, nsDynamo+"InternalServerError", "Internal server error")
}

// toAPIError maps an error from any layer below to DynamoDB's shape. This is
// the one place Gyre's errors become DynamoDB error types. The second result
// is false for errors that are Gyre's fault (HTTP 500), which the caller
// logs.
func toAPIError(err error) (*apiError, bool) {
	var ae *apiError
	var ve *attr.ValidationError
	var nf *store.NotFoundError
	var ke *store.KeyError
	var se *json.SyntaxError
	var ute *json.UnmarshalTypeError
	var sigErr *sigv4.Error
	var b64 base64.CorruptInputError
	switch {
	case errors.As(err, &ae):
		return ae, ae.Status < 500
	case errors.As(err, &ve):
		return validationErr("%s", ve.Msg), true
	case errors.As(err, &ke):
		if msg, ok := keyErrorMessage(ke); ok {
			return validationErr("%s", msg), true
		}
	case errors.Is(err, store.ErrItemTooLarge):
		return validationErr("Item size has exceeded the maximum allowed size"), true
	case errors.Is(err, store.ErrDuplicateItem):
		return validationErr("Transaction request cannot include multiple operations on one item"), true
	case errors.Is(err, store.ErrBadStartKey):
		return validationErr("The provided starting key is invalid: The provided key element does not match the schema"), true
	case errors.As(err, &nf) && errors.Is(err, store.ErrIndexNotFound):
		return validationErr("The table does not have the specified index: %s", nf.Name), true
	case errors.Is(err, store.ErrTableNotFound):
		return resourceNotFound("Requested resource not found"), true
	case errors.Is(err, store.ErrTableExists):
		var ee *store.ExistsError
		errors.As(err, &ee)
		name := ""
		if ee != nil {
			name = ee.Name
		}
		return resourceInUse("Table already exists: %s", name), true
	case errors.Is(err, store.ErrIndexExists):
		return validationErr("One or more parameter values were invalid: %s", "Index already exists"), true
	case errors.Is(err, store.ErrIndexNotReady):
		return validationErr("Cannot read from backfilling global secondary index"), true
	case errors.Is(err, store.ErrTableBusy):
		return limitExceeded("Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table"), true
	case errors.Is(err, store.ErrIdempotentMismatch):
		return newError(http.StatusBadRequest, nsDynamo+"IdempotentParameterMismatchException",
			"Request idempotency token was used with different request parameters within the idempotency window"), true
	case errors.As(err, &se), errors.As(err, &ute):
		return serializationErr("%s", jsonErrorMessage(err)), true
	case errors.As(err, &b64):
		// A B, BS or key value that is not base64 fails in decoding, like
		// malformed JSON.
		return serializationErr("Base64 encoded value is invalid: %v", b64), true
	case errors.As(err, &sigErr):
		return sigv4Error(sigErr), true
	case errors.Is(err, store.ErrStorageFailing):
		// The store refused the write and applied none of it; it logs the
		// cause itself, once, not once per request.
		return newError(http.StatusInternalServerError, nsDynamo+"InternalServerError", "Internal server error: %s", err.Error()), true
	}
	return internalErr(), false
}

// keyErrorMessage is DynamoDB's message for a key that does not fit the
// table's or an index's key schema.
func keyErrorMessage(e *store.KeyError) (string, bool) {
	switch e.Err {
	case store.ErrKeyMissing:
		return fmt.Sprintf("One or more parameter values were invalid: Missing the key %s in the item", e.Attr), true
	case store.ErrKeyType:
		if e.Index != "" {
			return fmt.Sprintf("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %v Actual: %v IndexName: %s", e.Attr, e.Want, e.Got, e.Index), true
		}
		return fmt.Sprintf("One or more parameter values were invalid: Type mismatch for key %s expected: %v actual: %v", e.Attr, e.Want, e.Got), true
	case store.ErrKeyEmpty:
		kind := "string"
		if e.Got == attr.Binary {
			kind = "binary"
		}
		if e.Index != "" {
			return fmt.Sprintf("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty %s value. IndexName: %s, IndexKey: %s", kind, e.Index, e.Attr), true
		}
		return fmt.Sprintf("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s", kind, e.Attr), true
	case store.ErrKeyTooLarge:
		kind := "hashkey"
		if e.Sort {
			kind = "rangekey"
		}
		return fmt.Sprintf("One or more parameter values were invalid: Size of %s has exceeded the maximum size limit of%d bytes", kind, e.Limit), true
	}
	return "", false
}

func jsonErrorMessage(err error) string {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		if ute.Field != "" {
			return fmt.Sprintf("Unexpected value type in payload: %s cannot hold a JSON %s", ute.Field, ute.Value)
		}
		return fmt.Sprintf("Unexpected value type in payload: expected %v, found a JSON %s", ute.Type, ute.Value)
	}
	return "Malformed JSON in request body: " + err.Error()
}

func sigv4Error(e *sigv4.Error) *apiError {
	typ := "InvalidSignatureException"
	switch {
	case errors.Is(e, sigv4.ErrMissingAuthenticationToken):
		typ = "MissingAuthenticationTokenException"
	case errors.Is(e, sigv4.ErrIncompleteSignature):
		typ = "IncompleteSignatureException"
	case errors.Is(e, sigv4.ErrUnrecognizedClient):
		typ = "UnrecognizedClientException"
	}
	return newError(http.StatusBadRequest, nsService+typ, "%s", e.Message)
}

// writeError sends err as DynamoDB does: status, JSON body with __type and
// message, plus the extra members of its type.
func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"__type": e.Type, "message": e.Message}
	if e.Item != nil {
		body["Item"] = e.Item
	}
	if e.Reasons != nil {
		body["CancellationReasons"] = e.Reasons
	}
	b, err := json.Marshal(body)
	if err != nil {
		b = []byte(`{"__type":"` + nsDynamo + `InternalServerError","message":"Internal server error"}`)
	}
	writeJSON(w, e.Status, b)
}
