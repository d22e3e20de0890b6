package supervisor

import (
	"slices"
	"strings"
)

// inherited are the variables of Gyre's environment an app inherits, with
// every variable whose name starts with inheritedPrefix; Options.Env
// documents the list for users.
var inherited = []string{"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TZ", "LANG", "LANGUAGE"}

const (
	inheritedPrefix = "LC_"
	// defaultPath is the app's PATH when neither Gyre's environment nor
	// Options.Env has one.
	defaultPath = "/usr/local/bin:/usr/bin:/bin"
)

// environ returns an app's environment: the inherited variables of parent
// (Gyre's environment, as os.Environ returns it), then env, whose entries
// replace those of the same name. Each name appears once, where it first
// appeared, with the last value given for it.
func environ(parent, env []string) []string {
	var names []string
	values := map[string]string{}
	set := func(kv string) {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := values[name]; !ok {
			names = append(names, name)
		}
		values[name] = kv
	}
	for _, kv := range parent {
		name, _, ok := strings.Cut(kv, "=")
		if ok && (slices.Contains(inherited, name) || strings.HasPrefix(name, inheritedPrefix)) {
			set(kv)
		}
	}
	for _, kv := range env {
		set(kv)
	}
	if _, ok := values["PATH"]; !ok {
		set("PATH=" + defaultPath)
	}
	out := make([]string, len(names))
	for i, name := range names {
		out[i] = values[name]
	}
	return out
}

// lookupEnv returns the value of name in env, as os.LookupEnv does in the
// process's own environment.
func lookupEnv(env []string, name string) (string, bool) {
	for _, kv := range slices.Backward(env) {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v, true
		}
	}
	return "", false
}
