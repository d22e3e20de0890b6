package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gyre-dev/gyre/internal/certs"
)

func newCACmd() *cobra.Command {
	var f topologyFlags
	var pem bool
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Print the path of Gyre's local CA certificate",
		Long: `Print the path of the certificate of Gyre's local certificate authority,
which signs the HTTPS certificates of the public endpoints and the front
door, creating the authority if it does not exist yet. Give it to clients
so they verify Gyre's endpoints: curl --cacert, AWS_CA_BUNDLE for the AWS
SDKs and CLI, REQUESTS_CA_BUNDLE for Python's requests.`,
		Example: `  curl --cacert "$(gyre ca)" https://127.0.0.1:8443/health
  AWS_CA_BUNDLE="$(gyre ca)" aws dynamodb list-tables --endpoint-url https://127.0.1.1:8443`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := f.load()
			if err != nil {
				return err
			}
			if t.TLS.Disabled {
				return fmt.Errorf("TLS is disabled in this topology (tls.disabled: true): there is no CA")
			}
			ca, err := certs.Open(certs.Options{Dir: t.CADir(), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				return err
			}
			if pem {
				b, err := os.ReadFile(ca.CAPath())
				if err != nil {
					return err
				}
				os.Stdout.Write(b)
				return nil
			}
			path := ca.CAPath()
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			fmt.Println(path)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&pem, "pem", false, "print the certificate itself (PEM) instead of its path")
	return cmd
}
