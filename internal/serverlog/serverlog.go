// Package serverlog adapts the error log of net/http's Server to slog.
//
// http.Server reports two kinds of trouble through its ErrorLog: a client's
// misbehaviour on one connection (a TLS handshake that a port scanner or a
// health check dropped, a malformed request line), which is routine on any
// endpoint, and the server's own (an Accept error such as "too many open
// files"), which an operator must see. The first kind is logged at debug,
// the second at warn.
package serverlog

import (
	"context"
	"log"
	"log/slog"
	"strings"
	"time"
)

// New returns a *log.Logger for http.Server.ErrorLog that writes to h.
func New(h slog.Handler) *log.Logger {
	return log.New(writer{h}, "", 0)
}

// routine are the prefixes of per-connection messages.
var routine = []string{
	"http: TLS handshake error",
	"http2: ",
	"http: response.WriteHeader on hijacked connection",
	"http: superfluous response.WriteHeader",
	"http: URL query contains semicolon",
}

type writer struct{ h slog.Handler }

func (w writer) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\n")
	level := slog.LevelWarn
	for _, r := range routine {
		if strings.HasPrefix(msg, r) {
			level = slog.LevelDebug
			break
		}
	}
	ctx := context.Background()
	if w.h.Enabled(ctx, level) {
		rec := slog.NewRecord(time.Now(), level, msg, 0)
		w.h.Handle(ctx, rec)
	}
	return len(p), nil
}
