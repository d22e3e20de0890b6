// Package scenario reads the arguments of datadriven scenario commands,
// the same way for every package whose tests are scenarios (node's
// real-server replication scenarios, repl's simulated ones):
//
//	put region=us-east-1 key=k vals=(:v=1, :w=2) us-west-2
//
// has the positional argument us-west-2, the values us-east-1 and k, and
// the list [":v=1", ":w=2"].
package scenario

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/datadriven"
)

// Positional returns the arguments given without a value, in order.
func Positional(d *datadriven.TestData) []string {
	var out []string
	for _, a := range d.CmdArgs {
		if len(a.Vals) == 0 {
			out = append(out, a.Key)
		}
	}
	return out
}

// Opt returns the value of key (its values joined with ", "), or def when
// it is absent.
func Opt(d *datadriven.TestData, key, def string) string {
	a, ok := d.Arg(key)
	if !ok || len(a.Vals) == 0 {
		return def
	}
	return strings.Join(a.Vals, ", ")
}

// Must returns the value of key, which is required: an error names it
// when it is absent or empty.
func Must(d *datadriven.TestData, key string) (string, error) {
	v := Opt(d, key, "")
	if v == "" {
		return "", fmt.Errorf("missing %s=", key)
	}
	return v, nil
}

// List returns the values of key, whether written key=(a, b) or key=a,b.
func List(d *datadriven.TestData, key string) []string {
	a, ok := d.Arg(key)
	if !ok {
		return nil
	}
	var out []string
	for _, v := range a.Vals {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
