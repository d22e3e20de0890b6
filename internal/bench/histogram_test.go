package bench

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func TestHistogramExactBelow2ms(t *testing.T) {
	// 1µs..1000µs once each: percentiles land on recorded values exactly.
	h := newHistogram()
	for us := 1; us <= 1000; us++ {
		h.record(time.Duration(us) * time.Microsecond)
	}
	got := h.latency()
	want := Latency{
		P50:  500 * time.Microsecond,
		P90:  900 * time.Microsecond,
		P99:  990 * time.Microsecond,
		P999: 999 * time.Microsecond,
		Max:  1000 * time.Microsecond,
		Mean: 500500 * time.Nanosecond,
	}
	if got != want {
		t.Errorf("latency of 1..1000µs:\n got %+v\nwant %+v", got, want)
	}
	if h.count() != 1000 {
		t.Errorf("count = %d, want 1000", h.count())
	}
}

func TestHistogramMergeEqualsSingle(t *testing.T) {
	// Four "workers" record interleaved shares of the same latencies; the
	// merge must summarise exactly like one histogram that saw them all.
	single := newHistogram()
	workers := []*histogram{newHistogram(), newHistogram(), newHistogram(), newHistogram()}
	for i := range 10000 {
		d := time.Duration(50+i*37%20000) * time.Microsecond // 50µs..20ms
		single.record(d)
		workers[i%len(workers)].record(d)
	}
	merged := newHistogram()
	for _, w := range workers {
		merged.merge(w)
	}
	if merged.count() != 10000 {
		t.Errorf("merged count = %d, want 10000", merged.count())
	}
	if got, want := merged.latency(), single.latency(); got != want {
		t.Errorf("merged latency %+v, want %+v (as one histogram)", got, want)
	}
}

func TestHistogramPrecision(t *testing.T) {
	// Above 2.048ms the histogram keeps three significant digits: a single
	// recorded value comes back within 0.1%, never below itself.
	for _, d := range []time.Duration{
		2049 * time.Microsecond,
		12345 * time.Microsecond,
		987654 * time.Microsecond,
		59999999 * time.Microsecond,
	} {
		t.Run(d.String(), func(t *testing.T) {
			h := newHistogram()
			h.record(d)
			l := h.latency()
			for name, got := range map[string]time.Duration{"p50": l.P50, "p99.9": l.P999, "max": l.Max} {
				if got < d || float64(got-d) > 0.001*float64(d) {
					t.Errorf("%s = %v, want within 0.1%% above %v", name, got, d)
				}
			}
		})
	}
}

func TestHistogramEdges(t *testing.T) {
	h := newHistogram()
	if got := h.latency(); got != (Latency{}) {
		t.Errorf("empty histogram latency = %+v, want zero", got)
	}

	h.record(300 * time.Nanosecond) // below the 1µs resolution
	h.record(-time.Second)          // a clock step: counted, as 0
	if l := h.latency(); l.Max != 0 || h.count() != 2 {
		t.Errorf("sub-µs latencies: max %v count %d, want 0s and 2", l.Max, h.count())
	}

	h.record(2 * time.Hour)
	if h.clamped != 1 {
		t.Errorf("clamped = %d after a 2h latency, want 1", h.clamped)
	}
	if l := h.latency(); l.Max < maxLatency || l.Max > maxLatency+maxLatency/1000 {
		t.Errorf("max after clamping = %v, want %v within 0.1%%", l.Max, maxLatency)
	}
	other := newHistogram()
	other.record(3 * time.Hour)
	h.merge(other)
	if h.clamped != 2 || h.count() != 4 {
		t.Errorf("after merge clamped = %d count = %d, want 2 and 4", h.clamped, h.count())
	}
}

func TestHistogramMean(t *testing.T) {
	h := newHistogram()
	for range 3 {
		h.record(100 * time.Microsecond)
	}
	h.record(500 * time.Microsecond)
	if got, want := h.latency().Mean, 200*time.Microsecond; got != want {
		t.Errorf("mean of 100,100,100,500µs = %v, want %v", got, want)
	}
	if got := h.latency().P50; got != 100*time.Microsecond {
		t.Errorf("p50 = %v, want 100µs", got)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	for _, d := range []time.Duration{100 * time.Microsecond, 10 * time.Millisecond, time.Second} {
		b.Run(d.String(), func(b *testing.B) {
			h := newHistogram()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				h.record(d + time.Duration(i&1023)*time.Microsecond)
			}
		})
	}
}

func BenchmarkHistogramMerge(b *testing.B) {
	for _, workers := range []int{16, 256} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			hs := make([]*histogram, workers)
			for i := range hs {
				hs[i] = newHistogram()
				for j := range 1000 {
					hs[i].record(time.Duration(100+int(math.Pow(float64(j), 1.8))) * time.Microsecond)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				m := newHistogram()
				for _, h := range hs {
					m.merge(h)
				}
			}
		})
	}
}
