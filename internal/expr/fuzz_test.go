package expr

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gyre-dev/gyre/internal/attr"
)

// fuzzParams defines a few placeholders of every type, so that fuzzed
// expressions get past name resolution often enough to reach the checks and
// the evaluator.
var fuzzParams = func() *Params {
	p := &Params{Names: map[string]string{"#a": "a", "#b": "b", "#n": "status", "#dot": "a.b", "#0": "0"}}
	const values = `{":a":{"S":"ab"},":n":{"N":"5"},":m":{"N":"-1.5"},":l":{"L":[{"N":"1"},{"S":"x"}]},":map":{"M":{"a":{"N":"1"}}},
		":ss":{"SS":["a","b"]},":ns":{"NS":["1","2"]},":bs":{"BS":["AAE="]},":b":{"B":"AAE="},":t":{"BOOL":true},":z":{"NULL":true},
		":S":{"S":"S"},":e":{"L":[]},":big":{"N":"9.9999999999999999999999999999999999999E+125"}}`
	if err := json.Unmarshal([]byte(values), &p.Values); err != nil {
		panic(err)
	}
	return p
}()

var fuzzItem = func() attr.Item {
	var it attr.Item
	const item = `{"a":{"M":{"b":{"L":[{"N":"1"},{"M":{"c":{"S":"x"}}},{"SS":["a"]}]},"n":{"N":"3"}}},"b":{"L":[{"N":"1"},{"N":"2"},{"N":"3"}]},
		"status":{"S":"ab"},"n":{"N":"5"},"s":{"SS":["a","b"]},"x":{"BOOL":false},"a.b":{"NULL":true},"0":{"B":"AAE="}}`
	if err := json.Unmarshal([]byte(item), &it); err != nil {
		panic(err)
	}
	return it
}()

var fuzzSeeds = []struct {
	kind uint8
	src  string
}{
	{0, "a = :n AND NOT (b.c[1] < :a OR attribute_exists(#a))"},
	{0, "size(a.b) BETWEEN :n AND :n"},
	{0, "a IN (:n, :a, b) OR contains(s, :a) AND begins_with(status, :a)"},
	{0, "attribute_type(#n, :S) AND #dot <> :z"},
	{0, "((a = :n))"},
	{0, "NOT NOT a.b[2] >= :m"},
	{0, "a = :undefined OR dog(x)"},
	{1, "SET a.n = a.n + :n, b[5] = :a REMOVE b[0], x ADD s :ss DELETE s :ss"},
	{1, "SET a = list_append(if_not_exists(b, :e), :l), #b = if_not_exists(n, :n) - :m"},
	{1, "SET a = :big + :big"},
	{1, "REMOVE a.b[1].c, b[2], b[0]"},
	{1, "SET a = :n SET b = :n"},
	{2, "a.b[0], status, #n, #a.n"},
	{2, "a, a.b"},
	{3, "p = :a AND begins_with(c, :a)"},
	{3, "p = :a AND c BETWEEN :n AND :n"},
	{3, "p = :a OR c = :n"},
	{0, "a = :n)"},
	{1, "SET _a = :n"},
	{0, strings.Repeat("(", 50) + "a = :n" + strings.Repeat(")", 50)},
	{0, "a[99999999999999999999] = :n"},
}

// FuzzParse checks that no input makes a parser panic, that whatever parses
// prints to a form that parses back to the same tree, and that evaluating
// what parses does not panic either.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.kind, s.src)
	}
	f.Fuzz(func(t *testing.T, kind uint8, src string) {
		kinds := []string{"condition", "update", "projection", "keycond"}
		k := kinds[int(kind)%len(kinds)]
		str, tree, err := parseTree(k, src, fuzzParams)
		if err != nil {
			var v *attr.ValidationError
			if !asValidation(err, &v) {
				t.Fatalf("%s %q: error %v is not a *attr.ValidationError", k, src, err)
			}
			return
		}
		str2, tree2, err := parseTree(k, str, fuzzParams)
		if err != nil {
			t.Fatalf("%s %q printed as %q, which does not parse: %v", k, src, str, err)
		}
		if str2 != str || tree2 != tree {
			t.Fatalf("%s %q: round trip changed it:\n%s\n%s\nto\n%s\n%s", k, src, str, tree, str2, tree2)
		}
		exercise(t, k, src)
	})
}

func asValidation(err error, v **attr.ValidationError) bool {
	e, ok := err.(*attr.ValidationError)
	*v = e
	return ok
}

// exercise evaluates a parsed expression against an item and no item.
func exercise(t *testing.T, kind, src string) {
	for _, item := range []attr.Item{fuzzItem, nil} {
		before := item.Clone()
		switch kind {
		case "condition":
			c, _ := ParseCondition(src, fuzzParams)
			if _, err := c.Eval(item); err != nil {
				t.Fatalf("Eval(%q): %v", src, err)
			}
			_ = c.Paths()
		case "update":
			u, _ := ParseUpdate(src, fuzzParams)
			if out, err := u.Apply(item); err == nil {
				Projection(u.Paths()).Apply(out)
			}
		case "projection":
			p, _ := ParseProjection(src, fuzzParams)
			p.Apply(item)
		case "keycond":
			kc, _ := ParseKeyCondition(src, fuzzParams)
			if kc.Resolve(KeySchema{Hash: "p", Range: "c"}) == nil && kc.Range != nil {
				kc.Range.Match(attr.S("ab"))
			}
		}
		if !attr.ItemsEqual(before, item) {
			t.Fatalf("%s %q modified the item", kind, src)
		}
	}
}
