package expr

import (
	"strings"

	"github.com/gyre-dev/gyre/internal/attr"
)

// RangeOp is the comparison a key condition makes on a key attribute.
type RangeOp uint8

// The key comparisons DynamoDB allows. The partition key allows only EQ.
const (
	EQ RangeOp = iota + 1
	LT
	LE
	GT
	GE
	Between
	BeginsWith
)

var rangeOpNames = [...]string{"", "EQ", "LT", "LE", "GT", "GE", "BETWEEN", "BEGINS_WITH"}

// String returns DynamoDB's ComparisonOperator name: "EQ", "BETWEEN", ...
func (o RangeOp) String() string {
	if int(o) < len(rangeOpNames) && o != 0 {
		return rangeOpNames[o]
	}
	return "RangeOp(" + itoa(int(o)) + ")"
}

// RangeCondition is one condition of a Query's key condition: Name Op
// Values[0], or Name BETWEEN Values[0] AND Values[1].
type RangeCondition struct {
	Name   string
	Op     RangeOp
	Values []attr.Value
}

// Match reports whether the key value v satisfies the condition: strings and
// binaries compare by bytes, numbers by value, values of another type than
// the condition's never match.
func (r *RangeCondition) Match(v attr.Value) bool {
	switch r.Op {
	case EQ:
		return attr.Equal(v, r.Values[0])
	case BeginsWith:
		return beginsWith(v, r.Values[0])
	case Between:
		c1, ok1 := compareOrdered(r.Values[0], v)
		c2, ok2 := compareOrdered(v, r.Values[1])
		return ok1 && ok2 && c1 <= 0 && c2 <= 0
	}
	c, ok := compareOrdered(v, r.Values[0])
	if !ok {
		return false
	}
	switch r.Op {
	case LT:
		return c < 0
	case LE:
		return c <= 0
	case GT:
		return c > 0
	case GE:
		return c >= 0
	}
	return false
}

// KeyCondition is a Query's parsed KeyConditionExpression, or legacy
// KeyConditions converted to the same form: an equality on the partition
// key and at most one condition on the sort key.
//
// Parsing does not know the key schema, so until Resolve is called HashName,
// HashValue and Range hold a guess: the first equality is taken to be on the
// partition key. The caller must call Resolve with the schema of the table or
// index queried before using them.
type KeyCondition struct {
	HashName  string
	HashValue attr.Value
	Range     *RangeCondition // nil when there is no sort key condition

	terms []RangeCondition // every condition, in the order written
	root  *condNode
	usage Usage
}

// KeySchema names the key attributes of the table or index a Query reads and
// their types. Range is "" when there is no sort key. A type left Invalid is
// not checked.
type KeySchema struct {
	Hash, Range         string
	HashType, RangeType attr.Type
}

// ParseKeyCondition parses a KeyConditionExpression, resolving its
// placeholders from p (which may be nil). Beyond the checks of any condition
// it enforces what DynamoDB allows of key conditions: one or two conditions
// joined by AND, each comparing one top-level attribute with a value by =, <,
// <=, >, >=, BETWEEN or begins_with, at most one per attribute. Errors are
// *attr.ValidationError with DynamoDB's messages.
func ParseKeyCondition(s string, p *Params) (*KeyCondition, error) {
	const k = keyConditionExpr
	ps, err := newParser(k, s, conditionKeywords)
	if err != nil {
		return nil, err
	}
	root, err := ps.parseConditionSyntax()
	if err != nil {
		return nil, err
	}
	usage, err := checkCondition(k, root, p, ps.redundant)
	if err != nil {
		return nil, err
	}
	var terms []RangeCondition
	if err := keyTerms(root, &terms); err != nil {
		return nil, err
	}
	if len(terms) > 2 {
		return nil, attr.Invalidf("Conditions can be of length 1 or 2 only")
	}
	return newKeyCondition(terms, root, usage), nil
}

func newKeyCondition(terms []RangeCondition, root *condNode, usage Usage) *KeyCondition {
	kc := &KeyCondition{terms: terms, root: root, usage: usage}
	for i := range terms {
		if terms[i].Op == EQ && kc.HashName == "" {
			kc.HashName, kc.HashValue = terms[i].Name, terms[i].Values[0]
			continue
		}
		kc.Range = &terms[i]
	}
	return kc
}

var flipped = map[tokKind]tokKind{tokEq: tokEq, tokLt: tokGt, tokLe: tokGe, tokGt: tokLt, tokGe: tokLe}
var cmpRangeOps = map[tokKind]RangeOp{tokEq: EQ, tokLt: LT, tokLe: LE, tokGt: GT, tokGe: GE}

// keyTerms flattens the ANDs of a checked key condition into terms, with
// DynamoDB's messages for what a key condition may not contain.
func keyTerms(n *condNode, terms *[]RangeCondition) error {
	switch n.kind {
	case cAnd:
		if err := keyTerms(n.kids[0], terms); err != nil {
			return err
		}
		return keyTerms(n.kids[1], terms)
	case cOr:
		return attr.Invalidf("Invalid operator used in KeyConditionExpression: OR")
	case cNot:
		return attr.Invalidf("Invalid operator used in KeyConditionExpression: NOT")
	case cIn:
		return attr.Invalidf("Invalid operator used in KeyConditionExpression: IN")
	case cCmp:
		if n.cmp == tokNe {
			return attr.Invalidf("Invalid operator used in KeyConditionExpression: <>")
		}
	case cFunc:
		if n.fn != "begins_with" {
			return attr.Invalidf("Invalid operator used in KeyConditionExpression: %s", n.fn)
		}
	}
	if (n.kind == cBetween || n.kind == cFunc) && n.args[0].kind != opPath {
		name := "BETWEEN"
		if n.kind == cFunc {
			name = n.fn
		}
		return attr.Invalidf("Invalid condition in KeyConditionExpression: %s operator must have the key attribute as its first operand", name)
	}
	pathAt := -1
	for i, a := range n.args {
		switch a.kind {
		case opCall:
			return attr.Invalidf("KeyConditionExpressions cannot contain nested operations")
		case opPath:
			if pathAt >= 0 {
				return attr.Invalidf("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition")
			}
			if len(a.path) > 1 {
				return attr.Invalidf("KeyConditionExpressions cannot have conditions on nested attributes")
			}
			pathAt = i
		}
	}
	if pathAt < 0 {
		return attr.Invalidf("Invalid condition in KeyConditionExpression: No key attribute specified")
	}
	name := n.args[pathAt].path[0].Name
	for _, t := range *terms {
		if t.Name == name {
			return attr.Invalidf("KeyConditionExpressions must only contain one condition per key")
		}
	}
	t := RangeCondition{Name: name}
	switch n.kind {
	case cCmp:
		op := n.cmp
		if pathAt == 1 {
			op = flipped[op]
		}
		t.Op = cmpRangeOps[op]
		t.Values = []attr.Value{n.args[1-pathAt].val}
	case cBetween:
		t.Op = Between
		t.Values = []attr.Value{n.args[1].val, n.args[2].val}
	case cFunc:
		t.Op = BeginsWith
		t.Values = []attr.Value{n.args[1].val}
	}
	*terms = append(*terms, t)
	return nil
}

// Usage returns the placeholders the key condition refers to.
func (kc *KeyCondition) Usage() Usage { return kc.usage }

// String returns the key condition in expression syntax. For one converted
// from KeyConditions it is for diagnostics only (see Condition.String).
func (kc *KeyCondition) String() string {
	var b strings.Builder
	kc.root.format(&b)
	return b.String()
}

// Resolve matches the conditions to the key schema s, setting HashName,
// HashValue and Range, and reports what DynamoDB reports of a key condition
// that does not fit the schema: a missing partition key condition ("Query
// condition missed key schema element: p"), a partition key compared by
// anything but equality or a condition on an attribute outside the schema
// ("Query key condition not supported"), and values of the wrong type.
func (kc *KeyCondition) Resolve(s KeySchema) error {
	var hash, rng *RangeCondition
	for i := range kc.terms {
		switch t := &kc.terms[i]; {
		case t.Name == s.Hash:
			hash = t
		case s.Range != "" && t.Name == s.Range:
			rng = t
		}
	}
	switch {
	case hash == nil:
		return attr.Invalidf("Query condition missed key schema element: %s", s.Hash)
	case hash.Op != EQ:
		return attr.Invalidf("Query key condition not supported")
	case len(kc.terms) == 2 && rng == nil && s.Range == "":
		return attr.Invalidf("Query key condition not supported")
	case len(kc.terms) == 2 && rng == nil:
		return attr.Invalidf("Query condition missed key schema element: %s", s.Range)
	}
	if s.HashType != attr.Invalid && hash.Values[0].Type != s.HashType {
		return errKeyType
	}
	if rng != nil && s.RangeType != attr.Invalid {
		for _, v := range rng.Values {
			if v.Type != s.RangeType {
				return errKeyType
			}
		}
	}
	kc.HashName, kc.HashValue, kc.Range = hash.Name, hash.Values[0], rng
	return nil
}

var errKeyType = attr.Invalidf("One or more parameter values were invalid: Condition parameter type does not match schema type")
