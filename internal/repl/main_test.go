package repl

import (
	"testing"

	"github.com/gyre-dev/gyre/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
