package dynamo_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gyre-dev/gyre/internal/dynamo"
	"github.com/gyre-dev/gyre/internal/store"
)

// fuzzTables are created before each input, so that requests naming them
// reach past the table lookup. "fzh" has a string hash key; "fzr" a string
// hash key, a number range key, a global index on g and a local one on l.
var fuzzTables = []string{
	`{"TableName": "fzh", "BillingMode": "PAY_PER_REQUEST",
	  "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
	  "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}`,
	`{"TableName": "fzr", "BillingMode": "PAY_PER_REQUEST",
	  "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
	                           {"AttributeName": "g", "AttributeType": "S"}, {"AttributeName": "l", "AttributeType": "B"}],
	  "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
	  "GlobalSecondaryIndexes": [{"IndexName": "gix", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
	                              "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a"]}}],
	  "LocalSecondaryIndexes": [{"IndexName": "lix", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}],
	                             "Projection": {"ProjectionType": "KEYS_ONLY"}}]}`,
}

// fuzzSeeds are valid requests for every operation.
var fuzzSeeds = map[string][]string{
	"CreateTable":   fuzzTables,
	"DescribeTable": {`{"TableName": "fzr"}`},
	"ListTables":    {`{}`, `{"Limit": 1, "ExclusiveStartTableName": "fzh"}`},
	"DeleteTable":   {`{"TableName": "fzh"}`},
	"UpdateTable": {
		`{"TableName": "fzh", "AttributeDefinitions": [{"AttributeName": "x", "AttributeType": "N"}],
		  "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": "xix", "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}}]}`,
		`{"TableName": "fzr", "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "gix"}}]}`,
		`{"TableName": "fzh", "BillingMode": "PROVISIONED", "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
		  "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}}`,
	},
	"UpdateTimeToLive":   {`{"TableName": "fzh", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "ttl"}}`},
	"DescribeTimeToLive": {`{"TableName": "fzh"}`},
	"DescribeEndpoints":  {`{}`},
	"DescribeLimits":     {`{}`},
	"TagResource":        {`{"ResourceArn": "arn:aws:dynamodb:us-east-1:000000000000:table/fzh", "Tags": [{"Key": "k", "Value": "v"}]}`},
	"UntagResource":      {`{"ResourceArn": "arn:aws:dynamodb:us-east-1:000000000000:table/fzh", "TagKeys": ["k"]}`},
	"ListTagsOfResource": {`{"ResourceArn": "arn:aws:dynamodb:us-east-1:000000000000:table/fzh"}`},
	"PutItem": {
		`{"TableName": "fzh", "Item": {"pk": {"S": "a"}, "n": {"N": "1.5"}, "l": {"L": [{"S": "x"}, {"M": {"b": {"BOOL": true}}}]}, "ss": {"SS": ["a", "b"]}}}`,
		`{"TableName": "fzr", "Item": {"pk": {"S": "a"}, "sk": {"N": "-1"}, "g": {"S": "g"}, "l": {"B": "AAE="}, "a": {"NULL": true}},
		  "ConditionExpression": "attribute_not_exists(pk) OR #a = :v", "ExpressionAttributeNames": {"#a": "a"},
		  "ExpressionAttributeValues": {":v": {"NS": ["1", "2"]}}, "ReturnValues": "ALL_OLD", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}`,
		`{"TableName": "fzh", "Item": {"pk": {"S": "b"}}, "Expected": {"x": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "2"}]}, "y": {"Exists": false}}, "ConditionalOperator": "OR"}`,
	},
	"GetItem": {
		`{"TableName": "fzh", "Key": {"pk": {"S": "a"}}, "ProjectionExpression": "l[1].b, #n", "ExpressionAttributeNames": {"#n": "n"}, "ConsistentRead": true}`,
		`{"TableName": "fzr", "Key": {"pk": {"S": "a"}, "sk": {"N": "-1"}}, "AttributesToGet": ["a", "g"], "ReturnConsumedCapacity": "TOTAL"}`,
	},
	"UpdateItem": {
		`{"TableName": "fzh", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET n = if_not_exists(n, :z) + :one, l = list_append(l, :l), m.x[0] = :s REMOVE x ADD ss :ss DELETE ds :ss",
		  "ConditionExpression": "size(l) < :ten AND begins_with(#p, :s) AND contains(ss, :s) AND attribute_type(n, :t) AND NOT n IN (:z, :ten)",
		  "ExpressionAttributeNames": {"#p": "pk"},
		  "ExpressionAttributeValues": {":z": {"N": "0"}, ":one": {"N": "1"}, ":l": {"L": [{"N": "3"}]}, ":s": {"S": "a"}, ":ss": {"SS": ["c"]}, ":ten": {"N": "10"}, ":t": {"S": "N"}},
		  "ReturnValues": "UPDATED_NEW"}`,
		`{"TableName": "fzr", "Key": {"pk": {"S": "a"}, "sk": {"N": "2"}}, "AttributeUpdates": {"a": {"Action": "ADD", "Value": {"N": "1"}}, "b": {"Action": "DELETE"}}, "ReturnValues": "ALL_NEW"}`,
	},
	"DeleteItem": {
		`{"TableName": "fzh", "Key": {"pk": {"S": "a"}}, "ConditionExpression": "n BETWEEN :a AND :b", "ExpressionAttributeValues": {":a": {"N": "0"}, ":b": {"N": "9"}}, "ReturnValues": "ALL_OLD"}`,
	},
	"Query": {
		`{"TableName": "fzr", "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b", "FilterExpression": "a <> :p", "ProjectionExpression": "sk, a",
		  "ExpressionAttributeValues": {":p": {"S": "a"}, ":a": {"N": "-5"}, ":b": {"N": "5"}}, "Limit": 2, "ScanIndexForward": false,
		  "ExclusiveStartKey": {"pk": {"S": "a"}, "sk": {"N": "-3"}}}`,
		`{"TableName": "fzr", "IndexName": "gix", "KeyConditionExpression": "g = :g AND sk > :z", "ExpressionAttributeValues": {":g": {"S": "g"}, ":z": {"N": "0"}}, "Select": "COUNT"}`,
		`{"TableName": "fzr", "IndexName": "lix", "KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}, "l": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"B": "AA=="}]}},
		  "QueryFilter": {"a": {"ComparisonOperator": "NOT_NULL"}}, "Select": "ALL_ATTRIBUTES"}`,
	},
	"Scan": {
		`{"TableName": "fzr", "Segment": 1, "TotalSegments": 3, "Limit": 5, "FilterExpression": "attribute_exists(g)"}`,
		`{"TableName": "fzh", "ScanFilter": {"n": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "1"}, {"N": "2.5"}]}, "ss": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "a"}]}}, "ConditionalOperator": "OR"}`,
	},
	"BatchGetItem": {
		`{"RequestItems": {"fzh": {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}], "ProjectionExpression": "pk"},
		                   "fzr": {"Keys": [{"pk": {"S": "a"}, "sk": {"N": "-1"}}], "ConsistentRead": true}}}`,
	},
	"BatchWriteItem": {
		`{"RequestItems": {"fzh": [{"PutRequest": {"Item": {"pk": {"S": "c"}, "b": {"BS": ["AA==", "AQ=="]}}}}, {"DeleteRequest": {"Key": {"pk": {"S": "b"}}}}],
		                   "fzr": [{"PutRequest": {"Item": {"pk": {"S": "c"}, "sk": {"N": "1E3"}, "g": {"S": "h"}}}}]}}`,
	},
	"TransactWriteItems": {
		`{"ClientRequestToken": "tok", "TransactItems": [
		  {"ConditionCheck": {"TableName": "fzh", "Key": {"pk": {"S": "a"}}, "ConditionExpression": "attribute_exists(pk)"}},
		  {"Put": {"TableName": "fzh", "Item": {"pk": {"S": "d"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
		  {"Update": {"TableName": "fzr", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}}},
		  {"Delete": {"TableName": "fzh", "Key": {"pk": {"S": "c"}}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}]}`,
	},
	"TransactGetItems": {
		`{"TransactItems": [{"Get": {"TableName": "fzh", "Key": {"pk": {"S": "a"}}, "ProjectionExpression": "#n", "ExpressionAttributeNames": {"#n": "n"}}},
		                   {"Get": {"TableName": "fzr", "Key": {"pk": {"S": "a"}, "sk": {"N": "-1"}}}}]}`,
	},
}

// fuzzServer is a Server over an in-memory store that accepts every
// request unsigned, for fuzzing the protocol layer in process.
func fuzzServer(tb testing.TB) (*dynamo.Server, *store.DB) {
	tb.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(store.Options{Dir: "/fuzz", FS: vfs.NewMem(), Region: "us-east-1", Logger: logger})
	if err != nil {
		tb.Fatalf("opening store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	srv, err := dynamo.New(dynamo.Options{
		DB:     db,
		Auth:   dynamo.AuthenticatorFunc(func(*http.Request, []byte) error { return nil }),
		Logger: logger,
	})
	if err != nil {
		tb.Fatalf("dynamo.New: %v", err)
	}
	return srv, db
}

// serveInProcess sends one request to srv and returns the recorded answer.
func serveInProcess(srv http.Handler, op string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

// ensureFuzzTables recreates the fixture tables an input may have deleted.
func ensureFuzzTables(tb testing.TB, srv http.Handler, db *store.DB) {
	for i, name := range []string{"fzh", "fzr"} {
		if _, err := db.Table(name); err == nil {
			continue
		}
		if rec := serveInProcess(srv, "CreateTable", []byte(fuzzTables[i])); rec.Code != http.StatusOK {
			tb.Fatalf("creating %s: %d %s", name, rec.Code, rec.Body)
		}
	}
}

// FuzzRequest feeds arbitrary bodies to every operation. Whatever the input,
// the server answers: never a 5xx (a handler panic answers 500), always a
// JSON body, with __type and message on errors.
func FuzzRequest(f *testing.F) {
	ops := dynamo.Operations()
	slices.Sort(ops)
	for op, bodies := range fuzzSeeds {
		i := slices.Index(ops, op)
		if i < 0 {
			f.Fatalf("seed for unknown operation %s", op)
		}
		for _, b := range bodies {
			f.Add(uint8(i), []byte(b))
		}
	}
	for _, op := range ops {
		if _, ok := fuzzSeeds[op]; !ok {
			f.Fatalf("no seed for %s", op)
		}
	}
	srv, db := fuzzServer(f)
	f.Fuzz(func(t *testing.T, opIndex uint8, body []byte) {
		ensureFuzzTables(t, srv, db)
		op := ops[int(opIndex)%len(ops)]
		rec := serveInProcess(srv, op, body)
		if err := checkAnswer(rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Fatalf("%s %q: %v", op, body, err)
		}
	})
}

// TestRequestRegressions replays inputs that once answered 500 or took
// minutes, each named for what it broke.
func TestRequestRegressions(t *testing.T) {
	t.Parallel()
	srv, db := fuzzServer(t)
	ensureFuzzTables(t, srv, db)
	deep := func(depth int, pad string) string {
		return strings.Repeat(`{"L":[`, depth) + `{"S":"` + pad + `"}` + strings.Repeat(`]}`, depth)
	}
	for _, tc := range []struct {
		name, op, body string
		typ            string // __type after '#'
	}{
		// encoding/json's base64.CorruptInputError fell through to
		// InternalServerError.
		{"invalid base64 in B", "PutItem", `{"TableName": "fzh", "Item": {"pk": {"S": "a"}, "b": {"B": "not base64!"}}}`, "SerializationException"},
		{"invalid base64 in BS", "PutItem", `{"TableName": "fzh", "Item": {"pk": {"S": "a"}, "b": {"BS": ["AA==", "%%%"]}}}`, "SerializationException"},
		{"invalid base64 in a key", "GetItem", `{"TableName": "fzr", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}, "l": {"B": "*"}}}`, "SerializationException"},
		// Each level of a nested value re-read all it held: 5000 levels
		// around a 1 MB string took minutes of CPU before being refused.
		{"deeply nested value", "PutItem", `{"TableName": "fzh", "Item": {"pk": {"S": "a"}, "v": ` + deep(5000, strings.Repeat("x", 1<<20)) + `}}`, "ValidationException"},
		{"deeply nested expression value", "UpdateItem", `{"TableName": "fzh", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET v = :v",
			"ExpressionAttributeValues": {":v": ` + deep(2000, "x") + `}}`, "ValidationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			rec := serveInProcess(srv, tc.op, []byte(tc.body))
			if err := checkAnswer(rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
				t.Fatal(err)
			}
			got := rawResponse{status: rec.Code, body: rec.Body.Bytes()}.errorType()
			if got != tc.typ {
				t.Fatalf("answered %s, want %s: %s", got, tc.typ, rec.Body)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("answering took %v", d)
			}
		})
	}
}
