package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gyre-dev/gyre/internal/repl"
)

// The replication benchmark: PutItems at a steady rate into one region of a
// Gyre topology, and the replication lag of those writes in every other
// region as the regions themselves measure it (apply time in the
// destination minus commit time in the origin).
//
// Two server-side sources are read, from each destination's admin API:
//
//   - the Prometheus histogram gyre_replication_latency_seconds{origin},
//     scraped from /metrics just before and just after the measured writes
//     (after replication has drained). The difference holds exactly the
//     measured writes' lag, with an exact count and mean, but its buckets
//     are 1.5x wide, so its percentiles are only known to a bucket;
//   - the destination's lag window in /status (the one `gyre status`
//     shows): the last minute, in 4% buckets, p50, p99 and max.
//
// When the window holds exactly the measured writes (its sample count equals
// the histogram's; a caller that owns the regions arranges it by restarting
// the destinations after the warmup, see AfterWarmup), p50, p99 and max come
// from the window and p99.9 is narrowed to the part of its bucket between
// the window's p99 and max. Otherwise every percentile is the histogram's
// estimate, and the report says so.

// lagMetric is the histogram each destination exports.
const lagMetric = "gyre_replication_latency_seconds"

// AdminAPI is a region's admin API.
type AdminAPI struct {
	// Region is the region's name.
	Region string
	// URL is the admin API's base URL, e.g. http://127.0.0.1:9001.
	URL string
}

// ReplicationOptions configure RunReplication.
type ReplicationOptions struct {
	// Write is the load: PutItems into Write.Endpoint, the origin region's
	// DynamoDB endpoint, at Write.Rate for Write.Duration after Write.Warmup.
	// Its Workload is put whatever it says, and Region defaults to Origin.
	// Unless Write.ExistingTable is set, the table is created if missing and
	// made a global table replicated to every region of Admin.
	Write Options
	// Origin is the region written to. Required.
	Origin string
	// Admin lists every region's admin API, the origin's included; every
	// region but the origin is a destination. Required.
	Admin []AdminAPI
	// AdminToken is the admin APIs' bearer token. Required.
	AdminToken string
	// DrainTimeout bounds each wait for replication to drain. Default 60s.
	DrainTimeout time.Duration
	// AfterWarmup, if set, runs once the warmup's writes have replicated,
	// before measuring starts; replication is drained again after it. A
	// caller running the regions itself restarts the destinations here, so
	// that their lag windows hold only the measured writes.
	AfterWarmup func(ctx context.Context) error
	// BeforeMeasure and AfterMeasure, if set, run just before the measured
	// writes start and just after they end (e.g. to profile them).
	BeforeMeasure, AfterMeasure func()
	// HTTPClient calls the admin APIs. Default: one with a 10s timeout.
	HTTPClient *http.Client
}

// ReplicationReport is what RunReplication measured.
type ReplicationReport struct {
	// Origin is the region written to.
	Origin string
	// Write is the measured writes as the client saw them.
	Write *Report
	// Drained says replication drained after the measured writes within
	// DrainTimeout; DrainTime is how long after the last write returned.
	Drained   bool
	DrainTime time.Duration
	// Links has one entry per destination, in the order of Admin.
	Links []LinkLag
	// CPUs is the number of CPUs of the machine the benchmark ran on, and
	// LoadStart and LoadEnd its load averages (1, 5, 15 min) when the
	// measured writes began and ended, when known (Linux).
	CPUs               int
	LoadStart, LoadEnd []float64
	// MeasuredAt and EndedAt are when the measured writes began and when
	// the last of them returned.
	MeasuredAt, EndedAt  time.Time
	warmup, drainTimeout time.Duration
}

// LinkLag is the replication lag of the measured writes in one
// destination.
type LinkLag struct {
	Origin, Destination string
	// Samples is the number of the origin's writes the destination applied
	// while the writes were measured and until replication drained: one per
	// acknowledged PutItem, plus any that timed out at the client but were
	// committed.
	Samples uint64
	// Mean is exact: the histogram's sum over its count.
	Mean time.Duration
	// P50, P99, P999 and Max are the headline figures: from the window
	// when FromWindow, else estimated from the histogram's buckets (Max is
	// then the upper bound of the highest bucket used).
	P50, P99, P999, Max time.Duration
	// P999Low and P999High bound p99.9.
	P999Low, P999High time.Duration
	// FromWindow says the destination's lag window held exactly the
	// measured writes, so P50, P99 and Max are the window's (4% buckets).
	FromWindow bool
	// Window is the destination's lag window at the end: the last minute.
	Window repl.Summary
	// Histogram is the estimate from the Prometheus buckets alone.
	Histogram struct{ P50, P99, P999 BucketQuantile }
	// Error says why the link could not be measured; the rest is then
	// zero.
	Error string
}

// RunReplication runs the replication benchmark: it prepares the global
// table, waits until replication is connected and drained, writes for the
// warmup, drains, runs AfterWarmup, scrapes every destination, writes for
// the measured duration, waits for replication to drain, and scrapes again.
func RunReplication(ctx context.Context, o ReplicationOptions) (*ReplicationReport, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = time.Minute
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	w := o.Write
	w.Workload, w.Mix = WorkloadPut, Mix{}
	if w.Region == "" {
		w.Region = o.Origin
	}
	w.EnsureDefaults()
	if err := w.Validate(); err != nil {
		return nil, err
	}
	log := w.Logger.With("component", "bench")
	a := &admin{opts: &o}

	if !w.ExistingTable {
		if err := ensureGlobalTable(ctx, &w, o.destinations(), log); err != nil {
			return nil, err
		}
	}
	w.ExistingTable, w.SkipPreload, w.Cleanup = true, true, false
	if err := a.waitDrained(ctx, "before writing"); err != nil {
		return nil, err
	}
	if warm := w.warmup(); warm > 0 {
		log.Info("warming up", "rate", w.Rate, "duration", warm)
		wo := w
		wo.Duration, wo.Warmup = warm, -1
		if _, err := Run(ctx, wo); err != nil {
			return nil, fmt.Errorf("warmup: %w", err)
		}
		if err := a.waitDrained(ctx, "after the warmup"); err != nil {
			return nil, err
		}
	}
	if o.AfterWarmup != nil {
		if err := o.AfterWarmup(ctx); err != nil {
			return nil, err
		}
		if err := a.waitDrained(ctx, "before measuring"); err != nil {
			return nil, err
		}
	}
	before, err := a.scrapeAll(ctx)
	if err != nil {
		return nil, err
	}

	rep := &ReplicationReport{Origin: o.Origin, CPUs: runtime.NumCPU(), warmup: w.warmup(), drainTimeout: o.DrainTimeout}
	rep.LoadStart = loadAverage()
	rep.MeasuredAt = time.Now()
	if o.BeforeMeasure != nil {
		o.BeforeMeasure()
	}
	mo := w
	mo.Warmup = -1
	log.Info("measuring", "rate", w.Rate, "duration", w.Duration)
	rep.Write, err = Run(ctx, mo)
	if o.AfterMeasure != nil {
		o.AfterMeasure()
	}
	rep.EndedAt = time.Now()
	rep.LoadEnd = loadAverage()
	if err != nil {
		return nil, err
	}
	rep.Write.Options.Warmup = w.Warmup
	// An interrupted run still reports what it measured: finish with a
	// context of its own.
	ctx, stop := context.WithTimeout(context.WithoutCancel(ctx), o.DrainTimeout+time.Minute)
	defer stop()
	dctx, cancel := context.WithTimeout(ctx, o.DrainTimeout)
	rep.Drained = a.pollDrained(dctx)
	cancel()
	rep.DrainTime = time.Since(rep.EndedAt)
	if !rep.Drained {
		log.Warn("replication had not drained; lag of writes still in flight is missing", "waited", o.DrainTimeout)
	}
	after, err := a.scrapeAll(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range o.destinations() {
		rep.Links = append(rep.Links, linkLag(o.Origin, d, before[d], after[d]))
	}
	return rep, nil
}

func (o *ReplicationOptions) validate() error {
	var p []string
	if o.Origin == "" {
		p = append(p, "origin is required")
	}
	if o.AdminToken == "" {
		p = append(p, "admin token is required")
	}
	seen := map[string]bool{}
	for _, a := range o.Admin {
		if a.Region == "" || a.URL == "" {
			p = append(p, fmt.Sprintf("admin API %+v needs a region and a URL", a))
		}
		if seen[a.Region] {
			p = append(p, fmt.Sprintf("region %s has two admin APIs", a.Region))
		}
		seen[a.Region] = true
	}
	if o.Origin != "" && !seen[o.Origin] {
		p = append(p, fmt.Sprintf("no admin API for the origin %s", o.Origin))
	}
	if len(o.destinations()) == 0 {
		p = append(p, "no destination: admin APIs of at least one region besides the origin are required")
	}
	if o.DrainTimeout < 0 {
		p = append(p, fmt.Sprintf("drain timeout %v is negative", o.DrainTimeout))
	}
	if len(p) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidOptions, strings.Join(p, "; "))
	}
	return nil
}

func (o *ReplicationOptions) destinations() []string {
	var out []string
	for _, a := range o.Admin {
		if a.Region != o.Origin {
			out = append(out, a.Region)
		}
	}
	return out
}

// ensureGlobalTable creates the bench table in the origin if it is missing
// and adds a replica in every destination that lacks one, then waits until
// every replica is ACTIVE.
func ensureGlobalTable(ctx context.Context, o *Options, destinations []string, log *slog.Logger) error {
	c := newClient(o)
	defer c.close()
	if _, err := ensureTable(ctx, c, o, log); err != nil {
		return err
	}
	replicas := func() (map[string]types.ReplicaStatus, error) {
		out, err := c.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &o.Table})
		if err != nil {
			return nil, fmt.Errorf("describing table %q: %w", o.Table, err)
		}
		m := map[string]types.ReplicaStatus{}
		for _, r := range out.Table.Replicas {
			m[aws.ToString(r.RegionName)] = r.ReplicaStatus
		}
		return m, nil
	}
	have, err := replicas()
	if err != nil {
		return err
	}
	var add []types.ReplicationGroupUpdate
	for _, d := range destinations {
		if _, ok := have[d]; !ok {
			add = append(add, types.ReplicationGroupUpdate{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(d)}})
		}
	}
	if len(add) > 0 {
		log.Info("adding replicas", "table", o.Table, "regions", len(add))
		if _, err := c.db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: &o.Table, ReplicaUpdates: add}); err != nil {
			return fmt.Errorf("adding replicas of %q: %w", o.Table, err)
		}
	}
	deadline := time.Now().Add(tableWait)
	for {
		have, err := replicas()
		if err != nil {
			return err
		}
		active := true
		for _, d := range destinations {
			active = active && have[d] == types.ReplicaStatusActive
		}
		if active {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replicas of %q not ACTIVE after %v: %v", o.Table, tableWait, have)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(tableWaitMinDelay):
		}
	}
}

// admin talks to the regions' admin APIs.
type admin struct{ opts *ReplicationOptions }

func (a *admin) get(ctx context.Context, api AdminAPI, path string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(api.URL, "/")+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.opts.AdminToken)
	resp, err := a.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", api.Region, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("%s: GET %s: %s: %s", api.Region, path, resp.Status, strings.TrimSpace(string(msg)))
	}
	return resp.Body, nil
}

// status returns a region's replication status.
func (a *admin) status(ctx context.Context, api AdminAPI) (*repl.Status, error) {
	body, err := a.get(ctx, api, "/status")
	if err != nil {
		return nil, err
	}
	defer body.Close()
	var s struct {
		Replication *repl.Status `json:"replication"`
	}
	if err := json.NewDecoder(body).Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: decoding /status: %w", api.Region, err)
	}
	if s.Replication == nil {
		return nil, fmt.Errorf("%s: the region does not replicate", api.Region)
	}
	return s.Replication, nil
}

// drained reports whether every link is connected and every region's
// writes have been acknowledged by every peer, as gyre verify checks.
func (a *admin) drained(ctx context.Context) (bool, error) {
	for _, api := range a.opts.Admin {
		s, err := a.status(ctx, api)
		if err != nil {
			return false, err
		}
		if len(s.Backfilling) > 0 {
			return false, nil
		}
		for _, l := range s.Links {
			if l.State != repl.LinkConnected {
				return false, nil
			}
		}
		for _, ob := range s.Outbound {
			if !ob.Known || ob.Backlog > 0 {
				return false, nil
			}
		}
	}
	return true, nil
}

// pollDrained polls until replication has drained or ctx is done.
func (a *admin) pollDrained(ctx context.Context) bool {
	for {
		if ok, _ := a.drained(ctx); ok {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (a *admin) waitDrained(ctx context.Context, when string) error {
	dctx, cancel := context.WithTimeout(ctx, a.opts.DrainTimeout)
	defer cancel()
	if a.pollDrained(dctx) {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	_, err := a.drained(ctx)
	if err == nil {
		err = errors.New("links not all connected, or writes not all acknowledged")
	}
	return fmt.Errorf("replication did not drain %s within %v: %w", when, a.opts.DrainTimeout, err)
}

// scrape is one destination's view: its lag histogram of the origin's
// writes and its replication status.
type scrape struct {
	hist   *promHistogram // nil: nothing observed from the origin yet
	window repl.Summary
}

// scrapeAll scrapes every destination.
func (a *admin) scrapeAll(ctx context.Context) (map[string]scrape, error) {
	out := map[string]scrape{}
	for _, api := range a.opts.Admin {
		if api.Region == a.opts.Origin {
			continue
		}
		var s scrape
		body, err := a.get(ctx, api, "/metrics")
		if err != nil {
			return nil, err
		}
		hs, err := parseHistograms(body, lagMetric, "origin")
		body.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", api.Region, err)
		}
		s.hist = hs[a.opts.Origin]
		st, err := a.status(ctx, api)
		if err != nil {
			return nil, err
		}
		for _, l := range st.Links {
			if l.Origin == a.opts.Origin {
				s.window = l.Lag
			}
		}
		out[api.Region] = s
	}
	return out, nil
}

// linkLag computes one destination's figures from the scrapes before and
// after the measured writes.
func linkLag(origin, dest string, before, after scrape) LinkLag {
	l := LinkLag{Origin: origin, Destination: dest, Window: after.window}
	if after.hist == nil {
		l.Error = "the destination reports no replication lag from " + origin
		return l
	}
	d, err := after.hist.sub(before.hist)
	if err != nil {
		l.Error = err.Error()
		return l
	}
	l.Samples = d.Count
	if d.Count == 0 {
		l.Error = "no writes from " + origin + " were applied"
		return l
	}
	l.Mean = seconds(d.Sum / float64(d.Count))
	l.Histogram.P50, _ = d.quantile(0.50)
	l.Histogram.P99, _ = d.quantile(0.99)
	l.Histogram.P999, _ = d.quantile(0.999)
	l.P999Low, l.P999High = l.Histogram.P999.Low, l.Histogram.P999.High
	w := after.window
	if uint64(w.Samples) == d.Count {
		l.FromWindow = true
		l.P50, l.P99, l.Max = w.P50, w.P99, w.Max
		// p99.9 lies between the window's p99 and max, and in its
		// Prometheus bucket; where the two disagree by rounding, the
		// bucket wins.
		lo, hi := max(l.P999Low, w.P99), min(l.P999High, w.Max)
		if lo <= hi {
			l.P999Low, l.P999High = lo, hi
		}
	} else {
		l.P50, l.P99, l.Max = l.Histogram.P50.Estimate, l.Histogram.P99.Estimate, d.maxBound()
	}
	l.P999 = min(max(l.Histogram.P999.Estimate, l.P999Low), l.P999High)
	return l
}

// loadAverage returns the 1, 5 and 15 minute load averages, or nil where
// they cannot be read.
func loadAverage() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return nil
	}
	var out []float64
	for _, s := range f[:3] {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil
		}
		out = append(out, v)
	}
	return out
}

// WriteText writes the report for people: the run, the writes as the
// client saw them, and a table of replication lag by destination, in
// milliseconds.
func (r *ReplicationReport) WriteText(w io.Writer) error {
	var b strings.Builder
	o := &r.Write.Options
	fmt.Fprintf(&b, "gyre bench replication: PutItem at %s into %s (%s) for %s after %s warmup\n",
		rateString(o.Rate), r.Origin, o.Endpoint, o.Duration, r.warmup)
	fmt.Fprintf(&b, "  table=%s item_size=%d keys=%d concurrency=%d timeout=%s seed=%d\n",
		o.Table, o.ItemSize, o.Keys, o.Concurrency, o.Timeout, o.Seed)
	fmt.Fprintf(&b, "  %d CPUs, load average %s at start, %s at end\n\n", r.CPUs, loadString(r.LoadStart), loadString(r.LoadEnd))

	t := r.Write.Total
	fmt.Fprintf(&b, "writes (client side, AWS SDK): %d acknowledged in %s = %.1f/s", t.Count, r.Write.Elapsed.Round(time.Millisecond), t.OpsPerSec)
	if o.Rate > 0 {
		fmt.Fprintf(&b, " (%.0f%% of the target)", 100*t.OpsPerSec/o.Rate)
	}
	fmt.Fprintf(&b, ", %d errors\n", t.ErrorCount)
	fmt.Fprintf(&b, "  latency ms: p50 %s  p99 %s  p99.9 %s  max %s  (from each request's scheduled start)\n\n",
		ms(t.Latency.P50), ms(t.Latency.P99), ms(t.Latency.P999), ms(t.Latency.Max))

	fmt.Fprintf(&b, "replication lag of those writes: apply time in the destination - commit time in %s, as the destination measures it\n", r.Origin)
	const row = "%-16s %8s %9s %9s %9s %17s %9s\n"
	fmt.Fprintf(&b, row, "destination", "samples", "mean ms", "p50 ms", "p99 ms", "p99.9 ms", "max ms")
	approx := false
	for _, l := range r.Links {
		if l.Error != "" {
			fmt.Fprintf(&b, "%-16s %s\n", l.Destination, l.Error)
			continue
		}
		mark, maxMark := "", ""
		if !l.FromWindow {
			mark, maxMark, approx = "~", "<=", true
		}
		p999 := ms(l.P999)
		if float64(l.P999High) > 1.05*float64(l.P999Low) {
			p999 = ms(l.P999Low) + "-" + ms(l.P999High)
		}
		fmt.Fprintf(&b, row, l.Destination, fmt.Sprint(l.Samples), ms(l.Mean),
			mark+ms(l.P50), mark+ms(l.P99), p999, maxMark+ms(l.Max))
	}
	if r.Drained {
		fmt.Fprintf(&b, "replication drained %s after the last write returned\n", r.DrainTime.Round(time.Millisecond))
	} else {
		fmt.Fprintf(&b, "WARNING: replication had not drained %s after the last write; writes still in flight are missing\n", r.drainTimeout)
	}
	b.WriteString("\nmean: exact. p99.9: the range it lies in (Prometheus buckets are 1.5x wide)")
	if approx {
		b.WriteString(".\n~: estimated within a 1.5x-wide Prometheus bucket, <=: the bucket's upper bound: the destination's\n" +
			"   one-minute lag window did not hold exactly the measured writes (it also held the warmup or\n" +
			"   other clients' writes, or the run outlasted it), so its 4% buckets could not be used.\n")
	} else {
		b.WriteString(",\nnarrowed by p99 and max, which come from each destination's lag window (4% buckets),\nwhich held exactly the measured writes.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func loadString(l []float64) string {
	if len(l) == 0 {
		return "unknown"
	}
	s := make([]string, len(l))
	for i, v := range l {
		s[i] = strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strings.Join(s, " ")
}

// WriteJSON writes the report as one indented JSON object, latencies in
// whole microseconds.
func (r *ReplicationReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// MarshalJSON encodes the report as WriteJSON describes: "origin",
// "write" (the measured writes, as gyre bench --json reports them),
// "drained", "drain_ms", "links", "cpus", "load_start", "load_end".
func (r ReplicationReport) MarshalJSON() ([]byte, error) {
	links := r.Links
	if links == nil {
		links = []LinkLag{}
	}
	return json.Marshal(struct {
		Origin    string    `json:"origin"`
		Warmup    string    `json:"warmup"`
		Write     *Report   `json:"write"`
		Drained   bool      `json:"drained"`
		DrainMS   int64     `json:"drain_ms"`
		Links     []LinkLag `json:"links"`
		CPUs      int       `json:"cpus"`
		LoadStart []float64 `json:"load_start"`
		LoadEnd   []float64 `json:"load_end"`
	}{r.Origin, r.warmup.String(), r.Write, r.Drained, r.DrainTime.Milliseconds(), links, r.CPUs, r.LoadStart, r.LoadEnd})
}

// MarshalJSON encodes one destination's lag with snake_case keys and
// latencies in whole microseconds.
func (l LinkLag) MarshalJSON() ([]byte, error) {
	us := func(d time.Duration) int64 { return d.Microseconds() }
	type quantile struct {
		Estimate int64 `json:"estimate_us"`
		Low      int64 `json:"low_us"`
		High     int64 `json:"high_us"`
	}
	bq := func(b BucketQuantile) quantile { return quantile{us(b.Estimate), us(b.Low), us(b.High)} }
	type window struct {
		Samples int   `json:"samples"`
		P50     int64 `json:"p50_us"`
		P99     int64 `json:"p99_us"`
		Max     int64 `json:"max_us"`
	}
	type histogram struct {
		P50  quantile `json:"p50"`
		P99  quantile `json:"p99"`
		P999 quantile `json:"p999"`
	}
	return json.Marshal(struct {
		Origin      string    `json:"origin"`
		Destination string    `json:"destination"`
		Samples     uint64    `json:"samples"`
		Mean        int64     `json:"mean_us"`
		P50         int64     `json:"p50_us"`
		P99         int64     `json:"p99_us"`
		P999        int64     `json:"p999_us"`
		P999Low     int64     `json:"p999_low_us"`
		P999High    int64     `json:"p999_high_us"`
		Max         int64     `json:"max_us"`
		FromWindow  bool      `json:"from_window"`
		Window      window    `json:"window"`
		Histogram   histogram `json:"histogram"`
		Error       string    `json:"error,omitempty"`
	}{
		Origin: l.Origin, Destination: l.Destination, Samples: l.Samples, Mean: us(l.Mean),
		P50: us(l.P50), P99: us(l.P99), P999: us(l.P999), P999Low: us(l.P999Low), P999High: us(l.P999High),
		Max: us(l.Max), FromWindow: l.FromWindow,
		Window:    window{l.Window.Samples, us(l.Window.P50), us(l.Window.P99), us(l.Window.Max)},
		Histogram: histogram{bq(l.Histogram.P50), bq(l.Histogram.P99), bq(l.Histogram.P999)},
		Error:     l.Error,
	})
}
