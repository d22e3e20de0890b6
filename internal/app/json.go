package app

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// apiError is an error the application answers with: an HTTP status and a
// JSON body {"code": ..., "message": ...}.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "BadRequest", format, args...)
}

func notFound(format string, args ...any) *apiError {
	return errorf(http.StatusNotFound, "NotFound", format, args...)
}

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Values come from JSON or from the store's own types.
		panic(fmt.Sprintf("app: a response failed to encode as JSON: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// writeError answers with e.
func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]string{"code": e.code, "message": e.message})
}

// decodeObject parses body as exactly one JSON object, keeping numbers as
// written so that they reach DynamoDB exactly.
func decodeObject(body []byte) (map[string]any, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("the request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest("the request body is not valid JSON: %s", jsonErrorText(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest("the request body is not valid JSON: it holds more than one value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("the request body must be a JSON object, not %s", jsonKind(v))
	}
	return obj, nil
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends too soon"
	}
	return err.Error()
}

// jsonKind names the JSON type of v, for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// toItem turns a decoded JSON object into a DynamoDB item: strings to S,
// numbers to N (exactly as written), booleans to BOOL, null to NULL, arrays
// to L and objects to M.
func toItem(obj map[string]any) map[string]types.AttributeValue {
	item := make(map[string]types.AttributeValue, len(obj))
	for k, v := range obj {
		item[k] = toAttr(v)
	}
	return item
}

func toAttr(v any) types.AttributeValue {
	switch v := v.(type) {
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}
	case bool:
		return &types.AttributeValueMemberBOOL{Value: v}
	case json.Number:
		return &types.AttributeValueMemberN{Value: v.String()}
	case string:
		return &types.AttributeValueMemberS{Value: v}
	case []any:
		l := make([]types.AttributeValue, len(v))
		for i, e := range v {
			l[i] = toAttr(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case map[string]any:
		return &types.AttributeValueMemberM{Value: toItem(v)}
	}
	panic(fmt.Sprintf("app: toAttr given %T, which JSON decoding never makes", v))
}

// fromItem turns a DynamoDB item into JSON values: the inverse of toItem,
// with sets as arrays and binary values as base64 strings.
func fromItem(item map[string]types.AttributeValue) map[string]any {
	obj := make(map[string]any, len(item))
	for k, v := range item {
		obj[k] = fromAttr(v)
	}
	return obj
}

func fromAttr(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return json.Number(v.Value)
	case *types.AttributeValueMemberBOOL:
		return v.Value
	case *types.AttributeValueMemberNULL:
		return nil
	case *types.AttributeValueMemberB:
		return base64.StdEncoding.EncodeToString(v.Value)
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = fromAttr(e)
		}
		return l
	case *types.AttributeValueMemberM:
		return fromItem(v.Value)
	case *types.AttributeValueMemberSS:
		return slices.Clone(v.Value)
	case *types.AttributeValueMemberNS:
		l := make([]any, len(v.Value))
		for i, n := range v.Value {
			l[i] = json.Number(n)
		}
		return l
	case *types.AttributeValueMemberBS:
		l := make([]any, len(v.Value))
		for i, b := range v.Value {
			l[i] = base64.StdEncoding.EncodeToString(b)
		}
		return l
	}
	return nil
}

// str returns item[name] when it is a string.
func str(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// maxIDBytes bounds ids in paths and bodies: DynamoDB allows partition keys
// of 2,048 bytes; the application states half that.
const maxIDBytes = 1024

// checkID checks an id given by a client.
func checkID(what, id string) *apiError {
	switch {
	case id == "":
		return badRequest("%s must not be empty", what)
	case len(id) > maxIDBytes:
		return badRequest("%s is %d bytes long; at most %d are allowed", what, len(id), maxIDBytes)
	case strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return badRequest("%s must not contain control characters", what)
	}
	return nil
}
