package supervisor

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults of the Options fields.
const (
	DefaultStopGrace   = 5 * time.Second
	DefaultMinBackoff  = 250 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
	DefaultStableAfter = 10 * time.Second
)

// Options configure a Supervisor.
type Options struct {
	// App is the app's name, as in the topology. Required. It is the app
	// attribute of every log line and appears in errors.
	App string

	// Region is the region the app runs for. Required. It is the region
	// attribute of every log line and appears in errors.
	Region string

	// Command is the program and its arguments (argv). Required, and
	// Command[0] must not be empty. A name without a slash is looked up
	// in the app's PATH (see Env), skipping relative entries; a relative
	// path with a slash is relative to Dir. A topology's command string
	// is passed as []string{"/bin/sh", "-c", cmd}; starting cmd with
	// exec makes the app the main process, whose exit code is reported
	// and which Pdeathsig reaches.
	Command []string

	// Dir is the app's working directory. Default: Gyre's working
	// directory. A relative Dir is relative to Gyre's working directory.
	// It must exist when the app starts.
	Dir string

	// Env are the app's environment variables, each "KEY=VALUE" with a
	// non-empty KEY. They come on top of the few variables the app
	// inherits from Gyre's environment as it was when New was called:
	// PATH, HOME, USER, LOGNAME, SHELL, TMPDIR, TZ, LANG, LANGUAGE and
	// every LC_* variable, those that are set; nothing else of Gyre's
	// environment (its own credentials included) is passed. Without a
	// PATH in either, the app gets PATH=/usr/local/bin:/usr/bin:/bin. A
	// variable in Env replaces an inherited one of the same name, and of
	// two entries with the same name in Env the last wins. Default none.
	Env []string

	// Logger receives the app's output, one record per line at info level
	// with the attributes app, region and stream (stdout or stderr), and
	// the supervisor's own records (start, exit, restart, stop) with
	// component=supervisor, app and region. Default slog.Default().
	Logger *slog.Logger

	// StopGrace is how long Shutdown waits after sending SIGTERM to the
	// process group before sending SIGKILL. It is measured in real time,
	// not with Clock. Default DefaultStopGrace (5s); must not be negative.
	StopGrace time.Duration

	// MinBackoff is the delay before restarting an app whose previous
	// run was stable (see StableAfter), or after its first exit. Default
	// DefaultMinBackoff (250ms), or MaxBackoff if that is smaller; must
	// not be negative, nor greater than MaxBackoff.
	MinBackoff time.Duration

	// MaxBackoff caps the restart delay, which doubles after every run
	// shorter than StableAfter. Default DefaultMaxBackoff (30s), or
	// MinBackoff if that is greater; must not be negative.
	MaxBackoff time.Duration

	// StableAfter is how long a run must last for the next restart to
	// wait only MinBackoff again. A start that fails counts as a run of
	// no time. Default DefaultStableAfter (10s); must not be negative.
	StableAfter time.Duration

	// Clock tells when runs start and end, and makes the timers that
	// delay restarts. Default: the system clock. Tests pass a fake to
	// observe and drive the backoff without waiting.
	Clock Clock
}

// validate reports every problem with o at once.
func (o *Options) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("supervisor: "+format, args...))
	}
	if o.App == "" {
		bad("Options.App is required")
	}
	if o.Region == "" {
		bad("Options.Region is required")
	}
	if len(o.Command) == 0 || o.Command[0] == "" {
		bad("Options.Command is required: the program to run and its arguments")
	}
	for i, kv := range o.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			bad("Options.Env[%d] %q is not KEY=VALUE", i, kv)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"StopGrace", o.StopGrace},
		{"MinBackoff", o.MinBackoff},
		{"MaxBackoff", o.MaxBackoff},
		{"StableAfter", o.StableAfter},
	} {
		if d.v < 0 {
			bad("Options.%s %v is negative", d.name, d.v)
		}
	}
	if o.MinBackoff > 0 && o.MaxBackoff > 0 && o.MinBackoff > o.MaxBackoff {
		bad("Options.MinBackoff %v is greater than MaxBackoff %v", o.MinBackoff, o.MaxBackoff)
	}
	return errors.Join(errs...)
}

// ensureDefaults fills the fields left zero.
func (o *Options) ensureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.StopGrace == 0 {
		o.StopGrace = DefaultStopGrace
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = DefaultMinBackoff
		if o.MaxBackoff > 0 {
			o.MinBackoff = min(o.MinBackoff, o.MaxBackoff)
		}
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = max(DefaultMaxBackoff, o.MinBackoff)
	}
	if o.StableAfter == 0 {
		o.StableAfter = DefaultStableAfter
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	o.Command = append([]string(nil), o.Command...)
	o.Env = append([]string(nil), o.Env...)
}
