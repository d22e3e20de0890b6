package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"
)

// drainTimeout is how long the app's output may stay open once its
// process group is gone (held by a process that left the group) before
// the supervisor stops reading it.
const drainTimeout = time.Second

// Supervisor runs one app's process for one region and restarts it
// whenever it exits. Create it with New, Start it, and Shutdown it at the
// end. Its methods are safe for concurrent use.
type Supervisor struct {
	opts Options
	env  []string
	log  *slog.Logger // the supervisor's own records
	out  *slog.Logger // the app's output

	stop     chan struct{} // closed by the first Shutdown
	kill     chan struct{} // closed when a Shutdown's ctx ends first
	done     chan struct{} // closed when the loop has ended, the app reaped
	stopOnce sync.Once
	killOnce sync.Once

	// lifecycle serializes Start and Shutdown, and guards started and
	// stopped.
	lifecycle        sync.Mutex
	started, stopped bool

	// Only the loop goroutine uses these.
	cur     *run // the run being waited for, for the panic recovery
	backoff backoff

	mu struct {
		sync.Mutex
		status Status
	}
}

// run is one run of the app's process.
type run struct {
	pid     int
	started time.Time
	// leftovers is closed when the main process has exited and other
	// processes remain in its group.
	leftovers chan struct{}
	exited    chan struct{} // closed once the group is reaped and its output read
	exit      Exit          // set before leftovers or exited is closed
}

// New returns a Supervisor for opts, not started. It reports every problem
// with opts at once. It reads Gyre's environment for what the app inherits
// (see Options.Env).
func New(opts Options) (*Supervisor, error) {
	if err := supported(); err != nil {
		return nil, err
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts.ensureDefaults()
	s := &Supervisor{
		opts: opts,
		env:  environ(os.Environ(), opts.Env),
		log:  opts.Logger.With("component", "supervisor", "app", opts.App, "region", opts.Region),
		out:  opts.Logger.With("app", opts.App, "region", opts.Region),
		stop: make(chan struct{}),
		kill: make(chan struct{}),
		done: make(chan struct{}),
		backoff: backoff{
			min:         opts.MinBackoff,
			max:         opts.MaxBackoff,
			stableAfter: opts.StableAfter,
		},
	}
	s.mu.status = Status{App: opts.App, Region: opts.Region}
	return s, nil
}

// Start starts the app and supervises it in the background until
// Shutdown. It returns a *StartError when the command can never start as
// given (see StartError); Start may then be called again. Any other
// failure to start is logged and retried after the backoff, as an exit
// is. ctx bounds Start itself, not the app. Calling Start again once it
// has succeeded is a no-op; after Shutdown it returns ErrStopped.
func (s *Supervisor) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.lifecycle.Lock()
	defer s.lifecycle.Unlock()
	if s.stopped {
		return ErrStopped
	}
	if s.started {
		return nil
	}
	becomeSubreaper(s.log)
	r, err := s.launch()
	if _, ok := errors.AsType[*StartError](err); ok {
		return err
	}
	s.started = true
	go s.loop(r, err)
	return nil
}

// Shutdown stops the app: it cancels a pending restart, sends SIGTERM to
// the app's process group, SIGKILL after StopGrace, and returns once the
// app's main process has been reaped, and on Linux every process of its
// group. If ctx ends first, Shutdown sends SIGKILL at once and returns
// an error wrapping ctx's; calling it again waits for the reaping. It is
// idempotent, and may be called before Start.
func (s *Supervisor) Shutdown(ctx context.Context) error {
	s.lifecycle.Lock()
	s.stopped = true
	started := s.started
	s.lifecycle.Unlock()
	s.stopOnce.Do(func() { close(s.stop) })
	if !started {
		return nil
	}
	select {
	case <-s.done:
		return nil
	default:
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		s.killOnce.Do(func() { close(s.kill) })
		return fmt.Errorf("supervisor: stopping app %q in %s: %w", s.opts.App, s.opts.Region, ctx.Err())
	}
}

// Status returns a snapshot of the app's state.
func (s *Supervisor) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.mu.status
	if st.LastExit != nil {
		exit := *st.LastExit
		st.LastExit = &exit
	}
	return st
}

func (s *Supervisor) setStatus(f func(*Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.mu.status)
}

// loop waits for each run to end and starts the next after the backoff,
// until Shutdown. r is the first run, or nil when it failed to start with
// err.
func (s *Supervisor) loop(r *run, err error) {
	defer close(s.done)
	defer func() {
		if v := recover(); v != nil {
			s.logPanic("supervising the app, which is stopped and will not be restarted", v)
			if s.cur != nil {
				_ = signalGroup(s.cur.pid, syscall.SIGKILL)
				<-s.cur.exited
			}
			s.setStatus(func(st *Status) { st.NextRestart = time.Time{} })
		}
	}()
	for {
		var (
			msg string
			why []any
			ran time.Duration
		)
		if r != nil {
			// cur stays set if wait panics, for the recovery to kill
			// the run.
			s.cur = r
			stopping := s.wait(r)
			s.cur = nil
			if stopping {
				return
			}
			msg, why, ran = "app exited", r.exit.attrs(), r.exit.Ran
			if hint := exitHint(r.exit); hint != "" {
				why = append(why, "hint", hint)
			}
		} else {
			msg, why = "app failed to start", []any{"error", err}
		}
		delay := s.backoff.next(ran)
		at := s.opts.Clock.Now().Add(delay)
		s.setStatus(func(st *Status) { st.NextRestart = at })
		s.log.Warn(msg+"; restarting", append(why, "restart_in", delay, "restart_at", at)...)
		t := s.opts.Clock.NewTimer(delay)
		select {
		case <-t.C():
		case <-s.stop:
			t.Stop()
		}
		s.setStatus(func(st *Status) { st.NextRestart = time.Time{} })
		select {
		case <-s.stop:
			s.log.Info("app stopped; pending restart canceled")
			return
		default:
		}
		s.setStatus(func(st *Status) { st.Restarts++ })
		r, err = s.launch()
	}
}

// wait waits for r to end, and stops what remains of its process group
// once its main process has exited; or it carries out Shutdown. It reports
// whether the supervisor is stopping.
func (s *Supervisor) wait(r *run) (stopping bool) {
	select {
	case <-r.exited:
	case <-r.leftovers:
		select {
		case <-s.stop:
			s.log.Info("stopping app", "pgid", r.pid, "grace", s.opts.StopGrace)
		default:
			s.log.Warn("app's main process exited; stopping the rest of its process group",
				append(r.exit.attrs(), "pgid", r.pid, "grace", s.opts.StopGrace)...)
		}
		s.stopGroup(r)
	case <-s.stop:
		s.log.Info("stopping app", "pid", r.pid, "grace", s.opts.StopGrace)
		s.stopGroup(r)
	}
	select {
	case <-s.stop:
		s.log.Info("app stopped", r.exit.attrs()...)
		return true
	default:
		return false
	}
}

// stopGroup sends SIGTERM to r's process group, then SIGKILL after
// StopGrace or as soon as a Shutdown's ctx ends, and waits for the group
// to be gone.
func (s *Supervisor) stopGroup(r *run) {
	_ = signalGroup(r.pid, syscall.SIGTERM)
	grace := time.NewTimer(s.opts.StopGrace)
	defer grace.Stop()
	select {
	case <-r.exited:
		return
	case <-grace.C:
		s.log.Warn("app did not stop within its grace period; killing its process group", "pgid", r.pid, "grace", s.opts.StopGrace)
	case <-s.kill:
		s.log.Warn("shutdown cut short; killing the app's process group", "pgid", r.pid)
	}
	_ = signalGroup(r.pid, syscall.SIGKILL)
	<-r.exited
}

// exitHint explains the exit codes shells use for a command that cannot
// run, which is how a mistyped command of the topology shows.
func exitHint(e Exit) string {
	switch e.Code {
	case 126:
		return "exit code 126 from a shell means a command was found but could not be run (not executable?)"
	case 127:
		return "exit code 127 from a shell means a command was not found (see the app's stderr above)"
	}
	return ""
}

// launch starts a run of the app, with its output read and its process
// group reaped in goroutines of their own, which end with the run. Errors
// that starting again would repeat are *StartError.
func (s *Supervisor) launch() (_ *run, err error) {
	defer func() {
		if err != nil {
			s.setStatus(func(st *Status) { st.LastError = err.Error() })
		}
	}()
	path, err := s.resolve()
	if err != nil {
		return nil, err
	}
	var closers []*os.File
	defer func() {
		for _, f := range closers {
			_ = f.Close()
		}
	}()
	stdin, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("supervisor: app %q in %s: %w", s.opts.App, s.opts.Region, err)
	}
	closers = append(closers, stdin)
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("supervisor: app %q in %s: stdout: %w", s.opts.App, s.opts.Region, err)
	}
	closers = append(closers, outW)
	errR, errW, err := os.Pipe()
	if err != nil {
		_ = outR.Close()
		return nil, fmt.Errorf("supervisor: app %q in %s: stderr: %w", s.opts.App, s.opts.Region, err)
	}
	closers = append(closers, errW)

	// The run starts before the process does, so that whatever the app
	// does is after it by the Clock.
	started := s.opts.Clock.Now()
	p, err := os.StartProcess(path, s.opts.Command, &os.ProcAttr{
		Dir:   s.opts.Dir,
		Env:   s.env,
		Files: []*os.File{stdin, outW, errW},
		Sys:   sysProcAttr(),
	})
	if err != nil {
		_, _ = outR.Close(), errR.Close()
		return nil, s.execError(path, err)
	}
	r := &run{pid: p.Pid, started: started, leftovers: make(chan struct{}), exited: make(chan struct{})}
	// reapGroup waits for the process by pid; the handle is not needed.
	// (Release also sets p.Pid to -1.)
	_ = p.Release()
	s.setStatus(func(st *Status) {
		st.Running, st.PID, st.Started, st.LastError = true, r.pid, started, ""
	})
	s.log.Info("app started", "pid", r.pid, "command", s.opts.Command, "dir", s.opts.Dir)
	outDone, errDone := make(chan struct{}), make(chan struct{})
	go s.logLines(outR, "stdout", outDone)
	go s.logLines(errR, "stderr", errDone)
	go s.reap(r, []*os.File{outR, errR}, outDone, errDone)
	return r, nil
}

// reap waits for r's process group to be gone and for its output to be
// read to the end (logLines closes each of drained when done), records how
// the run ended, and closes r.exited.
func (s *Supervisor) reap(r *run, streams []*os.File, drained ...chan struct{}) {
	defer close(r.exited)
	defer func() {
		for _, f := range streams {
			_ = f.Close()
		}
	}()
	defer func() {
		if v := recover(); v != nil {
			s.logPanic("reaping the app", v)
			_ = signalGroup(r.pid, syscall.SIGKILL)
		}
	}()
	reapGroup(r.pid, func(code int, sig syscall.Signal) {
		now := s.opts.Clock.Now()
		r.exit = Exit{Code: code, Signal: sig, Time: now, Ran: now.Sub(r.started)}
		exit := r.exit
		s.setStatus(func(st *Status) { st.Running, st.PID, st.LastExit = false, 0, &exit })
		// While any process remains in the group, the group's id
		// cannot be reused: it is safe to signal until reapGroup
		// returns.
		if signalGroup(r.pid, 0) == nil {
			close(r.leftovers)
		}
	})
	// The group is gone, so its output ends, unless a process that left
	// the group holds it open: stop reading it then.
	cut := time.NewTimer(drainTimeout)
	defer cut.Stop()
	for _, d := range drained {
		select {
		case <-d:
		case <-cut.C:
			for _, f := range streams {
				_ = f.Close()
			}
			<-d
		}
	}
}
