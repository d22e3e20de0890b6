package sigv4

import (
	"bufio"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAWSTestSuite verifies the signed requests of AWS's SigV4 test suite;
// see testdata/aws-sig-v4-test-suite/README.md for where they come from and
// which ones are left out.
func TestAWSTestSuite(t *testing.T) {
	files, err := filepath.Glob("testdata/aws-sig-v4-test-suite/*.sreq")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test suite files: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".sreq")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			service, at := "service", time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
			if strings.HasPrefix(name, "2011-") {
				service, at = "host", time.Date(2011, 9, 9, 23, 36, 0, 0, time.UTC)
			}
			v, err := New(Options{
				Credentials: func(id string) (string, bool) {
					return "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", id == "AKIDEXAMPLE"
				},
				Service: service,
				Now:     newFakeClock(at).Now,
			})
			if err != nil {
				t.Fatal(err)
			}

			r, body := parseSuiteRequest(t, string(raw))
			if _, err := v.Verify(r, body); err != nil {
				t.Fatalf("Verify = %v, want success", err)
			}

			// Any change to the signature must be refused.
			auth := r.Header.Get("Authorization")
			last := auth[len(auth)-1]
			flipped := byte('0')
			if last == '0' {
				flipped = '1'
			}
			r.Header.Set("Authorization", auth[:len(auth)-1]+string(flipped))
			if _, err := v.Verify(r, body); !errors.Is(err, ErrSignatureMismatch) {
				t.Fatalf("Verify with an altered signature = %v, want ErrSignatureMismatch", err)
			}
		})
	}
}

// parseSuiteRequest parses a test suite request, written with LF line
// endings, as net/http's server would parse it off the wire.
func parseSuiteRequest(t *testing.T, raw string) (*http.Request, []byte) {
	t.Helper()
	head, body, _ := strings.Cut(raw, "\n\n")
	wire := strings.ReplaceAll(head, "\n", "\r\n") + "\r\n\r\n"
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(wire)))
	if err != nil {
		t.Fatalf("parsing request: %v", err)
	}
	return r, []byte(body)
}
