package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-dev/gyre/internal/health"
)

func newHealthCmd() *cobra.Command {
	var f adminFlags
	var history bool
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Show every health check: its status, each vantage point's view, and its history",
		Long: `Show every health check as the router sees it: the aggregated status
(healthy when more than the check's healthy fraction of the vantage points
that report say so), each vantage point's view (every region and the
router) with its last result, and, with --history, the transitions.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := loadTopology(f.config)
			if err != nil {
				return err
			}
			_, token, err := f.targets()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			var snap health.Snapshot
			router := target{region: "router", url: "http://" + t.Routing.Admin}
			if err := adminGet(ctx, router, token, health.StatusPath, &snap); err != nil {
				return fmt.Errorf("asking the router (is gyre up or gyre router running?): %w", err)
			}
			if f.json {
				return printJSON(snap)
			}
			printHealth(snap, history)
			return nil
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().BoolVar(&history, "history", false, "print each check's transitions")
	return cmd
}

func printHealth(s health.Snapshot, history bool) {
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "CHECK\tTYPE\tTARGET\tSTATUS\tVANTAGE POINTS\tREASON\n")
	for _, c := range s.Checks {
		target := c.Check.Target + c.Check.Path
		if c.Check.Type == health.TypeCalculated {
			target = "children " + strings.Join(c.Check.Children, ",")
		}
		var views []string
		for _, v := range c.Vantages {
			view := v.Vantage + "=" + v.Status.String()
			if v.Stale {
				view += "(stale)"
			}
			views = append(views, view)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Check.ID, c.Check.Type, target, c.Status, strings.Join(views, " "), c.Reason)
	}
	w.Flush()
	if !history {
		return
	}
	for _, c := range s.Checks {
		if len(c.History) == 0 {
			continue
		}
		fmt.Printf("\n%s:\n", c.Check.ID)
		for _, tr := range c.History {
			fmt.Printf("  %s  %s -> %s  %s\n", tr.Time.Format(time.RFC3339Nano), tr.From, tr.To, tr.Reason)
		}
	}
}
