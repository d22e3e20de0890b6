package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-dev/gyre/internal/node"
	"github.com/gyre-dev/gyre/internal/repl"
)

// errInconsistent makes gyre exit non-zero when replicas disagree.
var errInconsistent = errors.New("replicas disagree")

func newVerifyCmd() *cobra.Command {
	var f adminFlags
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check that every replica of every global table holds the same items",
		Long: `Check that every replica of every global table holds the same items.

It first waits (up to --wait) for replication to drain: every link
connected and no backlog. Then each replica digests its table; where
digests differ, the replicas list their keys and the differing keys are
printed. Exits non-zero when replicas disagree or cannot be reached.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, token, err := f.targets()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			drained := waitDrained(ctx, targets, token, wait)
			var rt []repl.Target
			for _, t := range targets {
				rt = append(rt, repl.Target{Region: t.region, URL: t.url})
			}
			checks, err := repl.Check(ctx, &http.Client{Timeout: time.Minute}, token, rt)
			if err != nil {
				return err
			}
			ok := true
			for _, c := range checks {
				ok = ok && c.Consistent
			}
			if f.json {
				if err := printJSON(map[string]any{"drained": drained, "consistent": ok, "tables": checks}); err != nil {
					return err
				}
			} else {
				printChecks(drained, checks)
			}
			if !ok {
				return errInconsistent
			}
			return nil
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Second, "how long to wait for replication to drain first")
	return cmd
}

// waitDrained polls every region's status until replication has drained or
// the wait is over, and reports whether it drained.
func waitDrained(ctx context.Context, targets []target, token string, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		if drainedNow(ctx, targets, token) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func drainedNow(ctx context.Context, targets []target, token string) bool {
	statuses := map[string]*node.RegionStatus{}
	for _, t := range targets {
		var s node.RegionStatus
		if err := adminGet(ctx, t, token, "/status", &s); err != nil || s.Replication == nil {
			return false
		}
		statuses[t.region] = &s
	}
	for _, s := range statuses {
		if len(s.Replication.Backfilling) > 0 {
			return false
		}
		for _, l := range s.Replication.Links {
			if l.State != "connected" {
				return false
			}
		}
		for _, o := range s.Replication.Outbound {
			// The destination must have acknowledged everything the
			// origin has logged.
			if !o.Known || o.Backlog > 0 {
				return false
			}
		}
	}
	return true
}

func printChecks(drained bool, checks []repl.TableCheck) {
	if !drained {
		fmt.Println("warning: replication had not drained; differences may be writes still in flight")
	}
	if len(checks) == 0 {
		fmt.Println("no global tables")
	}
	for _, c := range checks {
		verdict := "consistent"
		if !c.Consistent {
			verdict = "DIFFERENT"
		}
		fmt.Printf("%s: %s\n", c.Table, verdict)
		for _, d := range c.Replicas {
			fmt.Printf("  %-16s %8d items  digest %s\n", d.Region, d.Items, short(d.Digest))
		}
		for _, r := range c.Unreachable {
			fmt.Printf("  %-16s unreachable\n", r)
		}
		for i, d := range c.Differences {
			if i == 20 {
				fmt.Printf("  ... and %d more differing keys\n", len(c.Differences)-20)
				break
			}
			fmt.Printf("  key %s:", d.Key)
			for _, region := range slices.Sorted(maps.Keys(d.Hashes)) {
				h := d.Hashes[region]
				if h == "" {
					h = "missing"
				} else {
					h = short(h)
				}
				fmt.Printf(" %s=%s", region, h)
			}
			fmt.Println()
		}
	}
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
