package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-dev/gyre/internal/node"
	"github.com/gyre-dev/gyre/internal/topology"
)

// topologyFlags are the flags that choose and adjust a topology to run.
type topologyFlags struct {
	config     string
	dataDir    string
	accessKey  string
	secretKey  string
	adminToken string
	noWAN      bool
	skew       map[string]string
}

func (f *topologyFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.config, "config", "", "topology file (default: $GYRE_CONFIG, else ./gyre.yaml if present, else the built-in three regions)")
	fs.StringVar(&f.dataDir, "data-dir", "", "where region data lives, one directory per region (default: the topology's data_dir, ./gyre-data)")
	fs.StringVar(&f.accessKey, "access-key", "", "access key id clients sign with (default \"gyre\")")
	fs.StringVar(&f.secretKey, "secret-key", "", "secret access key clients sign with (default \"gyregyregyre\")")
	fs.StringVar(&f.adminToken, "admin-token", "", "bearer token of the admin API and of replication (default \"gyre-admin\")")
	fs.BoolVar(&f.noWAN, "no-wan-latency", false, "simulate no latency between regions (faults still work)")
	fs.StringToStringVar(&f.skew, "clock-skew", nil, "shift regions' clocks, e.g. --clock-skew us-west-2=2s,eu-west-1=-500ms")
}

// source says where the topology comes from, for display.
func (f *topologyFlags) source() string {
	if p := configPath(f.config); p != "" {
		return p
	}
	return "built in (gyre init writes it to gyre.yaml)"
}

// load reads the topology and applies the flags.
func (f *topologyFlags) load() (*topology.Topology, error) {
	if (f.accessKey == "") != (f.secretKey == "") {
		return nil, fmt.Errorf("--access-key and --secret-key must be given together")
	}
	t, err := loadTopology(f.config)
	if err != nil {
		return nil, err
	}
	skew := map[string]time.Duration{}
	for region, d := range f.skew {
		v, err := time.ParseDuration(d)
		if err != nil {
			return nil, fmt.Errorf("--clock-skew %s=%s: %w", region, d, err)
		}
		skew[region] = v
	}
	if err := t.Apply(topology.Overrides{
		DataDir: f.dataDir, AccessKey: f.accessKey, SecretKey: f.secretKey,
		AdminToken: f.adminToken, DisableWAN: f.noWAN, ClockSkew: skew,
	}); err != nil {
		return nil, err
	}
	return t, nil
}

func newUpCmd() *cobra.Command {
	var f topologyFlags
	var verbose bool
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run every region of a topology in one process",
		Long: `Run every region of a topology in one process, replicating over the
simulated WAN, with the routing plane (DNS, the front door, health checks)
and the reference application in every region.

The topology is --config, else $GYRE_CONFIG, else ./gyre.yaml if there is
one, else the built-in one: us-east-1, us-west-2 and eu-west-1, each with a
public endpoint (127.0.1.1:8080, 127.0.2.1:8080, 127.0.3.1:8080; HTTPS on
8443) serving the reference app and the DynamoDB API, a DynamoDB endpoint
(127.0.0.1:8001-8003) and an admin API (9001-9003); DNS for gyre.test on
127.0.0.1:8053 and the front door on 127.0.0.1:8080 (HTTPS 8443); data
under ./gyre-data. Logs go to gyre.log in the data directory (and to the
terminal with --verbose).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := f.load()
			if err != nil {
				return err
			}
			log, err := openLog(t.DataDir, "gyre.log", verbose)
			if err != nil {
				return err
			}
			defer log.Close()
			// Signals are caught from the start, so that Ctrl-C while
			// starting stops what has started.
			stop := notifySignals()
			log.Info("gyre up starting", "config", f.source(), "data_dir", t.DataDir)
			n, err := node.Start(node.Options{Topology: t, Logger: log.Logger, Router: true})
			if err != nil {
				log.Info("gyre up failed to start", "err", err) // the terminal gets it from main
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			go func() {
				select {
				case <-stop.caught:
					cancel()
				case <-ctx.Done():
				}
			}()
			waiting := n.WaitReady(ctx)
			cancel()
			if stop.signal() == "" {
				printSummary(os.Stdout, t, n, f.source(), log.Path, waiting)
				log.Info("gyre up running")
			}
			err = stop.stopWith(node.DefaultShutdownGrace, n.Shutdown, func(sig string) {
				fmt.Printf("\n%s: stopping... (again to stop at once)\n", sig)
			})
			if err != nil {
				log.Error("stopping", "err", err)
				return fmt.Errorf("stopping: %w", err)
			}
			log.Info("gyre up stopped")
			fmt.Printf("Stopped. The data stays in %s for the next gyre up.\n", t.DataDir)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also write the logs to the terminal")
	return cmd
}
