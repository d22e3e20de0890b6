package bench

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestEnsureDefaults(t *testing.T) {
	o := Options{Endpoint: "http://127.0.0.1:8000"}
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		t.Fatalf("Validate() after EnsureDefaults = %v, want nil", err)
	}
	logger := o.Logger
	o.Logger = nil
	want := Options{
		Endpoint:    "http://127.0.0.1:8000",
		Region:      "us-east-1",
		AccessKey:   "gyre",
		SecretKey:   "gyregyregyre",
		Table:       "gyre-bench",
		Workload:    WorkloadMixed,
		Mix:         Mix{Get: 50, Put: 30, Query: 20},
		Concurrency: 16,
		ItemSize:    1024,
		Duration:    10 * time.Second,
		Warmup:      2 * time.Second,
		Keys:        10000,
		SortKeys:    10,
		QueryLimit:  10,
		Timeout:     5 * time.Second,
	}
	if o != want {
		t.Errorf("EnsureDefaults() gave\n%+v\nwant\n%+v", o, want)
	}
	if logger == nil {
		t.Error("EnsureDefaults() left Logger nil")
	}

	// Set fields stay; a single-op workload gets no mix; a negative warmup
	// means none.
	o = Options{Endpoint: "http://x", Workload: WorkloadGet, Concurrency: 3, Warmup: -1, AccessKey: "a", SecretKey: "s"}
	o.EnsureDefaults()
	if o.Mix != (Mix{}) || o.Concurrency != 3 || o.warmup() != 0 || o.AccessKey != "a" || o.SecretKey != "s" {
		t.Errorf("EnsureDefaults() changed set fields: %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("Validate() = %v, want nil", err)
	}
	if got := o.mix(); got != (Mix{Get: 1}) {
		t.Errorf("mix() of the get workload = %+v, want get only", got)
	}
}

func TestValidate(t *testing.T) {
	valid := func() Options {
		o := Options{Endpoint: "https://dynamodb.us-east-1.amazonaws.com"}
		o.EnsureDefaults()
		return o
	}
	for _, tc := range []struct {
		name   string
		modify func(*Options)
		want   string // "" for valid
	}{
		{"defaults", func(*Options) {}, ""},
		{"no endpoint", func(o *Options) { o.Endpoint = "" }, "endpoint is required"},
		{"relative endpoint", func(o *Options) { o.Endpoint = "/x" }, "must be an absolute http or https URL"},
		{"no region", func(o *Options) { o.Region = "" }, "region is required"},
		{"secret without key", func(o *Options) { o.AccessKey = "" }, "must be set together"},
		{"table chars", func(o *Options) { o.Table = "a b c" }, `table "a b c" must be`},
		{"table long", func(o *Options) { o.Table = strings.Repeat("t", 256) }, "must be 3 to 255 characters"},
		{"mix with single op", func(o *Options) { o.Workload = WorkloadPut }, `mix "get=50,put=30,query=20" is only used by the mixed workload`},
		{"negative weight", func(o *Options) { o.Mix.Put = -1 }, "mix weights must not be negative"},
		{"zero mix", func(o *Options) { o.Mix = Mix{} }, "mix needs at least one positive weight"},
		{"concurrency 0", func(o *Options) { o.Concurrency = 0 }, "concurrency 0 must be between 1 and 1024"},
		{"concurrency max", func(o *Options) { o.Concurrency = MaxConcurrency }, ""},
		{"item too big", func(o *Options) { o.ItemSize = MaxItemSize + 1 }, "item size 409601 must be between"},
		{"item max", func(o *Options) { o.ItemSize = MaxItemSize }, ""},
		{"zero duration", func(o *Options) { o.Duration = 0 }, "duration 0s must be positive"},
		{"negative warmup", func(o *Options) { o.Warmup = -time.Second }, ""},
		{"sort keys", func(o *Options) { o.SortKeys = MaxSortKeys + 1 }, "sort keys 1001 must be between 1 and 1000"},
		{"keys below sort keys", func(o *Options) { o.Keys = 9 }, "keys 9 must be between sort keys (10)"},
		{"keys too many", func(o *Options) { o.Keys = MaxKeys + 1 }, "keys 100000001 must be between"},
		{"query limit", func(o *Options) { o.QueryLimit = -1 }, "query limit -1 must be between 1 and 1000"},
		{"NaN rate", func(o *Options) { o.Rate = math.NaN() }, "rate NaN must be a finite"},
		{"infinite rate", func(o *Options) { o.Rate = math.Inf(1) }, "rate +Inf must be a finite"},
		{"rate", func(o *Options) { o.Rate = 0.5 }, ""},
		{"zero timeout", func(o *Options) { o.Timeout = 0 }, "timeout 0s must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := valid()
			tc.modify(&o)
			err := o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (!errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want ErrInvalidOptions mentioning %q", err, tc.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	o := Options{
		Endpoint:    "localhost:8000",
		Region:      "us-east-1",
		AccessKey:   "gyre",
		Table:       "x",
		Workload:    "scan",
		Concurrency: MaxConcurrency + 1,
		ItemSize:    10,
		Duration:    -time.Second,
		Keys:        5,
		SortKeys:    10,
		Rate:        -1,
		Timeout:     2 * maxLatency,
	}
	err := o.Validate()
	if !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("Validate() = %v, want an error wrapping ErrInvalidOptions", err)
	}
	for _, want := range []string{
		`endpoint "localhost:8000" must be an absolute http or https URL`,
		"access key and secret key must be set together",
		`table "x" must be 3 to 255 characters`,
		`workload "scan" must be put, get, query or mixed`,
		"concurrency 1025 must be between 1 and 1024",
		"item size 10 must be between 32 and 409600 bytes",
		"duration -1s must be positive",
		"keys 5 must be between sort keys (10) and 100000000",
		"query limit 0 must be between 1 and 1000",
		"rate -1 must be a finite, non-negative number",
		"timeout 2m0s must be positive and at most 1m0s",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() error\n%s\nwant it to mention %q", err, want)
		}
	}
}
