package bench

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// ErrInvalidOptions is wrapped by the error Validate (and so Run) returns
// when options are out of range; the message lists every problem.
var ErrInvalidOptions = errors.New("bench: invalid options")

// Workload names what the workers issue.
type Workload string

// The workloads. A single-operation workload issues only that operation;
// WorkloadMixed picks each operation by Options.Mix.
const (
	WorkloadPut   Workload = "put"
	WorkloadGet   Workload = "get"
	WorkloadQuery Workload = "query"
	WorkloadMixed Workload = "mixed"
)

// Limits on Options fields, checked by Validate.
const (
	// MaxConcurrency bounds Concurrency. Each worker holds about 140 KB of
	// histogram per operation it issues, so 1024 mixed workers hold ~430 MB;
	// run several bench processes to go beyond it.
	MaxConcurrency = 1024
	// MinItemSize is the smallest ItemSize: the key attributes alone take
	// about 16 bytes.
	MinItemSize = 32
	// MaxItemSize is DynamoDB's item size limit, 400 KB.
	MaxItemSize = 400 * 1024
	// MaxKeys bounds Keys so that partition keys keep their fixed width.
	MaxKeys = 100_000_000
	// MaxSortKeys bounds SortKeys and QueryLimit.
	MaxSortKeys = 1000
)

// Options says what Run drives and against what. The zero value of every
// field but Endpoint means its default; EnsureDefaults fills them in.
type Options struct {
	// Endpoint is the absolute http or https URL of the DynamoDB-compatible
	// endpoint, e.g. "http://127.0.0.1:8000". Required.
	Endpoint string
	// Region signs requests. Default "us-east-1".
	Region string
	// AccessKey and SecretKey are the static credentials requests are signed
	// with. Default "gyre" / "gyregyregyre", Gyre's documented development
	// credentials; DynamoDB Local accepts any. Set both or neither.
	AccessKey, SecretKey string

	// Table is the table the workload reads and writes. Default "gyre-bench".
	// 3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'.
	Table string
	// ExistingTable makes Run use Table as it is instead of creating it when
	// it is missing. Either way the table must have the key schema pk (S,
	// HASH), sk (N, RANGE). Default false: Run creates the table
	// (PAY_PER_REQUEST) if it is missing and waits until it is ACTIVE.
	ExistingTable bool
	// SkipPreload skips writing every key before the warmup. Default false:
	// unless the workload only puts, Run preloads the key space so that gets
	// and queries hit.
	SkipPreload bool
	// Cleanup deletes Table at the end of the run, even when the run fails
	// or is interrupted: a table this run created, or one it found with the
	// key schema above, whoever created it. A table with another schema is
	// never deleted. Default false.
	Cleanup bool

	// Workload is what the workers issue. Default WorkloadMixed.
	Workload Workload
	// Mix weighs the operations of WorkloadMixed. Default DefaultMix
	// (get=50,put=30,query=20). Must be zero unless Workload is mixed.
	Mix Mix

	// Concurrency is the number of workers, each with one request in
	// flight at a time. Default 16; at most MaxConcurrency.
	Concurrency int
	// ItemSize is the approximate size of each item as DynamoDB counts it
	// (attribute names plus values); the binary attribute "v" is sized to make
	// it up. Default 1024; MinItemSize to MaxItemSize.
	ItemSize int
	// Duration is how long the measured part of the run lasts. Default 10s;
	// must be positive.
	Duration time.Duration
	// Warmup is how long the workers run before measuring starts; nothing
	// they do in it is recorded. Default 2s when zero; a negative Warmup
	// means none.
	Warmup time.Duration
	// Keys is the number of distinct items the workload touches, rounded
	// down to a multiple of SortKeys. Default 10000; SortKeys to MaxKeys.
	Keys int
	// SortKeys is the number of items per partition, the most a query can
	// return. Default 10; 1 to MaxSortKeys.
	SortKeys int
	// QueryLimit is the Limit of each Query. Default 10; 1 to MaxSortKeys.
	QueryLimit int
	// ConsistentRead makes gets and queries strongly consistent. Default
	// false (eventually consistent).
	ConsistentRead bool
	// Rate is the target number of operations per second across all
	// workers. Default 0: each worker issues its next request as soon as the
	// previous one returns (closed loop). When positive, each worker issues
	// requests on a fixed schedule of Rate/Concurrency per second and
	// latency is measured from the scheduled start, so time spent queued
	// behind a slow request counts (no coordinated omission); if the
	// endpoint cannot keep up, ops/s falls short of Rate. Must not be
	// negative.
	Rate float64
	// Timeout bounds each request; a request that exceeds it is counted as a
	// "Timeout" error. Default 5s; must be positive and at most 1m.
	Timeout time.Duration
	// Seed seeds the workers' choices of operation and key. Default 0 picks
	// one from the clock; the report prints the seed used.
	Seed uint64

	// Logger receives progress (table creation, preload, phases) at info
	// level, never per request. Default discards.
	Logger *slog.Logger
}

// Option defaults, applied by EnsureDefaults to zero fields.
const (
	DefaultRegion      = "us-east-1"
	DefaultAccessKey   = "gyre"
	DefaultSecretKey   = "gyregyregyre"
	DefaultTable       = "gyre-bench"
	DefaultWorkload    = WorkloadMixed
	DefaultConcurrency = 16
	DefaultItemSize    = 1024
	DefaultDuration    = 10 * time.Second
	DefaultWarmup      = 2 * time.Second
	DefaultKeys        = 10000
	DefaultSortKeys    = 10
	DefaultQueryLimit  = 10
	DefaultTimeout     = 5 * time.Second
)

// maxLatency is the largest latency the histograms hold; Validate keeps
// Timeout within it (paced runs can still queue beyond it, and are clamped).
const maxLatency = time.Minute

// EnsureDefaults fills every zero field that has a default. It leaves Seed
// alone: Run picks a seed when it is zero.
func (o *Options) EnsureDefaults() {
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.AccessKey == "" && o.SecretKey == "" {
		o.AccessKey, o.SecretKey = DefaultAccessKey, DefaultSecretKey
	}
	if o.Table == "" {
		o.Table = DefaultTable
	}
	if o.Workload == "" {
		o.Workload = DefaultWorkload
	}
	if o.Workload == WorkloadMixed && o.Mix == (Mix{}) {
		o.Mix = DefaultMix
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.ItemSize == 0 {
		o.ItemSize = DefaultItemSize
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Warmup == 0 {
		o.Warmup = DefaultWarmup
	}
	if o.Keys == 0 {
		o.Keys = DefaultKeys
	}
	if o.SortKeys == 0 {
		o.SortKeys = DefaultSortKeys
	}
	if o.QueryLimit == 0 {
		o.QueryLimit = DefaultQueryLimit
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

var tableNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

// Validate reports every problem with the options at once, in an error
// wrapping ErrInvalidOptions. It checks the options as they are: call
// EnsureDefaults first to accept zero fields.
func (o *Options) Validate() error {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }

	if o.Endpoint == "" {
		add("endpoint is required")
	} else if u, err := url.Parse(o.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("endpoint %q must be an absolute http or https URL", o.Endpoint)
	}
	if o.Region == "" {
		add("region is required")
	}
	if (o.AccessKey == "") != (o.SecretKey == "") {
		add("access key and secret key must be set together")
	}
	if !tableNameRE.MatchString(o.Table) {
		add("table %q must be 3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'", o.Table)
	}
	switch o.Workload {
	case WorkloadPut, WorkloadGet, WorkloadQuery:
		if o.Mix != (Mix{}) {
			add("mix %q is only used by the mixed workload, not %q", o.Mix, o.Workload)
		}
	case WorkloadMixed:
		if o.Mix.Put < 0 || o.Mix.Get < 0 || o.Mix.Query < 0 {
			add("mix weights must not be negative")
		} else if o.Mix.total() == 0 {
			add("mix needs at least one positive weight")
		}
	default:
		add("workload %q must be put, get, query or mixed", o.Workload)
	}
	if o.Concurrency < 1 || o.Concurrency > MaxConcurrency {
		add("concurrency %d must be between 1 and %d", o.Concurrency, MaxConcurrency)
	}
	if o.ItemSize < MinItemSize || o.ItemSize > MaxItemSize {
		add("item size %d must be between %d and %d bytes", o.ItemSize, MinItemSize, MaxItemSize)
	}
	if o.Duration <= 0 {
		add("duration %v must be positive", o.Duration)
	}
	if o.SortKeys < 1 || o.SortKeys > MaxSortKeys {
		add("sort keys %d must be between 1 and %d", o.SortKeys, MaxSortKeys)
	} else if o.Keys < o.SortKeys || o.Keys > MaxKeys {
		add("keys %d must be between sort keys (%d) and %d", o.Keys, o.SortKeys, MaxKeys)
	}
	if o.QueryLimit < 1 || o.QueryLimit > MaxSortKeys {
		add("query limit %d must be between 1 and %d", o.QueryLimit, MaxSortKeys)
	}
	if o.Rate < 0 || math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) {
		add("rate %v must be a finite, non-negative number of operations per second", o.Rate)
	}
	if o.Timeout <= 0 || o.Timeout > maxLatency {
		add("timeout %v must be positive and at most %v", o.Timeout, maxLatency)
	}
	if len(p) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidOptions, strings.Join(p, "; "))
	}
	return nil
}

// mix returns the weights the workers pick by: Mix for the mixed workload,
// the single operation otherwise.
func (o *Options) mix() Mix {
	switch o.Workload {
	case WorkloadPut:
		return Mix{Put: 1}
	case WorkloadGet:
		return Mix{Get: 1}
	case WorkloadQuery:
		return Mix{Query: 1}
	}
	return o.Mix
}

// warmup returns the warmup actually run: Warmup, or none if negative.
func (o *Options) warmup() time.Duration { return max(o.Warmup, 0) }
