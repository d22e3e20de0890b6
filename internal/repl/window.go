package repl

import (
	"math"
	"sync"
	"time"
)

// window summarises durations observed over a sliding period: counts in
// log-scale buckets, kept per second, merged on demand. Percentiles are
// accurate to the bucket width, about 4%.
type window struct {
	period time.Duration

	mu    sync.Mutex
	slots []slot // ring, one per second of the period
}

type slot struct {
	sec     int64 // unix second the counts belong to
	counts  [numBuckets]uint32
	samples int
}

const (
	// Buckets cover 10µs to about 100s with ratio bucketRatio.
	bucketMin   = 10 * time.Microsecond
	bucketRatio = 1.04
	numBuckets  = 420
)

var logRatio = math.Log(bucketRatio)

func newWindow(period time.Duration) *window {
	n := int(period / time.Second)
	if n < 1 {
		n = 1
	}
	return &window{period: period, slots: make([]slot, n)}
}

func bucketOf(d time.Duration) int {
	if d <= bucketMin {
		return 0
	}
	b := int(math.Log(float64(d)/float64(bucketMin))/logRatio) + 1
	return min(b, numBuckets-1)
}

// bucketValue is the duration a bucket stands for: its upper bound.
func bucketValue(b int) time.Duration {
	if b == 0 {
		return bucketMin
	}
	return time.Duration(float64(bucketMin) * math.Pow(bucketRatio, float64(b)))
}

// add records d observed at now.
func (w *window) add(now time.Time, d time.Duration) {
	sec := now.Unix()
	w.mu.Lock()
	defer w.mu.Unlock()
	s := &w.slots[sec%int64(len(w.slots))]
	if s.sec != sec {
		*s = slot{sec: sec}
	}
	s.counts[bucketOf(d)]++
	s.samples++
}

// Summary is what a window holds over its period.
type Summary struct {
	Samples int           `json:"samples"`
	P50     time.Duration `json:"p50"`
	P99     time.Duration `json:"p99"`
	Max     time.Duration `json:"max"`
}

// summary returns the percentiles of the samples observed in the period up
// to now.
func (w *window) summary(now time.Time) Summary {
	var total [numBuckets]uint64
	n := 0
	oldest := now.Unix() - int64(len(w.slots)) + 1
	w.mu.Lock()
	for i := range w.slots {
		s := &w.slots[i]
		if s.sec < oldest || s.sec > now.Unix() {
			continue
		}
		for b, c := range s.counts {
			total[b] += uint64(c)
		}
		n += s.samples
	}
	w.mu.Unlock()
	if n == 0 {
		return Summary{}
	}
	pick := func(q float64) time.Duration {
		rank := uint64(math.Ceil(q * float64(n)))
		var seen uint64
		for b, c := range total {
			seen += c
			if seen >= rank && c > 0 {
				return bucketValue(b)
			}
		}
		return bucketValue(numBuckets - 1)
	}
	return Summary{Samples: n, P50: pick(0.50), P99: pick(0.99), Max: pick(1)}
}
