package repl

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/store"
)

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPullerSurvivesPanic makes the first dial of a puller panic: the panic
// is logged with its stack, the link counts as down, and the puller dials
// again and replicates.
func TestPullerSurvivesPanic(t *testing.T) {
	a, b := openMem(t, "a"), openMem(t, "b")
	for _, db := range []*store.DB{a, b} {
		if _, err := db.EnsureTable(simTable("t", []string{"a", "b"})); err != nil {
			t.Fatal(err)
		}
	}
	origin, err := New(Options{DB: a, Token: "t", Peers: []Peer{{Name: "b", URL: "http://127.0.0.1:1"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(origin.Handler())
	defer srv.Close()
	defer origin.Shutdown(context.Background())
	var logs syncBuffer
	var dials atomic.Int32
	dest, err := New(Options{
		DB: b, Token: "t", Peers: []Peer{{Name: "a", URL: srv.URL}}, RetryMin: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Client: func(string) *http.Client {
			if dials.Add(1) == 1 {
				panic("a client that panics")
			}
			return http.DefaultClient
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := dest.Start(); err != nil {
		t.Fatal(err)
	}
	defer dest.Shutdown(context.Background())
	putItem(t, a, "t", "k")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if it, err := b.Get("t", attr.Item{"pk": attr.S("k")}); err == nil && it != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b never got a's write after the panic; status %+v", dest.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
	out := logs.String()
	if !strings.Contains(out, "replication puller panicked") || !strings.Contains(out, "a client that panics") || !strings.Contains(out, "stack=") {
		t.Fatalf("the panic was not logged with its stack:\n%s", out)
	}
}
