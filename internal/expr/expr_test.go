package expr

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/gyre-dev/gyre/internal/attr"
)

// TestDataDriven runs the scripts in testdata/. Commands:
//
//	parse kind=condition|filter|keycond|update|projection [names=<json>] [values=<json>] [empty] [spaces=n] [pad=n]
//	    <expression>          -> canonical form and tree, or the error;
//	                             also checks that the canonical form parses
//	                             back to the same tree
//	eval [item=<json>] [names=...] [values=...] [kind=filter]
//	    <condition per line>  -> true, false or the error, per line
//	update [item=<json>] [names=...] [values=...]
//	    <update>              -> the new item, or the error
//	project [item=<json>] [names=...]
//	    <projection>          -> the projected item, or the error
//	keycond [names=...] [values=...] [hash=p range=c hashtype=S rangetype=N]
//	    <key condition>       -> its terms, resolved against the schema if given
//	expected [item=<json>] [op=AND|OR]
//	    <Expected JSON>       -> the converted condition and its value on item
//	filter [param=scanFilter] [item=<json>] [op=AND|OR]
//	    <QueryFilter/ScanFilter JSON>
//	keyconditions [hash=p range=c]
//	    <KeyConditions JSON>
//	attributeupdates [item=<json>]
//	    <AttributeUpdates JSON> -> the new item
//	attributestoget [item=<json>]
//	    <AttributesToGet JSON>
//	params [names=...] [values=...]   -> Params.Validate
//	unused [names=...] [values=...]
//	    <kind>: <expression> per line -> CheckUnused over them all
//
// JSON arguments may not contain spaces; write \u0020 inside strings.
// Run with -rewrite to regenerate the expected output.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return runCommand(t, d)
		})
	})
}

func runCommand(t *testing.T, d *datadriven.TestData) string {
	params := argParams(t, d)
	switch d.Cmd {
	case "parse":
		kind := "condition"
		if d.HasArg("kind") {
			d.ScanArgs(t, "kind", &kind)
		}
		src := strings.TrimSpace(d.Input)
		if d.HasArg("spaces") {
			var n int
			d.ScanArgs(t, "spaces", &n)
			src = strings.Repeat(" ", n)
		}
		if d.HasArg("pad") {
			var n int
			d.ScanArgs(t, "pad", &n)
			src += strings.Repeat(" ", n)
		}
		return parseAndPrint(kind, src, params)
	case "eval":
		item := argItem(t, d, "item")
		parse := ParseCondition
		if d.HasArg("kind") {
			parse = ParseFilter
		}
		lines := strings.Split(strings.TrimSpace(d.Input), "\n")
		var out strings.Builder
		for _, line := range lines {
			if len(lines) > 1 {
				fmt.Fprintf(&out, "%s -> ", line)
			}
			c, err := parse(line, params)
			if err != nil {
				fmt.Fprintf(&out, "error: %v\n", err)
				continue
			}
			before := item.Clone()
			ok, err := c.Eval(item)
			if !attr.ItemsEqual(before, item) {
				t.Fatalf("Eval modified the item")
			}
			if err != nil {
				fmt.Fprintf(&out, "error: %v\n", err)
				continue
			}
			fmt.Fprintf(&out, "%t\n", ok)
		}
		return out.String()
	case "update":
		item := argItem(t, d, "item")
		u, err := ParseUpdate(strings.TrimSpace(d.Input), params)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return applyUpdate(t, u, item)
	case "project":
		item := argItem(t, d, "item")
		p, err := ParseProjection(strings.TrimSpace(d.Input), params)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return formatItem(p.Apply(item)) + "\n"
	case "keycond":
		kc, err := ParseKeyCondition(strings.TrimSpace(d.Input), params)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return formatKeyCondition(t, d, kc)
	case "expected":
		var m map[string]ExpectedAttributeValue
		decode(t, d.Input, &m)
		c, err := ConvertExpected(m, argString(d, "op"))
		return formatLegacyCondition(t, d, c, err)
	case "filter":
		var m map[string]LegacyCondition
		decode(t, d.Input, &m)
		param := "scanFilter"
		if d.HasArg("param") {
			d.ScanArgs(t, "param", &param)
		}
		c, err := ConvertFilter(param, m, argString(d, "op"))
		return formatLegacyCondition(t, d, c, err)
	case "keyconditions":
		var m map[string]LegacyCondition
		decode(t, d.Input, &m)
		kc, err := ConvertKeyConditions(m)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return formatKeyCondition(t, d, kc)
	case "attributeupdates":
		var m map[string]AttributeValueUpdate
		decode(t, d.Input, &m)
		u, err := ConvertAttributeUpdates(m)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return orEmpty(u.String()) + "\n" + applyUpdate(t, u, argItem(t, d, "item"))
	case "attributestoget":
		var names []string
		decode(t, d.Input, &names)
		p, err := ConvertAttributesToGet(names)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return orEmpty(p.String()) + "\n" + formatItem(p.Apply(argItem(t, d, "item"))) + "\n"
	case "params":
		if err := params.Validate(); err != nil {
			return "error: " + err.Error() + "\n"
		}
		return "ok\n"
	case "unused":
		var usages []Usage
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			kind, src, _ := strings.Cut(line, ": ")
			u, err := parseUsage(kind, src, params)
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			usages = append(usages, u)
		}
		if err := CheckUnused(params, usages...); err != nil {
			return "error: " + err.Error() + "\n"
		}
		return "ok\n"
	}
	t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	return ""
}

func orEmpty(s string) string {
	if s == "" {
		return "<empty>"
	}
	return s
}

func applyUpdate(t *testing.T, u *Update, item attr.Item) string {
	before := item.Clone()
	out, err := u.Apply(item)
	if !attr.ItemsEqual(before, item) {
		t.Fatalf("Apply modified its input: before %s, after %s", formatItem(before), formatItem(item))
	}
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	return formatItem(out) + "\n"
}

func parseUsage(kind, src string, p *Params) (Usage, error) {
	switch kind {
	case "condition":
		c, err := ParseCondition(src, p)
		if err != nil {
			return Usage{}, err
		}
		return c.Usage(), nil
	case "filter":
		c, err := ParseFilter(src, p)
		if err != nil {
			return Usage{}, err
		}
		return c.Usage(), nil
	case "keycond":
		kc, err := ParseKeyCondition(src, p)
		if err != nil {
			return Usage{}, err
		}
		return kc.Usage(), nil
	case "update":
		u, err := ParseUpdate(src, p)
		if err != nil {
			return Usage{}, err
		}
		return u.Usage(), nil
	case "projection":
		pr, err := ParseProjection(src, p)
		if err != nil {
			return Usage{}, err
		}
		return pr.Usage(), nil
	}
	return Usage{}, fmt.Errorf("unknown kind %q", kind)
}

// parseAndPrint parses src as kind and prints its canonical form and tree,
// checking that the canonical form parses back to the same tree.
func parseAndPrint(kind, src string, p *Params) string {
	str, tree, err := parseTree(kind, src, p)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	str2, tree2, err := parseTree(kind, str, p)
	switch {
	case err != nil:
		return fmt.Sprintf("ROUND TRIP FAILED: %q: %v\n", str, err)
	case str2 != str || tree2 != tree:
		return fmt.Sprintf("ROUND TRIP MISMATCH:\n%s\n%s\n%s\n%s\n", str, tree, str2, tree2)
	}
	return str + "\n" + tree
}

// parseTree parses src as kind and returns its canonical form and tree.
func parseTree(kind, src string, p *Params) (str, tree string, err error) {
	var b strings.Builder
	switch kind {
	case "condition", "filter":
		parse := ParseCondition
		if kind == "filter" {
			parse = ParseFilter
		}
		c, err := parse(src, p)
		if err != nil {
			return "", "", err
		}
		writeCondTree(&b, c.root)
		b.WriteByte('\n')
		return c.String(), b.String(), nil
	case "keycond":
		kc, err := ParseKeyCondition(src, p)
		if err != nil {
			return "", "", err
		}
		writeCondTree(&b, kc.root)
		b.WriteByte('\n')
		writeTerms(&b, kc.terms)
		return kc.String(), b.String(), nil
	case "update":
		u, err := ParseUpdate(src, p)
		if err != nil {
			return "", "", err
		}
		writeUpdateTree(&b, u)
		return u.String(), b.String(), nil
	case "projection":
		pr, err := ParseProjection(src, p)
		if err != nil {
			return "", "", err
		}
		for i, path := range pr {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(path.describe())
		}
		b.WriteByte('\n')
		return pr.String(), b.String(), nil
	}
	return "", "", fmt.Errorf("unknown kind %q", kind)
}

// writeCondTree writes a condition as an S-expression: paths as DynamoDB
// describes them ([a, b, [0]]), values as placeholder and JSON.
func writeCondTree(b *strings.Builder, n *condNode) {
	b.WriteByte('(')
	switch n.kind {
	case cAnd:
		b.WriteString("and")
	case cOr:
		b.WriteString("or")
	case cNot:
		b.WriteString("not")
	case cCmp:
		b.WriteString(cmpNames[n.cmp])
	case cBetween:
		b.WriteString("between")
	case cIn:
		b.WriteString("in")
	case cFunc:
		b.WriteString(n.fn)
	}
	for _, k := range n.kids {
		b.WriteByte(' ')
		writeCondTree(b, k)
	}
	for _, a := range n.args {
		b.WriteByte(' ')
		writeOperandTree(b, a)
	}
	b.WriteByte(')')
}

func writeOperandTree(b *strings.Builder, o *operand) {
	switch o.kind {
	case opPath:
		b.WriteString(o.path.describe())
	case opValue:
		b.WriteString(o.ref)
		b.WriteString(formatValue(o.val))
	case opCall:
		b.WriteByte('(')
		b.WriteString(o.fn)
		for _, a := range o.args {
			b.WriteByte(' ')
			writeOperandTree(b, a)
		}
		b.WriteByte(')')
	}
}

func writeUpdateTree(b *strings.Builder, u *Update) {
	for _, c := range u.clauses {
		for _, a := range c.actions {
			b.WriteByte('(')
			b.WriteString(strings.ToLower(clauseNames[c.kind]))
			b.WriteByte(' ')
			b.WriteString(a.path.describe())
			switch c.kind {
			case clauseSet:
				b.WriteByte(' ')
				if a.set.arith != 0 {
					op := "+"
					if a.set.arith == tokMinus {
						op = "-"
					}
					fmt.Fprintf(b, "(%s ", op)
					writeOperandTree(b, a.set.a)
					b.WriteByte(' ')
					writeOperandTree(b, a.set.b)
					b.WriteByte(')')
				} else {
					writeOperandTree(b, a.set.a)
				}
			case clauseAdd, clauseDelete:
				b.WriteByte(' ')
				writeOperandTree(b, a.val)
			}
			b.WriteString(")\n")
		}
	}
}

func writeTerms(b *strings.Builder, terms []RangeCondition) {
	for _, t := range terms {
		fmt.Fprintf(b, "%s %s", t.Name, t.Op)
		for _, v := range t.Values {
			b.WriteByte(' ')
			b.WriteString(formatValue(v))
		}
		b.WriteByte('\n')
	}
}

func formatKeyCondition(t *testing.T, d *datadriven.TestData, kc *KeyCondition) string {
	var b strings.Builder
	b.WriteString(kc.String())
	b.WriteByte('\n')
	writeTerms(&b, kc.terms)
	if !d.HasArg("hash") {
		return b.String()
	}
	s := KeySchema{Hash: argString(d, "hash"), Range: argString(d, "range")}
	if d.HasArg("hashtype") {
		s.HashType, _ = attr.ParseType(argString(d, "hashtype"))
	}
	if d.HasArg("rangetype") {
		s.RangeType, _ = attr.ParseType(argString(d, "rangetype"))
	}
	if err := kc.Resolve(s); err != nil {
		fmt.Fprintf(&b, "resolve: error: %v\n", err)
		return b.String()
	}
	fmt.Fprintf(&b, "resolve: hash %s = %s", kc.HashName, formatValue(kc.HashValue))
	if kc.Range != nil {
		fmt.Fprintf(&b, "; range %s %s", kc.Range.Name, kc.Range.Op)
		for _, v := range kc.Range.Values {
			b.WriteByte(' ')
			b.WriteString(formatValue(v))
		}
	}
	b.WriteByte('\n')
	return b.String()
}

func formatLegacyCondition(t *testing.T, d *datadriven.TestData, c *Condition, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	if c == nil {
		return "no condition\n"
	}
	out := c.String() + "\n"
	if d.HasArg("item") {
		ok, err := c.Eval(argItem(t, d, "item"))
		if err != nil {
			return out + "error: " + err.Error() + "\n"
		}
		out += strconv.FormatBool(ok) + "\n"
	}
	return out
}

func argString(d *datadriven.TestData, key string) string {
	for _, a := range d.CmdArgs {
		if a.Key == key && len(a.Vals) > 0 {
			return a.Vals[0]
		}
	}
	return ""
}

func argParams(t *testing.T, d *datadriven.TestData) *Params {
	var p Params
	if d.HasArg("names") {
		decode(t, argString(d, "names"), &p.Names)
	}
	if d.HasArg("values") {
		decode(t, argString(d, "values"), &p.Values)
	}
	return &p
}

// argItem decodes the item argument; without one, the item does not exist
// (nil).
func argItem(t *testing.T, d *datadriven.TestData, key string) attr.Item {
	if !d.HasArg(key) {
		return nil
	}
	item := attr.Item{}
	decode(t, argString(d, key), &item)
	return item
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
}

// formatItem prints an item as DynamoDB JSON with sorted keys.
func formatItem(it attr.Item) string {
	if it == nil {
		return "<no item>"
	}
	s := formatValue(attr.MapValue(it))
	return s[len(`{"M":`) : len(s)-1]
}

// formatValue prints a value as DynamoDB JSON with map keys sorted.
func formatValue(v attr.Value) string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

func writeValue(b *strings.Builder, v attr.Value) {
	switch v.Type {
	case attr.Map:
		b.WriteString(`{"M":{`)
		keys := make([]string, 0, len(v.M))
		for k := range v.M {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kj, _ := json.Marshal(k)
			b.Write(kj)
			b.WriteByte(':')
			writeValue(b, v.M[k])
		}
		b.WriteString("}}")
	case attr.List:
		b.WriteString(`{"L":[`)
		for i, e := range v.L {
			if i > 0 {
				b.WriteByte(',')
			}
			writeValue(b, e)
		}
		b.WriteString("]}")
	case attr.Invalid:
		b.WriteString("<invalid>")
	case attr.BinarySet:
		// MarshalJSON is deterministic for everything but maps.
		parts := make([]string, len(v.Bins))
		for i, x := range v.Bins {
			parts[i] = `"` + base64.StdEncoding.EncodeToString(x) + `"`
		}
		b.WriteString(`{"BS":[` + strings.Join(parts, ",") + `]}`)
	default:
		j, _ := v.MarshalJSON()
		b.Write(j)
	}
}
