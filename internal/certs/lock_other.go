//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package certs

import (
	"fmt"
	"runtime"
)

// lockDir fails: without flock the directory cannot be shared safely
// between processes, and a CA created twice would leave clients trusting
// the wrong one.
func lockDir(dir string) (unlock func(), err error) {
	return nil, fmt.Errorf("certs: locking %s: not supported on %s", dir, runtime.GOOS)
}
