package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-dev/gyre/internal/bench"
	"github.com/gyre-dev/gyre/internal/node"
	"github.com/gyre-dev/gyre/internal/topology"
)

// newBenchReplicationCmd returns `gyre bench replication`.
func newBenchReplicationCmd() *cobra.Command {
	var (
		w            bench.Options
		origin       string
		regions      []string
		latency      time.Duration
		jitter       time.Duration
		dataDir      string
		config       string
		admin        map[string]string
		adminToken   string
		drainTimeout time.Duration
		asJSON       bool
		cpuProfile   string
	)
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			fl := cmd.Flags()
			external := config != "" || len(admin) > 0
			if external {
				for _, name := range []string{"latency", "jitter", "regions", "data-dir"} {
					if fl.Changed(name) {
						return fmt.Errorf("--%s is for the regions bench starts itself; it cannot be used with --config or --admin", name)
					}
				}
			}
			if config != "" && len(admin) > 0 {
				return errors.New("give --config or --admin, not both")
			}
			if w.Warmup == 0 {
				w.Warmup = -1 // the flag's 0 means no warmup, Options' 0 the default
			}
			w.Workload = bench.WorkloadPut
			w.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			ro := bench.ReplicationOptions{DrainTimeout: drainTimeout}

			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			context.AfterFunc(ctx, stop)

			switch {
			case config != "":
				t, err := topology.Load(config)
				if err != nil {
					return err
				}
				if origin == "" {
					origin = t.Regions[0].Name
				}
				r, ok := t.Region(origin)
				if !ok {
					return fmt.Errorf("--origin %s: no such region in %s (regions: %v)", origin, config, t.RegionNames())
				}
				if w.Endpoint == "" {
					w.Endpoint = "http://" + r.DynamoDB
				}
				if w.AccessKey == "" && w.SecretKey == "" {
					w.AccessKey, w.SecretKey = t.Credentials.AccessKey, t.Credentials.SecretKey
				}
				for _, r := range t.Regions {
					ro.Admin = append(ro.Admin, bench.AdminAPI{Region: r.Name, URL: "http://" + r.Admin})
				}
				ro.AdminToken = t.AdminToken
			case len(admin) > 0:
				if origin == "" || w.Endpoint == "" {
					return errors.New("with --admin, --origin and --endpoint (the origin's DynamoDB endpoint) are required")
				}
				for _, r := range slices.Sorted(maps.Keys(admin)) {
					u := admin[r]
					if !strings.Contains(u, "://") {
						u = "http://" + u
					}
					ro.Admin = append(ro.Admin, bench.AdminAPI{Region: r, URL: u})
				}
				ro.AdminToken = topology.DevAdminToken
			default:
				if w.Endpoint != "" {
					return errors.New("--endpoint is for --admin; without --config or --admin bench starts its own regions")
				}
				if len(regions) < 2 {
					return fmt.Errorf("--regions needs at least two regions, got %v", regions)
				}
				if origin == "" {
					origin = regions[0]
				}
				n, cleanup, err := startBenchNode(regions, w.Table, latency, jitter, dataDir)
				if err != nil {
					return err
				}
				defer cleanup()
				r := n.Region(origin)
				if r == nil {
					return fmt.Errorf("--origin %s is not one of --regions %v", origin, regions)
				}
				w.Endpoint = "http://" + r.Addr().String()
				for _, r := range n.Regions() {
					ro.Admin = append(ro.Admin, bench.AdminAPI{Region: r.Name(), URL: "http://" + r.AdminAddr().String()})
				}
				ro.AdminToken = n.Topology().AdminToken
				// Restarting the destinations gives them fresh lag windows,
				// holding only the measured writes.
				ro.AfterWarmup = func(ctx context.Context) error {
					for _, name := range regions {
						if name == origin {
							continue
						}
						if err := n.Stop(ctx, name); err != nil {
							return fmt.Errorf("restarting %s after the warmup: %w", name, err)
						}
						if err := n.Restart(name); err != nil {
							return fmt.Errorf("restarting %s after the warmup: %w", name, err)
						}
					}
					return nil
				}
			}
			if env := os.Getenv("GYRE_ADMIN_TOKEN"); env != "" && external {
				ro.AdminToken = env
			}
			if adminToken != "" {
				ro.AdminToken = adminToken
			}
			ro.Write, ro.Origin = w, origin

			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				ro.BeforeMeasure = func() {
					if err := pprof.StartCPUProfile(f); err != nil {
						fmt.Fprintln(cmd.ErrOrStderr(), "gyre: cpu profile:", err)
					}
				}
				ro.AfterMeasure = pprof.StopCPUProfile
			}
			rep, err := bench.RunReplication(ctx, ro)
			if err != nil {
				return err
			}
			if asJSON {
				return rep.WriteJSON(cmd.OutOrStdout())
			}
			return rep.WriteText(cmd.OutOrStdout())
		},
	}

	f := cmd.Flags()
	f.Float64Var(&w.Rate, "rate", 1000, "target PutItems per second into the origin")
	f.DurationVar(&w.Duration, "duration", 20*time.Second, "how long to measure")
	f.DurationVar(&w.Warmup, "warmup", bench.DefaultWarmup, "how long to write before measuring (0 for none)")
	f.IntVar(&w.Concurrency, "concurrency", 32, "number of writers, each with one request in flight")
	f.IntVar(&w.ItemSize, "item-size", bench.DefaultItemSize, "approximate item size in bytes")
	f.IntVar(&w.Keys, "keys", bench.DefaultKeys, "number of distinct items written (rounded down to whole partitions of 10)")
	f.DurationVar(&w.Timeout, "timeout", bench.DefaultTimeout, "per-request timeout")
	f.Uint64Var(&w.Seed, "seed", 0, "seed for the choice of keys (0: from the clock)")
	f.StringVar(&w.Table, "table", bench.DefaultTable, "global table to write; keys pk (S, HASH) and sk (N, RANGE)")
	f.BoolVar(&w.ExistingTable, "existing-table", false, "use the table as it is: do not create it or add replicas")
	f.StringVar(&origin, "origin", "", "region to write to (default: the first region)")
	f.StringSliceVar(&regions, "regions", []string{"us-east-1", "us-west-2", "eu-west-1"}, "regions to start (without --config or --admin)")
	f.DurationVar(&latency, "latency", 0, "one-way WAN latency between every pair of regions it starts, e.g. 40ms")
	f.DurationVar(&jitter, "jitter", 0, "WAN jitter: each message is delayed by up to this much more")
	f.StringVar(&dataDir, "data-dir", "", "where the regions it starts keep their data (default: a temporary directory, removed after)")
	f.StringVar(&config, "config", "", "measure the running topology of this file instead of starting regions")
	f.StringToStringVar(&admin, "admin", nil, "measure running regions by admin URL instead, e.g. us-east-1=127.0.0.1:9001,us-west-2=127.0.0.1:9002")
	f.StringVar(&w.Endpoint, "endpoint", "", "with --admin: the origin's DynamoDB endpoint URL")
	f.StringVar(&adminToken, "admin-token", "", "admin API token (default: the topology's admin_token, or $GYRE_ADMIN_TOKEN)")
	f.StringVar(&w.AccessKey, "access-key", "", "access key ID (default: the topology's, or Gyre's development key)")
	f.StringVar(&w.SecretKey, "secret-key", "", "secret access key")
	f.DurationVar(&drainTimeout, "drain-timeout", time.Minute, "how long to wait for replication to drain after the writes")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the measured writes (client and, without --config, regions) to this file")
	return cmd
}

// startBenchNode starts the regions in this process on free loopback
// ports, with table as a global table in all of them and every WAN link at
// the given latency and jitter. cleanup shuts them down and removes a
// temporary data directory.
func startBenchNode(regions []string, table string, latency, jitter time.Duration, dataDir string) (_ *node.Node, cleanup func(), err error) {
	removeDir := func() {}
	if dataDir == "" {
		dir, err := os.MkdirTemp("", "gyre-bench-replication-")
		if err != nil {
			return nil, nil, err
		}
		dataDir, removeDir = dir, func() { os.RemoveAll(dir) }
	}
	// Every address on a free port: nothing collides with another gyre
	// on this machine.
	const free = "127.0.0.1:0"
	t := &topology.Topology{DataDir: dataDir, Routing: topology.Routing{DNS: free, FrontDoor: free, Admin: free}}
	for _, r := range regions {
		t.Regions = append(t.Regions, topology.Region{Name: r, DynamoDB: free, Admin: free, Public: free, Control: free})
	}
	t.Tables = []topology.Table{{
		Name:         table,
		PartitionKey: topology.KeyAttribute{Name: "pk", Type: topology.KeyString},
		SortKey:      topology.KeyAttribute{Name: "sk", Type: topology.KeyNumber},
	}}
	if latency == 0 && jitter == 0 {
		t.WAN.Disabled = true
	} else {
		for i, a := range regions {
			for _, b := range regions[i+1:] {
				t.WAN.Links = append(t.WAN.Links, topology.Link{Between: []string{a, b}, Latency: &latency, Jitter: &jitter})
			}
		}
	}
	t.EnsureDefaults()
	if err := t.Validate(); err != nil {
		removeDir()
		return nil, nil, err
	}
	n, err := node.Start(node.Options{Topology: t, Logger: benchNodeLogger()})
	if err != nil {
		removeDir()
		return nil, nil, err
	}
	return n, func() {
		n.Shutdown(context.Background())
		removeDir()
	}, nil
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
