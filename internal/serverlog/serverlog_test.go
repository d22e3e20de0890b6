package serverlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLevels(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want string
	}{
		{"http: TLS handshake error from 127.0.0.1:5555: EOF", "level=DEBUG"},
		{"http: URL query contains semicolon, which is no longer a supported separator", "level=DEBUG"},
		{"http: Accept error: accept tcp 127.0.0.1:8080: accept4: too many open files; retrying in 5ms", "level=WARN"},
	} {
		var buf bytes.Buffer
		l := New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		l.Print(tc.msg)
		if got := buf.String(); !strings.Contains(got, tc.want) || !strings.Contains(got, strings.Fields(tc.msg)[1]) {
			t.Errorf("%q logged as %q, want %s", tc.msg, got, tc.want)
		}
	}
	var buf bytes.Buffer
	New(slog.NewTextHandler(&buf, nil)).Print("http: TLS handshake error from x: EOF")
	if buf.Len() != 0 {
		t.Errorf("a debug message was written at the info level: %q", buf.String())
	}
}
