package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gyre-dev/gyre/internal/repl"
)

// scrapeText is /metrics as a destination serves it, trimmed: us-west-2's
// lag histograms of two origins and an unrelated family.
const scrapeText = `# HELP gyre_replication_latency_seconds Replication lag.
# TYPE gyre_replication_latency_seconds histogram
gyre_replication_latency_seconds_bucket{destination="us-west-2",origin="us-east-1",region="us-west-2",le="0.001"} 10
gyre_replication_latency_seconds_bucket{destination="us-west-2",origin="us-east-1",region="us-west-2",le="0.002"} 60
gyre_replication_latency_seconds_bucket{destination="us-west-2",origin="us-east-1",region="us-west-2",le="0.004"} 99
gyre_replication_latency_seconds_bucket{destination="us-west-2",origin="us-east-1",region="us-west-2",le="+Inf"} 100
gyre_replication_latency_seconds_sum{destination="us-west-2",origin="us-east-1",region="us-west-2"} 0.25
gyre_replication_latency_seconds_count{destination="us-west-2",origin="us-east-1",region="us-west-2"} 100
gyre_replication_latency_seconds_bucket{destination="us-west-2",origin="eu-\"west\"-1",region="us-west-2",le="0.001"} 1
gyre_replication_latency_seconds_bucket{destination="us-west-2",origin="eu-\"west\"-1",region="us-west-2",le="0.002"} 1
gyre_replication_latency_seconds_bucket{destination="us-west-2",origin="eu-\"west\"-1",region="us-west-2",le="0.004"} 1
gyre_replication_latency_seconds_bucket{destination="us-west-2",origin="eu-\"west\"-1",region="us-west-2",le="+Inf"} 1
gyre_replication_latency_seconds_sum{destination="us-west-2",origin="eu-\"west\"-1",region="us-west-2"} 5e-04
gyre_replication_latency_seconds_count{destination="us-west-2",origin="eu-\"west\"-1",region="us-west-2"} 1
# TYPE gyre_repl_item_writes_total counter
gyre_repl_item_writes_total{origin="us-east-1",outcome="applied",region="us-west-2"} 100
`

func TestParseHistograms(t *testing.T) {
	hs, err := parseHistograms(strings.NewReader(scrapeText), lagMetric, "origin")
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 {
		t.Fatalf("got series for %d origins, want 2: %v", len(hs), hs)
	}
	east := hs["us-east-1"]
	want := []promBucket{{0.001, 10}, {0.002, 60}, {0.004, 99}, {math.Inf(1), 100}}
	if east == nil || east.Count != 100 || east.Sum != 0.25 || !equalBuckets(east.Buckets, want) {
		t.Errorf("us-east-1: got %+v, want count 100, sum 0.25, buckets %v", east, want)
	}
	if eu := hs[`eu-"west"-1`]; eu == nil || eu.Count != 1 || eu.Sum != 0.0005 {
		t.Errorf(`eu-"west"-1 (escaped quotes in the label): got %+v, want count 1, sum 0.0005`, eu)
	}

	for _, tc := range []struct{ name, text, err string }{
		{"no +Inf bucket", `gyre_replication_latency_seconds_bucket{origin="a",le="1"} 3` + "\n", "no +Inf bucket"},
		{"bad count", `gyre_replication_latency_seconds_count{origin="a"} 1.5` + "\n", "not a non-negative integer"},
		{"unterminated label value", `gyre_replication_latency_seconds_count{origin="a 1` + "\n", "unterminated"},
		{"malformed label", `gyre_replication_latency_seconds_count{origin="a" 1` + "\n", "malformed label"},
		{"no value", `gyre_replication_latency_seconds_count{origin="a"}` + "\n", "without a value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseHistograms(strings.NewReader(tc.text), lagMetric, "origin")
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("got error %v, want one containing %q", err, tc.err)
			}
		})
	}
}

func equalBuckets(a, b []promBucket) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func hist(sum float64, counts ...uint64) *promHistogram {
	bounds := []float64{0.001, 0.002, 0.004, math.Inf(1)}
	h := &promHistogram{Sum: sum}
	for i, c := range counts {
		h.Buckets = append(h.Buckets, promBucket{bounds[i], c})
	}
	h.Count = counts[len(counts)-1]
	return h
}

func TestHistogramSub(t *testing.T) {
	d, err := hist(0.30, 10, 60, 99, 100).sub(hist(0.05, 5, 20, 20, 20))
	if err != nil {
		t.Fatal(err)
	}
	if want := hist(0.25, 5, 40, 79, 80); d.Count != want.Count || math.Abs(d.Sum-want.Sum) > 1e-12 || !equalBuckets(d.Buckets, want.Buckets) {
		t.Errorf("got %+v, want %+v", d, want)
	}
	if d, err := hist(0.1, 1, 2, 3, 4).sub(nil); err != nil || d.Count != 4 {
		t.Errorf("sub(nil) = %+v, %v; want the histogram itself", d, err)
	}
	if _, err := hist(0.1, 1, 2, 3, 4).sub(hist(0.2, 1, 2, 3, 5)); !errors.Is(err, errCounterReset) {
		t.Errorf("a histogram that went backwards: got %v, want errCounterReset", err)
	}
}

func TestHistogramQuantile(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	h := hist(0.25, 10, 60, 99, 100)
	for _, tc := range []struct {
		q             float64
		est, low, hig time.Duration
	}{
		{0.05, ms(0.5), 0, ms(1)},     // rank 5 of the first 10 in [0, 1ms]
		{0.50, ms(1.8), ms(1), ms(2)}, // rank 50: 40 of the 50 in (1ms, 2ms]
		{0.99, ms(4), ms(2), ms(4)},   // rank 99: the last of (2ms, 4ms]
		{0.999, ms(4), ms(4), ms(4)},  // in +Inf: the highest finite bound
		{1, ms(4), ms(4), ms(4)},      // likewise
		{0.10, ms(1), 0, ms(1)},       // exactly the first bucket's count
		{0.60, ms(2), ms(1), ms(2)},   // rank 60: exactly the second bucket's count
	} {
		got, ok := h.quantile(tc.q)
		if !ok || absDur(got.Estimate-tc.est) > time.Microsecond || got.Low != tc.low || got.High != tc.hig {
			t.Errorf("q%g: got %+v, %v; want estimate %v in [%v, %v]", tc.q, got, ok, tc.est, tc.low, tc.hig)
		}
	}
	if _, ok := (&promHistogram{}).quantile(0.5); ok {
		t.Error("quantile of an empty histogram reported a value")
	}
	if got := h.maxBound(); got != ms(4) {
		t.Errorf("maxBound with an observation in +Inf = %v, want the highest finite bound 4ms", got)
	}
	if got := hist(0, 3, 3, 3, 3).maxBound(); got != ms(1) {
		t.Errorf("maxBound = %v, want 1ms (every observation in the first bucket)", got)
	}
}

func absDur(d time.Duration) time.Duration { return max(d, -d) }

func TestLinkLag(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	before := scrape{hist: hist(0.01, 5, 20, 20, 20)}
	after := hist(0.26, 15, 80, 119, 120) // 100 more: as hist(0.25, 10, 60, 99, 100)

	t.Run("window holds exactly the measured writes", func(t *testing.T) {
		w := repl.Summary{Samples: 100, P50: ms(1.7), P99: ms(3.1), Max: ms(3.3)}
		l := linkLag("us-east-1", "us-west-2", before, scrape{hist: after, window: w})
		if l.Error != "" || !l.FromWindow || l.Samples != 100 || absDur(l.Mean-ms(2.5)) > time.Microsecond {
			t.Fatalf("got %+v; want 100 samples, mean 2.5ms, from the window", l)
		}
		if l.P50 != w.P50 || l.P99 != w.P99 || l.Max != w.Max {
			t.Errorf("p50/p99/max = %v/%v/%v, want the window's %v/%v/%v", l.P50, l.P99, l.Max, w.P50, w.P99, w.Max)
		}
		// p99.9 lies in the +Inf bucket (4ms..4ms), which the window's
		// p99..max (3.1..3.3ms) does not overlap: the bucket wins.
		if l.P999Low != ms(4) || l.P999High != ms(4) {
			t.Errorf("p99.9 in [%v, %v], want [4ms, 4ms]", l.P999Low, l.P999High)
		}
	})
	t.Run("window narrows p99.9", func(t *testing.T) {
		w := repl.Summary{Samples: 100, P50: ms(1.7), P99: ms(2.5), Max: ms(3.5)}
		b := scrape{hist: hist(0, 0, 0, 0, 0)}
		a := scrape{hist: hist(0.2, 10, 60, 100, 100), window: w}
		l := linkLag("us-east-1", "us-west-2", b, a)
		if l.P999Low != ms(2.5) || l.P999High != ms(3.5) || l.P999 < l.P999Low || l.P999 > l.P999High {
			t.Errorf("p99.9 %v in [%v, %v], want within [2.5ms, 3.5ms]", l.P999, l.P999Low, l.P999High)
		}
	})
	t.Run("window holds other writes too", func(t *testing.T) {
		w := repl.Summary{Samples: 130, P50: ms(1.7), P99: ms(3.1), Max: ms(3.3)}
		l := linkLag("us-east-1", "us-west-2", before, scrape{hist: after, window: w})
		if l.FromWindow || absDur(l.P50-ms(1.8)) > time.Microsecond || l.Max != ms(4) {
			t.Errorf("got %+v; want estimates from the histogram (p50 1.8ms, max bound 4ms)", l)
		}
	})
	t.Run("nothing replicated", func(t *testing.T) {
		if l := linkLag("us-east-1", "us-west-2", scrape{}, scrape{}); l.Error == "" {
			t.Errorf("got %+v, want an error", l)
		}
		if l := linkLag("us-east-1", "us-west-2", before, before); l.Error == "" {
			t.Errorf("got %+v, want an error", l)
		}
	})
	t.Run("region restarted between scrapes", func(t *testing.T) {
		if l := linkLag("us-east-1", "us-west-2", scrape{hist: after}, before); !strings.Contains(l.Error, "went backwards") {
			t.Errorf("got error %q, want one saying the histogram went backwards", l.Error)
		}
	})
}

func TestReplicationOptionsValidate(t *testing.T) {
	ok := ReplicationOptions{Origin: "a", AdminToken: "t", Admin: []AdminAPI{{"a", "http://x"}, {"b", "http://y"}}}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*ReplicationOptions)
		want string
	}{
		{"no origin", func(o *ReplicationOptions) { o.Origin = "" }, "origin is required"},
		{"no token", func(o *ReplicationOptions) { o.AdminToken = "" }, "admin token is required"},
		{"origin without admin API", func(o *ReplicationOptions) { o.Origin = "c" }, "no admin API for the origin c"},
		{"no destination", func(o *ReplicationOptions) { o.Admin = o.Admin[:1] }, "no destination"},
		{"region twice", func(o *ReplicationOptions) { o.Admin = append(o.Admin, AdminAPI{"b", "http://z"}) }, "region b has two admin APIs"},
		{"negative drain timeout", func(o *ReplicationOptions) { o.DrainTimeout = -1 }, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			o.Admin = append([]AdminAPI(nil), ok.Admin...)
			tc.edit(&o)
			err := o.validate()
			if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrInvalidOptions saying %q", err, tc.want)
			}
		})
	}
}

func TestReplicationReportOutput(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	r := &ReplicationReport{
		Origin: "us-east-1",
		Write: &Report{
			Options: Options{Endpoint: "http://127.0.0.1:8001", Table: "gyre-bench", Rate: 1000, Duration: 20 * time.Second, ItemSize: 1024, Keys: 10000, Concurrency: 32, Timeout: 5 * time.Second},
			Elapsed: 20 * time.Second,
			Total:   OpReport{Op: "total", Count: 20000, OpsPerSec: 1000, Latency: Latency{P50: ms(1.2), P99: ms(4), P999: ms(9), Max: ms(12)}},
		},
		Drained: true, DrainTime: 300 * time.Millisecond, CPUs: 2,
		LoadStart: []float64{1, 2, 3}, LoadEnd: []float64{1.5, 2, 3},
		warmup: 2 * time.Second,
		Links: []LinkLag{
			{Origin: "us-east-1", Destination: "us-west-2", Samples: 20000, Mean: ms(41), P50: ms(40.5), P99: ms(44), P999: ms(46), P999Low: ms(44), P999High: ms(48), Max: ms(50), FromWindow: true},
			{Origin: "us-east-1", Destination: "eu-west-1", Error: "no writes from us-east-1 were applied"},
			{Origin: "us-east-1", Destination: "ap-south-1", Samples: 20000, Mean: ms(41), P50: ms(40.5), P99: ms(44), P999: ms(46), P999Low: ms(43), P999High: ms(64), Max: ms(64)},
		},
	}
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"PutItem at 1000/s into us-east-1 (http://127.0.0.1:8001) for 20s after 2s warmup",
		"2 CPUs, load average 1.00 2.00 3.00 at start, 1.50 2.00 3.00 at end",
		"20000 acknowledged in 20s = 1000.0/s (100% of the target), 0 errors",
		"us-west-2           20000    41.000    40.500    44.000     44.000-48.000    50.000",
		"eu-west-1        no writes from us-east-1 were applied",
		"replication drained 300ms after the last write returned",
		"ap-south-1          20000    41.000   ~40.500   ~44.000     43.000-64.000  <=64.000",
		"~: estimated within a 1.5x-wide Prometheus bucket",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}

	b.Reset()
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Origin  string `json:"origin"`
		Drained bool   `json:"drained"`
		Links   []struct {
			Destination string `json:"destination"`
			Samples     uint64 `json:"samples"`
			P50         int64  `json:"p50_us"`
			P999Low     int64  `json:"p999_low_us"`
			FromWindow  bool   `json:"from_window"`
			Error       string `json:"error"`
		} `json:"links"`
		Write struct {
			Total struct {
				Count int64 `json:"count"`
			} `json:"total"`
		} `json:"write"`
		LoadStart []float64 `json:"load_start"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("decoding %s: %v", b.String(), err)
	}
	if got.Origin != "us-east-1" || !got.Drained || len(got.Links) != 3 || got.Links[0].Samples != 20000 ||
		got.Links[0].P50 != 40500 || got.Links[0].P999Low != 44000 || !got.Links[0].FromWindow ||
		got.Links[1].Error == "" || got.Write.Total.Count != 20000 || len(got.LoadStart) != 3 {
		t.Errorf("JSON report: got %+v from\n%s", got, b.String())
	}
}
