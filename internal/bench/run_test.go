package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fastOptions returns options for a short run against the fake.
func fastOptions(f *fakeDynamo) Options {
	return Options{
		Endpoint:    f.srv.URL,
		Concurrency: 4,
		Keys:        200,
		Duration:    300 * time.Millisecond,
		Warmup:      -1,
		Seed:        7,
	}
}

func TestRunMixed(t *testing.T) {
	// The table is created, CREATING for one describe (so the waiter polls),
	// preloaded with one batch coming back partly unprocessed, then driven.
	f := newFakeDynamo(t, func(f *fakeDynamo) {
		f.creatingDescribes = 1
		f.unprocessedBatches = 1
	})
	opts := fastOptions(f)
	opts.Warmup = 100 * time.Millisecond
	var logs bytes.Buffer
	opts.Logger = newTestLogger(&logs)

	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("Run() = %v\nlogs:\n%s", err, logs.String())
	}
	if got := f.itemCount("gyre-bench"); got != 200 {
		t.Errorf("table holds %d items after preload and puts, want 200", got)
	}
	if got := f.usedAccessKeys(); !slices.Equal(got, []string{"gyre"}) {
		t.Errorf("requests signed with access keys %v, want [gyre]", got)
	}
	if f.calls("DescribeTable") < 3 {
		t.Errorf("DescribeTable called %d times, want at least 3 (missing, CREATING, ACTIVE)", f.calls("DescribeTable"))
	}
	if rep.Interrupted || rep.Options.Seed != 7 || rep.Options.Mix != DefaultMix {
		t.Errorf("report interrupted=%v seed=%d mix=%v", rep.Interrupted, rep.Options.Seed, rep.Options.Mix)
	}
	if rep.Elapsed < opts.Duration || rep.Elapsed > opts.Duration+time.Second {
		t.Errorf("elapsed %v, want about %v", rep.Elapsed, opts.Duration)
	}
	var names []string
	var sum int64
	for _, op := range rep.Ops {
		names = append(names, op.Op)
		sum += op.Count
		if op.Count == 0 || op.ErrorCount != 0 || op.Misses != 0 {
			t.Errorf("%s: count %d errors %v misses %d; want some, none, none", op.Op, op.Count, op.Errors, op.Misses)
		}
		if op.Latency.P50 <= 0 || op.Latency.Max < op.Latency.P999 || op.Latency.P999 < op.Latency.P50 {
			t.Errorf("%s: latency %+v not ordered", op.Op, op.Latency)
		}
	}
	if !slices.Equal(names, []string{"put", "get", "query"}) {
		t.Errorf("report ops %v, want put, get, query", names)
	}
	if rep.Total.Count != sum {
		t.Errorf("total count %d, want the sum %d", rep.Total.Count, sum)
	}
	// Requests made during warmup are not in the report.
	served := int64(f.calls("PutItem") + f.calls("GetItem") + f.calls("Query"))
	if served <= rep.Total.Count {
		t.Errorf("fake served %d requests, report counts %d: warmup requests were recorded", served, rep.Total.Count)
	}
	for _, want := range []string{"creating table", "preloaded", "running"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs do not mention %q:\n%s", want, logs.String())
		}
	}
}

func TestRunCountsErrorsWithoutRetrying(t *testing.T) {
	// Every third put is throttled and every fifth query fails. With SDK
	// retries off, each shows up once in the report and the fake sees
	// exactly as many requests as the report counts.
	f := newFakeDynamo(t, func(f *fakeDynamo) {
		f.hook = func(_ *http.Request, op string, n int) string {
			switch {
			case op == "PutItem" && n%3 == 0:
				return "ProvisionedThroughputExceededException"
			case op == "Query" && n%5 == 0:
				return "InternalServerError"
			}
			return ""
		}
	})
	opts := fastOptions(f)
	opts.Mix = Mix{Put: 1, Query: 1}
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	put, query := rep.Ops[0], rep.Ops[1]
	if got, want := put.Count+put.ErrorCount, int64(f.calls("PutItem")); got != want {
		t.Errorf("put: %d ok + %d errors, fake served %d", put.Count, put.ErrorCount, want)
	}
	if got, want := query.Count+query.ErrorCount, int64(f.calls("Query")); got != want {
		t.Errorf("query: %d ok + %d errors, fake served %d", query.Count, query.ErrorCount, want)
	}
	if want := int64(f.calls("PutItem") / 3); put.Errors["ProvisionedThroughputExceededException"] != want || put.Throttled != want {
		t.Errorf("put errors %v throttled %d, want %d throttles", put.Errors, put.Throttled, want)
	}
	if want := int64(f.calls("Query") / 5); query.Errors["InternalServerError"] != want || query.Throttled != 0 {
		t.Errorf("query errors %v throttled %d, want %d InternalServerError", query.Errors, query.Throttled, want)
	}
	if rep.Total.ErrorCount != put.ErrorCount+query.ErrorCount {
		t.Errorf("total errors %d, want %d", rep.Total.ErrorCount, put.ErrorCount+query.ErrorCount)
	}
}

func TestRunPaced(t *testing.T) {
	// 2 workers at 200/s for 500ms: each has 50 requests due before the
	// end, and issues all of them, however late.
	f := newFakeDynamo(t, nil)
	opts := fastOptions(f)
	opts.Workload, opts.Concurrency, opts.Rate, opts.Duration = WorkloadPut, 2, 200, 500*time.Millisecond
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total.Count != 100 || rep.Total.ErrorCount != 0 {
		t.Errorf("paced run: %d ok, %d errors; want 100, 0", rep.Total.Count, rep.Total.ErrorCount)
	}
	if f.calls("BatchWriteItem") != 0 {
		t.Errorf("a put-only run preloaded (%d batches)", f.calls("BatchWriteItem"))
	}
}

func TestRunTimeoutsAndMisses(t *testing.T) {
	// Without preload every get misses; every fourth get hangs until the
	// client gives up and must be counted as a Timeout.
	f := newFakeDynamo(t, func(f *fakeDynamo) {
		f.hook = func(r *http.Request, op string, n int) string {
			if op == "GetItem" && n%4 == 0 {
				<-r.Context().Done()
				return "InternalServerError"
			}
			return ""
		}
	})
	opts := fastOptions(f)
	opts.Workload, opts.SkipPreload, opts.Timeout = WorkloadGet, true, 200*time.Millisecond
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	get := rep.Ops[0]
	if get.Misses != get.Count || get.Count == 0 {
		t.Errorf("get: %d ok, %d misses; want all misses", get.Count, get.Misses)
	}
	if get.Errors["Timeout"] == 0 || get.ErrorCount != get.Errors["Timeout"] {
		t.Errorf("get errors %v, want only Timeouts", get.Errors)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	if !strings.Contains(text.String(), "Timeout") || !strings.Contains(text.String(), "found nothing") {
		t.Errorf("text report lacks timeouts or misses:\n%s", text.String())
	}
}

func TestRunInterrupted(t *testing.T) {
	// Cancelled after 50 gets of a one-minute run: Run returns promptly with
	// what it measured.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFakeDynamo(t, func(f *fakeDynamo) {
		f.hook = func(_ *http.Request, op string, n int) string {
			if op == "GetItem" && n == 50 {
				cancel()
			}
			return ""
		}
	})
	opts := fastOptions(f)
	opts.Workload, opts.Duration = WorkloadGet, time.Minute
	rep, err := Run(ctx, opts)
	if err != nil {
		t.Fatalf("Run() = %v, want a report", err)
	}
	if !rep.Interrupted || rep.Elapsed >= 30*time.Second || rep.Total.Count < 40 {
		t.Errorf("interrupted=%v elapsed=%v count=%d; want true, well under a minute, about 50",
			rep.Interrupted, rep.Elapsed, rep.Total.Count)
	}
	if rep.Total.ErrorCount != 0 {
		t.Errorf("requests cut short by the interrupt were counted as errors: %v", rep.Total.Errors)
	}
	var out bytes.Buffer
	if err := rep.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var decoded struct{ Interrupted bool }
	if err := json.Unmarshal(out.Bytes(), &decoded); err != nil || !decoded.Interrupted {
		t.Errorf("JSON report of an interrupted run: %v %s", err, out.String())
	}
}

func TestRunInterruptedBeforeMeasuring(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFakeDynamo(t, func(f *fakeDynamo) {
		f.hook = func(_ *http.Request, op string, _ int) string {
			if op == "BatchWriteItem" {
				cancel()
			}
			return ""
		}
	})
	opts := fastOptions(f)
	opts.Cleanup = true
	rep, err := Run(ctx, opts)
	if !errors.Is(err, ErrInterrupted) || rep != nil {
		t.Errorf("Run() cancelled during preload = %v, %v; want nil, ErrInterrupted", rep, err)
	}
	if f.hasTable("gyre-bench") {
		t.Error("cleanup did not delete the table after an interrupted run")
	}
}

func TestRunCleanup(t *testing.T) {
	f := newFakeDynamo(t, nil)
	opts := fastOptions(f)
	opts.Cleanup, opts.Duration, opts.Table = true, 50*time.Millisecond, "bench.cleanup"
	if _, err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if f.hasTable("bench.cleanup") || f.calls("DeleteTable") != 1 {
		t.Errorf("after a cleanup run: table exists=%v, DeleteTable calls=%d; want false, 1",
			f.hasTable("bench.cleanup"), f.calls("DeleteTable"))
	}
}

func TestRunTableChecks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		keys    []string // table to create first; nil for none
		modify  func(*Options)
		wantErr error
		want    string
	}{
		{name: "missing and not to be created", modify: func(o *Options) { o.ExistingTable = true }, wantErr: ErrNoTable},
		{name: "hash key only", keys: []string{"pk:HASH:S"}, wantErr: ErrSchema, want: "want pk HASH, sk RANGE",
			// Not ours: cleanup must leave it alone.
			modify: func(o *Options) { o.Cleanup = true }},
		{name: "other names", keys: []string{"id:HASH:S", "ts:RANGE:N"}, wantErr: ErrSchema},
		{name: "string sort key", keys: []string{"pk:HASH:S", "sk:RANGE:S"}, wantErr: ErrSchema, want: "want sk of type N, got S"},
		{name: "existing and right", keys: []string{"pk:HASH:S", "sk:RANGE:N"}, modify: func(o *Options) { o.ExistingTable = true }},
		{name: "invalid options", modify: func(o *Options) { o.Concurrency = -1 }, wantErr: ErrInvalidOptions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeDynamo(t, nil)
			if tc.keys != nil {
				f.addTable("gyre-bench", tc.keys...)
			}
			opts := fastOptions(f)
			opts.Duration = 20 * time.Millisecond
			if tc.modify != nil {
				tc.modify(&opts)
			}
			rep, err := Run(context.Background(), opts)
			switch {
			case tc.wantErr == nil && (err != nil || rep == nil):
				t.Errorf("Run() = %v, %v; want a report", rep, err)
			case tc.wantErr != nil && (!errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Run() error %v, want %v mentioning %q", err, tc.wantErr, tc.want)
			}
			if tc.wantErr != nil && f.calls("CreateTable") != 0 {
				t.Errorf("Run() created a table despite failing: %v", err)
			}
			if tc.keys != nil && !f.hasTable("gyre-bench") {
				t.Errorf("Run() deleted a table it did not recognise")
			}
		})
	}
}

func TestRunConcurrentReportsIndependent(t *testing.T) {
	// Two runs in one process share nothing: each report counts only its own
	// requests, and each run's fake sees only its own.
	f1, f2 := newFakeDynamo(t, nil), newFakeDynamo(t, nil)
	var wg sync.WaitGroup
	reps := make([]*Report, 2)
	for i, f := range []*fakeDynamo{f1, f2} {
		wg.Go(func() {
			opts := fastOptions(f)
			opts.Workload, opts.Duration = WorkloadPut, 100*time.Millisecond
			rep, err := Run(context.Background(), opts)
			if err != nil {
				t.Error(err)
				return
			}
			reps[i] = rep
		})
	}
	wg.Wait()
	for i, f := range []*fakeDynamo{f1, f2} {
		if reps[i] != nil && reps[i].Total.Count != int64(f.calls("PutItem")) {
			t.Errorf("run %d counted %d puts, its endpoint served %d", i, reps[i].Total.Count, f.calls("PutItem"))
		}
	}
}
