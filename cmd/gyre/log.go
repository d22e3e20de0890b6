package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// logLevel is the level of GYRE_LOG_LEVEL (debug, info, warn, error;
// default info).
func logLevel() slog.Level {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("GYRE_LOG_LEVEL"))); err != nil {
		level = slog.LevelInfo
	}
	return level
}

// newLogger returns the logger of a command that logs only to the
// terminal: text to stderr at GYRE_LOG_LEVEL.
func newLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()}))
}

// processLog is where a long-running command (up, region, router) logs:
// a file under the data directory, and the terminal.
type processLog struct {
	*slog.Logger
	// Path is the log file's path.
	Path string
	file *os.File
}

// openLog appends the process's logs to dataDir/name at GYRE_LOG_LEVEL.
// The terminal (stderr) gets every record too with verbose, else only
// warnings and errors, so that a healthy start and stop print only the
// command's own summary.
func openLog(dataDir, name string, verbose bool) (*processLog, error) {
	notWritable := func(err error) error {
		return fmt.Errorf("the data directory %s is not writable: %w; fix its permissions or free space, or choose another with --data-dir", dataDir, err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, notWritable(err)
	}
	path := filepath.Join(dataDir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, notWritable(err)
	}
	level := logLevel()
	term := slog.Level(slog.LevelWarn)
	if verbose {
		term = level
	}
	h := slog.NewMultiHandler(
		slog.NewTextHandler(f, &slog.HandlerOptions{Level: level}),
		slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: max(term, level)}),
	)
	return &processLog{Logger: slog.New(h), Path: path, file: f}, nil
}

// Close closes the log file.
func (l *processLog) Close() error { return l.file.Close() }
