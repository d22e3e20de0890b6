package certs

import (
	"testing"

	"github.com/gyre-dev/gyre/internal/leakcheck"
)

// TestMain fails the tests if they leave goroutines running.
func TestMain(m *testing.M) { leakcheck.Main(m) }
