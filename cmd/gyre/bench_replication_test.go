package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// benchReplicationJSON is the part of gyre bench replication --json the
// tests check.
type benchReplicationJSON struct {
	Origin  string `json:"origin"`
	Drained bool   `json:"drained"`
	Write   struct {
		Total struct {
			Count      int64   `json:"count"`
			OpsPerSec  float64 `json:"ops_per_sec"`
			ErrorCount int64   `json:"error_count"`
		} `json:"total"`
	} `json:"write"`
	Links []struct {
		Origin      string `json:"origin"`
		Destination string `json:"destination"`
		Samples     int64  `json:"samples"`
		Mean        int64  `json:"mean_us"`
		P50         int64  `json:"p50_us"`
		P99         int64  `json:"p99_us"`
		P999        int64  `json:"p999_us"`
		P999Low     int64  `json:"p999_low_us"`
		P999High    int64  `json:"p999_high_us"`
		Max         int64  `json:"max_us"`
		FromWindow  bool   `json:"from_window"`
		Error       string `json:"error"`
	} `json:"links"`
}

// checkBenchReport checks what holds of every replication bench run: it
// drained, every destination applied every write (one lag sample each),
// and the figures are ordered.
func checkBenchReport(t *testing.T, out []byte, origin string, destinations int, minLag time.Duration) benchReplicationJSON {
	t.Helper()
	var r benchReplicationJSON
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("decoding the report: %v\n%s", err, out)
	}
	if r.Origin != origin || !r.Drained || r.Write.Total.Count == 0 || r.Write.Total.ErrorCount != 0 {
		t.Fatalf("report: origin %s, drained %v, %d writes, %d errors; want origin %s, drained, writes, no errors\n%s",
			r.Origin, r.Drained, r.Write.Total.Count, r.Write.Total.ErrorCount, origin, out)
	}
	if len(r.Links) != destinations {
		t.Fatalf("report has %d links, want %d\n%s", len(r.Links), destinations, out)
	}
	for _, l := range r.Links {
		if l.Error != "" || l.Origin != origin || l.Destination == origin {
			t.Errorf("link %s -> %s: error %q", l.Origin, l.Destination, l.Error)
			continue
		}
		if l.Samples != r.Write.Total.Count {
			t.Errorf("%s applied %d writes, want the %d acknowledged", l.Destination, l.Samples, r.Write.Total.Count)
		}
		if !(0 < l.P50 && l.P50 <= l.P99 && l.P99 <= l.Max && l.P999Low <= l.P999 && l.P999 <= l.P999High) {
			t.Errorf("%s: figures out of order: p50 %d, p99 %d, p99.9 %d in [%d, %d], max %d µs",
				l.Destination, l.P50, l.P99, l.P999, l.P999Low, l.P999High, l.Max)
		}
		if time.Duration(l.Mean)*time.Microsecond < minLag || time.Duration(l.P50)*time.Microsecond < minLag {
			t.Errorf("%s: mean %dµs, p50 %dµs: below the injected one-way latency %v", l.Destination, l.Mean, l.P50, minLag)
		}
	}
	return r
}

// TestBenchReplicationOwnRegions runs gyre bench replication on regions it
// starts itself, with WAN latency, and checks the report: the lag windows
// hold exactly the measured writes (the destinations were restarted after
// the warmup), and no lag is below the injected latency.
func TestBenchReplicationOwnRegions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three regions")
	}
	cmd := newBenchCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs([]string{"replication", "--rate", "200", "--duration", "1s", "--warmup", "300ms",
		"--latency", "20ms", "--concurrency", "4", "--item-size", "100", "--json"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("gyre bench replication: %v\n%s", err, out.String())
	}
	r := checkBenchReport(t, out.Bytes(), "us-east-1", 2, 20*time.Millisecond)
	for _, l := range r.Links {
		if !l.FromWindow {
			t.Errorf("%s: p50, p99 and max not from the lag window, which should hold exactly the measured writes", l.Destination)
		}
	}
}

// TestBenchReplicationRunningTopology points gyre bench replication at
// three running gyre region processes with --config: it creates the bench
// table, makes it global through the API, and measures.
func TestBenchReplicationRunningTopology(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gyre processes")
	}
	c := startMPCluster(t)
	out, code := runGyre(t, "bench", "replication", "--config", c.config, "--origin", "us-west-2",
		"--rate", "200", "--duration", "1s", "--warmup", "0s", "--concurrency", "4", "--item-size", "100", "--json")
	if code != 0 {
		t.Fatalf("gyre bench replication --config exited %d:\n%s", code, out)
	}
	// The log goes to stderr, mixed into out: the report is the JSON
	// object at the end.
	i := strings.Index(out, "{\n")
	if i < 0 {
		t.Fatalf("no JSON report in:\n%s", out)
	}
	checkBenchReport(t, []byte(out[i:]), "us-west-2", 2, 0)
}
