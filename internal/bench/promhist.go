package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A small reader of one histogram family from the Prometheus text
// exposition format, and the arithmetic the replication benchmark does on
// it: the difference of two scrapes and quantiles estimated from bucket
// counts, as PromQL's histogram_quantile does.

// promHistogram is one series of a Prometheus histogram.
type promHistogram struct {
	// Buckets are the cumulative counts by upper bound, ascending, +Inf
	// last.
	Buckets []promBucket
	Sum     float64
	Count   uint64
}

// promBucket is the number of observations at or below UpperBound.
type promBucket struct {
	UpperBound float64
	Count      uint64
}

// parseHistograms reads the series of the histogram family named name from
// Prometheus text exposition, grouped by the value of the label by: every
// series with the same value of by is summed into one histogram. Other
// families are skipped.
func parseHistograms(r io.Reader, name, by string) (map[string]*promHistogram, error) {
	out := map[string]*promHistogram{}
	get := func(key string) *promHistogram {
		h := out[key]
		if h == nil {
			h = &promHistogram{}
			out[key] = h
		}
		return h
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' || !strings.HasPrefix(text, name+"_") {
			continue
		}
		metric, labels, value, err := parseSample(text)
		if err != nil {
			return nil, fmt.Errorf("metrics line %d: %w", line, err)
		}
		h := get(labels[by])
		switch metric {
		case name + "_bucket":
			le, err := parseFloat(labels["le"])
			if err != nil {
				return nil, fmt.Errorf("metrics line %d: bucket bound %q: %w", line, labels["le"], err)
			}
			n, err := parseCount(value)
			if err != nil {
				return nil, fmt.Errorf("metrics line %d: %w", line, err)
			}
			i := slices.IndexFunc(h.Buckets, func(b promBucket) bool { return b.UpperBound == le })
			if i < 0 {
				h.Buckets = append(h.Buckets, promBucket{UpperBound: le})
				i = len(h.Buckets) - 1
			}
			h.Buckets[i].Count += n
		case name + "_sum":
			v, err := parseFloat(value)
			if err != nil {
				return nil, fmt.Errorf("metrics line %d: %w", line, err)
			}
			h.Sum += v
		case name + "_count":
			n, err := parseCount(value)
			if err != nil {
				return nil, fmt.Errorf("metrics line %d: %w", line, err)
			}
			h.Count += n
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for key, h := range out {
		slices.SortFunc(h.Buckets, func(a, b promBucket) int { return cmpFloat(a.UpperBound, b.UpperBound) })
		if len(h.Buckets) == 0 || !math.IsInf(h.Buckets[len(h.Buckets)-1].UpperBound, 1) {
			return nil, fmt.Errorf("histogram %s{%s=%q} has no +Inf bucket", name, by, key)
		}
	}
	return out, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseSample splits a sample line: metric{label="value",...} value
// [timestamp].
func parseSample(line string) (metric string, labels map[string]string, value string, err error) {
	labels = map[string]string{}
	i := strings.IndexAny(line, "{ \t")
	if i < 0 {
		return "", nil, "", errors.New("sample without a value")
	}
	metric, rest := line[:i], line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, " \t,")
			if rest == "" {
				return "", nil, "", errors.New("unterminated label set")
			}
			if rest[0] == '}' {
				rest = rest[1:]
				break
			}
			eq := strings.IndexByte(rest, '=')
			if eq < 0 || len(rest) < eq+2 || rest[eq+1] != '"' {
				return "", nil, "", fmt.Errorf("malformed label in %q", line)
			}
			lname := strings.TrimSpace(rest[:eq])
			var val strings.Builder
			j := eq + 2
			for ; j < len(rest) && rest[j] != '"'; j++ {
				c := rest[j]
				if c == '\\' && j+1 < len(rest) {
					j++
					switch rest[j] {
					case 'n':
						c = '\n'
					default:
						c = rest[j]
					}
				}
				val.WriteByte(c)
			}
			if j >= len(rest) {
				return "", nil, "", fmt.Errorf("unterminated label value in %q", line)
			}
			labels[lname] = val.String()
			rest = rest[j+1:]
		}
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", nil, "", fmt.Errorf("sample without a value: %q", line)
	}
	return metric, labels, fields[0], nil
}

func parseFloat(s string) (float64, error) {
	switch s {
	case "+Inf", "Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, 64)
}

// parseCount parses a counter value, which the text format may write as a
// float (1e+06).
func parseCount(s string) (uint64, error) {
	v, err := parseFloat(s)
	if err != nil || v < 0 || v != math.Trunc(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("count %q is not a non-negative integer", s)
	}
	return uint64(v), nil
}

// errCounterReset is returned by sub when the later scrape holds fewer
// observations than the earlier one: the process restarted in between.
var errCounterReset = errors.New("histogram went backwards (the region restarted?)")

// sub returns h minus an earlier scrape of the same series: the
// observations made in between. A nil before is an empty histogram.
func (h *promHistogram) sub(before *promHistogram) (*promHistogram, error) {
	d := &promHistogram{Buckets: slices.Clone(h.Buckets), Sum: h.Sum, Count: h.Count}
	if before == nil {
		return d, nil
	}
	if before.Count > h.Count {
		return nil, errCounterReset
	}
	d.Count -= before.Count
	d.Sum -= before.Sum
	for _, b := range before.Buckets {
		i := slices.IndexFunc(d.Buckets, func(a promBucket) bool { return a.UpperBound == b.UpperBound })
		if i < 0 {
			return nil, fmt.Errorf("bucket %g vanished between scrapes", b.UpperBound)
		}
		if b.Count > d.Buckets[i].Count {
			return nil, errCounterReset
		}
		d.Buckets[i].Count -= b.Count
	}
	return d, nil
}

// BucketQuantile is a quantile known to lie in a bucket: Low and High are
// the bucket's bounds and Estimate interpolates linearly between them by
// rank, as histogram_quantile does. Estimates are only as good as the
// buckets are narrow.
type BucketQuantile struct {
	Estimate, Low, High time.Duration
}

// quantile estimates the q-quantile (0 < q <= 1) of the observations, in
// seconds converted to a Duration. It returns false with no observations.
// The first bucket's lower bound is 0; a quantile in the +Inf bucket is
// reported as the highest finite bound.
func (h *promHistogram) quantile(q float64) (BucketQuantile, bool) {
	if h.Count == 0 || len(h.Buckets) == 0 {
		return BucketQuantile{}, false
	}
	total := h.Buckets[len(h.Buckets)-1].Count
	if total == 0 {
		return BucketQuantile{}, false
	}
	rank := q * float64(total)
	lower, below := 0.0, uint64(0)
	for _, b := range h.Buckets {
		if float64(b.Count) >= rank && b.Count > below {
			if math.IsInf(b.UpperBound, 1) {
				d := seconds(lower)
				return BucketQuantile{Estimate: d, Low: d, High: d}, true
			}
			frac := (rank - float64(below)) / float64(b.Count-below)
			est := lower + (b.UpperBound-lower)*frac
			return BucketQuantile{Estimate: seconds(est), Low: seconds(lower), High: seconds(b.UpperBound)}, true
		}
		lower, below = b.UpperBound, b.Count
	}
	d := seconds(lower)
	return BucketQuantile{Estimate: d, Low: d, High: d}, true
}

// maxBound returns the upper bound of the highest bucket that holds an
// observation (the highest finite bound if it is +Inf): no observation
// exceeds it.
func (h *promHistogram) maxBound() time.Duration {
	below := uint64(0)
	var last float64
	lastFinite := 0.0
	for _, b := range h.Buckets {
		if b.Count > below {
			last = b.UpperBound
		}
		if !math.IsInf(b.UpperBound, 1) {
			lastFinite = b.UpperBound
		}
		below = b.Count
	}
	if math.IsInf(last, 1) {
		last = lastFinite
	}
	return seconds(last)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
