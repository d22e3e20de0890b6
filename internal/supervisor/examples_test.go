//go:build unix

package supervisor_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/gyre-dev/gyre/internal/node"
	"github.com/gyre-dev/gyre/internal/pytool"
	"github.com/gyre-dev/gyre/internal/supervisor"
)

// TestNotesExample runs examples/apps/notes/app.py, as it is, under a
// supervisor, against a real Gyre region, as gyre up runs a topology's app:
// through /bin/sh -c, configured by its environment.
func TestNotesExample(t *testing.T) {
	py := pytool.Find(t, "boto3")
	ctx := context.Background()

	region, err := node.StartRegion(node.RegionOptions{Name: "us-east-1", Listen: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := region.Shutdown(context.Background()); err != nil {
			t.Errorf("region Shutdown: %v", err)
		}
	})
	endpoint := "http://" + region.Addr().String()
	dbTransport := &http.Transport{}
	defer dbTransport.CloseIdleConnections()
	db := dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("gyre", "gyregyregyre", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: dbTransport, Timeout: 30 * time.Second},
	})

	port := freePort(t)
	dir, err := filepath.Abs("../../examples/apps/notes")
	if err != nil {
		t.Fatal(err)
	}
	rec := supervisor.NewRecorder()
	s, err := supervisor.New(supervisor.Options{
		App:     "notes",
		Region:  "us-east-1",
		Command: []string{"/bin/sh", "-c", "exec " + py + " app.py"},
		Dir:     dir,
		Env: []string{
			"AWS_REGION=us-east-1",
			"AWS_DEFAULT_REGION=us-east-1",
			"AWS_ENDPOINT_URL_DYNAMODB=" + endpoint,
			"AWS_ACCESS_KEY_ID=gyre",
			"AWS_SECRET_ACCESS_KEY=gyregyregyre",
			"TABLE_NAME=notes",
			"PORT=" + strconv.Itoa(port),
		},
		StopGrace: 10 * time.Second,
		Logger:    rec.Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})

	appTransport := &http.Transport{}
	defer appTransport.CloseIdleConnections()
	app := &appClient{t: t, base: "http://127.0.0.1:" + strconv.Itoa(port), http: &http.Client{Transport: appTransport, Timeout: 10 * time.Second}}

	// The table does not exist yet: the app serves, and is unhealthy.
	status, body := app.waitForHealth(rec, func(status int) bool { return status != 0 })
	if status != http.StatusServiceUnavailable || body["status"] != "unhealthy" || body["error"] == nil {
		t.Fatalf("GET /health without the table: %d %v, want 503 with status unhealthy and an error", status, body)
	}
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("notes"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	if status, body := app.waitForHealth(rec, func(status int) bool { return status == http.StatusOK }); body["status"] != "ok" || body["region"] != "us-east-1" {
		t.Fatalf("GET /health: %d %v, want 200 with status ok in us-east-1", status, body)
	}

	status, note := app.do(http.MethodPost, "/notes", `{"text": "hello from Gyre", "stars": 4.5, "tags": ["a", "b"]}`)
	id, _ := note["id"].(string)
	if status != http.StatusCreated || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) ||
		note["region"] != "us-east-1" || note["text"] != "hello from Gyre" || note["stars"] != 4.5 {
		t.Fatalf("POST /notes: %d %v, want 201 with a new id, region us-east-1 and the note", status, note)
	}

	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		want                     map[string]any // fields the answer must have
		has                      []string       // fields it must have, of any value
	}{
		{"get the note", http.MethodGet, "/notes/" + id, "", http.StatusOK,
			map[string]any{"id": id, "region": "us-east-1", "servedBy": "us-east-1", "text": "hello from Gyre", "stars": 4.5, "tags": []any{"a", "b"}}, nil},
		{"a missing note", http.MethodGet, "/notes/no-such-note", "", http.StatusNotFound,
			map[string]any{"id": "no-such-note"}, []string{"error"}},
		{"bad JSON", http.MethodPost, "/notes", `{"text": `, http.StatusBadRequest, nil, []string{"error"}},
		{"not an object", http.MethodPost, "/notes", `["a", "b"]`, http.StatusBadRequest, nil, []string{"error"}},
		{"an unknown route", http.MethodGet, "/nope", "", http.StatusNotFound, nil, []string{"error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := app.do(tc.method, tc.path, tc.body)
			if status != tc.status {
				t.Errorf("%s %s: status %d (%v), want %d", tc.method, tc.path, status, body, tc.status)
			}
			for k, v := range tc.want {
				if got, ok := body[k]; !ok || !equalJSON(got, v) {
					t.Errorf("%s %s: %s = %v, want %v (answer %v)", tc.method, tc.path, k, got, v, body)
				}
			}
			for _, k := range tc.has {
				if _, ok := body[k]; !ok {
					t.Errorf("%s %s: no %s in %v", tc.method, tc.path, k, body)
				}
			}
		})
	}

	// The note is in the table, as the app wrote it.
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String("notes"),
		Key:            map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]types.AttributeValue{
		"id":     &types.AttributeValueMemberS{Value: id},
		"region": &types.AttributeValueMemberS{Value: "us-east-1"},
		"text":   &types.AttributeValueMemberS{Value: "hello from Gyre"},
		"stars":  &types.AttributeValueMemberN{Value: "4.5"},
		"tags":   &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "a"}, &types.AttributeValueMemberS{Value: "b"}}},
	}
	if got, wantS := describeItem(out.Item), describeItem(want); got != wantS {
		t.Errorf("the item in the table is %s, want %s", got, wantS)
	}

	// One line per request on stderr, logged with the app and region.
	rec.WaitFor(t, "for the POST", func(r supervisor.Record) bool {
		return r.Attrs["stream"] == "stderr" && r.Attrs["app"] == "notes" && r.Attrs["region"] == "us-east-1" &&
			strings.Contains(r.Msg, `"POST /notes HTTP/1.1" 201`)
	})

	pgid := s.Status().PID
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := supervisor.GroupGone(pgid); err != nil {
		t.Error(err)
	}
	// The app stopped by itself on SIGTERM, and said so.
	if st := s.Status(); st.Running || st.LastExit == nil || st.LastExit.Code != 0 || st.LastExit.Signal != 0 {
		t.Errorf("Status %+v, LastExit %+v: want stopped with exit code 0", st, st.LastExit)
	}
	if !slices.ContainsFunc(supervisor.Output(rec, "stderr"), func(l string) bool { return strings.Contains(l, "SIGTERM, stopping") }) {
		t.Errorf("the app did not log its SIGTERM:\n%s", rec.Dump())
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// appClient calls the notes app.
type appClient struct {
	t    *testing.T
	base string
	http *http.Client
}

// do sends a request and returns the status and the JSON object answered.
func (c *appClient) do(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	status, answer, err := c.try(method, path, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, answer
}

func (c *appClient) try(method, path, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		c.t.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	var answer map[string]any
	if err := json.Unmarshal(data, &answer); err != nil {
		c.t.Errorf("%s %s: the answer %q is not a JSON object: %v", method, path, data, err)
	}
	return resp.StatusCode, answer, nil
}

// waitForHealth polls GET /health until done holds for its status (0 while
// the app does not answer), with a deadline: the app's readiness. It fails
// the test if the app exits meanwhile.
func (c *appClient) waitForHealth(rec *supervisor.Recorder, done func(status int) bool) (int, map[string]any) {
	c.t.Helper()
	deadline := time.Now().Add(supervisor.WaitTimeout)
	for {
		status, body, err := c.try(http.MethodGet, "/health", "")
		if err != nil {
			status = 0
		}
		if done(status) {
			return status, body
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("GET /health: %d %v (%v) after %v; the records:\n%s", status, body, err, supervisor.WaitTimeout, rec.Dump())
		}
		if len(rec.Filter(func(r supervisor.Record) bool { return r.Msg == "app exited; restarting" })) > 0 {
			c.t.Fatalf("the app exited; the records:\n%s", rec.Dump())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// describeItem prints an item, its attributes sorted, for comparisons.
func describeItem(item map[string]types.AttributeValue) string {
	keys := make([]string, 0, len(item))
	for k := range item {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + describeValue(item[k]) + " ")
	}
	return strings.TrimSpace(b.String())
}

func describeValue(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return strconv.Quote(v.Value)
	case *types.AttributeValueMemberN:
		return "N:" + v.Value
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = describeValue(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	default:
		return "?"
	}
}
