package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"github.com/gyre-dev/gyre/internal/attr"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// faultyDB opens a store on an in-memory filesystem whose operations fail
// with EIO, once inject is on, when fail says so.
func faultyDB(t *testing.T, fail func(errorfs.Op) bool) (*DB, *errorfs.Toggle, *lockedBuffer) {
	t.Helper()
	toggle := &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
		if fail(op) {
			return fmt.Errorf("injected: %w", syscall.EIO)
		}
		return nil
	})}
	var logs lockedBuffer
	db, err := Open(Options{Dir: "db", FS: errorfs.Wrap(vfs.NewMem(), toggle), TTLInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.CreateTable(musicTable()); err != nil {
		t.Fatal(err)
	}
	return db, toggle, &logs
}

func tryPut(db *DB, n int) error {
	item := attr.Item{"artist": attr.S("a"), "n": attr.N(fmt.Sprint(n)), "genre": attr.S("rock")}
	_, err := db.Write([]Op{{Table: "music", Key: item, Apply: func(attr.Item) (attr.Item, Action, error) { return item, Put, nil }}}, WriteOptions{})
	return err
}

func present(t *testing.T, db *DB, n int) bool {
	t.Helper()
	it, err := db.Get("music", attr.Item{"artist": attr.S("a"), "n": attr.N(fmt.Sprint(n))})
	if err != nil {
		t.Fatal(err)
	}
	return it != nil
}

// within polls cond for up to 10s: the store's background work reacts on
// its own schedule.
func within(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFlushFailures makes every table file write fail (EIO), as a failing
// disk does: once a flush fails, writes are refused with ErrStorageFailing
// and applied nowhere, reads go on, the failure is logged once, and when
// the disk works again writes are accepted by themselves.
func TestFlushFailures(t *testing.T) {
	db, inject, logs := faultyDB(t, func(op errorfs.Op) bool {
		return strings.HasSuffix(op.Path, ".sst") && op.Kind.ReadOrWrite() == errorfs.OpIsWrite
	})
	if err := tryPut(db, 1); err != nil {
		t.Fatal(err)
	}
	inject.On()
	if err := tryPut(db, 2); err != nil {
		t.Fatalf("a write that needs no flush: %v", err)
	}
	if _, err := db.pdb.AsyncFlush(); err != nil {
		t.Fatal(err)
	}
	within(t, "writes refused", func() bool { return db.Healthy() != nil })
	err := tryPut(db, 3)
	if !errors.Is(err, ErrStorageFailing) || !strings.Contains(err.Error(), "input/output error") && !strings.Contains(err.Error(), "injected") {
		t.Fatalf("a write while flushes fail: %v; want ErrStorageFailing naming the cause", err)
	}
	if present(t, db, 3) {
		t.Error("the refused write was applied")
	}
	if !present(t, db, 1) || !present(t, db, 2) {
		t.Error("reads lost acknowledged writes while flushes fail")
	}
	// Let Pebble retry the flush a few times (it backs off): one log line
	// for the failure, not one per retry.
	time.Sleep(500 * time.Millisecond) // a span of failures, not a wait for readiness
	if n := strings.Count(logs.String(), "storage background error"); n != 1 {
		t.Errorf("the failing flush was logged %d times, want once:\n%s", n, logs.String())
	}
	inject.Off()
	within(t, "writes accepted again", func() bool { return db.Healthy() == nil })
	if err := tryPut(db, 4); err != nil {
		t.Fatalf("a write once the disk works again: %v", err)
	}
	if !strings.Contains(logs.String(), "storage recovered") {
		t.Errorf("the recovery is not logged:\n%s", logs.String())
	}
}

// TestLogSyncFailure makes syncing the write-ahead log fail: that write
// fails with ErrStorageFailing; Pebble takes no more writes, so every
// later one is refused at once until the store is reopened, without a
// panic; reads go on; the failed write's change log entry is never given
// to peers; and the store closes.
func TestLogSyncFailure(t *testing.T) {
	db, inject, _ := faultyDB(t, func(op errorfs.Op) bool {
		return strings.HasSuffix(op.Path, ".log") && (op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileWrite)
	})
	if err := tryPut(db, 1); err != nil {
		t.Fatal(err)
	}
	head := db.LogHead()
	inject.On()
	if err := tryPut(db, 2); !errors.Is(err, ErrStorageFailing) {
		t.Fatalf("a write whose log sync fails: %v; want ErrStorageFailing", err)
	}
	inject.Off()
	for i := range 3 {
		if err := tryPut(db, 3+i); !errors.Is(err, ErrStorageFailing) || !strings.Contains(err.Error(), "restart") {
			t.Fatalf("a write after the log failed: %v; want it refused until a restart", err)
		}
	}
	if !present(t, db, 1) {
		t.Error("reads lost an acknowledged write")
	}
	if h := db.LogHead(); h != head {
		t.Errorf("the log's watermark moved from %d to %d past a failed write: peers could get it", head, h)
	}
	done := make(chan error, 1)
	go func() { done <- db.Close() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs after the log failed")
	}
}
