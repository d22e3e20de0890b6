package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-dev/gyre/internal/node"
	"github.com/gyre-dev/gyre/internal/topology"
)

func newRegionCmd() *cobra.Command {
	var o node.RegionOptions
	var accessKey, secretKey string
	var tf topologyFlags
	cmd := &cobra.Command{
		Use:   "region",
		Short: "Run one region: a DynamoDB-compatible endpoint on its own data directory",
		Long: `Run one region as its own process.

With --config it runs the region --name of that topology, at its configured
addresses, replicating with the other regions at theirs.

With --name, --listen and --data and no --config it runs a standalone
region: no peers and no configuration file.

Requests must be signed (SigV4) with the configured credentials; the
development default is access key "gyre", secret key "gyregyregyre".`,
		Example: `  gyre region --name us-east-1 --listen 127.0.0.1:8000 --data ./data/us-east-1
  gyre region --config gyre.yaml --name us-west-2`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if tf.config != "" {
				if cmd.Flags().Changed("listen") || cmd.Flags().Changed("data") {
					return errors.New("with --config, the region's addresses and data come from the topology: drop --listen and --data (use --data-dir to move all data)")
				}
				tf.accessKey, tf.secretKey = accessKey, secretKey
				t, err := tf.load()
				if err != nil {
					return err
				}
				if o.ClockSkew != 0 {
					if err := t.Apply(topology.Overrides{ClockSkew: map[string]time.Duration{o.Name: o.ClockSkew}}); err != nil {
						return err
					}
				}
				n, err := node.Start(node.Options{Topology: t, Regions: []string{o.Name}, Logger: newLogger()})
				if err != nil {
					return err
				}
				return serveUntilSignal(node.DefaultShutdownGrace, n.Shutdown)
			}
			if o.DataDir == "" {
				return errors.New("--data is required without --config")
			}
			if (accessKey == "") != (secretKey == "") {
				return errors.New("--access-key and --secret-key must be given together")
			}
			if accessKey != "" {
				o.Credentials = map[string]string{accessKey: secretKey}
			}
			o.Logger = newLogger()
			r, err := node.StartRegion(o)
			if err != nil {
				return err
			}
			return serveUntilSignal(node.DefaultShutdownGrace, r.Shutdown)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "region name, e.g. us-east-1 (required)")
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8000", "address of the region's DynamoDB endpoint")
	f.StringVar(&o.DataDir, "data", "", "directory holding the region's tables (required)")
	f.StringVar(&accessKey, "access-key", "", "access key id clients sign with (default \"gyre\")")
	f.StringVar(&secretKey, "secret-key", "", "secret access key clients sign with (default \"gyregyregyre\")")
	f.DurationVar(&o.ClockSkew, "clock-skew", 0, "shift this region's clock, e.g. 250ms or -2s")
	f.StringVar(&tf.config, "config", "", "topology file: run region --name of it, replicating with the others")
	f.StringVar(&tf.dataDir, "data-dir", "", "with --config: where region data lives (default: the topology's data_dir)")
	f.StringVar(&tf.adminToken, "admin-token", "", "with --config: admin API and replication token (default: the topology's)")
	f.BoolVar(&tf.noWAN, "no-wan-latency", false, "with --config: simulate no latency between regions")
	cmd.MarkFlagRequired("name")
	return cmd
}

// serveUntilSignal waits for SIGINT or SIGTERM, then runs shutdown,
// bounded by grace plus a few seconds; a second signal, or a shutdown
// that outlasts the bound (a wedged disk), ends the process at once.
func serveUntilSignal(grace time.Duration, shutdown func(context.Context) error) error {
	return notifySignals().stopWith(grace, shutdown, nil)
}

// signals catches SIGINT and SIGTERM from the moment notifySignals is
// called.
type signals struct {
	ch     chan os.Signal
	caught chan struct{} // closed when the first signal arrives
	mu     sync.Mutex
	name   string
}

func notifySignals() *signals {
	s := &signals{ch: make(chan os.Signal, 2), caught: make(chan struct{})}
	signal.Notify(s.ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-s.ch
		s.mu.Lock()
		s.name = "SIGTERM"
		if sig == os.Interrupt {
			s.name = "Ctrl-C"
		}
		s.mu.Unlock()
		close(s.caught)
	}()
	return s
}

// exitNow ends the process without waiting for anything; it is a variable
// so that tests of the signal handling can see it called.
var exitNow = func(code int) { os.Exit(code) }

// stopWith waits for the first signal, tells the user (with announce, if
// given), and runs shutdown. While it runs a second signal exits at once,
// as does a shutdown still running grace + 5s after the signal.
func (s *signals) stopWith(grace time.Duration, shutdown func(context.Context) error, announce func(sig string)) error {
	sig := s.wait()
	if announce != nil {
		announce(sig)
	}
	bound := grace + 5*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- shutdown(ctx) }()
	select {
	case err := <-done:
		signal.Stop(s.ch)
		return err
	case <-s.ch:
		fmt.Fprintln(os.Stderr, "gyre: second signal: stopping at once")
		exitNow(1)
	case <-time.After(bound + time.Second):
		fmt.Fprintf(os.Stderr, "gyre: still stopping %v after %s; stopping at once (what was not closed is recovered at the next start)\n", bound, sig)
		exitNow(1)
	}
	return nil
}

// signal names the signal caught, or "" if none has come yet.
func (s *signals) signal() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name
}

// wait blocks until a signal comes and names it.
func (s *signals) wait() string {
	<-s.caught
	return s.signal()
}
