// Package pytool finds, for tests, a Python 3 interpreter that has the
// modules a test needs: boto3 to run the example apps as users run them,
// botocore with awscrt to sign requests with SigV4a as the AWS SDKs do.
//
// Debian's python3 (/usr/bin/python3, with python3-boto3, python3-botocore
// and python3-awscrt) is tried first, then every python3 on PATH. A test
// calls Find; with none found it is skipped, or, when GYRE_REQUIRE_PYTHON=1
// (as .ci/run sets), failed, so that CI cannot pass by skipping.
package pytool

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
)

// RequireEnv is the environment variable that turns a missing interpreter
// from a skip into a failure.
const RequireEnv = "GYRE_REQUIRE_PYTHON"

// candidates are the interpreters tried, in order.
func candidates() []string {
	out := []string{"/usr/bin/python3"}
	for _, dir := range strings.Split(os.Getenv("PATH"), string(os.PathListSeparator)) {
		if dir == "" {
			continue
		}
		p := dir + "/python3"
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

var (
	mu    sync.Mutex
	found = map[string]string{} // modules key -> interpreter ("" for none)
)

// Lookup returns the path of a python3 that imports every one of modules,
// or "" when there is none. Results are cached per set of modules.
func Lookup(modules ...string) string {
	key := strings.Join(modules, ",")
	mu.Lock()
	defer mu.Unlock()
	if p, ok := found[key]; ok {
		return p
	}
	script := "import " + strings.Join(append([]string{"sys"}, modules...), ", ")
	for _, p := range candidates() {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if exec.Command(p, "-c", script).Run() == nil {
			found[key] = p
			return p
		}
	}
	found[key] = ""
	return ""
}

// Find returns the path of a python3 that imports every one of modules. With
// none, it skips t, or fails it when GYRE_REQUIRE_PYTHON=1.
func Find(t testing.TB, modules ...string) string {
	t.Helper()
	if p := Lookup(modules...); p != "" {
		return p
	}
	msg := "no python3 with " + strings.Join(modules, ", ") + " (on Debian: apt-get install -y python3-boto3 python3-botocore python3-awscrt)"
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s, and %s=1", msg, RequireEnv)
	}
	t.Skipf("%s; set %s=1 to fail instead of skipping", msg, RequireEnv)
	return ""
}
