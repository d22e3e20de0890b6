package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gyre-dev/gyre/internal/bench"
)

// newBenchCmd returns `gyre bench`, the load harness.
func newBenchCmd() *cobra.Command {
	var (
		opts        bench.Options
		workload    string
		mix         string
		createTable bool
		preload     bool
		asJSON      bool
	)
	cmd := &cobra.Command{
		Use:   "bench --endpoint URL",
		Short: "Drive a put/get/query workload against any DynamoDB-compatible endpoint and report ops/s and latency",
		Long: `bench drives PutItem, GetItem, Query or a mix of them through the AWS SDK, with
SDK retries off, against any DynamoDB-compatible endpoint (Gyre, DynamoDB Local,
ScyllaDB Alternator, DynamoDB), and prints ops/s and p50/p99/p99.9/max latency
per operation. It creates and preloads the table unless told not to.
Interrupt (Ctrl-C) stops the run early and still prints what was measured;
a second interrupt exits at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Options reads a zero as "use the default"; on the command line
			// it is a mistake, except where the flag gives it a meaning.
			var zero []string
			for _, name := range []string{"concurrency", "item-size", "duration", "keys", "sort-keys", "query-limit", "timeout"} {
				if fl := cmd.Flags().Lookup(name); fl.Changed && (fl.Value.String() == "0" || fl.Value.String() == "0s") {
					zero = append(zero, "--"+name)
				}
			}
			if len(zero) > 0 {
				return fmt.Errorf("%s must not be 0", strings.Join(zero, ", "))
			}
			opts.Workload = bench.Workload(workload)
			if mix != "" {
				m, err := bench.ParseMix(mix)
				if err != nil {
					return err
				}
				opts.Mix = m
			}
			if opts.Warmup == 0 {
				opts.Warmup = -1 // the flag's 0 means no warmup, Options' 0 the default
			}
			opts.ExistingTable = !createTable
			opts.SkipPreload = !preload
			opts.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))

			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// After the first signal, restore the default so a second one kills.
			context.AfterFunc(ctx, stop)

			rep, err := bench.Run(ctx, opts)
			if rep != nil {
				out := cmd.OutOrStdout()
				var werr error
				if asJSON {
					werr = rep.WriteJSON(out)
				} else {
					werr = rep.WriteText(out)
				}
				if err == nil {
					err = werr
				}
			}
			return err
		},
	}

	f := cmd.Flags()
	f.StringVar(&opts.Endpoint, "endpoint", "", "DynamoDB-compatible endpoint URL, e.g. http://127.0.0.1:8000 (required)")
	f.StringVar(&opts.Region, "region", bench.DefaultRegion, "region to sign requests for")
	f.StringVar(&opts.AccessKey, "access-key", bench.DefaultAccessKey, "access key ID (the default is Gyre's development key)")
	f.StringVar(&opts.SecretKey, "secret-key", bench.DefaultSecretKey, "secret access key")
	f.StringVar(&opts.Table, "table", bench.DefaultTable, "table to use; keys pk (S, HASH) and sk (N, RANGE)")
	f.StringVar(&workload, "workload", string(bench.DefaultWorkload), "put, get, query or mixed")
	f.StringVar(&mix, "mix", "", "weights of the mixed workload as op=weight pairs (default "+bench.DefaultMix.String()+")")
	f.IntVar(&opts.Concurrency, "concurrency", bench.DefaultConcurrency, "number of workers, each with one request in flight")
	f.IntVar(&opts.ItemSize, "item-size", bench.DefaultItemSize, "approximate item size in bytes")
	f.DurationVar(&opts.Duration, "duration", bench.DefaultDuration, "how long to measure")
	f.DurationVar(&opts.Warmup, "warmup", bench.DefaultWarmup, "how long to run before measuring (0 for none)")
	f.IntVar(&opts.Keys, "keys", bench.DefaultKeys, "number of distinct items (rounded down to whole partitions)")
	f.IntVar(&opts.SortKeys, "sort-keys", bench.DefaultSortKeys, "items per partition")
	f.IntVar(&opts.QueryLimit, "query-limit", bench.DefaultQueryLimit, "Limit of each query")
	f.BoolVar(&opts.ConsistentRead, "consistent-read", false, "make gets and queries strongly consistent")
	f.Float64Var(&opts.Rate, "rate", 0, "target ops/s across all workers; 0 issues requests back to back")
	f.DurationVar(&opts.Timeout, "timeout", bench.DefaultTimeout, "per-request timeout")
	f.Uint64Var(&opts.Seed, "seed", 0, "seed for the choice of operations and keys (0: from the clock)")
	f.BoolVar(&createTable, "create-table", true, "create the table if missing and wait until it is ACTIVE")
	f.BoolVar(&preload, "preload", true, "write every key before the run so gets and queries hit")
	f.BoolVar(&opts.Cleanup, "cleanup", false, "delete the table at the end, even if it existed before")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if err := cmd.MarkFlagRequired("endpoint"); err != nil {
		panic("bench: marking --endpoint required: " + err.Error())
	}
	cmd.AddCommand(newBenchReplicationCmd())
	return cmd
}
