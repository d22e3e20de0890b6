package topology

import (
	"os"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, and that whatever it accepts
// prints and parses back to the same topology.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(exampleFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(""))
	f.Add([]byte("regions: [{name: a, clock_skew: 0}, {name: b}]\nwan: {links: [{between: [a, b], latency: 0s}]}\n"))
	f.Add([]byte("tables:\n  - &t {name: abc, partition_key: {name: pk}}\n  - <<: *t\n    name: abd\n"))
	f.Add([]byte("regions:\n  - name: a\n    bogus: [1, {x: 2}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		top, err := Parse(data)
		if err != nil {
			if top != nil {
				t.Fatalf("Parse returned a topology and an error: %v", err)
			}
			return
		}
		out, err := Marshal(top)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(t)): %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, top) {
			t.Fatalf("Parse(Marshal(t)) != t:\n%s\nvs\n%s", out, back.YAML())
		}
	})
}
