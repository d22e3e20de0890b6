package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gyre-dev/gyre/internal/topology"
)

func newConfigCmd() *cobra.Command {
	var f topologyFlags
	var showSecrets bool
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check a topology and print the configuration Gyre would run",
		Long: `Check a topology file (or the built-in default) and print the effective
configuration, every default filled in, in gyre.yaml's own shape. Secrets are
shown as <redacted> unless --show-secrets is given. Exits non-zero, listing
every problem, when the topology is invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := f.load()
			if err != nil {
				return err
			}
			if !showSecrets {
				t = t.Redacted()
			}
			out, err := topology.Marshal(t)
			if err != nil {
				return err
			}
			fmt.Print(string(out))
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&showSecrets, "show-secrets", false, "print the secret key and admin token")
	return cmd
}
