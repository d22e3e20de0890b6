package frontdoor

import (
	"testing"

	"github.com/gyre-dev/gyre/internal/leakcheck"
)

// TestMain fails the tests if they leave goroutines running: servers not
// shut down, connections not closed.
func TestMain(m *testing.M) { leakcheck.Main(m) }
