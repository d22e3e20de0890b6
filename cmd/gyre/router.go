package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gyre-dev/gyre/internal/node"
	"github.com/gyre-dev/gyre/internal/wan"
)

func newRouterCmd() *cobra.Command {
	var f topologyFlags
	cmd := &cobra.Command{
		Use:   "router",
		Short: "Run the routing plane alone: DNS, the front door and health checks",
		Long: `Run the routing plane of a topology on its own, for deployments where
each region runs as its own process (gyre region --config): the
authoritative DNS server, the HTTP front door, and health checks from the
router's vantage point, collecting every region's checks too.`,
		Example: "  gyre router --config gyre.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := f.load()
			if err != nil {
				return err
			}
			log := newLogger()
			w, err := wan.New(wan.Options{Regions: append(t.RegionNames(), node.RouterVantage), Links: node.WANLinks(t), Logger: log.With("component", "wan")})
			if err != nil {
				return err
			}
			controls := node.PollControls(t, w, log)
			defer controls.Stop()
			r, err := node.StartRouter(node.RouterOptions{Topology: t, WAN: w, Controls: controls, Logger: log})
			if err != nil {
				return err
			}
			fmt.Printf("router: dns %s (zone %s)   front door http://%s   admin http://%s\n", r.DNSAddr(), t.Routing.Zone, r.FrontDoorAddr(), r.AdminAddr())
			return serveUntilSignal(node.DefaultShutdownGrace, r.Shutdown)
		},
	}
	f.register(cmd)
	return cmd
}
