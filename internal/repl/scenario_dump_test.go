package repl

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/datadriven"
	"github.com/gyre-dev/gyre/internal/hlc"
	"github.com/gyre-dev/gyre/internal/store"
)

// handleDump prints every region: its incarnation and log, each inbound
// link as Status reports it, each peer's acknowledged position in its log,
// and its tables' items (~k for a tombstone).
func (e *simEnv) handleDump(d *datadriven.TestData) error {
	now := e.clock.Now()
	for _, n := range e.names {
		r := e.regions[n]
		e.printf("%s (%s): log floor %d, head %d", n, e.incName(r.db.Incarnation()), r.db.LogFloor(), r.db.LogHead())
		for _, l := range e.sortedLinks(func(l *simLink) bool { return l.dest == n }) {
			s := l.core.status(now)
			line := fmt.Sprintf("  from %s: %s, cursor %s, head %d, backlog %d, %d lag samples",
				l.origin, s.State, e.cursorString(l.core.cursor), s.Head, s.Backlog, s.Lag.Samples)
			if s.LastError != "" {
				line += ", last error: " + s.LastError
			}
			e.printf("%s", line)
		}
		for _, p := range e.peersOf(n) {
			c, ok, err := r.outbound[p].Position()
			if err != nil {
				return err
			}
			if ok {
				e.printf("  to %s: acknowledged %s", p, e.cursorString(c))
			} else {
				e.printf("  to %s: nothing acknowledged", p)
			}
		}
		for _, tn := range r.db.TableNames() {
			t, err := r.db.Table(tn)
			if err != nil {
				return err
			}
			its, err := items(r.db, tn)
			if err != nil {
				return err
			}
			if len(its) == 0 {
				its = []string{"(empty)"}
			}
			e.printf("  %s (%s): %s", tn, t.Status, strings.Join(its, " "))
		}
	}
	return nil
}

// printTombstones lists a table's tombstones in a region against a
// horizon.
func (e *simEnv) printTombstones(r *simRegion, table string, h hlc.Timestamp) error {
	_, err := r.db.ScanSnapshot(table, func(rec store.SnapshotRecord) error {
		if rec.Item != nil {
			return nil
		}
		verdict := "kept"
		if rec.Version.TS < h {
			verdict = "collectable"
		}
		e.printf("  ~%s/%s deleted @%s by %s: %s", table, rec.Key["pk"].Str, e.tsString(rec.Version.TS), rec.Version.Origin, verdict)
		return nil
	})
	return err
}
