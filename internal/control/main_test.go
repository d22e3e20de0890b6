package control

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := checkLeaks(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// checkLeaks reports goroutines the tests left behind: Raft nodes,
// connections and loops that Shutdown did not end.
func checkLeaks() error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		leaked := interestingGoroutines()
		if len(leaked) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("control tests leaked %d goroutines:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func interestingGoroutines() []string {
	buf := make([]byte, 2<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var gs []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		_, stack, _ := strings.Cut(g, "\n")
		stack = strings.TrimSpace(stack)
		if stack == "" ||
			strings.Contains(stack, "interestingGoroutines") ||
			strings.Contains(stack, "testing.(*M).") ||
			strings.Contains(stack, "testing.Main(") ||
			strings.Contains(stack, "testing.tRunner(") ||
			strings.Contains(stack, "testing.runTests") ||
			strings.Contains(stack, "os/signal.") ||
			strings.Contains(stack, "signal.signal_recv") ||
			strings.Contains(stack, "runtime.ensureSigM") ||
			strings.Contains(stack, "created by runtime.gc") {
			continue
		}
		gs = append(gs, g)
	}
	sort.Strings(gs)
	return gs
}
