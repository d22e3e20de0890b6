package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitTimeout bounds every wait for readiness in these tests. It is a
// guard against hanging, not an expectation: nothing here takes long.
const waitTimeout = 30 * time.Second

// record is a log record as a recorder keeps it.
type record struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string // every attribute, those of Logger.With included
}

func (r record) String() string {
	keys := make([]string, 0, len(r.Attrs))
	for k := range r.Attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q", r.Level, r.Msg)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, r.Attrs[k])
	}
	return b.String()
}

// recorder is a slog handler's sink that keeps every record and lets
// tests wait for one.
type recorder struct {
	mu      sync.Mutex
	records []record
	changed chan struct{} // closed and replaced on every record
	// panicOn makes Handle panic on records with this message.
	panicOn string
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

// Logger returns a Logger whose records rec keeps.
func (rec *recorder) Logger() *slog.Logger { return slog.New(&recordHandler{rec: rec}) }

func (rec *recorder) All() []record {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.records)
}

// Filter returns the records for which keep holds.
func (rec *recorder) Filter(keep func(record) bool) []record {
	var out []record
	for _, r := range rec.All() {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// WaitFor waits for a record for which match holds, and returns it.
func (rec *recorder) WaitFor(t *testing.T, what string, match func(record) bool) record {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	seen := 0
	for {
		rec.mu.Lock()
		fresh, changed := slices.Clone(rec.records[seen:]), rec.changed
		rec.mu.Unlock()
		seen += len(fresh)
		// match may look at the recorder: it runs unlocked, on each
		// record once.
		for _, r := range fresh {
			if match(r) {
				return r
			}
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no log record %s; the records:\n%s", what, rec.Dump())
		}
	}
}

// Dump returns every record, one a line, for failure messages.
func (rec *recorder) Dump() string {
	var b strings.Builder
	for _, r := range rec.All() {
		b.WriteString("\t" + r.String() + "\n")
	}
	return b.String()
}

type recordHandler struct {
	rec   *recorder
	attrs []slog.Attr
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	if h.rec.panicOn != "" && r.Message == h.rec.panicOn {
		panic("recordHandler: told to panic on " + r.Message)
	}
	attrs := map[string]string{}
	for _, a := range h.attrs {
		attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	h.rec.records = append(h.rec.records, record{Level: r.Level, Msg: r.Message, Attrs: attrs})
	close(h.rec.changed)
	h.rec.changed = make(chan struct{})
	return nil
}

func (h *recordHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &recordHandler{rec: h.rec, attrs: append(slices.Clip(h.attrs), as...)}
}

func (h *recordHandler) WithGroup(string) slog.Handler { return h }
