package topology

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Load reads the topology file at path; see Parse. Problems with the file's
// content are returned as an *Error naming the file.
func Load(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	t, err := Parse(data)
	if e, ok := errors.AsType[*Error](err); ok {
		e.File = path
	}
	return t, err
}

// Parse decodes a topology from YAML, fills defaults and validates it. An
// empty document gives Default(). Decoding is strict: a key the schema does
// not have, a value of the wrong shape and a malformed duration are problems.
// Parse reports every problem at once, decoding and validation alike, in an
// *Error whose problems carry their YAML path and line. On error the
// Topology is nil.
func Parse(data []byte) (*Topology, error) {
	d := decoder{lines: map[string]int{}}
	t := d.decode(data)
	if t == nil {
		return nil, &Error{Problems: d.ps}
	}
	t.EnsureDefaults()
	if err := t.Validate(); err != nil {
		for _, p := range err.(*Error).Problems {
			if d.follows(p.Path) {
				continue
			}
			p.Line = d.lineOf(p.Path)
			d.ps = append(d.ps, p)
		}
	}
	if len(d.ps) > 0 {
		// By line, with problems of the file as a whole (line 0) first.
		slices.SortStableFunc(d.ps, func(a, b Problem) int { return a.Line - b.Line })
		return nil, &Error{Problems: d.ps}
	}
	return t, nil
}

// decoder turns YAML into a Topology. Before decoding it walks the YAML
// beside the Go types it will decode into: it notes the line of every path,
// reports every key the schema lacks and every value of the wrong shape,
// and drops them, so that decoding goes ahead and validation can find the
// problems in the rest of the file too.
type decoder struct {
	lines   map[string]int
	ps      problems
	dropped []string // paths of values dropped for a problem
	visits  int      // nodes checked, counting each use of an alias
}

// maxVisits bounds the work of checking a file in which aliases refer to
// aliases, each use of which is checked again (a "billion laughs").
const maxVisits = 1 << 18

var (
	durationType = reflect.TypeFor[time.Duration]()
	yamlLineRE   = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

// decode returns the decoded topology, or nil if the YAML is unreadable.
func (d *decoder) decode(data []byte) *Topology {
	t := new(Topology)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return t // an empty file: every default
		}
		d.yamlError(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.ps = append(d.ps, Problem{Line: extra.Line, Msg: "the file must hold one YAML document, not several"})
		return nil
	} else if !errors.Is(err, io.EOF) {
		d.yamlError(err)
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return t
		}
		root = root.Content[0]
	}
	if !d.check(root, reflect.TypeFor[Topology](), "") || d.visits > maxVisits {
		return nil
	}
	if err := root.Decode(t); err != nil {
		// Unexpected: check should have caught what the decoder rejects.
		d.yamlError(err)
	}
	return t
}

// yamlError turns an error of the yaml package into problems.
func (d *decoder) yamlError(err error) {
	msgs := []string{err.Error()}
	if te, ok := errors.AsType[*yaml.TypeError](err); ok {
		msgs = te.Errors
	}
	for _, msg := range msgs {
		p := Problem{Msg: strings.TrimPrefix(msg, "yaml: ")}
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Msg = m[2]
		}
		d.ps = append(d.ps, p)
	}
}

func (d *decoder) problem(path string, n *yaml.Node, format string, args ...any) {
	d.ps = append(d.ps, Problem{Path: path, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
	d.dropped = append(d.dropped, path)
}

// check walks n, to be decoded into a value of type typ at path. It reports
// what typ cannot hold and returns false if n itself is of the wrong shape,
// for the caller to drop. Keys typ lacks, repeated keys and bad items inside
// n are dropped from n here.
func (d *decoder) check(n *yaml.Node, typ reflect.Type, path string) bool {
	if d.visits++; d.visits > maxVisits {
		if d.visits == maxVisits+1 {
			d.ps = append(d.ps, Problem{Line: n.Line, Msg: "the file has too many values, counting each use of an alias"})
		}
		return false
	}
	if n.Kind == yaml.AliasNode {
		return d.check(n.Alias, typ, path)
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return true // the zero value
	}
	if typ == durationType {
		return d.duration(n, path)
	}
	switch typ.Kind() {
	case reflect.Pointer:
		return d.check(n, typ.Elem(), path)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.problem(path, n, "want keys and values (a mapping), not %s", describe(n))
			return false
		}
		d.mapping(n, typ, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.problem(path, n, "want a list, not %s", describe(n))
			return false
		}
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.lines[p] = item.Line
			if !d.check(item, typ.Elem(), p) {
				n.Content[i] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: item.Line}
			}
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.problem(path, n, "want a single value, not %s", describe(n))
			return false
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.problem(path, n, "want true or false, not %s", describe(n))
			return false
		}
	}
	return true
}

// mapping checks the keys of the mapping n against the fields of the struct
// type typ, dropping the keys it lacks and the values check rejects.
func (d *decoder) mapping(n *yaml.Node, typ reflect.Type, path string) {
	fields := yamlFields(typ)
	var merges []*yaml.Node
	seen := map[string]int{}
	kept := n.Content[:0:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			kept = append(kept, k, v)
			continue
		}
		p := k.Value
		if path != "" {
			p = path + "." + k.Value
		}
		if line, dup := seen[k.Value]; dup {
			d.problem(p, k, "key %q is repeated (first at line %d)", k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		ft, ok := fields[k.Value]
		if !ok {
			d.problem(p, k, "unknown key %q%s", k.Value, suggest(k.Value, fields))
			continue
		}
		if _, ok := d.lines[p]; !ok { // a mapping's own keys come before merged ones
			d.lines[p] = k.Line
		}
		if !d.check(v, ft, p) {
			continue
		}
		kept = append(kept, k, v)
	}
	n.Content = kept
	// Keys merged in (<<: *anchor) yield to the mapping's own.
	for _, m := range merges {
		if m.Kind == yaml.AliasNode {
			m = m.Alias
		}
		items := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			items = m.Content
		}
		for _, item := range items {
			d.check(item, typ, path)
		}
	}
}

// duration checks a duration such as 500ms or -2s. A bare 0 is taken as 0s.
func (d *decoder) duration(n *yaml.Node, path string) bool {
	if n.Kind != yaml.ScalarNode {
		d.problem(path, n, "want a duration such as 500ms or 2s, not %s", describe(n))
		return false
	}
	if n.Value == "0" {
		n.Value, n.Tag = "0s", "!!str"
		return true
	}
	if _, err := time.ParseDuration(n.Value); err != nil {
		if _, numErr := strconv.ParseFloat(n.Value, 64); numErr == nil {
			d.problem(path, n, "duration %s needs a unit, e.g. %sms or %ss", n.Value, n.Value, n.Value)
		} else {
			d.problem(path, n, "%q is not a duration such as 500ms or 2s", n.Value)
		}
		return false
	}
	n.Tag = "!!str"
	return true
}

// follows reports whether a validation problem at path follows from a value
// dropped in decoding, and so says nothing new.
func (d *decoder) follows(path string) bool {
	for _, q := range d.dropped {
		if path == q || strings.HasPrefix(path, q+".") || strings.HasPrefix(path, q+"[") {
			return true
		}
	}
	return false
}

// lineOf returns the line of path, or of its nearest ancestor in the file.
func (d *decoder) lineOf(path string) int {
	for path != "" {
		if line, ok := d.lines[path]; ok {
			return line
		}
		path = path[:max(strings.LastIndexByte(path, '.'), strings.LastIndexByte(path, '['), 0)]
	}
	return 0
}

// yamlFields maps the yaml keys of struct type typ to their field types.
func yamlFields(typ reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

// describe names the kind of n for a problem.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return strconv.Quote(n.Value)
	}
}

// suggest offers the known key nearest to an unknown one, or lists them all.
func suggest(key string, fields map[string]reflect.Type) string {
	var names []string
	best, bestDist := "", 3 // suggest only keys within two edits
	for name := range fields {
		names = append(names, name)
		if dist := editDistance(key, name); dist < bestDist || dist == bestDist && name < best {
			best, bestDist = name, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	slices.Sort(names)
	return " (known keys: " + strings.Join(names, ", ") + ")"
}

// editDistance is the number of insertions, deletions, substitutions and
// swaps of adjacent characters that turn a into b (the optimal string
// alignment distance), so that a swap counts as one typo.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
