//go:build unix

package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// script writes a /bin/sh script into a temporary directory and returns
// its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// newTest returns a supervisor of opts, logging to rec, that is shut down
// at the end of the test. App and Region default to test and us-east-1.
func newTest(t *testing.T, rec *recorder, opts Options) *Supervisor {
	t.Helper()
	if opts.App == "" {
		opts.App = "test"
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	opts.Logger = rec.Logger()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

func start(t *testing.T, s *Supervisor) {
	t.Helper()
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

// output returns the app's lines on stream, as logged.
func output(rec *recorder, stream string) []string {
	var lines []string
	for _, r := range rec.Filter(func(r record) bool { return r.Attrs["stream"] == stream }) {
		lines = append(lines, r.Msg)
	}
	return lines
}

// groupGone reports whether no process remains in process group pgid.
func groupGone(pgid int) error {
	if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
		return &groupAliveError{pgid, err}
	}
	return nil
}

type groupAliveError struct {
	pgid int
	err  error
}

func (e *groupAliveError) Error() string {
	pgid := strconv.Itoa(e.pgid)
	ps, _ := exec.Command("ps", "-o", "pid,ppid,pgid,stat,args", "-g", pgid).CombinedOutput()
	return fmt.Sprintf("process group %s remains (kill -0: %v):\n%s", pgid, e.err, ps)
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want []string // substrings of the error; none for success
	}{
		{"valid", Options{App: "a", Region: "r", Command: []string{"/bin/true"}}, nil},
		{"everything missing", Options{}, []string{
			"supervisor: Options.App is required",
			"supervisor: Options.Region is required",
			"supervisor: Options.Command is required",
		}},
		{"empty program", Options{App: "a", Region: "r", Command: []string{""}}, []string{"Options.Command is required"}},
		{"bad env", Options{App: "a", Region: "r", Command: []string{"/bin/true"}, Env: []string{"OK=1", "NOEQUALS", "=v"}}, []string{
			`Options.Env[1] "NOEQUALS" is not KEY=VALUE`,
			`Options.Env[2] "=v" is not KEY=VALUE`,
		}},
		{"negative durations", Options{App: "a", Region: "r", Command: []string{"/bin/true"}, StopGrace: -1, MinBackoff: -1, MaxBackoff: -1, StableAfter: -1}, []string{
			"Options.StopGrace -1ns is negative",
			"Options.MinBackoff -1ns is negative",
			"Options.MaxBackoff -1ns is negative",
			"Options.StableAfter -1ns is negative",
		}},
		{"min above max", Options{App: "a", Region: "r", Command: []string{"/bin/true"}, MinBackoff: time.Second, MaxBackoff: time.Millisecond}, []string{
			"Options.MinBackoff 1s is greater than MaxBackoff 1ms",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("New: %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New succeeded, want an error with %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New's error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	for _, tc := range []struct {
		name              string
		opts              Options
		grace, minB, maxB time.Duration
		stable            time.Duration
	}{
		{"all defaults", Options{}, 5 * time.Second, 250 * time.Millisecond, 30 * time.Second, 10 * time.Second},
		{"small max", Options{MaxBackoff: 100 * time.Millisecond}, 5 * time.Second, 100 * time.Millisecond, 100 * time.Millisecond, 10 * time.Second},
		{"large min", Options{MinBackoff: time.Minute}, 5 * time.Second, time.Minute, time.Minute, 10 * time.Second},
		{"all set", Options{StopGrace: 1, MinBackoff: 2, MaxBackoff: 3, StableAfter: 4}, 1, 2, 3, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.ensureDefaults()
			got := []time.Duration{o.StopGrace, o.MinBackoff, o.MaxBackoff, o.StableAfter}
			want := []time.Duration{tc.grace, tc.minB, tc.maxB, tc.stable}
			if !slices.Equal(got, want) {
				t.Errorf("StopGrace, MinBackoff, MaxBackoff, StableAfter = %v, want %v", got, want)
			}
			if o.Logger == nil || o.Clock == nil {
				t.Errorf("Logger %v, Clock %v: want defaults", o.Logger, o.Clock)
			}
		})
	}
}

func TestOutputIsLogged(t *testing.T) {
	rec, clock := newRecorder(), newFakeClock()
	long := strings.Repeat("x", MaxLineBytes+4464)
	exact := strings.Repeat("y", MaxLineBytes)
	s := newTest(t, rec, Options{
		App:    "notes",
		Region: "eu-west-1",
		Clock:  clock,
		Command: []string{script(t, `
echo "hello from stdout"
echo "hello from stderr" >&2
echo
printf 'crlf line\r\n'
printf '%s\n' "$LONG"
printf '%s\n' "$EXACT"
echo "after the long lines"
printf 'no newline at the end'`)},
		Env: []string{"LONG=" + long, "EXACT=" + exact},
	})
	start(t, s)
	// The restart timer is asked for once the run has ended and all of
	// its output has been read.
	clock.nextTimer(t, rec)

	for _, tc := range []struct {
		stream string
		want   []string
	}{
		{"stdout", []string{
			"hello from stdout",
			"",
			"crlf line",
			long[:MaxLineBytes], long[MaxLineBytes:],
			exact,
			"after the long lines",
			"no newline at the end",
		}},
		{"stderr", []string{"hello from stderr"}},
	} {
		t.Run(tc.stream, func(t *testing.T) {
			got := output(rec, tc.stream)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s lines (lengths %v) = %.200q, want (lengths %v) %.200q", tc.stream, lengths(got), got, lengths(tc.want), tc.want)
			}
			for _, r := range rec.Filter(func(r record) bool { return r.Attrs["stream"] == tc.stream }) {
				if r.Level != slog.LevelInfo || r.Attrs["app"] != "notes" || r.Attrs["region"] != "eu-west-1" || r.Attrs["component"] != "" {
					t.Errorf("record %.200s: want level INFO, app=notes, region=eu-west-1 and no component", r)
				}
			}
		})
	}
}

func lengths(lines []string) []int {
	var n []int
	for _, l := range lines {
		n = append(n, len(l))
	}
	return n
}

func TestEnvironmentAndDir(t *testing.T) {
	t.Setenv("GYRE_SUPERVISOR_TEST_SECRET", "must not leak")
	t.Setenv("LC_TIME", "C.UTF-8")
	t.Setenv("HOME", "/home/of-gyre")
	rec, clock := newRecorder(), newFakeClock()
	dir := t.TempDir()
	s := newTest(t, rec, Options{
		Clock:   clock,
		Command: []string{script(t, `env; echo "pwd=$(pwd -P)"`)},
		Dir:     dir,
		Env:     []string{"TABLE_NAME=notes", "HOME=/home/of-the-app", "GREETING=first", "GREETING=hello world"},
	})
	start(t, s)
	clock.nextTimer(t, rec)

	got := output(rec, "stdout")
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string
		want bool
	}{
		{"TABLE_NAME=notes", true},
		{"GREETING=hello world", true},
		{"GREETING=first", false},
		{"HOME=/home/of-the-app", true},
		{"HOME=/home/of-gyre", false},
		{"LC_TIME=C.UTF-8", true},
		{"PATH=" + os.Getenv("PATH"), true},
		{"GYRE_SUPERVISOR_TEST_SECRET=must not leak", false},
		{"pwd=" + realDir, true},
	} {
		if slices.Contains(got, tc.line) != tc.want {
			t.Errorf("the app's output has %q: %v, want %v; it is:\n%s", tc.line, !tc.want, tc.want, strings.Join(got, "\n"))
		}
	}
	allowed := append(slices.Clone(inherited), "TABLE_NAME", "GREETING", "PWD")
	for _, line := range got {
		name, _, _ := strings.Cut(line, "=")
		if name != "pwd" && !slices.Contains(allowed, name) && !strings.HasPrefix(name, "LC_") {
			t.Errorf("the app has %s in its environment, which is neither inherited nor in Options.Env", name)
		}
	}
}

func TestEnviron(t *testing.T) {
	for _, tc := range []struct {
		name        string
		parent, env []string
		want        []string
	}{
		{"nothing", nil, nil, []string{"PATH=/usr/local/bin:/usr/bin:/bin"}},
		{
			"only the inherited",
			[]string{"PATH=/p", "AWS_SECRET_ACCESS_KEY=gyre's", "HOME=/h", "LC_ALL=C", "LANG=en", "GOPATH=/g", "LC_=x", "TZ=UTC"},
			nil,
			[]string{"PATH=/p", "HOME=/h", "LC_ALL=C", "LANG=en", "LC_=x", "TZ=UTC"},
		},
		{
			"env replaces in place and adds",
			[]string{"PATH=/p", "HOME=/h"},
			[]string{"HOME=/app", "PORT=8080", "PORT=9090", "EMPTY="},
			[]string{"PATH=/p", "HOME=/app", "PORT=9090", "EMPTY="},
		},
		{"PATH from env", []string{"HOME=/h"}, []string{"PATH=/app/bin"}, []string{"HOME=/h", "PATH=/app/bin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := environ(tc.parent, tc.env); !slices.Equal(got, tc.want) {
				t.Errorf("environ(%q, %q) = %q, want %q", tc.parent, tc.env, got, tc.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	const ms = time.Millisecond
	for _, tc := range []struct {
		name       string
		min, max   time.Duration
		runs, want []time.Duration // how long each run lasted, the delay after it
	}{
		{"doubles to the cap", 250 * ms, 2 * time.Second,
			[]time.Duration{0, 0, 0, 0, 0, 0},
			[]time.Duration{250 * ms, 500 * ms, time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{"a stable run resets", 250 * ms, 30 * time.Second,
			[]time.Duration{0, time.Second, 9999 * ms, 10 * time.Second, 0, time.Hour},
			[]time.Duration{250 * ms, 500 * ms, time.Second, 250 * ms, 500 * ms, 250 * ms}},
		{"cap not a power of two", 300 * ms, time.Second,
			[]time.Duration{0, 0, 0, 0},
			[]time.Duration{300 * ms, 600 * ms, time.Second, time.Second}},
		{"huge cap does not overflow", time.Hour, 1<<63 - 1,
			slices.Repeat([]time.Duration{0}, 70),
			append([]time.Duration{time.Hour, 2 * time.Hour, 4 * time.Hour}, slices.Repeat([]time.Duration{-1}, 67)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := backoff{min: tc.min, max: tc.max, stableAfter: 10 * time.Second}
			prev := time.Duration(0)
			for i, ran := range tc.runs {
				got := b.next(ran)
				if got <= 0 || got > tc.max || got < prev && ran < b.stableAfter {
					t.Fatalf("delay %d after a run of %v = %v: want within (0, %v] and not below the previous %v", i, ran, got, tc.max, prev)
				}
				if tc.want[i] >= 0 && got != tc.want[i] {
					t.Errorf("delay %d after a run of %v = %v, want %v", i, ran, got, tc.want[i])
				}
				prev = got
			}
		})
	}
}

// TestRestartBackoff drives a crashing app through the fake clock: each
// run waits on a FIFO, so the test decides, by the clock, how long it
// lasts before it exits 3.
func TestRestartBackoff(t *testing.T) {
	rec, clock := newRecorder(), newFakeClock()
	gate := filepath.Join(t.TempDir(), "gate")
	if err := syscall.Mkfifo(gate, 0o600); err != nil {
		t.Fatal(err)
	}
	s := newTest(t, rec, Options{
		Clock:       clock,
		Command:     []string{script(t, `echo "run $RUN"; read line < "$GATE"; exit 3`)},
		Env:         []string{"GATE=" + gate},
		MinBackoff:  250 * time.Millisecond,
		MaxBackoff:  2 * time.Second,
		StableAfter: 10 * time.Second,
	})
	start(t, s)

	const ms = time.Millisecond
	for i, step := range []struct {
		ran, delay time.Duration
	}{
		{0, 250 * ms},
		{0, 500 * ms},
		{100 * ms, time.Second},
		{0, 2 * time.Second},
		{0, 2 * time.Second},
		{10 * time.Second, 250 * ms}, // stable: back to MinBackoff
		{9 * time.Second, 500 * ms},
	} {
		// Opening the FIFO returns once the run has opened it: it
		// has started, by the clock too.
		w := openGate(t, gate, rec)
		starts := 0
		rec.WaitFor(t, "on the start", func(r record) bool {
			if r.Msg == "app started" {
				starts++
			}
			return starts == i+1
		})
		if st := s.Status(); !st.Running || st.PID == 0 || st.Restarts != i {
			t.Fatalf("run %d: Status %+v, want running with a pid and %d restarts", i, st, i)
		}
		clock.Advance(step.ran)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		tm := clock.nextTimer(t, rec)
		if tm.d != step.delay {
			t.Errorf("run %d lasted %v: restart delay %v, want %v", i, step.ran, tm.d, step.delay)
		}
		st := s.Status()
		if st.Running || st.PID != 0 || st.Restarts != i || st.LastExit == nil ||
			st.LastExit.Code != 3 || st.LastExit.Signal != 0 || st.LastExit.Ran != step.ran ||
			!st.NextRestart.Equal(clock.Now().Add(step.delay)) {
			t.Errorf("run %d: Status %+v, LastExit %+v: want not running, %d restarts, exit code 3 after %v, restart due in %v",
				i, st, st.LastExit, i, step.ran, step.delay)
		}
		exits := 0
		warn := rec.WaitFor(t, "on the exit", func(r record) bool {
			if r.Msg == "app exited; restarting" {
				exits++
			}
			return exits == i+1
		})
		if warn.Level != slog.LevelWarn || warn.Attrs["exit_code"] != "3" || warn.Attrs["ran"] != step.ran.String() ||
			warn.Attrs["restart_in"] != step.delay.String() || warn.Attrs["component"] != "supervisor" {
			t.Errorf("run %d: %s: want WARN with exit_code=3 ran=%v restart_in=%v component=supervisor", i, warn, step.ran, step.delay)
		}
		tm.Fire()
	}
	if got := len(output(rec, "stdout")); got < 7 {
		t.Errorf("%d runs printed, want at least 7", got)
	}
}

// openGate opens the FIFO gate for writing, which returns once the app
// has opened it for reading. When the test closes it, the app reads the
// end of it.
func openGate(t *testing.T, gate string, rec *recorder) *os.File {
	t.Helper()
	type result struct {
		f   *os.File
		err error
	}
	opened := make(chan result, 1)
	go func() {
		f, err := os.OpenFile(gate, os.O_WRONLY, 0)
		opened <- result{f, err}
	}()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	select {
	case r := <-opened:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.f
	case <-deadline.C:
		t.Fatalf("the app never opened its FIFO; the records:\n%s", rec.Dump())
		return nil
	}
}

// TestCrashLoop runs apps that fail in different ways on the system clock,
// with short backoffs, and watches them be restarted.
func TestCrashLoop(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		attrs map[string]string // of the exit's WARN record
	}{
		{"exit code", "exit 7", map[string]string{"exit_code": "7"}},
		{"exit 0", "exit 0", map[string]string{"exit_code": "0"}},
		{"killed", "kill -KILL $$", map[string]string{"signal": "SIGKILL"}},
		{"command not found", "gyre-no-such-command", map[string]string{"exit_code": "127", "hint": "exit code 127 from a shell means a command was not found (see the app's stderr above)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			s := newTest(t, rec, Options{
				Command:    []string{script(t, "echo started\n"+tc.body)},
				MinBackoff: time.Millisecond,
				MaxBackoff: 4 * time.Millisecond,
			})
			start(t, s)
			const runs = 4
			started := 0
			rec.WaitFor(t, "of the 4th start", func(r record) bool {
				if r.Msg == "app started" {
					started++
				}
				return started == runs
			})
			exits := rec.Filter(func(r record) bool { return r.Msg == "app exited; restarting" })
			if len(exits) < runs-1 {
				t.Fatalf("%d exits logged, want at least %d:\n%s", len(exits), runs-1, rec.Dump())
			}
			for i, r := range exits {
				for k, v := range tc.attrs {
					if r.Attrs[k] != v {
						t.Errorf("exit %d: %s: want %s=%q", i, r, k, v)
					}
				}
				if r.Level != slog.LevelWarn || r.Attrs["ran"] == "" || r.Attrs["restart_in"] == "" || r.Attrs["restart_at"] == "" {
					t.Errorf("exit %d: %s: want WARN with ran, restart_in and restart_at", i, r)
				}
			}
			if st := s.Status(); st.LastExit == nil || st.Restarts < runs-1 {
				t.Errorf("Status %+v: want a last exit and at least %d restarts", st, runs-1)
			}
		})
	}
}

func TestShutdown(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   string // prints "ready <pid>" once set up
		grace  time.Duration
		signal syscall.Signal // the main process's end
		killed bool           // after the grace period
	}{
		{"exits on SIGTERM", `echo "ready $$"; exec sleep 1000`, time.Hour, syscall.SIGTERM, false},
		{"ignores SIGTERM", `trap '' TERM; echo "ready $$"; exec sleep 1000`, 50 * time.Millisecond, syscall.SIGKILL, true},
		{"children of a shell", `sleep 1000 & echo "ready $!"; wait`, time.Hour, syscall.SIGTERM, false},
		{"a child that ignores SIGTERM", `sh -c 'trap "" TERM; echo "ready $$"; exec sleep 1000' & wait`, 50 * time.Millisecond, syscall.SIGTERM, true},
		// The shell dies of SIGTERM at once; its child still gets to
		// run its trap, and to say so. (Each "ready" is printed by the
		// process it names, once its signal handling is set up.)
		{"a child that stops on SIGTERM after its shell", `sh -c 'trap "echo stopped gracefully; exit 0" TERM; sh -c "echo ready \$\$; exec sleep 1000" & wait' & wait`, time.Hour, syscall.SIGTERM, false},
		{"a grandchild in the background", `sh -c 'sleep 1000 & echo "ready $!"; wait' & wait`, time.Hour, syscall.SIGTERM, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			s := newTest(t, rec, Options{Command: []string{script(t, tc.body)}, StopGrace: tc.grace})
			start(t, s)
			ready := rec.WaitFor(t, "ready", func(r record) bool { return strings.HasPrefix(r.Msg, "ready ") })
			pid, err := strconv.Atoi(strings.TrimPrefix(ready.Msg, "ready "))
			if err != nil {
				t.Fatal(err)
			}
			pgid := s.Status().PID
			if pgid == 0 {
				t.Fatalf("Status %+v: want a pid", s.Status())
			}
			if g, err := syscall.Getpgid(pid); err != nil || g != pgid {
				t.Fatalf("process %d is in group %d (%v), want the app's group %d", pid, g, err, pgid)
			}

			if err := s.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if err := groupGone(pgid); err != nil {
				t.Error(err)
			}
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process %d remains after Shutdown (kill -0: %v)", pid, err)
			}
			st := s.Status()
			if st.Running || st.PID != 0 || st.LastExit == nil || st.LastExit.Signal != tc.signal || st.Restarts != 0 {
				t.Errorf("Status %+v, LastExit %+v: want stopped by %v, never restarted", st, st.LastExit, tc.signal)
			}
			if strings.Contains(tc.body, "stopped gracefully") && !slices.Contains(output(rec, "stdout"), "stopped gracefully") {
				t.Errorf("the child was not given the time to stop:\n%s", rec.Dump())
			}
			killed := len(rec.Filter(func(r record) bool { return strings.HasPrefix(r.Msg, "app did not stop within its grace period") })) > 0
			if killed != tc.killed {
				t.Errorf("killed after the grace period: %v, want %v:\n%s", killed, tc.killed, rec.Dump())
			}
			if err := s.Shutdown(context.Background()); err != nil {
				t.Errorf("second Shutdown: %v", err)
			}
			if err := s.Start(context.Background()); !errors.Is(err, ErrStopped) {
				t.Errorf("Start after Shutdown: %v, want ErrStopped", err)
			}
		})
	}
}

func TestShutdownCancelsPendingRestart(t *testing.T) {
	rec, clock := newRecorder(), newFakeClock()
	s := newTest(t, rec, Options{Clock: clock, Command: []string{script(t, "exit 1")}})
	start(t, s)
	tm := clock.nextTimer(t, rec)
	if st := s.Status(); st.NextRestart.IsZero() {
		t.Errorf("Status %+v: want a restart due", st)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if !tm.wasStopped() {
		t.Errorf("the restart timer was not stopped")
	}
	if st := s.Status(); st.Running || st.Restarts != 0 || !st.NextRestart.IsZero() {
		t.Errorf("Status %+v: want not running, no restart, none due", st)
	}
	rec.WaitFor(t, "on the canceled restart", func(r record) bool { return r.Msg == "app stopped; pending restart canceled" })
}

func TestShutdownRespectsContext(t *testing.T) {
	rec := newRecorder()
	s := newTest(t, rec, Options{
		Command:   []string{script(t, `trap '' TERM; echo ready; exec sleep 1000`)},
		StopGrace: time.Hour,
	})
	start(t, s)
	rec.WaitFor(t, "ready", func(r record) bool { return r.Msg == "ready" })
	pgid := s.Status().PID
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "supervisor: ") {
		t.Fatalf("Shutdown with a canceled context: %v, want a supervisor error wrapping context.Canceled", err)
	}
	// The canceled Shutdown cut the grace period short: this one waits
	// for the SIGKILLed app to be reaped.
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if err := groupGone(pgid); err != nil {
		t.Error(err)
	}
	if st := s.Status(); st.LastExit == nil || st.LastExit.Signal != syscall.SIGKILL {
		t.Errorf("Status %+v: want killed by SIGKILL", st)
	}
}

func TestShutdownBeforeStart(t *testing.T) {
	s := newTest(t, newRecorder(), Options{Command: []string{"/bin/true"}})
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("Start after Shutdown: %v, want ErrStopped", err)
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	notExecutable := write("app.py", "print('hi')\n", 0o644)
	noInterpreter := write("app", "#!/gyre/no/such/python3\nprint('hi')\n", 0o755)
	noShebang := write("app.sh", "echo hi\n", 0o755)
	for _, tc := range []struct {
		name    string
		command []string
		dir     string
		is      error    // the cause, for errors.Is
		want    []string // in the message
	}{
		{"missing program", []string{filepath.Join(dir, "nope")}, "", fs.ErrNotExist,
			[]string{filepath.Join(dir, "nope") + ": no such file or directory", "check the path"}},
		{"relative to Dir", []string{"./nope", "arg"}, dir, fs.ErrNotExist,
			[]string{filepath.Join(dir, "nope") + ": no such file or directory", `["./nope" "arg"]`}},
		{"not in PATH", []string{"gyre-no-such-program"}, "", exec.ErrNotFound,
			[]string{`"gyre-no-such-program" not found in the app's PATH /`, "install it"}},
		{"not executable", []string{notExecutable}, "", fs.ErrPermission,
			[]string{"is not executable (mode -rw-r--r--)", "chmod +x", "python3 app.py"}},
		{"a directory", []string{dir}, "", syscall.EISDIR,
			[]string{dir + " is a directory"}},
		{"missing working directory", []string{"/bin/sh", "-c", "true"}, filepath.Join(dir, "missing"), fs.ErrNotExist,
			[]string{"working directory " + filepath.Join(dir, "missing") + ": no such file or directory", "create it"}},
		{"working directory is a file", []string{"/bin/sh", "-c", "true"}, notExecutable, syscall.ENOTDIR,
			[]string{"is not a directory"}},
		{"missing interpreter", []string{noInterpreter}, "", fs.ErrNotExist,
			[]string{noInterpreter + ": no such file or directory", "#! line"}},
		{"no #! line", []string{noShebang}, "", syscall.ENOEXEC,
			[]string{"exec format error", "add a #! line"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTest(t, newRecorder(), Options{App: "notes", Command: tc.command, Dir: tc.dir})
			err := s.Start(context.Background())
			if err == nil {
				t.Fatalf("Start succeeded, want an error")
			}
			se, ok := errors.AsType[*StartError](err)
			if !ok {
				t.Fatalf("Start: %v (%T), want a *StartError", err, err)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("Start: %v: want errors.Is %v", err, tc.is)
			}
			if se.Fix == "" || !strings.HasPrefix(err.Error(), `supervisor: app "notes" in us-east-1 cannot start [`) {
				t.Errorf("Start: %v: want the app, the region, the command and a fix", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Start: %v: want it to say %q", err, w)
				}
			}
			if st := s.Status(); st.Running || st.LastError != err.Error() {
				t.Errorf("Status %+v: want not running, LastError the error", st)
			}
		})
	}
}

// TestPanickingLogger checks that a Logger that panics on a line of the
// app's output does not stop the supervisor, nor leave the app blocked on
// its pipe.
func TestPanickingLogger(t *testing.T) {
	rec, clock := newRecorder(), newFakeClock()
	rec.panicOn = "boom"
	s := newTest(t, rec, Options{Clock: clock, Command: []string{script(t, `echo boom; seq 1 100000; exit 5`)}})
	start(t, s)
	clock.nextTimer(t, rec)
	rec.WaitFor(t, "on the panic", func(r record) bool {
		return r.Level == slog.LevelError && r.Msg == "supervisor: panic logging the app's stdout" && strings.Contains(r.Attrs["panic"], "told to panic")
	})
	if st := s.Status(); st.LastExit == nil || st.LastExit.Code != 5 {
		t.Errorf("Status %+v: want the app to have exited 5", st)
	}
}

// TestLeftoversStopped checks that what an app's main process leaves
// behind in its group is stopped before the restart.
func TestLeftoversStopped(t *testing.T) {
	for _, tc := range []struct {
		name   string
		child  string // the script of a child that prints "ready $$" to "$0" once set up
		killed bool   // after the grace period
	}{
		{"stops on SIGTERM", `echo "ready $$" > "$0"; exec sleep 1000`, false},
		{"ignores SIGTERM", `trap "" TERM; echo "ready $$" > "$0"; exec sleep 1000`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, clock := newRecorder(), newFakeClock()
			s := newTest(t, rec, Options{
				Clock: clock,
				Command: []string{script(t, `
mkfifo "$DIR/ready"
sh -c "$CHILD" "$DIR/ready" &
read line < "$DIR/ready"
echo "$line"
exit 4`)},
				Env:       []string{"DIR=" + t.TempDir(), "CHILD=" + tc.child},
				StopGrace: 50 * time.Millisecond,
			})
			start(t, s)
			pgid := s.Status().PID
			ready := rec.WaitFor(t, "ready", func(r record) bool { return strings.HasPrefix(r.Msg, "ready ") })
			child, err := strconv.Atoi(strings.TrimPrefix(ready.Msg, "ready "))
			if err != nil {
				t.Fatal(err)
			}
			clock.nextTimer(t, rec)
			if err := groupGone(pgid); err != nil {
				t.Error(err)
			}
			if err := syscall.Kill(child, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("child %d remains before the restart (kill -0: %v)", child, err)
			}
			warn := rec.WaitFor(t, "on the leftovers", func(r record) bool {
				return r.Msg == "app's main process exited; stopping the rest of its process group"
			})
			if warn.Level != slog.LevelWarn || warn.Attrs["exit_code"] != "4" {
				t.Errorf("%s: want WARN with exit_code=4", warn)
			}
			killed := len(rec.Filter(func(r record) bool { return strings.HasPrefix(r.Msg, "app did not stop within its grace period") })) > 0
			if killed != tc.killed {
				t.Errorf("killed after the grace period: %v, want %v:\n%s", killed, tc.killed, rec.Dump())
			}
			if st := s.Status(); st.LastExit == nil || st.LastExit.Code != 4 {
				t.Errorf("Status %+v: want the main process's exit code 4", st)
			}
		})
	}
}
