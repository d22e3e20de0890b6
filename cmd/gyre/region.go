package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gyre-dev/gyre/internal/node"
)

func newRegionCmd() *cobra.Command {
	var o node.RegionOptions
	var accessKey, secretKey string
	cmd := &cobra.Command{
		Use:   "region",
		Short: "Run one region: a DynamoDB-compatible endpoint on its own data directory",
		Long: `Run one region as its own process.

With --name, --listen and --data it runs a standalone region: no peers and
no configuration file. Requests must be signed (SigV4) with the configured
credentials; the development default is access key "gyre", secret key
"gyregyregyre".`,
		Example: `  gyre region --name us-east-1 --listen 127.0.0.1:8000 --data ./data/us-east-1`,
		RunE: func(cmd *cobra.Command, args []string) error {
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
			waitForSignal()
			return r.Shutdown(context.Background())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "region name, e.g. us-east-1 (required)")
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8000", "address of the region's DynamoDB endpoint")
	f.StringVar(&o.DataDir, "data", "", "directory holding the region's tables (required)")
	f.StringVar(&accessKey, "access-key", "", "access key id clients sign with (default \"gyre\")")
	f.StringVar(&secretKey, "secret-key", "", "secret access key clients sign with (default \"gyregyregyre\")")
	f.DurationVar(&o.ClockSkew, "clock-skew", 0, "shift this region's clock, e.g. 250ms or -2s")
	cmd.MarkFlagRequired("name")
	cmd.MarkFlagRequired("data")
	return cmd
}

// waitForSignal blocks until SIGINT or SIGTERM.
func waitForSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	<-ch
	signal.Stop(ch)
}
