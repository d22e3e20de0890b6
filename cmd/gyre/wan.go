package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-dev/gyre/internal/wan"
)

func newWANCmd() *cobra.Command {
	w := &wanCmd{}
	cmd := &cobra.Command{
		Use:   "wan",
		Short: "Show and change the simulated network between regions",
		Long: `Show and change the simulated WAN between regions: one-way latency and
jitter per pair of regions, partitions between two regions, isolation of
one. Changes are sent to every region's admin API, so they hold whether the
regions run in one process (gyre up) or each in its own (gyre region).`,
	}
	w.f.register(cmd.PersistentFlags())
	// simple makes a subcommand that sends one change (or asks for the
	// state) with args.
	simple := func(use, short, example string, args cobra.PositionalArgs, fn func(ctx context.Context, c *wan.Client, args []string) (wan.Snapshot, error)) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Example: example, Args: args,
			RunE: func(cmd *cobra.Command, args []string) error {
				return w.each(cmd, func(ctx context.Context, c *wan.Client) (wan.Snapshot, error) { return fn(ctx, c, args) })
			},
		}
	}
	cmd.AddCommand(
		simple("show", "Show every link's latency, jitter and state", "", cobra.NoArgs,
			func(ctx context.Context, c *wan.Client, _ []string) (wan.Snapshot, error) { return c.State(ctx) }),
		w.setCmd(),
		simple("partition REGION REGION", "Cut the link between two regions", "  gyre wan partition us-east-1 eu-west-1", cobra.ExactArgs(2),
			func(ctx context.Context, c *wan.Client, args []string) (wan.Snapshot, error) {
				return c.Partition(ctx, args[0], args[1])
			}),
		simple("isolate REGION", "Cut every link of a region", "  gyre wan isolate eu-west-1", cobra.ExactArgs(1),
			func(ctx context.Context, c *wan.Client, args []string) (wan.Snapshot, error) {
				return c.Isolate(ctx, args[0])
			}),
		w.healCmd(),
		simple("reset", "Heal everything and restore the configured latencies", "", cobra.NoArgs,
			func(ctx context.Context, c *wan.Client, _ []string) (wan.Snapshot, error) { return c.Reset(ctx) }),
	)
	return cmd
}

// wanCmd is gyre wan: its flags, and how its subcommands reach every
// region.
type wanCmd struct{ f adminFlags }

// each runs fn against every region's admin API and prints the resulting
// state from the first that answered.
func (w *wanCmd) each(cmd *cobra.Command, fn func(ctx context.Context, c *wan.Client) (wan.Snapshot, error)) error {
	targets, token, err := w.f.targets()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
	defer cancel()
	var snap *wan.Snapshot
	var firstErr error
	for _, t := range targets {
		c := &wan.Client{BaseURL: t.url, Token: token, HTTP: adminClient}
		s, err := fn(ctx, c)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gyre: %s: %v\n", t.region, err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if snap == nil {
			snap = &s
		}
	}
	if snap == nil {
		return fmt.Errorf("no region answered: %w", firstErr)
	}
	if w.f.json {
		return printJSON(snap)
	}
	printWAN(*snap)
	return nil
}

func (w *wanCmd) setCmd() *cobra.Command {
	var latency, jitter time.Duration
	set := &cobra.Command{
		Use:     "set REGION REGION --latency D [--jitter D]",
		Short:   "Set the one-way latency and jitter between two regions (both directions)",
		Example: "  gyre wan set us-east-1 eu-west-1 --latency 40ms --jitter 5ms",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("latency") {
				return fmt.Errorf("--latency is required")
			}
			return w.each(cmd, func(ctx context.Context, c *wan.Client) (wan.Snapshot, error) {
				return c.Set(ctx, args[0], args[1], latency, jitter)
			})
		},
	}
	set.Flags().DurationVar(&latency, "latency", 0, "one-way latency, e.g. 40ms")
	set.Flags().DurationVar(&jitter, "jitter", 0, "jitter: each message is delayed by up to this much more")
	return set
}

func (w *wanCmd) healCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "heal [REGION REGION]",
		Short: "Restore every cut link (or just the one between two regions); latencies stay",
		Args:  cobra.RangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch len(args) {
			case 0:
				return w.each(cmd, func(ctx context.Context, c *wan.Client) (wan.Snapshot, error) { return c.Heal(ctx) })
			case 2:
				return w.each(cmd, func(ctx context.Context, c *wan.Client) (wan.Snapshot, error) {
					return c.HealLink(ctx, args[0], args[1])
				})
			}
			return fmt.Errorf("heal takes no regions or two")
		},
	}
}

func printWAN(s wan.Snapshot) {
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FROM\tTO\tLATENCY\tJITTER\tSTATE")
	for _, l := range s.Links {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", l.From, l.To, l.Latency, l.Jitter, linkState(l))
	}
	w.Flush()
}

func linkState(l wan.LinkState) string {
	switch {
	case l.Up:
		return "up"
	case l.Partitioned && l.Isolated:
		return "down (partitioned, isolated)"
	case l.Partitioned:
		return "down (partitioned)"
	default:
		return "down (isolated)"
	}
}
