package control

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"

	"github.com/hashicorp/go-hclog"
)

// raftLogger adapts a slog.Logger to the hclog.Logger that hashicorp/raft
// logs through. Raft's info and debug messages (elections, heartbeats,
// snapshots) go to debug level: the Service logs what an operator needs
// (leadership, changes) itself. Raft's errors, frequent while a peer is
// down, go to warn level, except those that only report a connection
// closed under them (every shutdown has some), which go to debug level.
type raftLogger struct {
	log  *slog.Logger
	name string
	args []any
}

// newRaftLogger returns Raft's logger; l carries the node's attributes but
// no component, which this sets.
func newRaftLogger(l *slog.Logger) hclog.Logger {
	return &raftLogger{log: l.With("component", "raft")}
}

func (l *raftLogger) slogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Error, hclog.Warn:
		return slog.LevelWarn
	default:
		return slog.LevelDebug
	}
}

func (l *raftLogger) Log(level hclog.Level, msg string, args ...any) {
	lv := l.slogLevel(level)
	if lv > slog.LevelDebug && closedConn(args) {
		lv = slog.LevelDebug
	}
	ctx := context.Background()
	if !l.log.Enabled(ctx, lv) {
		return
	}
	if l.name != "" {
		msg = l.name + ": " + msg
	}
	l.log.Log(ctx, lv, msg, append(l.args[:len(l.args):len(l.args)], args...)...)
}

func (l *raftLogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l *raftLogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l *raftLogger) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l *raftLogger) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l *raftLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l *raftLogger) IsTrace() bool { return l.log.Enabled(context.Background(), slog.LevelDebug) }
func (l *raftLogger) IsDebug() bool { return l.log.Enabled(context.Background(), slog.LevelDebug) }
func (l *raftLogger) IsInfo() bool  { return l.log.Enabled(context.Background(), slog.LevelDebug) }
func (l *raftLogger) IsWarn() bool  { return l.log.Enabled(context.Background(), slog.LevelWarn) }
func (l *raftLogger) IsError() bool { return l.log.Enabled(context.Background(), slog.LevelWarn) }

func (l *raftLogger) ImpliedArgs() []any { return l.args }

func (l *raftLogger) With(args ...any) hclog.Logger {
	return &raftLogger{log: l.log, name: l.name, args: append(l.args[:len(l.args):len(l.args)], args...)}
}

func (l *raftLogger) Name() string { return l.name }

func (l *raftLogger) Named(name string) hclog.Logger {
	if l.name != "" {
		name = l.name + "." + name
	}
	return l.ResetNamed(name)
}

func (l *raftLogger) ResetNamed(name string) hclog.Logger {
	return &raftLogger{log: l.log, name: name, args: l.args}
}

// SetLevel does nothing: the slog handler decides.
func (l *raftLogger) SetLevel(hclog.Level) {}

func (l *raftLogger) GetLevel() hclog.Level {
	if l.IsDebug() {
		return hclog.Debug
	}
	return hclog.Warn
}

func (l *raftLogger) StandardLogger(*hclog.StandardLoggerOptions) *log.Logger {
	return slog.NewLogLogger(l.log.Handler(), slog.LevelWarn)
}

func (l *raftLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	return l.StandardLogger(opts).Writer()
}

// closedConn reports whether args hold an error saying a connection was
// closed under its reader or writer.
func closedConn(args []any) bool {
	for _, a := range args {
		if err, ok := a.(error); ok && (errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF)) {
			return true
		}
	}
	return false
}
