// Package leakcheck fails a package's tests when they leave goroutines
// running: servers not shut down, connections not closed, loops not
// stopped. A test package calls it from TestMain:
//
//	func TestMain(m *testing.M) { leakcheck.Main(m) }
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// Grace is how long Main waits for goroutines to exit after the tests:
// closing is often asynchronous.
const Grace = 5 * time.Second

// Main runs the tests and, if they passed, checks for leaked goroutines,
// then exits with the result.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := Check(Grace); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// Check waits up to grace for every goroutine but the runtime's and the
// testing framework's to exit, and reports those that did not.
func Check(grace time.Duration) error {
	deadline := time.Now().Add(grace)
	for {
		leaked := Goroutines()
		if len(leaked) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("leakcheck: the tests left %d goroutines running:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ignored are frames of goroutines that belong to the runtime or the
// testing framework.
var ignored = []string{
	"leakcheck.Goroutines",
	"testing.(*M).",
	"testing.Main(",
	"testing.tRunner(",
	"testing.runTests",
	"testing.runFuzzing",
	"testing.(*F).",
	"internal/fuzz.",
	"os/signal.",
	"signal.signal_recv",
	"runtime.ensureSigM",
	"created by runtime.gc",
}

// Goroutines returns the stacks of the running goroutines other than the
// runtime's and the testing framework's, sorted.
func Goroutines() []string {
	buf := make([]byte, 2<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var gs []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		_, stack, _ := strings.Cut(g, "\n")
		stack = strings.TrimSpace(stack)
		if stack == "" || slices.ContainsFunc(ignored, func(s string) bool { return strings.Contains(stack, s) }) {
			continue
		}
		gs = append(gs, g)
	}
	slices.Sort(gs)
	return gs
}
