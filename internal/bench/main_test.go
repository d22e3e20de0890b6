package bench

import (
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/gyre-dev/gyre/internal/leakcheck"
)

// TestMain fails the package's tests if goroutines that Run or the test
// servers started outlive them: workers, preload goroutines, HTTP
// connections (closed connections take a moment to notice, which
// leakcheck's grace period allows for).
func TestMain(m *testing.M) { leakcheck.Main(m) }

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(&syncWriter{w: w}, nil))
}
