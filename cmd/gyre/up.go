package main

import (
	"context"
	"fmt"
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
	fs.StringVar(&f.config, "config", "", "topology file (default: three regions us-east-1, us-west-2, eu-west-1 on 127.0.0.1:8001-8003)")
	fs.StringVar(&f.dataDir, "data-dir", "", "where region data lives, one directory per region (default: the topology's data_dir, ./gyre-data)")
	fs.StringVar(&f.accessKey, "access-key", "", "access key id clients sign with (default \"gyre\")")
	fs.StringVar(&f.secretKey, "secret-key", "", "secret access key clients sign with (default \"gyregyregyre\")")
	fs.StringVar(&f.adminToken, "admin-token", "", "bearer token of the admin API and of replication (default \"gyre-admin\")")
	fs.BoolVar(&f.noWAN, "no-wan-latency", false, "simulate no latency between regions (faults still work)")
	fs.StringToStringVar(&f.skew, "clock-skew", nil, "shift regions' clocks, e.g. --clock-skew us-west-2=2s,eu-west-1=-500ms")
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
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run every region of a topology in one process",
		Long: `Run every region of a topology in one process, replicating over the
simulated WAN.

With no --config it runs the built-in topology: us-east-1 on 127.0.0.1:8001,
us-west-2 on 127.0.0.1:8002 and eu-west-1 on 127.0.0.1:8003 (admin APIs on
9001-9003; public endpoints 127.0.1.1:8080, 127.0.2.1:8080, 127.0.3.1:8080),
data under ./gyre-data, and the routing plane: DNS for gyre.test on
127.0.0.1:8053 and the front door on 127.0.0.1:8080.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := f.load()
			if err != nil {
				return err
			}
			log := newLogger()
			n, err := node.Start(node.Options{Topology: t, Logger: log, Router: true})
			if err != nil {
				return err
			}
			for _, r := range n.Regions() {
				fmt.Printf("%-12s dynamodb http://%s   public http://%s   admin http://%s\n", r.Name(), r.Addr(), r.PublicAddr(), r.AdminAddr())
			}
			if rt := n.Router(); rt != nil {
				fmt.Printf("%-12s dns %s (zone %s)   front door http://%s   admin http://%s\n", "router", rt.DNSAddr(), t.Routing.Zone, rt.FrontDoorAddr(), rt.AdminAddr())
			}
			waitForSignal()
			return n.Shutdown(context.Background())
		},
	}
	f.register(cmd)
	return cmd
}
