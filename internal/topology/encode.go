package topology

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Marshal prints t as YAML in the shape of gyre.yaml, every field included,
// so that what it prints is exactly the configuration that runs: after
// Parse, defaults are filled in. Parse(Marshal(t)) gives a Topology equal to
// t for any valid t that has had its defaults filled. Secrets are printed as
// they are; print t.Redacted() for display.
func Marshal(t *Topology) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(t); err != nil {
		return nil, fmt.Errorf("topology: printing: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("topology: printing: %w", err)
	}
	return buf.Bytes(), nil
}

// YAML returns Marshal(t) as a string, for display.
func (t *Topology) YAML() string {
	b, err := Marshal(t)
	if err != nil {
		// Topology holds only strings, bools, durations and lists of them.
		panic(fmt.Sprintf("topology: a Topology failed to print as YAML: %v", err))
	}
	return string(b)
}
