package node

import (
	"slices"
	"testing"
)

func TestShellCommand(t *testing.T) {
	for cmd, want := range map[string]string{
		"python3 app.py":             "exec python3 app.py",
		"  node server.js --port 1 ": "exec node server.js --port 1",
		"exec ./app":                 "exec ./app",
		"cd web && npm start":        "cd web && npm start",
		"FOO=1 python3 app.py":       "FOO=1 python3 app.py",
		"python3 app.py > out.log":   "python3 app.py > out.log",
		"./run.sh $PORT":             "./run.sh $PORT",
		`python3 -c "print('a; b')"`: `python3 -c "print('a; b')"`,
	} {
		if got := shellCommand(cmd); !slices.Equal(got, []string{"/bin/sh", "-c", want}) {
			t.Errorf("shellCommand(%q) = %q, want sh -c %q", cmd, got, want)
		}
	}
}
