package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/gyre-dev/gyre/internal/topology"
)

// adminFlags are the flags of every command that talks to running regions'
// admin APIs.
type adminFlags struct {
	config string
	token  string
	json   bool
}

func (f *adminFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "topology file (default: $GYRE_CONFIG, else ./gyre.yaml if present, else the built-in three regions)")
	fs.StringVar(&f.token, "admin-token", "", "admin API token (default: the topology's admin_token, or $GYRE_ADMIN_TOKEN)")
	fs.BoolVar(&f.json, "json", false, "print JSON")
}

// loadTopology reads the topology a command works with: --config, or the
// built-in default.
func loadTopology(path string) (*topology.Topology, error) {
	path = configPath(path)
	if path == "" {
		return topology.Default(), nil
	}
	return topology.Load(path)
}

// DefaultConfigFile is the topology file a command uses, when it is in the
// current directory and neither --config nor GYRE_CONFIG names another.
const DefaultConfigFile = "gyre.yaml"

// configPath is the topology file to use: flag, else $GYRE_CONFIG, else
// ./gyre.yaml if it exists; "" for the built-in topology.
func configPath(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv("GYRE_CONFIG"); env != "" {
		return env
	}
	if _, err := os.Stat(DefaultConfigFile); err == nil {
		return DefaultConfigFile
	}
	return ""
}

// target is a region's admin API.
type target struct {
	region string
	url    string
}

// targets returns every region's admin API and the token to use.
func (f *adminFlags) targets() ([]target, string, error) {
	t, err := loadTopology(f.config)
	if err != nil {
		return nil, "", err
	}
	token := t.AdminToken
	if env := os.Getenv("GYRE_ADMIN_TOKEN"); env != "" {
		token = env
	}
	if f.token != "" {
		token = f.token
	}
	var out []target
	for _, r := range t.Regions {
		out = append(out, target{region: r.Name, url: "http://" + r.Admin})
	}
	return out, token, nil
}

// adminClient is the HTTP client for admin calls: short timeouts, since an
// unreachable region must not hang a command.
var adminClient = &http.Client{Timeout: 10 * time.Second}

// adminGet fetches a JSON document from a region's admin API.
func adminGet(ctx context.Context, t target, token, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := adminClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", t.region, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s: %s: %s", t.region, resp.Status, strings.TrimSpace(string(msg)))
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// printJSON writes v as indented JSON to stdout.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
