package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The walkthrough test runs the README's walkthrough as a new user would:
// it builds the gyre binary, starts `gyre up`, runs every command of the
// walkthrough in a shell with that binary on PATH, and checks each `# =>`
// line against the command's output. It uses ports of its own, so that it
// runs beside a gyre up on the default ones: the commands are rewritten
// from the default addresses to the test's.

// walkStep is one command of the walkthrough and what its output must
// contain (empty: only that it succeeds).
type walkStep struct {
	line   int
	cmd    string
	expect []string
}

// readWalkthrough returns the commands between the README's walkthrough
// markers: the ones of the first block (gyre up), and the others.
func readWalkthrough(t *testing.T) (up walkStep, steps []walkStep) {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "<!-- walkthrough -->")
	end := strings.Index(text, "<!-- /walkthrough -->")
	if start < 0 || end < start {
		t.Fatal("README.md has no <!-- walkthrough --> section")
	}
	first := strings.Count(text[:start], "\n") + 1
	inBlock := false
	for i, line := range strings.Split(text[start:end], "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			inBlock = !inBlock
		case !inBlock || trimmed == "":
		case strings.HasPrefix(trimmed, "# =>"):
			if len(steps) == 0 {
				t.Fatalf("README.md:%d: an expectation before any command", first+i)
			}
			steps[len(steps)-1].expect = append(steps[len(steps)-1].expect, strings.TrimSpace(strings.TrimPrefix(trimmed, "# =>")))
		case strings.HasPrefix(trimmed, "#"):
		default:
			steps = append(steps, walkStep{line: first + i, cmd: trimmed})
		}
	}
	if len(steps) < 2 || steps[0].cmd != "gyre up" {
		t.Fatalf("the walkthrough must start with gyre up, then commands; it has %d commands", len(steps))
	}
	return steps[0], steps[1:]
}

// buildGyre builds the gyre binary into dir.
func buildGyre(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "gyre")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freePort returns a port free on every one of hosts.
func freePort(t *testing.T, hosts ...string) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", net.JoinHostPort(hosts[0], "0"))
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ok := true
		var held []net.Listener
		for _, h := range hosts[1:] {
			l, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(port)))
			if err != nil {
				ok = false
				break
			}
			held = append(held, l)
		}
		ln.Close()
		for _, l := range held {
			l.Close()
		}
		if ok {
			return port
		}
	}
	t.Fatal("no port free on every host")
	return 0
}

// walkEnv is a topology on ports of the test's own, and the rewriting of
// the README's default addresses to them.
type walkEnv struct {
	dir, config string
	rewrite     *strings.Replacer
}

func newWalkEnv(t *testing.T) *walkEnv {
	t.Helper()
	dir := t.TempDir()
	hosts := []string{"127.0.1.1", "127.0.2.1", "127.0.3.1"}
	pub, pubTLS := freePort(t, hosts...), freePort(t, hosts...)
	port := func() int { return freePort(t, "127.0.0.1") }
	fd, fdTLS, dnsPort, admin := port(), port(), port(), port()
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\nregions:\n", filepath.Join(dir, "gyre-data"))
	var pairs []string
	for i, name := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
		ddb, adm, ctl := port(), port(), port()
		fmt.Fprintf(&b, "  - {name: %s, dynamodb: 127.0.0.1:%d, admin: 127.0.0.1:%d, control: 127.0.0.1:%d, public: %s:%d, public_https: %s:%d}\n",
			name, ddb, adm, ctl, hosts[i], pub, hosts[i], pubTLS)
		pairs = append(pairs,
			fmt.Sprintf("127.0.0.1:%d", 8001+i), fmt.Sprintf("127.0.0.1:%d", ddb),
			fmt.Sprintf("127.0.0.1:%d", 9001+i), fmt.Sprintf("127.0.0.1:%d", adm),
			fmt.Sprintf("%s:8080", hosts[i]), fmt.Sprintf("%s:%d", hosts[i], pub),
			fmt.Sprintf("%s:8443", hosts[i]), fmt.Sprintf("%s:%d", hosts[i], pubTLS))
	}
	fmt.Fprintf(&b, "routing: {dns: 127.0.0.1:%d, front_door: 127.0.0.1:%d, front_door_https: 127.0.0.1:%d, admin: 127.0.0.1:%d}\n", dnsPort, fd, fdTLS, admin)
	pairs = append(pairs,
		"127.0.0.1:8080", fmt.Sprintf("127.0.0.1:%d", fd),
		"127.0.0.1:8443", fmt.Sprintf("127.0.0.1:%d", fdTLS),
		"-p 8053", fmt.Sprintf("-p %d", dnsPort))
	config := filepath.Join(dir, "gyre.yaml")
	if err := os.WriteFile(config, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return &walkEnv{dir: dir, config: config, rewrite: strings.NewReplacer(pairs...)}
}

// upProcess is a running gyre up, its output captured.
type upProcess struct {
	cmd            *exec.Cmd
	mu             sync.Mutex
	stdout, stderr bytes.Buffer
	done           chan struct{}
	err            error
}

func (p *upProcess) output() (string, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String(), p.stderr.String()
}

type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(b)
}

// startUp runs gyre up in env and waits for its summary.
func startUp(t *testing.T, bin string, env []string, dir string) *upProcess {
	t.Helper()
	p := &upProcess{cmd: exec.Command(bin, "up"), done: make(chan struct{})}
	p.cmd.Env, p.cmd.Dir = env, dir
	p.cmd.Stdout = lockedWriter{&p.mu, &p.stdout}
	p.cmd.Stderr = lockedWriter{&p.mu, &p.stderr}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	deadline := time.After(60 * time.Second)
	for {
		out, errs := p.output()
		if strings.Contains(out, "Ctrl-C stops everything") {
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("gyre up exited before its summary: %v\nstdout:\n%s\nstderr:\n%s", p.err, out, errs)
		case <-deadline:
			t.Fatalf("gyre up printed no summary within 60s\nstdout:\n%s\nstderr:\n%s", out, errs)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop sends SIGINT and waits for a clean exit.
func (p *upProcess) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("gyre up did not stop within 30s of Ctrl-C")
	}
	out, errs := p.output()
	if p.err != nil {
		t.Fatalf("gyre up exited with %v after Ctrl-C\nstdout:\n%s\nstderr:\n%s", p.err, out, errs)
	}
	if !strings.Contains(out, "Stopped.") {
		t.Errorf("gyre up did not say it stopped:\n%s", out)
	}
}

var ansiOrSpace = regexp.MustCompile(`\s+`)

// run runs one command of the walkthrough in bash, retrying while its
// expectations do not hold (replication and failover take a moment, and
// a user would look again), for up to 20s.
func (e *walkEnv) run(t *testing.T, env []string, s walkStep) {
	t.Helper()
	cmdline := e.rewrite.Replace(s.cmd)
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		cmd := exec.CommandContext(ctx, "bash", "-c", cmdline)
		cmd.Env, cmd.Dir = env, e.dir
		out, err := cmd.CombinedOutput()
		cancel()
		flat := ansiOrSpace.ReplaceAllString(string(out), " ")
		missing := ""
		for _, want := range s.expect {
			if !strings.Contains(flat, want) && !strings.Contains(strings.ReplaceAll(flat, " ", ""), strings.ReplaceAll(want, " ", "")) {
				missing = want
				break
			}
		}
		if err == nil && missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("README.md:%d: %s\nran: %s\nexit: %v\noutput:\n%s\nwant it to contain: %q", s.line, s.cmd, cmdline, err, out, missing)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestREADMEWalkthrough runs the walkthrough, then checks the first
// minute's promises: a second gyre up on the same ports names the port and
// its holder and fails without a stack trace; Ctrl-C stops cleanly with
// nothing at WARN or above on the terminal; starting again finds the data.
func TestREADMEWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs gyre")
	}
	for _, tool := range []string{"bash", "curl", "dig"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("GYRE_REQUIRE_DIG") == "1" {
				t.Fatalf("the walkthrough needs %s", tool)
			}
			t.Skipf("the walkthrough needs %s", tool)
		}
	}
	up, steps := readWalkthrough(t)
	e := newWalkEnv(t)
	bin := buildGyre(t, t.TempDir())
	env := append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"), "GYRE_CONFIG="+e.config)
	if up.cmd != "gyre up" {
		t.Fatalf("the walkthrough starts with %q", up.cmd)
	}
	p := startUp(t, bin, env, e.dir)
	if out, errs := p.output(); errs != "" {
		t.Errorf("a healthy start wrote to the terminal's stderr:\n%s", errs)
	} else if !strings.Contains(out, "Gyre is up") || !strings.Contains(out, "Try:") {
		t.Errorf("the summary lacks its parts:\n%s", out)
	}

	awsCLI := true
	if _, err := exec.LookPath("aws"); err != nil {
		awsCLI = false
		if os.Getenv("GYRE_REQUIRE_AWSCLI") == "1" {
			t.Fatal("the walkthrough needs the AWS CLI (apt-get install -y awscli)")
		}
	}
	for _, s := range steps {
		if strings.HasPrefix(s.cmd, "export ") {
			for _, kv := range strings.Fields(strings.TrimPrefix(s.cmd, "export ")) {
				env = append(env, kv)
			}
			continue
		}
		if strings.HasPrefix(s.cmd, "aws ") && !awsCLI {
			t.Logf("README.md:%d: skipped, no AWS CLI: %s", s.line, s.cmd)
			continue
		}
		e.run(t, env, s)
	}

	// A second gyre up on the same ports.
	second := exec.Command(bin, "up")
	second.Env, second.Dir = env, e.dir
	var serr bytes.Buffer
	second.Stderr = &serr
	second.Stdout = io.Discard
	err := second.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Errorf("a second gyre up on the same ports: %v, want a non-zero exit", err)
	}
	msg := serr.String()
	if want := fmt.Sprintf("in use by pid %d", p.cmd.Process.Pid); !strings.Contains(msg, want) || !strings.Contains(msg, "stop it, or set") {
		t.Errorf("a second gyre up said %q; want the port, %q and the fix", msg, want)
	}
	if strings.Contains(msg, "goroutine ") || strings.Contains(msg, "panic") || strings.Count(strings.TrimSpace(msg), "\n") > 2 {
		t.Errorf("a second gyre up printed more than the cause:\n%s", msg)
	}

	// The walkthrough cut a region off, so warnings were due; this stop
	// must only be clean.
	p.stop(t)

	// Again, with no fault: the data is still there, and a healthy start
	// and a clean Ctrl-C print nothing at WARN or above.
	logPath := filepath.Join(e.dir, "gyre-data", "gyre.log")
	before, err := os.Stat(logPath)
	if err != nil {
		t.Fatal(err)
	}
	p = startUp(t, bin, env, e.dir)
	e.run(t, env, walkStep{line: 0, cmd: `curl -s -H 'X-Gyre-Client-Location: dublin' http://127.0.0.1:8080/data/hello`, expect: []string{`"hello":"world"`}})
	p.stop(t)
	if _, errs := p.output(); errs != "" {
		t.Errorf("a healthy start and a clean stop wrote to the terminal:\n%s", errs)
	}
	// The log file has the whole story, and no warnings on a healthy run.
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(before.Size(), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var started, stopped bool
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			t.Errorf("the log has a warning on a healthy run: %s", line)
		}
		started = started || strings.Contains(line, `msg="region serving"`)
		stopped = stopped || strings.Contains(line, `msg="gyre up stopped"`)
	}
	if !started || !stopped {
		t.Errorf("the log file lacks the start (%v) or the stop (%v)", started, stopped)
	}
}

// TestSecondSignalStopsAtOnce stops a gyre up whose shutdown is slow (an
// app that ignores SIGTERM holds it for the supervisor's grace period): a
// second Ctrl-C ends it at once.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs gyre")
	}
	e := newWalkEnv(t)
	b, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	stubborn := "app: {disabled: true}\napps:\n  - {name: stubborn, command: \"trap '' TERM; while true; do sleep 1; done\", regions: [us-east-1], health_path: /}\n"
	if err := os.WriteFile(e.config, append(b, stubborn...), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := buildGyre(t, t.TempDir())
	env := append(os.Environ(), "GYRE_CONFIG="+e.config)
	p := &upProcess{cmd: exec.Command(bin, "up"), done: make(chan struct{})}
	p.cmd.Env, p.cmd.Dir = env, e.dir
	p.cmd.Stdout = lockedWriter{&p.mu, &p.stdout}
	p.cmd.Stderr = lockedWriter{&p.mu, &p.stderr}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	// The summary comes once the app is given up on or healthy; the app
	// never answers, so wait for it to start instead.
	for deadline := time.Now().Add(60 * time.Second); ; {
		if b, _ := os.ReadFile(filepath.Join(e.dir, "gyre-data", "gyre.log")); strings.Contains(string(b), `msg="app started"`) || strings.Contains(string(b), "app=stubborn") {
			break
		}
		if time.Now().After(deadline) {
			out, errs := p.output()
			t.Fatalf("the app did not start:\n%s\n%s", out, errs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	// The first stop is under way: the supervisor waits out its grace for
	// the app.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if out, _ := p.output(); strings.Contains(out, "stopping...") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("gyre up did not begin to stop")
		}
		time.Sleep(20 * time.Millisecond)
	}
	second := time.Now()
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("a second Ctrl-C did not stop gyre up")
	}
	_, errs := p.output()
	var exit *exec.ExitError
	if !errors.As(p.err, &exit) || exit.ExitCode() == 0 || !strings.Contains(errs, "second signal") {
		t.Errorf("after a second Ctrl-C: %v, stderr %q; want a non-zero exit saying so", p.err, errs)
	}
	t.Logf("stopped %v after the second signal", time.Since(second).Round(time.Millisecond))
}
