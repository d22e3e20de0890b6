package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
)

//go:embed templates/gyre.yaml
var initTemplate []byte

func newInitCmd() *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented gyre.yaml to start from",
		Long: `Write a commented topology file, the built-in topology with the keys a
newcomer changes first, to gyre.yaml (or --output). gyre up and the other
commands pick up ./gyre.yaml by themselves. It refuses to overwrite a file
unless --force is given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(out, flags, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s already exists: edit it, or pass --force to overwrite it", out)
			}
			if err != nil {
				return err
			}
			if _, err := f.Write(initTemplate); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Printf("Wrote %s. Edit it, then run: gyre up\n", out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", DefaultConfigFile, "where to write the file")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite the file if it exists")
	return cmd
}
