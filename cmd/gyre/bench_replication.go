package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-dev/gyre/internal/bench"
)

// newBenchReplicationCmd returns `gyre bench replication`.
func newBenchReplicationCmd() *cobra.Command {
	var fl benchReplicationFlags
	cmd := &cobra.Command{
		Use:   "replication",
		Short: "Measure replication lag: PutItems at a steady rate into one region, lag in the others",
		Long: `replication drives PutItem at --rate writes/s into one region (--origin) of a
Gyre topology through the AWS SDK and reports, for every other region, the
replication lag of those writes as that region measures it: apply time there
minus commit time in the origin. It also reports the rate achieved and the
client-side write latency.

By default it starts its own three regions in this process (data in a
temporary directory, free loopback ports) with a global table, the simulated
WAN between every pair of regions set to --latency and --jitter. After the
warmup it restarts the destination regions so that their lag windows hold
only the measured writes.

With --config it measures an already running topology instead (gyre up or
gyre region processes): the origin's DynamoDB endpoint and every region's
admin API come from the file. With --admin it measures regions given by
their admin URLs, the origin's DynamoDB endpoint by --endpoint. The table is
created and made global if it is missing.

Lag figures come from each destination's admin API: the Prometheus histogram
gyre_replication_latency_seconds scraped before and after the measured writes
(exact count and mean, 1.5x-wide buckets) and the lag window of /status (4%
buckets, p50, p99 and max), used when it holds exactly the measured writes.`,
		Example: `  gyre bench replication --rate 1000 --latency 40ms
  gyre bench replication --rate 5000 --duration 20s --json
  gyre bench replication --config gyre.yaml --origin us-west-2 --rate 500`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return fl.run(cmd) },
	}
	fl.register(cmd)
	return cmd
}

// benchReplicationFlags are the flags of gyre bench replication: most of
// them set the benchmark's options and where it finds its regions.
type benchReplicationFlags struct {
	ro         bench.ReplicationOptions
	regions    bench.Regions
	adminToken string
	asJSON     bool
	cpuProfile string
}

// register defines the flags on cmd.
func (fl *benchReplicationFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Float64Var(&fl.ro.Write.Rate, "rate", 1000, "target PutItems per second into the origin")
	f.DurationVar(&fl.ro.Write.Duration, "duration", 20*time.Second, "how long to measure")
	f.DurationVar(&fl.ro.Write.Warmup, "warmup", bench.DefaultWarmup, "how long to write before measuring (0 for none)")
	f.IntVar(&fl.ro.Write.Concurrency, "concurrency", 32, "number of writers, each with one request in flight")
	f.IntVar(&fl.ro.Write.ItemSize, "item-size", bench.DefaultItemSize, "approximate item size in bytes")
	f.IntVar(&fl.ro.Write.Keys, "keys", bench.DefaultKeys, "number of distinct items written (rounded down to whole partitions of 10)")
	f.DurationVar(&fl.ro.Write.Timeout, "timeout", bench.DefaultTimeout, "per-request timeout")
	f.Uint64Var(&fl.ro.Write.Seed, "seed", 0, "seed for the choice of keys (0: from the clock)")
	f.StringVar(&fl.ro.Write.Table, "table", bench.DefaultTable, "global table to write; keys pk (S, HASH) and sk (N, RANGE)")
	f.BoolVar(&fl.ro.Write.ExistingTable, "existing-table", false, "use the table as it is: do not create it or add replicas")
	f.StringVar(&fl.ro.Origin, "origin", "", "region to write to (default: the first region)")
	f.StringSliceVar(&fl.regions.Names, "regions", []string{"us-east-1", "us-west-2", "eu-west-1"}, "regions to start (without --config or --admin)")
	f.DurationVar(&fl.regions.Latency, "latency", 0, "one-way WAN latency between every pair of regions it starts, e.g. 40ms")
	f.DurationVar(&fl.regions.Jitter, "jitter", 0, "WAN jitter: each message is delayed by up to this much more")
	f.StringVar(&fl.regions.DataDir, "data-dir", "", "where the regions it starts keep their data (default: a temporary directory, removed after)")
	f.StringVar(&fl.regions.ConfigFile, "config", "", "measure the running topology of this file instead of starting regions")
	f.StringToStringVar(&fl.regions.Admin, "admin", nil, "measure running regions by admin URL instead, e.g. us-east-1=127.0.0.1:9001,us-west-2=127.0.0.1:9002")
	f.StringVar(&fl.ro.Write.Endpoint, "endpoint", "", "with --admin: the origin's DynamoDB endpoint URL")
	f.StringVar(&fl.adminToken, "admin-token", "", "admin API token (default: the topology's admin_token, or $GYRE_ADMIN_TOKEN)")
	f.StringVar(&fl.ro.Write.AccessKey, "access-key", "", "access key ID (default: the topology's, or Gyre's development key)")
	f.StringVar(&fl.ro.Write.SecretKey, "secret-key", "", "secret access key")
	f.DurationVar(&fl.ro.DrainTimeout, "drain-timeout", time.Minute, "how long to wait for replication to drain after the writes")
	f.BoolVar(&fl.asJSON, "json", false, "print the report as JSON")
	f.StringVar(&fl.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured writes (client and, without --config, regions) to this file")
}

// run finds or starts the regions, runs the benchmark and prints its
// report. It fills in copies of the flags' options, so the flags keep
// what was given.
func (fl *benchReplicationFlags) run(cmd *cobra.Command) error {
	ro, regions := fl.ro, fl.regions
	external := regions.ConfigFile != "" || len(regions.Admin) > 0
	if err := checkOwnRegionFlags(cmd, external); err != nil {
		return err
	}
	if ro.Write.Warmup == 0 {
		ro.Write.Warmup = -1 // the flag's 0 means no warmup, Options' 0 the default
	}
	ro.Write.Workload = bench.WorkloadPut
	ro.Write.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	regions.Logger = benchNodeLogger()
	regions.AdminToken = benchAdminToken(fl.adminToken, external)

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)

	stopRegions, err := regions.Open(&ro)
	if err != nil {
		return err
	}
	defer stopRegions()
	if fl.cpuProfile != "" {
		stopProfile, err := profileMeasuredWrites(&ro, fl.cpuProfile, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	rep, err := bench.RunReplication(ctx, ro)
	if err != nil {
		return err
	}
	if fl.asJSON {
		return rep.WriteJSON(cmd.OutOrStdout())
	}
	return rep.WriteText(cmd.OutOrStdout())
}

// checkOwnRegionFlags refuses the flags of cmd that shape the regions bench
// starts itself when it measures running regions instead (external).
func checkOwnRegionFlags(cmd *cobra.Command, external bool) error {
	if !external {
		return nil
	}
	for _, name := range []string{"latency", "jitter", "regions", "data-dir"} {
		if cmd.Flags().Changed(name) {
			return fmt.Errorf("--%s is for the regions bench starts itself; it cannot be used with --config or --admin", name)
		}
	}
	return nil
}

// benchAdminToken is the admin token that overrides the regions' own:
// --admin-token, else, for running regions (external), $GYRE_ADMIN_TOKEN;
// empty if neither is set.
func benchAdminToken(flag string, external bool) string {
	if flag != "" {
		return flag
	}
	if external {
		return os.Getenv("GYRE_ADMIN_TOKEN")
	}
	return ""
}

// profileMeasuredWrites makes ro write a CPU profile of the measured
// writes to path. The caller calls closeFile after the run.
func profileMeasuredWrites(ro *bench.ReplicationOptions, path string, stderr io.Writer) (closeFile func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	ro.BeforeMeasure = func() {
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "gyre: cpu profile:", err)
		}
	}
	ro.AfterMeasure = pprof.StopCPUProfile
	return func() { f.Close() }, nil
}

// benchNodeLogger logs the regions bench starts at warning level and
// above, unless GYRE_LOG_LEVEL says otherwise, so that their logs do not
// drown the report.
func benchNodeLogger() *slog.Logger {
	level := slog.LevelWarn
	if v := os.Getenv("GYRE_LOG_LEVEL"); v != "" {
		level.UnmarshalText([]byte(v))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
