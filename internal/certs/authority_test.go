package certs

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// t0 is the fake clock's start: whole seconds, as certificates keep time.
var t0 = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// clock is a fake clock that tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// open opens the authority in dir with a fake clock (t0 when c is nil) and
// a silent logger, failing the test on error.
func open(t testing.TB, dir string, c *clock) *Authority {
	t.Helper()
	if c == nil {
		c = newClock()
	}
	a, err := Open(Options{Dir: dir, Now: c.Now, Logger: quiet})
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return a
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

func TestOpenCreatesCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "tls")
	a := open(t, dir, nil)
	ca := a.CA()

	if got, want := a.CAPath(), filepath.Join(dir, "ca.pem"); got != want {
		t.Errorf("CAPath() = %s, want %s", got, want)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"CommonName", ca.Subject.CommonName, "Gyre local CA"},
		{"IsCA", ca.IsCA, true},
		{"BasicConstraintsValid", ca.BasicConstraintsValid, true},
		{"MaxPathLen", ca.MaxPathLen, 0},
		{"MaxPathLenZero", ca.MaxPathLenZero, true},
		{"KeyUsage", ca.KeyUsage, x509.KeyUsageCertSign | x509.KeyUsageCRLSign},
		{"NotBefore", ca.NotBefore, t0.Add(-time.Hour)},
		{"NotAfter", ca.NotAfter, t0.Add(CAValidity)},
		{"serial > 0", ca.SerialNumber.Sign() > 0, true},
		{"serial ≤ 128 bits", ca.SerialNumber.BitLen() <= 128, true},
		{"self-signed", ca.CheckSignatureFrom(ca) == nil, true},
		{"has a SubjectKeyId", len(ca.SubjectKeyId) > 0, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("CA %s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if k, ok := ca.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("CA key is %T, want ECDSA P-256", ca.PublicKey)
	}

	modes := []struct {
		path string
		want os.FileMode
	}{
		{dir, 0o700},
		{filepath.Join(dir, "ca.pem"), 0o644},
		{filepath.Join(dir, "ca-key.pem"), 0o600},
	}
	for _, m := range modes {
		if got := mode(t, m.path); got != m.want {
			t.Errorf("mode of %s = %v, want %v", m.path, got, m.want)
		}
	}

	// ca.pem is the CA certificate, as a client loading it sees it.
	pemData, err := os.ReadFile(a.CAPath())
	if err != nil {
		t.Fatal(err)
	}
	fromFile := x509.NewCertPool()
	if !fromFile.AppendCertsFromPEM(pemData) {
		t.Fatalf("ca.pem holds no certificate a client can load:\n%s", pemData)
	}
	if !fromFile.Equal(a.Pool()) {
		t.Errorf("the pool from ca.pem differs from Pool()")
	}
	if _, err := ca.Verify(x509.VerifyOptions{Roots: a.Pool(), CurrentTime: t0}); err != nil {
		t.Errorf("the CA does not verify against Pool(): %v", err)
	}
}

func TestOpenLoadsExisting(t *testing.T) {
	dir := t.TempDir()
	first := open(t, dir, nil)
	c := newClock()
	c.Set(t0.Add(5 * 365 * 24 * time.Hour))
	again := open(t, dir, c)
	if !again.CA().Equal(first.CA()) {
		t.Errorf("a second Open made a new CA (serial %x, want %x)", again.CA().SerialNumber, first.CA().SerialNumber)
	}
	// The authority loaded is a working one: what it issues verifies
	// against the first one's pool.
	cert, err := again.Issue("us-east-1", []string{"api.gyre.test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: first.Pool(), DNSName: "api.gyre.test", CurrentTime: c.Now()}); err != nil {
		t.Errorf("a certificate from the reopened CA does not verify: %v", err)
	}
}

func TestOpenConcurrentGoroutines(t *testing.T) {
	dir := t.TempDir()
	const n = 16
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		cas     [n]string
		serials [n]string
		errs    [n]error
	)
	for i := range n {
		wg.Go(func() {
			<-start
			a, err := Open(Options{Dir: dir, Logger: quiet})
			if err != nil {
				errs[i] = err
				return
			}
			cas[i] = fingerprint(a.CA())
			cert, err := a.Issue("us-east-1", []string{"us-east-1.gyre.test"}, []netip.Addr{netip.MustParseAddr("127.0.1.1")})
			if err != nil {
				errs[i] = err
				return
			}
			serials[i] = cert.Leaf.SerialNumber.Text(16)
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		t.Fatal(err)
	}
	onDisk := fingerprint(open(t, dir, nil).CA()) // the CA does not depend on the clock
	for i := range n {
		if cas[i] != onDisk {
			t.Errorf("goroutine %d uses CA %s, the directory holds %s", i, cas[i], onDisk)
		}
		if serials[i] != serials[0] {
			t.Errorf("goroutine %d got certificate %s, goroutine 0 got %s", i, serials[i], serials[0])
		}
	}
}

// helperEnv names the directory a helper process opens; see
// TestHelperOpen.
const helperEnv = "GYRE_CERTS_TEST_HELPER_DIR"

// TestHelperOpen is not a test: it is what the processes of
// TestOpenConcurrentProcesses run. It waits for its standard input to
// close, so that all of them start together, opens the authority, issues a
// certificate, and prints both fingerprints.
func TestHelperOpen(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("run by TestOpenConcurrentProcesses")
	}
	io.Copy(io.Discard, os.Stdin)
	a, err := Open(Options{Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := a.Issue("front-door", []string{"api.gyre.test"}, []netip.Addr{netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("result ca=%s leaf=%s\n", fingerprint(a.CA()), cert.Leaf.SerialNumber.Text(16))
}

func TestOpenConcurrentProcesses(t *testing.T) {
	dir := t.TempDir()
	const n = 3 // as many as `gyre up` starts regions
	type proc struct {
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		stdout bytes.Buffer
		stderr bytes.Buffer
	}
	procs := make([]*proc, n)
	for i := range procs {
		p := &proc{cmd: exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperOpen$", "-test.count=1", "-test.v")}
		p.cmd.Env = append(os.Environ(), helperEnv+"="+dir)
		p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
		var err error
		if p.stdin, err = p.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[i] = p
	}
	for _, p := range procs {
		p.stdin.Close()
	}
	results := make([]string, n)
	for i, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("process %d: %v\nstdout:\n%s\nstderr:\n%s", i, err, &p.stdout, &p.stderr)
		}
		sc := bufio.NewScanner(&p.stdout)
		for sc.Scan() {
			if r, ok := strings.CutPrefix(sc.Text(), "result "); ok {
				results[i] = r
			}
		}
		if results[i] == "" {
			t.Fatalf("process %d printed no result:\n%s", i, p.stdout.String())
		}
	}
	// The helpers ran on the real clock; so must the judge of what they
	// stored.
	a, err := Open(Options{Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := a.Issue("front-door", []string{"api.gyre.test"}, []netip.Addr{netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("ca=%s leaf=%s", fingerprint(a.CA()), cert.Leaf.SerialNumber.Text(16))
	for i, r := range results {
		if r != want {
			t.Errorf("process %d: %s, want the directory's %s", i, r, want)
		}
	}
}

func TestOpenCorrupt(t *testing.T) {
	// Each case starts from a complete authority with a front-door
	// certificate, then breaks a file.
	otherKey := func(t *testing.T, dir string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, "front-door-key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	leafPEM := func(t *testing.T, dir string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, "front-door.pem"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	badDER := []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	cases := []struct {
		name     string
		file     string                          // the file broken, which the error must name
		contents func(*testing.T, string) []byte // nil: delete it
		want     string
	}{
		{"cert garbage", "ca.pem", func(*testing.T, string) []byte { return []byte("hello") }, "no PEM data"},
		{"cert empty", "ca.pem", func(*testing.T, string) []byte { return nil }, "no PEM data"},
		{"cert is a key", "ca.pem", otherKey, `"PRIVATE KEY", want CERTIFICATE`},
		{"cert bad DER", "ca.pem", func(*testing.T, string) []byte { return badDER }, "not a PEM certificate"},
		{"cert not a CA", "ca.pem", leafPEM, `"api.gyre.test" is not a CA certificate`},
		{"key missing", "ca-key.pem", nil, "the CA key is missing"},
		{"key garbage", "ca-key.pem", func(*testing.T, string) []byte { return []byte("\x00\x01") }, "no PEM data"},
		{"key is a cert", "ca-key.pem", leafPEM, `"CERTIFICATE", want PRIVATE KEY`},
		{"key mismatch", "ca-key.pem", otherKey, "does not match the CA certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			a := open(t, dir, nil)
			if _, err := a.Issue("front-door", []string{"api.gyre.test"}, nil); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tc.file)
			if tc.contents == nil {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(path, tc.contents(t, dir), 0o600); err != nil {
				t.Fatal(err)
			}

			_, err := Open(Options{Dir: dir, Now: newClock().Now, Logger: quiet})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
			for _, s := range []string{path, tc.want, "delete the directory " + dir} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Open error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestOpenInterruptedCreation(t *testing.T) {
	// A CA key without ca.pem is what a process that died while creating
	// the CA leaves: nothing can have trusted it, so Open starts again.
	dir := t.TempDir()
	old := open(t, dir, nil)
	if err := os.Remove(old.CAPath()); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".tmp-ca.pem-123")
	if err := os.WriteFile(stale, []byte("half a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := open(t, dir, nil)
	if a.CA().Equal(old.CA()) {
		t.Fatalf("Open kept a CA whose ca.pem was gone")
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stale temporary file is still there: %v", err)
	}
	if again := open(t, dir, nil); !again.CA().Equal(a.CA()) {
		t.Errorf("the new CA was not stored")
	}
}

func TestOpenExpired(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir, nil)
	c := newClock()
	c.Set(a.CA().NotAfter)
	_, err := Open(Options{Dir: dir, Now: c.Now, Logger: quiet})
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("Open at the CA's NotAfter = %v, want ErrExpired", err)
	}
	for _, s := range []string{a.CAPath(), "delete the directory " + dir} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("Open error %q does not say %q", err, s)
		}
	}
}

func TestOpenOptions(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		o    Options
		want []string // substrings of the error; none: Open succeeds
	}{
		{"defaults", Options{Dir: t.TempDir()}, nil},
		{"short leaves", Options{Dir: t.TempDir(), LeafValidity: 48 * time.Hour, RenewBefore: 24 * time.Hour}, nil},
		{"no dir", Options{}, []string{"certs: invalid options", "Options.Dir is required"}},
		{"negative renew", Options{Dir: t.TempDir(), RenewBefore: -time.Hour}, []string{"Options.RenewBefore -1h0m0s must not be negative"}},
		{"validity within renew", Options{Dir: t.TempDir(), LeafValidity: 10 * 24 * time.Hour},
			[]string{"Options.LeafValidity 240h0m0s must be greater than Options.RenewBefore 720h0m0s"}},
		{"every problem at once", Options{RenewBefore: -time.Hour, LeafValidity: -2 * time.Hour},
			[]string{"Options.Dir is required", "Options.RenewBefore", "Options.LeafValidity"}},
		{"dir is a file", Options{Dir: file}, []string{"certs: creating the directory"}},
		{"dir under a file", Options{Dir: filepath.Join(file, "tls")}, []string{"certs: creating the directory"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Logger = quiet
			a, err := Open(tc.o)
			if len(tc.want) == 0 {
				if err != nil || a == nil {
					t.Fatalf("Open = %v, %v; want an authority", a, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Open succeeded, want an error saying %q", tc.want)
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Open error %q does not say %q", err, s)
				}
			}
		})
	}
}

// quiet is the logger of tests that use Open directly.
var quiet = slog.New(slog.DiscardHandler)
