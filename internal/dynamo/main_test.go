package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/gyre-dev/gyre/internal/leakcheck"
	"github.com/gyre-dev/gyre/internal/node"
)

// TestMain fails the tests if they leave goroutines running.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// The conformance suite: code written for DynamoDB with the real AWS SDK,
// run against real regions listening on 127.0.0.1:0, changing nothing but
// the endpoint (issue #2). Each top-level test starts one region and gives
// its subtests tables of their own.

// testRegion is a running region and a DynamoDB client for it.
type testRegion struct {
	*node.Region
	// URL is the region's endpoint, http://127.0.0.1:port.
	URL string
	// Client is the real AWS SDK client, configured as an application
	// would be, with retries off so that every error surfaces.
	Client *dynamodb.Client
	// HTTP is the client's transport, for raw requests.
	HTTP *http.Client
}

// startRegion starts a region on a free port with its data in a temporary
// directory; it is shut down when the test ends.
func startRegion(t testing.TB) *testRegion {
	t.Helper()
	r, err := node.StartRegion(node.RegionOptions{
		Name:    "us-east-1",
		Listen:  "127.0.0.1:0",
		DataDir: t.TempDir(),
		Logger:  slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatalf("starting region: %v", err)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 16}
	hc := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	t.Cleanup(func() {
		transport.CloseIdleConnections()
		if err := r.Shutdown(context.Background()); err != nil {
			t.Errorf("shutting down region: %v", err)
		}
	})
	url := "http://" + r.Addr().String()
	return &testRegion{Region: r, URL: url, HTTP: hc, Client: newClient(url, hc, node.DevAccessKey, node.DevSecretKey)}
}

// newClient returns an SDK client for endpoint with the given credentials.
func newClient(endpoint string, hc *http.Client, accessKey, secretKey string) *dynamodb.Client {
	return dynamodb.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
		HTTPClient:       hc,
	})
}

// testWriter sends the region's warnings and errors to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

var tableSeq atomic.Int64

// tableName returns a table name unique within the test binary, readable in
// failures.
func tableName(t testing.TB) string {
	name := strings.NewReplacer("/", ".", " ", "_", "#", "_", "(", "", ")", "", ",", "", "'", "", "=", "").Replace(t.Name())
	if len(name) > 200 {
		name = name[len(name)-200:]
	}
	return fmt.Sprintf("%s.%d", name, tableSeq.Add(1))
}

var ctx = context.Background()

// Attribute value shorthands.

func S(s string) types.AttributeValue  { return &types.AttributeValueMemberS{Value: s} }
func N(n string) types.AttributeValue  { return &types.AttributeValueMemberN{Value: n} }
func B(b []byte) types.AttributeValue  { return &types.AttributeValueMemberB{Value: b} }
func Bool(b bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: b} }
func Null() types.AttributeValue       { return &types.AttributeValueMemberNULL{Value: true} }
func L(vs ...types.AttributeValue) types.AttributeValue {
	if vs == nil {
		vs = []types.AttributeValue{}
	}
	return &types.AttributeValueMemberL{Value: vs}
}
func M(m map[string]types.AttributeValue) types.AttributeValue {
	return &types.AttributeValueMemberM{Value: m}
}
func SS(ss ...string) types.AttributeValue { return &types.AttributeValueMemberSS{Value: ss} }
func NS(ns ...string) types.AttributeValue { return &types.AttributeValueMemberNS{Value: ns} }
func BS(bs ...[]byte) types.AttributeValue { return &types.AttributeValueMemberBS{Value: bs} }

type item = map[string]types.AttributeValue

// createTable creates a PAY_PER_REQUEST table with a hash key pk (and a
// range key sk when skType is not empty) and returns its name.
func (r *testRegion) createTable(t testing.TB, pkType, skType types.ScalarAttributeType) string {
	t.Helper()
	name := tableName(t)
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: pkType}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}
	if skType != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("sk"), AttributeType: skType})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange})
	}
	if _, err := r.Client.CreateTable(ctx, in); err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
	return name
}

func (r *testRegion) put(t testing.TB, table string, it item) {
	t.Helper()
	if _, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
		t.Fatalf("PutItem %v: %v", show(it), err)
	}
}

func (r *testRegion) get(t testing.TB, table string, key item) item {
	t.Helper()
	out, err := r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetItem %v: %v", show(key), err)
	}
	return out.Item
}

// batchPut writes items 25 at a time.
func (r *testRegion) batchPut(t testing.TB, table string, items []item) {
	t.Helper()
	for len(items) > 0 {
		n := min(25, len(items))
		var reqs []types.WriteRequest
		for _, it := range items[:n] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		out, err := r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil {
			t.Fatalf("BatchWriteItem: %v", err)
		}
		if len(out.UnprocessedItems) != 0 {
			t.Fatalf("BatchWriteItem left %d tables unprocessed", len(out.UnprocessedItems))
		}
		items = items[n:]
	}
}

func (r *testRegion) describe(t testing.TB, table string) *types.TableDescription {
	t.Helper()
	out, err := r.Client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("DescribeTable %s: %v", table, err)
	}
	return out.Table
}

// wantAPIError fails unless err is a DynamoDB error with the code, and
// returns its message.
func wantAPIError(t testing.TB, err error, code string) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got error %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("got %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	return ae.ErrorMessage()
}

// wantValidation fails unless err is a ValidationException whose message
// contains want.
func wantValidation(t testing.TB, err error, want string) {
	t.Helper()
	msg := wantAPIError(t, err, "ValidationException")
	if !strings.Contains(msg, want) {
		t.Fatalf("ValidationException %q, want it to contain %q", msg, want)
	}
}

// show renders attribute values in DynamoDB's JSON-like notation, sorted,
// for comparisons and messages.
func show(v any) string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

func writeValue(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("<nil>")
	case item:
		if v == nil {
			b.WriteString("<nil>")
			return
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "%s: ", k)
			writeValue(b, v[k])
		}
		b.WriteString("}")
	case []item:
		b.WriteString("[")
		for i, it := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, it)
		}
		b.WriteString("]")
	case *types.AttributeValueMemberS:
		fmt.Fprintf(b, "S:%q", v.Value)
	case *types.AttributeValueMemberN:
		fmt.Fprintf(b, "N:%s", v.Value)
	case *types.AttributeValueMemberB:
		fmt.Fprintf(b, "B:%x", v.Value)
	case *types.AttributeValueMemberBOOL:
		fmt.Fprintf(b, "BOOL:%v", v.Value)
	case *types.AttributeValueMemberNULL:
		fmt.Fprintf(b, "NULL:%v", v.Value)
	case *types.AttributeValueMemberM:
		b.WriteString("M:")
		writeValue(b, item(v.Value))
	case *types.AttributeValueMemberL:
		b.WriteString("L:[")
		for i, e := range v.Value {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, e)
		}
		b.WriteString("]")
	case *types.AttributeValueMemberSS:
		s := append([]string(nil), v.Value...)
		sort.Strings(s)
		fmt.Fprintf(b, "SS:%q", s)
	case *types.AttributeValueMemberNS:
		s := append([]string(nil), v.Value...)
		sort.Strings(s)
		fmt.Fprintf(b, "NS:%v", s)
	case *types.AttributeValueMemberBS:
		s := make([]string, len(v.Value))
		for i, e := range v.Value {
			s[i] = fmt.Sprintf("%x", e)
		}
		sort.Strings(s)
		fmt.Fprintf(b, "BS:%v", s)
	default:
		fmt.Fprintf(b, "%T", v)
	}
}

// wantItem fails unless got and want hold the same attributes (sets in any
// order).
func wantItem(t testing.TB, what string, got, want item) {
	t.Helper()
	if show(got) != show(want) {
		t.Fatalf("%s:\n got %s\nwant %s", what, show(got), show(want))
	}
}

// wantEqual fails unless got and want are deeply equal.
func wantEqual[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}
