// Package tmpfs mounts small, real filesystems for tests of what Gyre does
// when its disk fills up or turns read-only: a tmpfs of a given size,
// mounted in a temporary directory and unmounted when the test ends.
//
// Mounting needs root (CAP_SYS_ADMIN) on Linux; elsewhere, or without it,
// Mount skips the test, saying why, unless GYRE_REQUIRE_TMPFS=1, when it
// fails it.
package tmpfs

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// RequireEnv is the environment variable that turns a skip into a failure.
const RequireEnv = "GYRE_REQUIRE_TMPFS"

// Mount mounts a tmpfs of size bytes (read-only when readOnly) on a new
// temporary directory and returns its path; it is unmounted when t ends.
func Mount(t testing.TB, size int64, readOnly bool) string {
	t.Helper()
	skip := func(why string) {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("cannot mount a tmpfs (%s), and %s=1", why, RequireEnv)
		}
		t.Skipf("this test mounts a small tmpfs, which it cannot do here: %s (run it as root on Linux; set %s=1 to fail instead)", why, RequireEnv)
	}
	if runtime.GOOS != "linux" {
		skip("not Linux")
	}
	if os.Geteuid() != 0 {
		skip("not root")
	}
	dir := t.TempDir()
	opts := fmt.Sprintf("size=%d,mode=0755", size)
	if readOnly {
		opts += ",ro"
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "gyre-test", dir).CombinedOutput(); err != nil {
		skip(fmt.Sprintf("mount: %v: %s", err, out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("unmounting the test tmpfs %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// Remount changes a mounted tmpfs's size (bytes), to free space after a
// test has filled it.
func Remount(t testing.TB, dir string, size int64) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", fmt.Sprintf("remount,size=%d", size), dir).CombinedOutput(); err != nil {
		t.Fatalf("remounting %s with size %d: %v: %s", dir, size, err, out)
	}
}
