package health

import (
	"log/slog"
	"testing"

	"github.com/gyre-dev/gyre/internal/leakcheck"
)

func TestMain(m *testing.M) {
	// Status changes are logged at info level; keep test output to the
	// failures.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	leakcheck.Main(m)
}
