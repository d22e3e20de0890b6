package expr

import (
	"slices"
	"strings"

	"github.com/gyre-dev/gyre/internal/attr"
)

// Projection is a parsed ProjectionExpression, or legacy AttributesToGet: the
// document paths to return. Its paths never overlap or conflict.
type Projection []Path

// ParseProjection parses a ProjectionExpression, resolving its #name
// placeholders from p (which may be nil; a projection uses no :values).
// Errors are *attr.ValidationError ("Invalid ProjectionExpression: ...").
// The caller must check unused placeholders (CheckUnused with the
// projection's Usage).
func ParseProjection(s string, p *Params) (Projection, error) {
	const k = projectionExpr
	ps, err := newParser(k, s, nil)
	if err != nil {
		return nil, err
	}
	proj, err := ps.parseProjectionSyntax()
	if err != nil {
		return nil, err
	}
	for _, path := range proj {
		if err := checkPathNames(k, path); err != nil {
			return nil, err
		}
	}
	var u usageBuilder
	for _, path := range proj {
		if err := resolvePath(k, path, p, &u); err != nil {
			return nil, err
		}
	}
	if err := checkOverlaps(k, proj); err != nil {
		return nil, err
	}
	return proj, nil
}

// Usage returns the placeholders the projection refers to.
func (p Projection) Usage() Usage {
	var u usageBuilder
	for _, path := range p {
		for _, e := range path {
			if e.Placeholder != "" {
				u.name(e.Placeholder)
			}
		}
	}
	return u.usage()
}

// String returns the projection in expression syntax ("a, #n.b[2]").
func (p Projection) String() string {
	var b strings.Builder
	for i, path := range p {
		if i > 0 {
			b.WriteString(", ")
		}
		path.format(&b)
	}
	return b.String()
}

// Apply returns a new item holding only the projected parts of item, in
// their places: projecting a.b[2].c of {a: {b: [x, y, {c: 1, d: 2}]}}
// gives {a: {b: [{c: 1}]}}. The elements projected from one list keep their
// order and close up. Paths item lacks are left out; if it lacks them all
// the result is empty (not nil). The result shares values with item.
func (p Projection) Apply(item attr.Item) attr.Item {
	var root projNode
	for _, path := range p {
		v, ok := path.Get(item)
		if !ok {
			continue
		}
		n := &root
		for _, e := range path {
			n = n.child(e)
		}
		n.val, n.whole = v, true
	}
	out := make(attr.Item, len(root.keys))
	for k, n := range root.keys {
		out[k] = n.build()
	}
	return out
}

// projNode is a node of the tree of projected paths. A node is either a whole
// value (a projected path ends there) or the map keys or list elements
// projected inside it; paths do not overlap, so never both.
type projNode struct {
	whole bool
	val   attr.Value
	keys  map[string]*projNode
	elems map[int]*projNode
}

func (n *projNode) child(e PathElem) *projNode {
	if e.IsIndex {
		if n.elems == nil {
			n.elems = make(map[int]*projNode)
		}
		c := n.elems[e.Index]
		if c == nil {
			c = new(projNode)
			n.elems[e.Index] = c
		}
		return c
	}
	if n.keys == nil {
		n.keys = make(map[string]*projNode)
	}
	c := n.keys[e.Name]
	if c == nil {
		c = new(projNode)
		n.keys[e.Name] = c
	}
	return c
}

func (n *projNode) build() attr.Value {
	switch {
	case n.whole:
		return n.val
	case n.elems != nil:
		idx := make([]int, 0, len(n.elems))
		for i := range n.elems {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		l := make([]attr.Value, len(idx))
		for j, i := range idx {
			l[j] = n.elems[i].build()
		}
		return attr.ListValue(l)
	}
	m := make(map[string]attr.Value, len(n.keys))
	for k, c := range n.keys {
		m[k] = c.build()
	}
	return attr.MapValue(m)
}
