package supervisor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// resolve returns the absolute path of the program to run. It checks what
// can be checked before forking, so that its errors, all *StartError, say
// what is wrong: after the fork, a missing working directory and a missing
// program both read "no such file or directory".
func (s *Supervisor) resolve() (string, error) {
	dir := s.opts.Dir
	if dir != "" {
		fi, err := os.Stat(dir)
		if err != nil {
			return "", s.startError(fmt.Errorf("working directory %s: %w", dir, cause(err)),
				"create it, or correct the app's working directory")
		}
		if !fi.IsDir() {
			return "", s.startError(fmt.Errorf("working directory %s is not a directory: %w", dir, syscall.ENOTDIR),
				"point the app's working directory at a directory")
		}
	}
	name := s.opts.Command[0]
	if !strings.Contains(name, "/") {
		return s.lookPath(name)
	}
	path := name
	if !filepath.IsAbs(path) {
		abs, err := filepath.Abs(filepath.Join(dir, path))
		if err != nil {
			return "", s.startError(err, "give the program's absolute path")
		}
		path = abs
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return "", s.startError(fmt.Errorf("%s: %w", path, cause(err)),
			"check the path (a relative one is relative to the app's working directory)")
	case fi.IsDir():
		return "", s.startError(fmt.Errorf("%s is a directory: %w", path, syscall.EISDIR),
			"give the path of the program, not of its directory")
	case fi.Mode()&0o111 == 0:
		return "", s.startError(fmt.Errorf("%s is not executable (mode %v): %w", path, fi.Mode(), fs.ErrPermission),
			"make it executable (chmod +x), or run it through its interpreter (for example python3 app.py)")
	}
	return path, nil
}

// lookPath finds name in the directories of the app's PATH, as a shell
// would, except that relative entries are skipped (as os/exec refuses
// them): what runs must not depend on the working directory.
func (s *Supervisor) lookPath(name string) (string, error) {
	pathEnv, _ := lookupEnv(s.env, "PATH")
	var notExecutable string
	for _, dir := range filepath.SplitList(pathEnv) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() {
			continue
		}
		if fi.Mode()&0o111 != 0 {
			return p, nil
		}
		if notExecutable == "" {
			notExecutable = p
		}
	}
	if notExecutable != "" {
		return "", s.startError(fmt.Errorf("%s, found in PATH, is not executable: %w", notExecutable, fs.ErrPermission),
			"make it executable (chmod +x), or give the full path of another program")
	}
	return "", s.startError(notFoundError{name, pathEnv},
		"install it, add its directory to the app's PATH, or give its full path")
}

// execError turns the error of a fork and exec of path that passed
// resolve's checks into a *StartError when trying again would fail the
// same way.
func (s *Supervisor) execError(path string, err error) error {
	errno, ok := errors.AsType[syscall.Errno](err)
	if !ok {
		return fmt.Errorf("supervisor: app %q in %s: starting %s: %w", s.opts.App, s.opts.Region, path, err)
	}
	var fix string
	switch errno {
	case syscall.ENOENT:
		// resolve found the program: what is missing is the
		// interpreter its #! line names.
		fix = "if it is a script, the interpreter its #! line names is not installed: install it or correct the #! line"
	case syscall.EACCES:
		fix = "make it executable (chmod +x), and check that its directories are searchable and its file system is not mounted noexec"
	case syscall.ENOEXEC:
		fix = "it is neither a program for this system nor a script starting with #!: add a #! line, or run it through its interpreter"
	case syscall.ENOTDIR, syscall.EISDIR, syscall.ELOOP, syscall.ENAMETOOLONG:
		fix = "correct the app's command"
	default:
		// Out of processes, memory or file descriptors, or the program
		// being written: it may work next time.
		return fmt.Errorf("supervisor: app %q in %s: starting %s: %w", s.opts.App, s.opts.Region, path, err)
	}
	return s.startError(fmt.Errorf("%s: %w", path, errno), fix)
}

func (s *Supervisor) startError(err error, fix string) *StartError {
	return &StartError{App: s.opts.App, Region: s.opts.Region, Command: s.opts.Command, Err: err, Fix: fix}
}

// cause strips the operation and path from a *fs.PathError, which the
// messages above already say in their own words.
func cause(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

// notFoundError is the cause of a *StartError when a program is in no
// directory of the app's PATH. It is exec.ErrNotFound, in other words.
type notFoundError struct{ name, path string }

func (e notFoundError) Error() string {
	return fmt.Sprintf("%q not found in the app's PATH %s", e.name, e.path)
}

func (e notFoundError) Unwrap() error { return exec.ErrNotFound }
