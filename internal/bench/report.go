package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Report is the outcome of a Run. It is a plain value: the caller owns it.
type Report struct {
	// Options are the effective options, defaults filled and Seed chosen.
	Options Options
	// Start is when the measured window began (after the warmup).
	Start time.Time
	// Elapsed is the measured window: from Start until the last worker
	// stopped, or until the run was interrupted.
	Elapsed time.Duration
	// Interrupted says the run was stopped early by cancellation.
	Interrupted bool
	// Ops has one entry per operation the workload issues, in the order put,
	// get, query.
	Ops []OpReport
	// Total sums Ops; its latencies are those of every operation together.
	Total OpReport
}

// OpReport is what one operation did in the measured window.
type OpReport struct {
	// Op is "put", "get", "query" or, for Report.Total, "total".
	Op string
	// Count is the number of requests that succeeded; only they have
	// latencies and only they count towards OpsPerSec.
	Count int64
	// OpsPerSec is Count over the report's Elapsed.
	OpsPerSec float64
	// Misses counts successful gets that found no item and queries that
	// returned none: nonzero when the key space was not preloaded.
	Misses int64
	// Errors counts failed requests by error code: the DynamoDB error type
	// (e.g. "ProvisionedThroughputExceededException"), "Timeout" for
	// requests that exceeded Options.Timeout, "ConnectionError" for ones
	// that never got a response, "ClientError" for any other failure.
	Errors map[string]int64
	// ErrorCount is the sum of Errors.
	ErrorCount int64
	// Throttled is the part of ErrorCount that is throttling.
	Throttled int64
	// Latency summarises the successful requests' latencies.
	Latency Latency
	// Clamped counts latencies above one minute, recorded as one minute.
	Clamped int64
}

// Latency summarises a latency histogram. Percentiles are within 0.1% of
// the latency they stand for and exact to the microsecond below 2.048ms.
type Latency struct {
	P50, P90, P99, P999, Max, Mean time.Duration
}

// throttleCodes are the error codes DynamoDB uses to turn load away.
var throttleCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
}

// opStats is what one worker saw of one operation, or, merged, what all did.
type opStats struct {
	hist   *histogram
	misses int64
	errors map[string]int64
}

func newOpStats() *opStats {
	return &opStats{hist: newHistogram(), errors: map[string]int64{}}
}

func (s *opStats) merge(from *opStats) {
	s.hist.merge(from.hist)
	s.misses += from.misses
	for code, n := range from.errors {
		s.errors[code] += n
	}
}

// newReport builds the report from merged per-operation stats; stats[op] is
// nil for operations the workload does not issue.
func newReport(opts Options, start time.Time, elapsed time.Duration, interrupted bool, stats [numOps]*opStats) *Report {
	r := &Report{Options: opts, Start: start, Elapsed: elapsed, Interrupted: interrupted}
	total := newOpStats()
	for op, s := range stats {
		if s == nil {
			continue
		}
		r.Ops = append(r.Ops, s.report(Op(op).String(), elapsed))
		total.merge(s)
	}
	r.Total = total.report("total", elapsed)
	return r
}

func (s *opStats) report(name string, elapsed time.Duration) OpReport {
	r := OpReport{
		Op:      name,
		Count:   s.hist.count(),
		Misses:  s.misses,
		Errors:  maps.Clone(s.errors),
		Latency: s.hist.latency(),
		Clamped: s.hist.clamped,
	}
	for code, n := range s.errors {
		r.ErrorCount += n
		if throttleCodes[code] {
			r.Throttled += n
		}
	}
	if elapsed > 0 {
		r.OpsPerSec = float64(r.Count) / elapsed.Seconds()
	}
	return r
}

// WriteText writes the report for people: the effective options, then a
// table with one fixed-width row per operation and a total, then error codes
// and misses if there were any. Latencies are in milliseconds.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	o := &r.Options
	fmt.Fprintf(&b, "gyre bench: %s against %s\n", workloadString(o), o.Endpoint)
	fmt.Fprintf(&b, "  region=%s table=%s existing_table=%t preload=%t cleanup=%t\n",
		o.Region, o.Table, o.ExistingTable, !o.SkipPreload, o.Cleanup)
	fmt.Fprintf(&b, "  concurrency=%d rate=%s item_size=%d keys=%d sort_keys=%d query_limit=%d consistent_read=%t\n",
		o.Concurrency, rateString(o.Rate), o.ItemSize, o.Keys, o.SortKeys, o.QueryLimit, o.ConsistentRead)
	fmt.Fprintf(&b, "  duration=%s warmup=%s timeout=%s seed=%d\n", o.Duration, o.warmup(), o.Timeout, o.Seed)
	fmt.Fprintf(&b, "measured %s", r.Elapsed.Round(time.Millisecond))
	if r.Interrupted {
		b.WriteString(" (interrupted)")
	}
	b.WriteString("\n\n")

	const row = "%-6s %10s %10s %9s %9s %9s %9s %8s\n"
	fmt.Fprintf(&b, row, "op", "ops", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors")
	for _, op := range append(slices.Clip(r.Ops), r.Total) {
		l := op.Latency
		fmt.Fprintf(&b, row, op.Op, fmt.Sprint(op.Count), fmt.Sprintf("%.1f", op.OpsPerSec),
			ms(l.P50), ms(l.P99), ms(l.P999), ms(l.Max), fmt.Sprint(op.ErrorCount))
	}

	var errLines, missLines []string
	for _, op := range r.Ops {
		for _, code := range slices.Sorted(maps.Keys(op.Errors)) {
			errLines = append(errLines, fmt.Sprintf("  %-6s %-40s %d", op.Op, code, op.Errors[code]))
		}
		if op.Misses > 0 {
			missLines = append(missLines, fmt.Sprintf("  %-6s %d of %d found nothing", op.Op, op.Misses, op.Count))
		}
	}
	if len(errLines) > 0 {
		fmt.Fprintf(&b, "\nerrors (%d throttled):\n%s\n", r.Total.Throttled, strings.Join(errLines, "\n"))
	}
	if len(missLines) > 0 {
		fmt.Fprintf(&b, "\nmisses:\n%s\n", strings.Join(missLines, "\n"))
	}
	if r.Total.Clamped > 0 {
		fmt.Fprintf(&b, "\nnote: %d latencies above %s were recorded as %s\n", r.Total.Clamped, maxLatency, maxLatency)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func workloadString(o *Options) string {
	if o.Workload == WorkloadMixed {
		return fmt.Sprintf("mixed (%s)", o.Mix)
	}
	return string(o.Workload)
}

func rateString(rate float64) string {
	if rate == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%g/s", rate)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond))
}

// WriteJSON writes the report as one indented JSON object: "options" (the
// effective options, durations as strings, the secret key left out),
// "start", "elapsed_seconds", "interrupted", "operations" and "total", with
// latencies in whole microseconds.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// MarshalJSON encodes the report as WriteJSON describes.
func (r Report) MarshalJSON() ([]byte, error) {
	o := &r.Options
	type options struct {
		Endpoint       string  `json:"endpoint"`
		Region         string  `json:"region"`
		AccessKey      string  `json:"access_key"`
		Table          string  `json:"table"`
		ExistingTable  bool    `json:"existing_table"`
		Preload        bool    `json:"preload"`
		Cleanup        bool    `json:"cleanup"`
		Workload       string  `json:"workload"`
		Mix            string  `json:"mix,omitempty"`
		Concurrency    int     `json:"concurrency"`
		ItemSize       int     `json:"item_size"`
		Duration       string  `json:"duration"`
		Warmup         string  `json:"warmup"`
		Keys           int     `json:"keys"`
		SortKeys       int     `json:"sort_keys"`
		QueryLimit     int     `json:"query_limit"`
		ConsistentRead bool    `json:"consistent_read"`
		Rate           float64 `json:"rate"`
		Timeout        string  `json:"timeout"`
		Seed           uint64  `json:"seed"`
	}
	type report struct {
		Options        options    `json:"options"`
		Start          time.Time  `json:"start"`
		ElapsedSeconds float64    `json:"elapsed_seconds"`
		Interrupted    bool       `json:"interrupted"`
		Operations     []OpReport `json:"operations"`
		Total          OpReport   `json:"total"`
	}
	out := report{
		Options: options{
			Endpoint: o.Endpoint, Region: o.Region, AccessKey: o.AccessKey, Table: o.Table,
			ExistingTable: o.ExistingTable, Preload: !o.SkipPreload, Cleanup: o.Cleanup,
			Workload: string(o.Workload), Concurrency: o.Concurrency, ItemSize: o.ItemSize,
			Duration: o.Duration.String(), Warmup: o.warmup().String(), Keys: o.Keys,
			SortKeys: o.SortKeys, QueryLimit: o.QueryLimit, ConsistentRead: o.ConsistentRead,
			Rate: o.Rate, Timeout: o.Timeout.String(), Seed: o.Seed,
		},
		Start:          r.Start,
		ElapsedSeconds: r.Elapsed.Seconds(),
		Interrupted:    r.Interrupted,
		Operations:     r.Ops,
		Total:          r.Total,
	}
	if o.Workload == WorkloadMixed {
		out.Options.Mix = o.Mix.String()
	}
	if out.Operations == nil {
		out.Operations = []OpReport{}
	}
	return json.Marshal(out)
}

// MarshalJSON encodes the operation's report with snake_case keys.
func (r OpReport) MarshalJSON() ([]byte, error) {
	type opReport struct {
		Op         string           `json:"op"`
		Count      int64            `json:"count"`
		OpsPerSec  float64          `json:"ops_per_sec"`
		Misses     int64            `json:"misses"`
		Errors     map[string]int64 `json:"errors"`
		ErrorCount int64            `json:"error_count"`
		Throttled  int64            `json:"throttled"`
		Latency    Latency          `json:"latency"`
		Clamped    int64            `json:"clamped,omitempty"`
	}
	out := opReport(r)
	if out.Errors == nil {
		out.Errors = map[string]int64{}
	}
	return json.Marshal(out)
}

// MarshalJSON encodes the latencies in whole microseconds: p50_us, p90_us,
// p99_us, p999_us, max_us, mean_us.
func (l Latency) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		P50  int64 `json:"p50_us"`
		P90  int64 `json:"p90_us"`
		P99  int64 `json:"p99_us"`
		P999 int64 `json:"p999_us"`
		Max  int64 `json:"max_us"`
		Mean int64 `json:"mean_us"`
	}{l.P50.Microseconds(), l.P90.Microseconds(), l.P99.Microseconds(),
		l.P999.Microseconds(), l.Max.Microseconds(), l.Mean.Microseconds()})
}
