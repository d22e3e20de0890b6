// Command gyre runs Gyre: DynamoDB-compatible regions, replication between
// them, and the tools around them.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{
		Use:           "gyre",
		Short:         "Gyre runs a multi-region, active-active DynamoDB-compatible application on one machine or many",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(subcommands()...)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "gyre:", err)
		os.Exit(1)
	}
}

// subcommands lists every gyre subcommand; each lives in its own file.
func subcommands() []*cobra.Command {
	return []*cobra.Command{
		newInitCmd(),
		newUpCmd(),
		newCACmd(),
		newRegionCmd(),
		newStatusCmd(),
		newWANCmd(),
		newVerifyCmd(),
		newConfigCmd(),
		newRouterCmd(),
		newHealthCmd(),
		newControlCmd(),
		newBenchCmd(),
	}
}
