package bench

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeDynamo is a minimal DynamoDB JSON endpoint for testing the harness's
// own logic: table setup, preload, pacing, error and miss counting. It
// serves just the operations and expressions the harness sends, from memory,
// and can be told to fail requests. It is not a model of DynamoDB; the
// end-to-end test against Gyre's real server lives with the server.
type fakeDynamo struct {
	srv *httptest.Server

	// Set before the first request, read-only after.

	// hook, if set, is called with each request's operation and that
	// operation's call number (from 1); a non-empty result is an error code
	// to answer with instead of serving the request. It may block: it gets
	// the request so it can wait for the client to give up.
	hook func(r *http.Request, op string, n int) string
	// creatingDescribes is how many DescribeTable calls a new table answers
	// CREATING to before it turns ACTIVE.
	creatingDescribes int
	// unprocessedBatches is how many BatchWriteItem calls return their last
	// item unprocessed.
	unprocessedBatches int

	mu struct {
		sync.Mutex
		calls  map[string]int
		tables map[string]*fakeTable
		// accessKeys records the access key of every signed request.
		accessKeys map[string]bool
	}
}

type fakeTable struct {
	keySchema  []map[string]string
	attrDefs   []map[string]string
	describes  int
	partitions map[string]map[int]map[string]json.RawMessage // pk → sk → item
}

func newFakeDynamo(t testing.TB, configure func(*fakeDynamo)) *fakeDynamo {
	f := &fakeDynamo{}
	f.mu.calls = map[string]int{}
	f.mu.tables = map[string]*fakeTable{}
	f.mu.accessKeys = map[string]bool{}
	if configure != nil {
		configure(f)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// addTable creates an ACTIVE table with the given key schema, as
// "name:HASH:S" or "name:RANGE:N" elements.
func (f *fakeDynamo) addTable(name string, keys ...string) {
	t := &fakeTable{partitions: map[string]map[int]map[string]json.RawMessage{}}
	for _, k := range keys {
		parts := strings.Split(k, ":")
		t.keySchema = append(t.keySchema, map[string]string{"AttributeName": parts[0], "KeyType": parts[1]})
		t.attrDefs = append(t.attrDefs, map[string]string{"AttributeName": parts[0], "AttributeType": parts[2]})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mu.tables[name] = t
}

func (f *fakeDynamo) calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.calls[op]
}

func (f *fakeDynamo) itemCount(table string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.mu.tables[table]
	if !ok {
		return -1
	}
	n := 0
	for _, p := range t.partitions {
		n += len(p)
	}
	return n
}

func (f *fakeDynamo) hasTable(table string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.mu.tables[table]
	return ok
}

func (f *fakeDynamo) usedAccessKeys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k := range f.mu.accessKeys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

type fakeError struct {
	status int
	code   string
}

func (f *fakeDynamo) serve(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	if !ok || r.Method != http.MethodPost {
		http.Error(w, "not a DynamoDB request", http.StatusBadRequest)
		return
	}
	var req map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeFakeError(w, fakeError{400, "SerializationException"}, err.Error())
		return
	}

	f.mu.Lock()
	f.mu.calls[op]++
	n := f.mu.calls[op]
	if _, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
		key, _, _ := strings.Cut(cred, "/")
		f.mu.accessKeys[key] = true
	}
	f.mu.Unlock()

	if f.hook != nil {
		if code := f.hook(r, op, n); code != "" {
			status := 400
			if code == "InternalServerError" {
				status = 500
			}
			writeFakeError(w, fakeError{status, code}, "injected by the test")
			return
		}
	}

	f.mu.Lock()
	resp, ferr := f.handle(op, n, req)
	f.mu.Unlock()
	if ferr != nil {
		writeFakeError(w, *ferr, op)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if err := json.NewEncoder(w).Encode(resp); err != nil {
		panic(fmt.Sprintf("fake: encoding %s response: %v", op, err))
	}
}

func writeFakeError(w http.ResponseWriter, e fakeError, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(e.status)
	fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, e.code, msg)
}

// handle serves one request; f.mu is held.
func (f *fakeDynamo) handle(op string, n int, req map[string]json.RawMessage) (any, *fakeError) {
	var table string
	if raw, ok := req["TableName"]; ok {
		json.Unmarshal(raw, &table)
	}
	notFound := &fakeError{400, "ResourceNotFoundException"}
	t := f.mu.tables[table]
	describe := func(status string) map[string]any {
		return map[string]any{"TableName": table, "TableStatus": status, "KeySchema": t.keySchema, "AttributeDefinitions": t.attrDefs}
	}

	switch op {
	case "CreateTable":
		if t != nil {
			return nil, &fakeError{400, "ResourceInUseException"}
		}
		t = &fakeTable{partitions: map[string]map[int]map[string]json.RawMessage{}}
		json.Unmarshal(req["KeySchema"], &t.keySchema)
		json.Unmarshal(req["AttributeDefinitions"], &t.attrDefs)
		f.mu.tables[table] = t
		return map[string]any{"TableDescription": describe("CREATING")}, nil
	case "DescribeTable":
		if t == nil {
			return nil, notFound
		}
		t.describes++
		status := "ACTIVE"
		if t.describes <= f.creatingDescribes {
			status = "CREATING"
		}
		return map[string]any{"Table": describe(status)}, nil
	case "DeleteTable":
		if t == nil {
			return nil, notFound
		}
		delete(f.mu.tables, table)
		return map[string]any{"TableDescription": describe("DELETING")}, nil
	case "PutItem":
		if t == nil {
			return nil, notFound
		}
		var item map[string]json.RawMessage
		json.Unmarshal(req["Item"], &item)
		t.put(item)
		return map[string]any{}, nil
	case "BatchWriteItem":
		var in map[string][]struct {
			PutRequest struct{ Item map[string]json.RawMessage }
		}
		json.Unmarshal(req["RequestItems"], &in)
		unprocessed := map[string]any{}
		for name, reqs := range in {
			bt := f.mu.tables[name]
			if bt == nil {
				return nil, notFound
			}
			if n <= f.unprocessedBatches && len(reqs) > 0 {
				last := reqs[len(reqs)-1]
				reqs = reqs[:len(reqs)-1]
				unprocessed[name] = []any{map[string]any{"PutRequest": map[string]any{"Item": last.PutRequest.Item}}}
			}
			for _, r := range reqs {
				bt.put(r.PutRequest.Item)
			}
		}
		return map[string]any{"UnprocessedItems": unprocessed}, nil
	case "GetItem":
		if t == nil {
			return nil, notFound
		}
		var key map[string]json.RawMessage
		json.Unmarshal(req["Key"], &key)
		pk, sk := fakeKey(key)
		if item, ok := t.partitions[pk][sk]; ok {
			return map[string]any{"Item": item}, nil
		}
		return map[string]any{}, nil
	case "Query":
		if t == nil {
			return nil, notFound
		}
		var cond string
		json.Unmarshal(req["KeyConditionExpression"], &cond)
		if cond != "pk = :pk" {
			return nil, &fakeError{400, "ValidationException"}
		}
		var values map[string]map[string]string
		json.Unmarshal(req["ExpressionAttributeValues"], &values)
		limit := 1 << 30
		if raw, ok := req["Limit"]; ok {
			json.Unmarshal(raw, &limit)
		}
		p := t.partitions[values[":pk"]["S"]]
		items := []map[string]json.RawMessage{}
		for _, sk := range slices.Sorted(maps.Keys(p)) {
			if len(items) == limit {
				break
			}
			items = append(items, p[sk])
		}
		return map[string]any{"Items": items, "Count": len(items), "ScannedCount": len(items)}, nil
	}
	return nil, &fakeError{400, "UnknownOperationException"}
}

func (t *fakeTable) put(item map[string]json.RawMessage) {
	pk, sk := fakeKey(item)
	if t.partitions[pk] == nil {
		t.partitions[pk] = map[int]map[string]json.RawMessage{}
	}
	t.partitions[pk][sk] = item
}

func fakeKey(item map[string]json.RawMessage) (pk string, sk int) {
	var p, s map[string]string
	json.Unmarshal(item["pk"], &p)
	json.Unmarshal(item["sk"], &s)
	sk, _ = strconv.Atoi(s["N"])
	return p["S"], sk
}
