package control

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
)

// raftLogger adapts a slog.Logger to the hclog.Logger that hashicorp/raft
// logs through. Raft's info and debug messages (elections, heartbeats,
// snapshots) go to debug level: the Service logs what an operator needs
// (leadership, changes) itself. Raft's errors, frequent while a peer is
// down, go to warn level, except those that only report a connection
// closed under them (every shutdown has some), which go to debug level, as
// do the warnings of a healthy election (a follower that has heard no
// leader yet starts one; the others reject its pre-votes once a leader is
// known) and, once quiet is set, everything: a node being shut down, or
// whose peers are, reports nothing an operator must act on.
type raftLogger struct {
	log   *slog.Logger
	name  string
	args  []any
	quiet *atomic.Bool
}

// newRaftLogger returns Raft's logger; l carries the node's attributes but
// no component, which this sets. Setting quiet turns every later message
// into a debug one.
func newRaftLogger(l *slog.Logger, quiet *atomic.Bool) hclog.Logger {
	return &raftLogger{log: l.With("component", "raft"), quiet: quiet}
}

// routineRaft are raft's warnings that a healthy election, a follower
// catching up, or one RPC to an unreachable peer make: several a second
// while a region is cut off, and nothing an operator acts on, since the
// Service logs what changes (leadership, quorum) and health checks report
// the unreachable region. Losing the quorum ("failed to contact quorum of
// nodes, stepping down") stays a warning.
var routineRaft = []string{
	"heartbeat timeout reached, starting election",
	"Election timeout reached, restarting election",
	"rejecting pre-vote request since",
	"rejecting vote request since",
	"failed to heartbeat to",
	"failed to appendEntries to",
	"failed to make requestVote RPC",
	"failed to get previous log",
	"appendEntries rejected, sending older logs",
	"transport: failed to decode incoming command",
}

func routine(msg string) bool {
	if msg == "failed to contact" {
		return true
	}
	for _, r := range routineRaft {
		if strings.HasPrefix(msg, r) {
			return true
		}
	}
	return false
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
	if lv > slog.LevelDebug && (closedConn(args) || routine(msg) || l.quiet.Load()) {
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
	return &raftLogger{log: l.log, name: l.name, args: append(l.args[:len(l.args):len(l.args)], args...), quiet: l.quiet}
}

func (l *raftLogger) Name() string { return l.name }

func (l *raftLogger) Named(name string) hclog.Logger {
	if l.name != "" {
		name = l.name + "." + name
	}
	return l.ResetNamed(name)
}

func (l *raftLogger) ResetNamed(name string) hclog.Logger {
	return &raftLogger{log: l.log, name: name, args: l.args, quiet: l.quiet}
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
	return log.New(standardWriter{l}, "", 0)
}

// standardWriter logs what raft's libraries print through a *log.Logger as
// its warnings, with the same rules.
type standardWriter struct{ l *raftLogger }

func (w standardWriter) Write(p []byte) (int, error) {
	w.l.Log(hclog.Warn, strings.TrimRight(string(p), "\n"))
	return len(p), nil
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
