package expr

import (
	"strconv"
	"strings"

	"github.com/gyre-dev/gyre/internal/attr"
)

// PathElem is one step of a document path: a map key (or, first, a top-level
// attribute name) or a list index.
type PathElem struct {
	Name    string // the key, when !IsIndex
	Index   int    // the list index, when IsIndex
	IsIndex bool
	// Placeholder is the #name the expression wrote for Name, or "" when it
	// wrote the name itself. It matters only for printing.
	Placeholder string
}

// Path is a document path such as a.b[2].c: a top-level attribute name
// followed by map keys and list indexes. Parsed paths always start with a
// name.
type Path []PathElem

// AttrPath returns the path of the top-level attribute name.
func AttrPath(name string) Path { return Path{{Name: name}} }

// Top returns the name of the top-level attribute the path is in.
func (p Path) Top() string {
	if len(p) == 0 {
		return ""
	}
	return p[0].Name
}

// String returns the path as an expression writes it, with the placeholders
// it was parsed with ("#n.b[2]").
func (p Path) String() string {
	var b strings.Builder
	p.format(&b)
	return b.String()
}

func (p Path) format(b *strings.Builder) {
	for i, e := range p {
		switch {
		case e.IsIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.Index))
			b.WriteByte(']')
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			if e.Placeholder != "" {
				b.WriteString(e.Placeholder)
			} else {
				b.WriteString(e.Name)
			}
		}
	}
}

// describe returns the path as DynamoDB's messages show it: "[a, b, [2]]",
// with placeholders substituted.
func (p Path) describe() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, e := range p {
		if i > 0 {
			b.WriteString(", ")
		}
		if e.IsIndex {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.Index))
			b.WriteByte(']')
		} else {
			b.WriteString(e.Name)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// Equal reports whether p and q name the same element, however they were
// written.
func (p Path) Equal(q Path) bool {
	if len(p) != len(q) {
		return false
	}
	for i := range p {
		if p[i].IsIndex != q[i].IsIndex || p[i].Index != q[i].Index || p[i].Name != q[i].Name {
			return false
		}
	}
	return true
}

// compare orders paths element by element, names by bytes and indexes
// numerically, a prefix first. Name elements sort before index elements.
func (p Path) compare(q Path) int {
	for i := 0; i < len(p) && i < len(q); i++ {
		a, b := p[i], q[i]
		switch {
		case a.IsIndex != b.IsIndex:
			if a.IsIndex {
				return 1
			}
			return -1
		case a.IsIndex:
			if a.Index != b.Index {
				if a.Index < b.Index {
					return -1
				}
				return 1
			}
		default:
			if c := strings.Compare(a.Name, b.Name); c != 0 {
				return c
			}
		}
	}
	return len(p) - len(q)
}

// Get returns the value at the path in item, and whether there is one. A path
// through a missing attribute, a missing key, an index past the end of a
// list, or a value of the wrong type has no value.
func (p Path) Get(item attr.Item) (attr.Value, bool) {
	if len(p) == 0 || p[0].IsIndex {
		return attr.Value{}, false
	}
	v, ok := item[p[0].Name]
	if !ok {
		return attr.Value{}, false
	}
	return getIn(v, p[1:])
}

func getIn(v attr.Value, rest Path) (attr.Value, bool) {
	for _, e := range rest {
		if e.IsIndex {
			if v.Type != attr.List || e.Index >= len(v.L) {
				return attr.Value{}, false
			}
			v = v.L[e.Index]
			continue
		}
		if v.Type != attr.Map {
			return attr.Value{}, false
		}
		var ok bool
		if v, ok = v.M[e.Name]; !ok {
			return attr.Value{}, false
		}
	}
	return v, true
}

// relation is how two document paths of one expression relate.
type relation uint8

const (
	disjoint relation = iota
	overlap           // one path is the other or inside it
	conflict          // they diverge where one indexes a list and the other a map
)

func relate(a, b Path) relation {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i].IsIndex != b[i].IsIndex {
			return conflict
		}
		if a[i].Index != b[i].Index || a[i].Name != b[i].Name {
			return disjoint
		}
	}
	return overlap
}

// checkOverlaps reports the first pair of paths that overlap, else the first
// pair that conflict, with DynamoDB's messages. Earlier paths are "path one".
func checkOverlaps(k exprKind, paths []Path) error {
	var conflictErr error
	for j := range paths {
		for i := 0; i < j; i++ {
			switch relate(paths[i], paths[j]) {
			case overlap:
				return invalidf(k, "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s",
					paths[i].describe(), paths[j].describe())
			case conflict:
				if conflictErr == nil {
					conflictErr = invalidf(k, "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: %s, path two: %s",
						paths[i].describe(), paths[j].describe())
				}
			}
		}
	}
	return conflictErr
}
