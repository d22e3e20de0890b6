package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

const greeting = "hello from gyre"

// serveTLS serves HTTPS with cert on 127.0.0.1 until the test ends and
// returns its port. The listener is open when it returns, so clients may
// connect at once.
func serveTLS(t *testing.T, cert tls.Certificate) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, greeting) }),
		// The clients that must fail make the server log handshake
		// errors.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	done := make(chan error, 1)
	go func() {
		done <- srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}}))
	}()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// get fetches https://host:port/ from the server on 127.0.0.1:port, with
// cfg as the client's TLS configuration, and returns the body.
func get(t *testing.T, cfg *tls.Config, host string, port int) (string, error) {
	tr := &http.Transport{
		TLSClientConfig: cfg,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		},
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(fmt.Sprintf("https://%s/", net.JoinHostPort(host, strconv.Itoa(port))))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestTLS(t *testing.T) {
	// Real time: the clients verify against the clock.
	a, err := Open(Options{Dir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := a.Issue("front-door", []string{"api.gyre.test", "*.gyre.test"}, addrs("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	port := serveTLS(t, cert)

	other, err := Open(Options{Dir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}

	var unknownCA x509.UnknownAuthorityError
	var wrongHost x509.HostnameError
	cases := []struct {
		name string
		cfg  *tls.Config
		host string // in the URL: the name verified unless cfg.ServerName is set
		want any    // nil: success; else a pointer to the error type expected
	}{
		{"DNS name", &tls.Config{RootCAs: a.Pool(), ServerName: "api.gyre.test"}, "127.0.0.1", nil},
		{"DNS name in the URL", &tls.Config{RootCAs: a.Pool()}, "api.gyre.test", nil},
		{"wildcard", &tls.Config{RootCAs: a.Pool(), ServerName: "eu-west-1.gyre.test"}, "127.0.0.1", nil},
		{"IP", &tls.Config{RootCAs: a.Pool()}, "127.0.0.1", nil},
		{"TLS 1.3 only", &tls.Config{RootCAs: a.Pool(), MinVersion: tls.VersionTLS13}, "api.gyre.test", nil},
		{"TLS 1.2 only", &tls.Config{RootCAs: a.Pool(), MaxVersion: tls.VersionTLS12}, "api.gyre.test", nil},
		{"name not covered", &tls.Config{RootCAs: a.Pool(), ServerName: "api.example.test"}, "127.0.0.1", &wrongHost},
		{"wildcard is one label", &tls.Config{RootCAs: a.Pool(), ServerName: "a.b.gyre.test"}, "127.0.0.1", &wrongHost},
		{"IP not covered", &tls.Config{RootCAs: a.Pool(), ServerName: "127.0.0.2"}, "127.0.0.1", &wrongHost},
		{"system roots only", &tls.Config{ServerName: "api.gyre.test"}, "127.0.0.1", &unknownCA},
		{"another Gyre CA", &tls.Config{RootCAs: other.Pool(), ServerName: "api.gyre.test"}, "127.0.0.1", &unknownCA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, err := get(t, tc.cfg, tc.host, port)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("GET: %v, want %q", err, greeting)
				}
				if body != greeting {
					t.Errorf("GET = %q, want %q", body, greeting)
				}
				return
			}
			if err == nil {
				t.Fatalf("GET succeeded, want a %T", tc.want)
			}
			if !errors.As(err, tc.want) {
				t.Errorf("GET: %v, want a %T", err, tc.want)
			}
		})
	}

	t.Run("curl", func(t *testing.T) {
		curl, err := exec.LookPath("curl")
		if err != nil {
			t.Skip("curl is not installed")
		}
		resolve := fmt.Sprintf("api.gyre.test:%d:127.0.0.1", port)
		curlCases := []struct {
			name string
			args []string
			ok   bool
		}{
			{"DNS name with the CA", []string{"--cacert", a.CAPath(), "--resolve", resolve, fmt.Sprintf("https://api.gyre.test:%d/", port)}, true},
			{"IP with the CA", []string{"--cacert", a.CAPath(), fmt.Sprintf("https://127.0.0.1:%d/", port)}, true},
			{"another Gyre CA", []string{"--cacert", other.CAPath(), "--resolve", resolve, fmt.Sprintf("https://api.gyre.test:%d/", port)}, false},
			{"system roots", []string{"--resolve", resolve, fmt.Sprintf("https://api.gyre.test:%d/", port)}, false},
		}
		for _, tc := range curlCases {
			t.Run(tc.name, func(t *testing.T) {
				// -q first: no ~/.curlrc. No proxy: the server is local.
				args := append([]string{"-q", "--silent", "--show-error", "--fail", "--noproxy", "*"}, tc.args...)
				cmd := exec.CommandContext(t.Context(), curl, args...)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				switch {
				case tc.ok && err != nil:
					t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
				case tc.ok && string(out) != greeting:
					t.Errorf("curl printed %q, want %q", out, greeting)
				case !tc.ok && err == nil:
					t.Errorf("curl %s succeeded, want a verification failure", strings.Join(args, " "))
				case !tc.ok:
					// Exit status 60: the peer's certificate cannot be
					// authenticated with the known CA certificates.
					var ee *exec.ExitError
					if !errors.As(err, &ee) || ee.ExitCode() != 60 {
						t.Errorf("curl: %v (%s), want exit status 60", err, strings.TrimSpace(stderr.String()))
					}
				}
			})
		}
	})
}
