package dynamo_test

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The single-item write path, measured two ways:
//
//   - region: a real region, signed requests over HTTP. Client and server
//     share the process, so every figure includes the client's signing and
//     HTTP; cpu-ns/op is the process's user and system CPU per request,
//     which unlike ns/op leaves out waiting for the disk.
//   - handler: Server.ServeHTTP in process over an in-memory store, without
//     signatures: the server's own CPU and allocations per request.

// itemSizes are the sizes of the items the benchmarks write: a small item
// and one of four write units.
var itemSizes = []int{100, 4000}

// benchTarget sends requests to a server with a table whose hash key is the
// string pk.
type benchTarget struct {
	table string
	// send sends one request and returns the status and body of the answer.
	send func(op string, body []byte) (int, []byte)
}

// benchTargets are the servers each benchmark runs against.
var benchTargets = []struct {
	name  string
	start func(b *testing.B) benchTarget
}{
	{"region", func(b *testing.B) benchTarget {
		r := startRegion(b)
		return benchTarget{
			table: r.createTable(b, "S", ""),
			send: func(op string, body []byte) (int, []byte) {
				resp := r.mustRaw(b, op, body, signer{})
				return resp.status, resp.body
			},
		}
	}},
	{"handler", func(b *testing.B) benchTarget {
		srv, db := fuzzServer(b)
		ensureFuzzTables(b, srv, db)
		return benchTarget{
			table: "fzh",
			send: func(op string, body []byte) (int, []byte) {
				rec := serveInProcess(srv, op, body)
				return rec.Code, rec.Body.Bytes()
			},
		}
	}},
}

// benchWrites runs run against every target with items of every size.
func benchWrites(b *testing.B, run func(b *testing.B, t benchTarget, size int)) {
	for _, target := range benchTargets {
		for _, size := range itemSizes {
			b.Run(fmt.Sprintf("%s/bytes=%d", target.name, size), func(b *testing.B) {
				run(b, target.start(b), size)
			})
		}
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// mustSend sends a request that must succeed.
func (t benchTarget) mustSend(b *testing.B, op, body string) {
	if status, resp := t.send(op, []byte(body)); status != http.StatusOK {
		b.Fatalf("%s: %d %s", op, status, resp)
	}
}

// runWrites sends b.N requests built by body, each of which must succeed,
// and reports the CPU they took.
func runWrites(b *testing.B, t benchTarget, op string, body func(i int) string) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime(b)
	for i := 0; i < b.N; i++ {
		t.mustSend(b, op, body(i))
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

// itemJSON is an item of about size bytes with key pk, in DynamoDB JSON.
func itemJSON(pk string, size int) string {
	return fmt.Sprintf(`{"pk": {"S": %q}, "n": {"N": "1"}, "v": {"S": %q}}`, pk, strings.Repeat("v", max(1, size-len(pk)-2)))
}

// fill writes n items of size bytes, keyed k0, k1, ..., 25 at a time.
func fill(b *testing.B, t benchTarget, n, size int) {
	b.Helper()
	for lo := 0; lo < n; lo += 25 {
		var reqs []string
		for i := lo; i < min(n, lo+25); i++ {
			reqs = append(reqs, `{"PutRequest": {"Item": `+itemJSON(fmt.Sprintf("k%d", i), size)+`}}`)
		}
		t.mustSend(b, "BatchWriteItem", fmt.Sprintf(`{"RequestItems": {%q: [%s]}}`, t.table, strings.Join(reqs, ",")))
	}
}

// BenchmarkPutItem replaces items under a condition that holds, returning
// the old item and the capacity consumed: every step of the write path.
func BenchmarkPutItem(b *testing.B) {
	benchWrites(b, func(b *testing.B, t benchTarget, size int) {
		runWrites(b, t, "PutItem", func(i int) string {
			return fmt.Sprintf(`{"TableName": %q, "Item": %s, "ConditionExpression": "attribute_not_exists(zz)",
				"ReturnValues": "ALL_OLD", "ReturnConsumedCapacity": "TOTAL"}`, t.table, itemJSON(fmt.Sprintf("k%d", i%1000), size))
		})
	})
}

// BenchmarkDeleteItem deletes items that exist, under a condition that
// holds, returning the old item and the capacity consumed.
func BenchmarkDeleteItem(b *testing.B) {
	benchWrites(b, func(b *testing.B, t benchTarget, size int) {
		fill(b, t, b.N, size)
		runWrites(b, t, "DeleteItem", func(i int) string {
			return fmt.Sprintf(`{"TableName": %q, "Key": {"pk": {"S": "k%d"}}, "ConditionExpression": "attribute_exists(pk)",
				"ReturnValues": "ALL_OLD", "ReturnConsumedCapacity": "TOTAL"}`, t.table, i)
		})
	})
}

// BenchmarkUpdateItem increments a counter in items that exist, under a
// condition that holds, returning the updated attribute and the capacity
// consumed.
func BenchmarkUpdateItem(b *testing.B) {
	benchWrites(b, func(b *testing.B, t benchTarget, size int) {
		fill(b, t, 1000, size)
		runWrites(b, t, "UpdateItem", func(i int) string {
			return fmt.Sprintf(`{"TableName": %q, "Key": {"pk": {"S": "k%d"}}, "UpdateExpression": "SET n = n + :one",
				"ConditionExpression": "attribute_exists(pk)", "ExpressionAttributeValues": {":one": {"N": "1"}},
				"ReturnValues": "UPDATED_NEW", "ReturnConsumedCapacity": "TOTAL"}`, t.table, i%1000)
		})
	})
}
