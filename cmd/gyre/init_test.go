package main

import (
	"testing"

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
