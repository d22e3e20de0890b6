package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-dev/gyre/internal/tmpfs"
	"github.com/gyre-dev/gyre/internal/topology"
)

// TestInitTemplateIsTheDefault checks that the file gyre init writes runs
// exactly the built-in topology, so that starting from it changes nothing.
func TestInitTemplateIsTheDefault(t *testing.T) {
	got, err := topology.Parse(initTemplate)
	if err != nil {
		t.Fatalf("the init template does not load: %v", err)
	}
	if g, w := got.YAML(), topology.Default().YAML(); g != w {
		t.Errorf("the init template runs\n%s\nwhile the built-in topology is\n%s", g, w)
	}
}

// TestUnwritableDataDir checks that gyre up and gyre region refuse a data
// directory they cannot write, naming it and the cause.
func TestUnwritableDataDir(t *testing.T) {
	ro := tmpfs.Mount(t, 1<<20, true)
	dir := filepath.Join(ro, "data")
	for _, args := range [][]string{
		{"up", "--data-dir", dir, "--config", writeConfig(t, "wan: {disabled: true}\n")},
		{"region", "--name", "us-east-1", "--listen", "127.0.0.1:0", "--data", dir},
	} {
		out, code := runGyre(t, args...)
		if code == 0 || !strings.Contains(out, dir) || !strings.Contains(out, "read-only file system") || strings.Contains(out, "goroutine ") {
			t.Errorf("gyre %s on a read-only data directory: exit %d:\n%s", args[0], code, out)
		}
	}
}

// writeConfig writes a topology file of the given YAML and returns its
// path.
func writeConfig(t *testing.T, extra string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gyre.yaml")
	if err := os.WriteFile(path, []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
