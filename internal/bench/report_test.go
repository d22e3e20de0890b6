package bench

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// testReport builds a report from known stats: 2000 puts of 1..1000µs (each
// twice), 1000 gets of 1000µs with 10 misses, no queries; 5 throttles and 2
// timeouts on put, 1 validation error on get; 4 seconds measured.
func testReport(t *testing.T) *Report {
	t.Helper()
	o := Options{Endpoint: "http://127.0.0.1:8000", Seed: 42, Workload: WorkloadMixed, Mix: Mix{Get: 1, Put: 2}}
	o.EnsureDefaults()

	// Two workers' worth of puts, merged as Run merges them.
	w1, w2 := newOpStats(), newOpStats()
	for us := 1; us <= 1000; us++ {
		w1.hist.record(time.Duration(us) * time.Microsecond)
		w2.hist.record(time.Duration(us) * time.Microsecond)
	}
	w1.errors["ProvisionedThroughputExceededException"] = 3
	w2.errors["ProvisionedThroughputExceededException"] = 2
	w2.errors["Timeout"] = 2
	put := newOpStats()
	put.merge(w1)
	put.merge(w2)

	get := newOpStats()
	for range 1000 {
		get.hist.record(time.Millisecond)
	}
	get.misses = 10
	get.errors["ValidationException"] = 1

	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return newReport(o, start, 4*time.Second, false, [numOps]*opStats{OpPut: put, OpGet: get})
}

func TestNewReport(t *testing.T) {
	r := testReport(t)
	if len(r.Ops) != 2 || r.Ops[0].Op != "put" || r.Ops[1].Op != "get" {
		t.Fatalf("report ops = %+v, want put then get", r.Ops)
	}
	put, get, total := r.Ops[0], r.Ops[1], r.Total
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"put count", put.Count, int64(2000)},
		{"put ops/s", put.OpsPerSec, 500.0},
		{"put errors", put.ErrorCount, int64(7)},
		{"put throttled", put.Throttled, int64(5)},
		{"put error codes", len(put.Errors), 2},
		{"put p50", put.Latency.P50, 500 * time.Microsecond},
		{"put p99", put.Latency.P99, 990 * time.Microsecond},
		{"put p99.9", put.Latency.P999, 999 * time.Microsecond},
		{"put max", put.Latency.Max, 1000 * time.Microsecond},
		{"get count", get.Count, int64(1000)},
		{"get ops/s", get.OpsPerSec, 250.0},
		{"get misses", get.Misses, int64(10)},
		{"get errors", get.ErrorCount, int64(1)},
		{"get throttled", get.Throttled, int64(0)},
		{"get p50", get.Latency.P50, time.Millisecond},
		{"total op", total.Op, "total"},
		{"total count", total.Count, int64(3000)},
		{"total ops/s", total.OpsPerSec, 750.0},
		{"total misses", total.Misses, int64(10)},
		{"total errors", total.ErrorCount, int64(8)},
		{"total throttled", total.Throttled, int64(5)},
		// 3000 latencies: 2000 spread over 1..1000µs, 1000 at 1000µs.
		{"total p50", total.Latency.P50, 750 * time.Microsecond},
		{"total p90", total.Latency.P90, 1000 * time.Microsecond},
		{"total max", total.Latency.Max, 1000 * time.Microsecond},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestReportZeroElapsed(t *testing.T) {
	s := newOpStats()
	s.hist.record(time.Millisecond)
	r := newReport(Options{}, time.Time{}, 0, true, [numOps]*opStats{OpGet: s})
	if r.Total.OpsPerSec != 0 || r.Total.Count != 1 {
		t.Errorf("zero elapsed: ops/s %v count %d, want 0 and 1", r.Total.OpsPerSec, r.Total.Count)
	}
}

func TestWriteText(t *testing.T) {
	r := testReport(t)
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `gyre bench: mixed (get=1,put=2) against http://127.0.0.1:8000
  region=us-east-1 table=gyre-bench existing_table=false preload=true cleanup=false
  concurrency=16 rate=unlimited item_size=1024 keys=10000 sort_keys=10 query_limit=10 consistent_read=false
  duration=10s warmup=2s timeout=5s seed=42
measured 4s

op            ops      ops/s    p50 ms    p99 ms  p99.9 ms    max ms   errors
put          2000      500.0     0.500     0.990     0.999     1.000        7
get          1000      250.0     1.000     1.000     1.000     1.000        1
total        3000      750.0     0.750     1.000     1.000     1.000        8

errors (5 throttled):
  put    ProvisionedThroughputExceededException   5
  put    Timeout                                  2
  get    ValidationException                      1

misses:
  get    10 of 1000 found nothing
`
	if got := b.String(); got != want {
		t.Errorf("WriteText:\n%s\nwant:\n%s", got, want)
	}

	r.Interrupted = true
	r.Options.Rate = 250
	r.Options.Workload, r.Options.Mix = WorkloadPut, Mix{}
	b.Reset()
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"gyre bench: put against", "rate=250/s", "measured 4s (interrupted)\n"} {
		if !bytes.Contains(b.Bytes(), []byte(want)) {
			t.Errorf("WriteText of an interrupted paced put run:\n%s\nwant it to contain %q", b.String(), want)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	r := testReport(t)
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte(r.Options.SecretKey)) {
		t.Errorf("JSON report contains the secret key:\n%s", b.String())
	}
	var got struct {
		Options struct {
			Endpoint    string `json:"endpoint"`
			Mix         string `json:"mix"`
			Duration    string `json:"duration"`
			Concurrency int    `json:"concurrency"`
			Seed        uint64 `json:"seed"`
		} `json:"options"`
		Start          time.Time `json:"start"`
		ElapsedSeconds float64   `json:"elapsed_seconds"`
		Operations     []struct {
			Op         string           `json:"op"`
			Count      int64            `json:"count"`
			OpsPerSec  float64          `json:"ops_per_sec"`
			Errors     map[string]int64 `json:"errors"`
			ErrorCount int64            `json:"error_count"`
			Throttled  int64            `json:"throttled"`
			Latency    map[string]int64 `json:"latency"`
		} `json:"operations"`
		Total struct {
			Count int64 `json:"count"`
		} `json:"total"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("decoding JSON report: %v\n%s", err, b.String())
	}
	o := got.Options
	if o.Endpoint != "http://127.0.0.1:8000" || o.Mix != "get=1,put=2" || o.Duration != "10s" || o.Concurrency != 16 || o.Seed != 42 {
		t.Errorf("JSON options = %+v", o)
	}
	if got.ElapsedSeconds != 4 || !got.Start.Equal(r.Start) || got.Total.Count != 3000 || len(got.Operations) != 2 {
		t.Errorf("JSON report elapsed %v start %v total %d ops %d", got.ElapsedSeconds, got.Start, got.Total.Count, len(got.Operations))
	}
	put := got.Operations[0]
	wantLatency := map[string]int64{"p50_us": 500, "p90_us": 900, "p99_us": 990, "p999_us": 999, "max_us": 1000, "mean_us": 500}
	if put.Op != "put" || put.Count != 2000 || put.OpsPerSec != 500 || put.ErrorCount != 7 || put.Throttled != 5 || put.Errors["Timeout"] != 2 {
		t.Errorf("JSON put = %+v", put)
	}
	for k, v := range wantLatency {
		if put.Latency[k] != v {
			t.Errorf("JSON put latency %s = %d, want %d", k, put.Latency[k], v)
		}
	}
}
