package supervisor

import (
	"testing"

	"github.com/gyre-dev/gyre/internal/leakcheck"
)

// TestMain fails the tests if they leave goroutines running: the readers
// of an app's output and the reaper of its process group end with it.
func TestMain(m *testing.M) { leakcheck.Main(m) }
