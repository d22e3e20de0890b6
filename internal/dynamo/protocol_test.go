package dynamo_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/gyre-dev/gyre/internal/dynamo"
	"github.com/gyre-dev/gyre/internal/node"
)

// signer says how a raw request is signed.
type signer struct {
	unsigned          bool
	accessKey, secret string    // default: the development credentials
	at                time.Time // default: now
}

// rawResponse is a response to a hand-built request.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// errorType returns the part of the response's __type after '#', or "".
func (r rawResponse) errorType() string {
	var e struct {
		Type string `json:"__type"`
	}
	json.Unmarshal(r.body, &e)
	return e.Type[strings.IndexByte(e.Type, '#')+1:]
}

// raw sends a POST to the region with the X-Amz-Target operation (a bare
// operation name gets DynamoDB's prefix), signed as s says.
func (r *testRegion) raw(t testing.TB, op string, body []byte, s signer) (rawResponse, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	if op != "" && !strings.Contains(op, ".") {
		op = "DynamoDB_20120810." + op
	}
	if op != "" {
		req.Header.Set("X-Amz-Target", op)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	if !s.unsigned {
		if s.accessKey == "" {
			s.accessKey, s.secret = node.DevAccessKey, node.DevSecretKey
		}
		if s.at.IsZero() {
			s.at = time.Now()
		}
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: s.accessKey, SecretAccessKey: s.secret}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "dynamodb", "us-east-1", s.at); err != nil {
			t.Fatalf("signing: %v", err)
		}
	}
	resp, err := r.HTTP.Do(req)
	if err != nil {
		return rawResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return rawResponse{}, err
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// mustRaw is raw for requests that must get an answer.
func (r *testRegion) mustRaw(t testing.TB, op string, body []byte, s signer) rawResponse {
	t.Helper()
	resp, err := r.raw(t, op, body, s)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return resp
}

// checkAnswer checks what every answer must be, whatever the input: not a
// server error, a JSON body, and for an error a __type with a namespace and
// a message, in the headers the SDKs verify.
func checkAnswer(status int, header http.Header, body []byte) error {
	if status >= 500 {
		return fmt.Errorf("status %d: %s", status, body)
	}
	if ct := header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		return fmt.Errorf("Content-Type %q", ct)
	}
	if crc := header.Get("X-Amz-Crc32"); crc != strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10) {
		return fmt.Errorf("x-amz-crc32 %s does not match the body", crc)
	}
	if header.Get("X-Amzn-Requestid") == "" {
		return errors.New("no x-amzn-RequestId")
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body is not a JSON object: %v: %q", err, body)
	}
	if status == http.StatusOK {
		if _, ok := m["__type"]; ok {
			return fmt.Errorf("status 200 with __type: %s", body)
		}
		return nil
	}
	typ, _ := m["__type"].(string)
	if !strings.Contains(typ, "#") || typ[strings.IndexByte(typ, '#')+1:] == "" {
		return fmt.Errorf("status %d with __type %q", status, typ)
	}
	if _, ok := m["message"].(string); !ok {
		return fmt.Errorf("status %d without a message: %s", status, body)
	}
	return nil
}

func TestProtocol(t *testing.T) {
	t.Parallel()
	r := startRegion(t)
	table := r.createTable(t, types.ScalarAttributeTypeS, "")

	for _, tc := range []struct {
		name   string
		op     string
		body   string
		sign   signer
		status int
		typ    string // after '#'
		ns     string // before '#'
		msg    string // part of the message
	}{
		{"malformed JSON", "PutItem", `{"TableName": "x",`, signer{}, 400, "SerializationException", "com.amazon.coral.service", ""},
		{"wrong JSON type", "GetItem", `{"TableName": 5}`, signer{}, 400, "SerializationException", "com.amazon.coral.service", ""},
		{"JSON array", "ListTables", `[]`, signer{}, 400, "SerializationException", "com.amazon.coral.service", ""},
		{"unknown operation", "DropEverything", `{}`, signer{}, 400, "UnknownOperationException", "com.amazon.coral.service", ""},
		{"unknown service", "DynamoDB_20990101.ListTables", `{}`, signer{}, 400, "UnknownOperationException", "com.amazon.coral.service", ""},
		{"no target", "", `{}`, signer{}, 400, "UnknownOperationException", "com.amazon.coral.service", ""},
		{"unsigned", "ListTables", `{}`, signer{unsigned: true}, 400, "MissingAuthenticationTokenException", "com.amazon.coral.service", ""},
		{"wrong secret", "ListTables", `{}`, signer{accessKey: node.DevAccessKey, secret: "wrong"}, 400, "InvalidSignatureException", "com.amazon.coral.service",
			"The request signature we calculated does not match the signature you provided"},
		{"unknown access key", "ListTables", `{}`, signer{accessKey: "AKIDEXAMPLE", secret: "x"}, 400, "UnrecognizedClientException", "com.amazon.coral.service",
			"The security token included in the request is invalid"},
		{"signed 20 minutes ago", "ListTables", `{}`, signer{at: time.Now().Add(-20 * time.Minute)}, 400, "InvalidSignatureException", "com.amazon.coral.service",
			"Signature expired"},
		{"signed 20 minutes ahead", "ListTables", `{}`, signer{at: time.Now().Add(20 * time.Minute)}, 400, "InvalidSignatureException", "com.amazon.coral.service",
			"Signature not yet current"},
		{"missing table", "DescribeTable", `{"TableName": "no_such_table"}`, signer{}, 400, "ResourceNotFoundException", "com.amazonaws.dynamodb.v20120810", "no_such_table"},
		{"validation", "CreateTable", `{"TableName": "ab"}`, signer{}, 400, "ValidationException", "com.amazon.coral.validate", ""},
		{"empty body", "ListTables", ``, signer{}, 200, "", "", ""},
		{"valid", "GetItem", `{"TableName": "` + table + `", "Key": {"pk": {"S": "x"}}}`, signer{}, 200, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := r.mustRaw(t, tc.op, []byte(tc.body), tc.sign)
			if err := checkAnswer(resp.status, resp.header, resp.body); err != nil {
				t.Fatal(err)
			}
			if resp.status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.status, tc.status, resp.body)
			}
			if tc.typ == "" {
				return
			}
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			json.Unmarshal(resp.body, &e)
			if e.Type != tc.ns+"#"+tc.typ {
				t.Fatalf("__type %q, want %q", e.Type, tc.ns+"#"+tc.typ)
			}
			if !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("message %q, want it to contain %q", e.Message, tc.msg)
			}
		})
	}

	t.Run("health", func(t *testing.T) {
		resp, err := r.HTTP.Get(r.URL + "/")
		if err != nil {
			t.Fatalf("GET /: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "healthy: ") {
			t.Fatalf("GET /: %d %q", resp.StatusCode, b)
		}
	})

	t.Run("SDK with bad credentials", func(t *testing.T) {
		for _, tc := range []struct {
			key, secret, want string
		}{
			{node.DevAccessKey, "not-the-secret", "InvalidSignatureException"},
			{"AKIAUNKNOWN", node.DevSecretKey, "UnrecognizedClientException"},
		} {
			c := newClient(r.URL, r.HTTP, tc.key, tc.secret)
			_, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
			wantAPIError(t, err, tc.want)
			_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"pk": S("intruder")}})
			wantAPIError(t, err, tc.want)
		}
		if got := r.get(t, table, item{"pk": S("intruder")}); got != nil {
			t.Fatalf("a request with bad credentials wrote %s", show(got))
		}
	})

	t.Run("body over the size limit", func(t *testing.T) {
		body := []byte(`{"TableName": "` + table + `", "Item": {"pk": {"S": "huge"}, "x": {"S": "` + strings.Repeat("x", 16<<20) + `"}}}`)
		resp, err := r.raw(t, "PutItem", body, signer{})
		if err == nil {
			if resp.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413: %.200s", resp.status, resp.body)
			}
			if err := checkAnswer(resp.status, resp.header, resp.body); err != nil {
				t.Fatal(err)
			}
		}
		// The server may close the connection while the client is still
		// writing; what matters is that it refused and still answers.
		if got := r.get(t, table, item{"pk": S("huge")}); got != nil {
			t.Fatalf("an oversized request was stored")
		}
	})

	t.Run("deep nesting", func(t *testing.T) {
		deepValue := func(depth int, pad string) string {
			return strings.Repeat(`{"L":[`, depth) + `{"S":"` + pad + `"}` + strings.Repeat(`]}`, depth)
		}
		start := time.Now()
		for _, body := range []string{
			// Nested as deeply as the 1 MB payload allows: without a bound
			// on nesting, decoding it costs minutes of CPU.
			`{"TableName": "` + table + `", "Item": {"pk": {"S": "deep"}, "v": ` + deepValue(5000, strings.Repeat("x", 1<<20)) + `}}`,
			`{"TableName": "` + table + `", "Item": {"pk": {"S": "deep"}, "v": ` + deepValue(40, "x") + `}}`,
			strings.Repeat("[", 100000) + strings.Repeat("]", 100000),
			`{"TableName": ` + strings.Repeat(`{"a":`, 50000) + `1` + strings.Repeat(`}`, 50000) + `}`,
		} {
			resp := r.mustRaw(t, "PutItem", []byte(body), signer{})
			if err := checkAnswer(resp.status, resp.header, resp.body); err != nil {
				t.Fatal(err)
			}
			if resp.status == http.StatusOK {
				t.Fatalf("a request nested too deeply was accepted")
			}
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("refusing deeply nested requests took %v", d)
		}
		// As deep as DynamoDB allows is fine, and fast.
		body := `{"TableName": "` + table + `", "Item": {"pk": {"S": "deep"}, "v": ` + deepValue(32, strings.Repeat("x", 100<<10)) + `}}`
		resp := r.mustRaw(t, "PutItem", []byte(body), signer{})
		if resp.status != http.StatusOK {
			t.Fatalf("item nested 32 deep: %d %s", resp.status, resp.body)
		}
		body = `{"RequestItems": {"` + table + `": [{"PutRequest": {"Item": {"pk": {"S": "deep2"}, "v": ` + deepValue(32, "x") + `}}}]}}`
		if resp := r.mustRaw(t, "BatchWriteItem", []byte(body), signer{}); resp.status != http.StatusOK {
			t.Fatalf("batch of an item nested 32 deep: %d %s", resp.status, resp.body)
		}
	})

	t.Run("garbage", func(t *testing.T) {
		bodies := []string{
			``, `null`, `true`, `0`, `"x"`, `[]`, `{}`, `{`, `}`, `{"":""}`, "\xff\xfe", "{\"TableName\":\"\xff\"}",
			`{"TableName": null}`, `{"TableName": "` + table + `", "Key": null}`, `{"TableName": "` + table + `", "Key": []}`,
			`{"TableName": "` + table + `", "Key": {"pk": {}}}`, `{"TableName": "` + table + `", "Key": {"pk": {"S": "x", "N": "1"}}}`,
			`{"TableName": "` + table + `", "Key": {"pk": {"S": 1}}}`, `{"TableName": "` + table + `", "Item": {"pk": {"N": "1e999999999999999"}}}`,
			`{"TableName": "` + table + `", "Item": {"pk": {"S": "n"}, "n": {"N": "` + strings.Repeat("9", 100000) + `"}}}`,
			`{"TableName": "` + table + `", "Item": {"pk": {"S": "n"}, "b": {"B": "not base64!"}}}`,
			`{"TableName": "` + table + `", "Item": {"pk": {"S": "n"}, "s": {"SS": null}}}`,
			`{"TableName": "` + table + `", "Item": {"pk": {"S": "n"}, "s": {"NULL": false}}}`,
			`{"TableName": "` + table + `", "Item": {"pk": {"S": "n"}, "s": {"M": null}}}`,
			`{"TableName": "` + table + `", "Item": {"pk": {"S": "n"}, "s": {"L": [null]}}}`,
			`{"TableName": "` + table + `", "Key": {"pk": {"S": "x"}}, "UpdateExpression": "` + strings.Repeat("SET a = :v, ", 1000) + `", "ExpressionAttributeValues": {":v": {"S": "x"}}}`,
			`{"TableName": "` + table + `", "Key": {"pk": {"S": "x"}}, "ConditionExpression": "` + strings.Repeat("(", 3000) + `a = b` + strings.Repeat(")", 3000) + `"}`,
			`{"TableName": "` + table + `", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "x"}}, "Limit": -1}`,
			`{"TableName": "` + table + `", "Limit": 99999999999999999999}`,
			`{"TableName": "` + table + `", "Segment": 0, "TotalSegments": 0}`,
			`{"TableName": "` + table + `", "ExclusiveStartKey": {"pk": {"N": "1"}}}`,
			`{"RequestItems": {"` + table + `": {"Keys": [{"pk": {"S": "x"}}, {}]}}}`,
			`{"RequestItems": {"` + table + `": [{}]}}`,
			`{"TransactItems": [{"Put": {}, "Delete": {}}]}`,
			`{"TransactItems": [{"Get": null}]}`,
			`{"TableName": "` + strings.Repeat("t", 1<<20) + `"}`,
		}
		for _, op := range dynamo.Operations() {
			for _, body := range bodies {
				resp, err := r.raw(t, op, []byte(body), signer{})
				if err != nil {
					t.Fatalf("%s %.100q: %v", op, body, err)
				}
				if err := checkAnswer(resp.status, resp.header, resp.body); err != nil {
					t.Fatalf("%s %.100q: %v", op, body, err)
				}
			}
		}
		// The region still serves. (The garbage included DeleteTable of
		// the table above.)
		if _, err := r.Client.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
			t.Fatalf("ListTables after garbage: %v", err)
		}
		after := r.createTable(t, types.ScalarAttributeTypeS, "")
		r.put(t, after, item{"pk": S("after")})
	})

	t.Run("request ids", func(t *testing.T) {
		a := r.mustRaw(t, "ListTables", []byte(`{}`), signer{})
		b := r.mustRaw(t, "ListTables", []byte(`{}`), signer{})
		if a.header.Get("X-Amzn-Requestid") == b.header.Get("X-Amzn-Requestid") {
			t.Fatalf("two requests share the id %s", a.header.Get("X-Amzn-Requestid"))
		}
		var oe *smithy.OperationError
		_, err := r.Client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("no_such_table")})
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), "RequestID: ") {
			t.Fatalf("SDK error %v carries no request id", err)
		}
	})
}
