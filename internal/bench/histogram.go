package bench

import (
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry: whole microseconds from 1µs to maxLatency, with three
// significant digits, i.e. a reported percentile is within 0.1% of the
// recorded latency it stands for (exact to the microsecond below 2.048ms).
// That takes about 140 KB per histogram.
const (
	histLowest  = 1
	histSigFigs = 3
)

// histogram is a latency histogram owned by one goroutine at a time: a worker
// records into its own, and Run merges them after the workers stop.
type histogram struct {
	h *hdrhistogram.Histogram
	// clamped counts latencies above maxLatency, recorded as maxLatency.
	clamped int64
}

func newHistogram() *histogram {
	return &histogram{h: hdrhistogram.New(histLowest, maxLatency.Microseconds(), histSigFigs)}
}

// record adds one latency. Sub-microsecond latencies count as 0µs; latencies
// above maxLatency as maxLatency.
func (h *histogram) record(d time.Duration) {
	us := d.Microseconds()
	if us > maxLatency.Microseconds() {
		us = maxLatency.Microseconds()
		h.clamped++
	}
	if us < 0 {
		us = 0
	}
	if err := h.h.RecordValue(us); err != nil {
		panic(fmt.Sprintf("bench: latency %dµs outside a histogram sized to hold it: %v", us, err))
	}
}

// merge adds every latency recorded in from. Both share one geometry, so
// nothing can be dropped.
func (h *histogram) merge(from *histogram) {
	if dropped := h.h.Merge(from.h); dropped != 0 {
		panic(fmt.Sprintf("bench: merging histograms of one geometry dropped %d values", dropped))
	}
	h.clamped += from.clamped
}

// count returns the number of latencies recorded.
func (h *histogram) count() int64 { return h.h.TotalCount() }

// latency summarises the recorded latencies; all zero when there are none.
func (h *histogram) latency() Latency {
	if h.count() == 0 {
		return Latency{}
	}
	at := func(q float64) time.Duration {
		return time.Duration(h.h.ValueAtQuantile(q)) * time.Microsecond
	}
	return Latency{
		P50:  at(50),
		P90:  at(90),
		P99:  at(99),
		P999: at(99.9),
		Max:  time.Duration(h.h.Max()) * time.Microsecond,
		Mean: time.Duration(h.h.Mean() * float64(time.Microsecond)),
	}
}
