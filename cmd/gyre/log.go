package main

import (
	"log/slog"
	"os"
)

// newLogger returns the process logger: text to stderr, level from
// GYRE_LOG_LEVEL (debug, info, warn, error; default info).
func newLogger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("GYRE_LOG_LEVEL"))); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
