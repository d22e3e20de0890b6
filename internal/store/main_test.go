package store

import (
	"testing"

	"github.com/gyre-dev/gyre/internal/leakcheck"
)

// TestMain fails the tests if they leave goroutines running: a DB not
// closed, a backfill or sweeper that outlives Close.
func TestMain(m *testing.M) { leakcheck.Main(m) }
