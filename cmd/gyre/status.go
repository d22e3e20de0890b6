package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-dev/gyre/internal/node"
)

func newStatusCmd() *cobra.Command {
	var f adminFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every region's tables and the replication between regions",
		Long: `Show every region's tables and, for each pair of regions, the replication
link: its state, the lag over the last minute (apply time in the destination
minus commit time in the origin, p50 and p99) and the backlog (log entries the
destination has not applied yet).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, token, err := f.targets()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
			defer cancel()
			statuses := map[string]*node.RegionStatus{}
			errs := map[string]string{}
			for _, t := range targets {
				var s node.RegionStatus
				if err := adminGet(ctx, t, token, "/status", &s); err != nil {
					errs[t.region] = err.Error()
					continue
				}
				statuses[t.region] = &s
			}
			if f.json {
				return printJSON(map[string]any{"regions": statuses, "unreachable": errs})
			}
			printStatus(targets, statuses, errs)
			if len(errs) == len(targets) {
				return fmt.Errorf("no region answered")
			}
			return nil
		},
	}
	f.register(cmd.Flags())
	return cmd
}

func printStatus(targets []target, statuses map[string]*node.RegionStatus, errs map[string]string) {
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "REGION\tDYNAMODB\tCLOCK SKEW\tTABLES")
	for _, t := range targets {
		s, ok := statuses[t.region]
		if !ok {
			fmt.Fprintf(w, "%s\t-\t-\tunreachable: %s\n", t.region, errs[t.region])
			continue
		}
		tables := ""
		for i, tb := range s.Tables {
			if i > 0 {
				tables += ", "
			}
			tables += fmt.Sprintf("%s (%s, %d items)", tb.Name, tb.Status, tb.Items)
		}
		if tables == "" {
			tables = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.region, s.DynamoDB, s.ClockSkew, tables)
	}
	w.Flush()
	fmt.Println()
	w = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ORIGIN\tDESTINATION\tLINK\tLAG P50\tLAG P99\tSAMPLES\tBACKLOG")
	for _, t := range targets {
		s, ok := statuses[t.region]
		if !ok || s.Replication == nil {
			continue
		}
		for _, l := range s.Replication.Links {
			backlog := "-"
			if o, ok := statuses[l.Origin]; ok && o.Replication != nil {
				for _, ob := range o.Replication.Outbound {
					if ob.Destination == l.Destination && ob.Known {
						backlog = fmt.Sprint(ob.Backlog)
					}
				}
			}
			state := l.State
			if l.LastError != "" && l.State != "connected" {
				state += " (" + l.LastError + ")"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", l.Origin, l.Destination, state,
				fmtLag(l.Lag.P50, l.Lag.Samples), fmtLag(l.Lag.P99, l.Lag.Samples), l.Lag.Samples, backlog)
		}
	}
	w.Flush()
}

func fmtLag(d time.Duration, samples int) string {
	if samples == 0 {
		return "-"
	}
	return d.Round(10 * time.Microsecond).String()
}
