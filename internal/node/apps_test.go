package node

import (
	"slices"
	"testing"
)

func TestShellCommand(t *testing.T) {
	for cmd, want := range map[string][]string{
		"python3 app.py":             {"python3", "app.py"},
		"  node server.js --port 1 ": {"node", "server.js", "--port", "1"},
		"exec ./app":                 {"/bin/sh", "-c", "exec ./app"},
		"cd web && npm start":        {"/bin/sh", "-c", "cd web && npm start"},
		"FOO=1 python3 app.py":       {"/bin/sh", "-c", "FOO=1 python3 app.py"},
		"python3 app.py > out.log":   {"/bin/sh", "-c", "python3 app.py > out.log"},
		"./run.sh $PORT":             {"/bin/sh", "-c", "./run.sh $PORT"},
		`python3 -c "print(1)"`:      {"/bin/sh", "-c", `python3 -c "print(1)"`},
		"python3 'my app.py'":        {"/bin/sh", "-c", "python3 'my app.py'"},
	} {
		if got := shellCommand(cmd); !slices.Equal(got, want) {
			t.Errorf("shellCommand(%q) = %q, want %q", cmd, got, want)
		}
	}
}
