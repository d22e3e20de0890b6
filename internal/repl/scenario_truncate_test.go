package repl

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/datadriven"
)

// handleTruncate truncates a region's log (every region's without region=)
// as its gc loop does, and says what the log keeps and for whom.
func (e *simEnv) handleTruncate(d *datadriven.TestData) error {
	names := e.names
	if n := optArg(d, "region", ""); n != "" {
		names = []string{n}
	}
	for _, n := range names {
		r, err := e.regionNamed(n)
		if err != nil {
			return err
		}
		ret, err := r.log.Truncate()
		if err != nil {
			return err
		}
		e.printf("%s", e.retentionString(r, ret))
	}
	return nil
}

func (e *simEnv) retentionString(r *simRegion, ret Retention) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: log floor %d, head %d", r.name, ret.Floor, ret.Head)
	if ret.HeldBy != "" {
		fmt.Fprintf(&b, "; held by %s", ret.HeldBy)
	}
	if ret.Capped {
		fmt.Fprintf(&b, "; capped at %d entries", e.maxRetained)
	}
	for _, c := range ret.Consumers {
		kind := "peer"
		if c.Local {
			kind = "local"
		}
		if c.Known {
			fmt.Fprintf(&b, "\n  %s (%s): acknowledged %d, %d behind", c.Name, kind, c.Acked, c.Backlog)
		} else {
			fmt.Fprintf(&b, "\n  %s (%s): nothing acknowledged in this incarnation", c.Name, kind)
		}
	}
	return b.String()
}
