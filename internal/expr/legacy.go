package expr

import (
	"github.com/gyre-dev/gyre/internal/attr"
)

// Legacy (pre-expression) request parameters. Older SDK code still sends
// them; they convert to the same trees the expressions parse to, so one
// evaluator serves both. Field names are DynamoDB's, so encoding/json decodes
// a request into these types directly. Attribute names in legacy parameters
// are literal: no placeholders, no reserved words, top-level attributes only.

// ExpectedAttributeValue is one entry of a legacy Expected map: either Value
// and/or Exists, or ComparisonOperator with AttributeValueList (or Value).
type ExpectedAttributeValue struct {
	Value              *attr.Value  `json:"Value,omitempty"`
	Exists             *bool        `json:"Exists,omitempty"`
	ComparisonOperator string       `json:"ComparisonOperator,omitempty"`
	AttributeValueList []attr.Value `json:"AttributeValueList,omitempty"`
}

// LegacyCondition is one entry of a legacy QueryFilter, ScanFilter or
// KeyConditions map (DynamoDB's Condition).
type LegacyCondition struct {
	ComparisonOperator string       `json:"ComparisonOperator"`
	AttributeValueList []attr.Value `json:"AttributeValueList,omitempty"`
}

// AttributeValueUpdate is one entry of a legacy AttributeUpdates map. Action
// is PUT (the default), ADD or DELETE.
type AttributeValueUpdate struct {
	Value  *attr.Value `json:"Value,omitempty"`
	Action string      `json:"Action,omitempty"`
}

// legacyOps are the ComparisonOperators, with the number of values each
// takes (-1: one or more) and the value types it accepts (nil: any).
var legacyOps = map[string]struct {
	n     int
	types []attr.Type
}{
	"EQ":           {1, nil},
	"NE":           {1, nil},
	"LE":           {1, scalarTypes},
	"LT":           {1, scalarTypes},
	"GE":           {1, scalarTypes},
	"GT":           {1, scalarTypes},
	"NOT_NULL":     {0, nil},
	"NULL":         {0, nil},
	"CONTAINS":     {1, scalarTypes},
	"NOT_CONTAINS": {1, scalarTypes},
	"BEGINS_WITH":  {1, []attr.Type{attr.String, attr.Binary}},
	"IN":           {-1, scalarTypes},
	"BETWEEN":      {2, scalarTypes},
}

var scalarTypes = []attr.Type{attr.String, attr.Number, attr.Binary}

const legacyOpEnum = "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"

// valueNamer names the values of a converted legacy parameter :v0, :v1, ...
// so that the tree prints.
type valueNamer int

func (n *valueNamer) value(v attr.Value) *operand {
	o := &operand{kind: opValue, ref: ":v" + itoa(int(*n)), val: v}
	*n++
	return o
}

// legacyLeaf validates one ComparisonOperator condition on attribute name
// and returns it as a condition tree. param names the request parameter for
// the message about an unknown operator ("expected", "queryFilter", ...).
func legacyLeaf(param, name, op string, vals []attr.Value, nv *valueNamer) (*condNode, error) {
	spec, ok := legacyOps[op]
	if !ok {
		return nil, attr.Invalidf("1 validation error detected: Value '%s' at '%s.%s.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: %s",
			op, param, name, legacyOpEnum)
	}
	if spec.n >= 0 && len(vals) != spec.n || spec.n < 0 && len(vals) == 0 {
		return nil, attr.Invalidf("One or more parameter values were invalid: Invalid number of argument(s) for the %s ComparisonOperator", op)
	}
	for _, v := range vals[min(1, len(vals)):] {
		if v.Type != vals[0].Type {
			return nil, attr.Invalidf("One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type")
		}
	}
	if spec.types != nil {
		for _, v := range vals {
			if !typeIn(v.Type, spec.types) {
				return nil, attr.Invalidf("One or more parameter values were invalid: ComparisonOperator %s is not valid for %s AttributeValue type", op, v.Type)
			}
		}
	}
	if op == "BETWEEN" {
		if c, _ := compareOrdered(vals[0], vals[1]); c > 0 {
			return nil, attr.Invalidf("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
		}
	}
	path := &operand{kind: opPath, path: AttrPath(name)}
	fn := func(fn string, args ...*operand) *condNode { return &condNode{kind: cFunc, fn: fn, args: args} }
	switch op {
	case "NULL":
		return fn("attribute_not_exists", path), nil
	case "NOT_NULL":
		return fn("attribute_exists", path), nil
	case "CONTAINS":
		return fn("contains", path, nv.value(vals[0])), nil
	case "NOT_CONTAINS":
		// Unlike NOT contains(), NOT_CONTAINS is false for a missing attribute.
		return &condNode{kind: cAnd, kids: []*condNode{
			fn("attribute_exists", path),
			{kind: cNot, kids: []*condNode{fn("contains", path, nv.value(vals[0]))}},
		}}, nil
	case "BEGINS_WITH":
		return fn("begins_with", path, nv.value(vals[0])), nil
	case "IN":
		args := []*operand{path}
		for _, v := range vals {
			args = append(args, nv.value(v))
		}
		return &condNode{kind: cIn, args: args}, nil
	case "BETWEEN":
		return &condNode{kind: cBetween, args: []*operand{path, nv.value(vals[0]), nv.value(vals[1])}}, nil
	}
	cmp := map[string]tokKind{"EQ": tokEq, "NE": tokNe, "LE": tokLe, "LT": tokLt, "GE": tokGe, "GT": tokGt}[op]
	return &condNode{kind: cCmp, cmp: cmp, args: []*operand{path, nv.value(vals[0])}}, nil
}

func typeIn(t attr.Type, types []attr.Type) bool {
	for _, u := range types {
		if t == u {
			return true
		}
	}
	return false
}

// joinLegacy validates ConditionalOperator and joins the leaves with it.
func joinLegacy(leaves []*condNode, conditionalOperator string) (*Condition, error) {
	kind := cAnd
	switch conditionalOperator {
	case "", "AND":
	case "OR":
		kind = cOr
	default:
		return nil, attr.Invalidf("1 validation error detected: Value '%s' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]", conditionalOperator)
	}
	if conditionalOperator != "" {
		switch len(leaves) {
		case 0:
			return nil, attr.Invalidf("ConditionalOperator cannot be used without Filter or Expected")
		case 1:
			return nil, attr.Invalidf("ConditionalOperator can only be used when Filter or Expected has two or more elements")
		}
	}
	if len(leaves) == 0 {
		return nil, nil
	}
	root := leaves[0]
	for _, l := range leaves[1:] {
		root = &condNode{kind: kind, kids: []*condNode{root, l}}
	}
	return &Condition{root: root}, nil
}

// ConvertExpected converts a legacy Expected map and ConditionalOperator
// ("", "AND" or "OR") to a Condition, validating them as DynamoDB does. An
// empty map with no ConditionalOperator means no condition: the result is
// nil. Entries are taken in attribute name order.
func ConvertExpected(expected map[string]ExpectedAttributeValue, conditionalOperator string) (*Condition, error) {
	var nv valueNamer
	leaves := make([]*condNode, 0, len(expected))
	for _, name := range sortedKeys(expected) {
		e := expected[name]
		const invalid = "One or more parameter values were invalid: "
		if e.AttributeValueList != nil && e.Value != nil {
			return nil, attr.Invalidf(invalid+"Value and AttributeValueList cannot be used together for Attribute: %s", name)
		}
		if e.ComparisonOperator != "" {
			if e.Exists != nil {
				return nil, attr.Invalidf(invalid+"Exists and ComparisonOperator cannot be used together for Attribute: %s", name)
			}
			vals := e.AttributeValueList
			if e.Value != nil {
				vals = []attr.Value{*e.Value}
			}
			if e.ComparisonOperator != "NULL" && e.ComparisonOperator != "NOT_NULL" && vals == nil {
				if _, known := legacyOps[e.ComparisonOperator]; known {
					return nil, attr.Invalidf(invalid+"Value or AttributeValueList must be used with ComparisonOperator: %s for Attribute: %s", e.ComparisonOperator, name)
				}
			}
			leaf, err := legacyLeaf("expected", name, e.ComparisonOperator, vals, &nv)
			if err != nil {
				return nil, err
			}
			leaves = append(leaves, leaf)
			continue
		}
		if e.AttributeValueList != nil {
			return nil, attr.Invalidf(invalid+"AttributeValueList can only be used with a ComparisonOperator for Attribute: %s", name)
		}
		exists := e.Exists == nil || *e.Exists
		switch {
		case exists && e.Value == nil && e.Exists == nil:
			return nil, attr.Invalidf(invalid+"Value must be provided when Exists is null for Attribute: %s", name)
		case exists && e.Value == nil:
			return nil, attr.Invalidf(invalid+"Value must be provided when Exists is true for Attribute: %s", name)
		case !exists && e.Value != nil:
			return nil, attr.Invalidf(invalid+"Value cannot be used when Exists is false for Attribute: %s", name)
		}
		path := &operand{kind: opPath, path: AttrPath(name)}
		if !exists {
			leaves = append(leaves, &condNode{kind: cFunc, fn: "attribute_not_exists", args: []*operand{path}})
			continue
		}
		leaves = append(leaves, &condNode{kind: cCmp, cmp: tokEq, args: []*operand{path, nv.value(*e.Value)}})
	}
	return joinLegacy(leaves, conditionalOperator)
}

// ConvertFilter converts a legacy QueryFilter or ScanFilter and its
// ConditionalOperator to a Condition; param is "queryFilter" or "scanFilter"
// and names the parameter in messages. An empty filter with no
// ConditionalOperator means no filter: the result is nil. The caller must
// refuse a QueryFilter on key attributes.
func ConvertFilter(param string, filter map[string]LegacyCondition, conditionalOperator string) (*Condition, error) {
	var nv valueNamer
	leaves := make([]*condNode, 0, len(filter))
	for _, name := range sortedKeys(filter) {
		c := filter[name]
		leaf, err := legacyLeaf(param, name, c.ComparisonOperator, c.AttributeValueList, &nv)
		if err != nil {
			return nil, err
		}
		leaves = append(leaves, leaf)
	}
	return joinLegacy(leaves, conditionalOperator)
}

// ConvertKeyConditions converts legacy KeyConditions to a KeyCondition,
// validating them as DynamoDB does: one or two conditions, each EQ, LE, LT,
// GE, GT, BEGINS_WITH or BETWEEN. As with ParseKeyCondition, the caller must
// call Resolve with the key schema.
func ConvertKeyConditions(conds map[string]LegacyCondition) (*KeyCondition, error) {
	var nv valueNamer
	var terms []RangeCondition
	var root *condNode
	for _, name := range sortedKeys(conds) {
		c := conds[name]
		leaf, err := legacyLeaf("keyConditions", name, c.ComparisonOperator, c.AttributeValueList, &nv)
		if err != nil {
			return nil, err
		}
		var op RangeOp
		switch c.ComparisonOperator {
		case "EQ":
			op = EQ
		case "LT":
			op = LT
		case "LE":
			op = LE
		case "GT":
			op = GT
		case "GE":
			op = GE
		case "BETWEEN":
			op = Between
		case "BEGINS_WITH":
			op = BeginsWith
		default:
			return nil, attr.Invalidf("Attempted conditional constraint is not an indexable operation")
		}
		terms = append(terms, RangeCondition{Name: name, Op: op, Values: c.AttributeValueList})
		if root == nil {
			root = leaf
		} else {
			root = &condNode{kind: cAnd, kids: []*condNode{root, leaf}}
		}
	}
	if len(terms) != 1 && len(terms) != 2 {
		return nil, attr.Invalidf("Conditions can be of length 1 or 2 only")
	}
	return newKeyCondition(terms, root, Usage{}), nil
}

// ConvertAttributeUpdates converts legacy AttributeUpdates to an Update, in
// attribute name order. PUT sets the attribute; DELETE without a value
// removes it; DELETE with a set removes those elements; ADD adds a number,
// adds set elements or (unlike the ADD of an UpdateExpression) appends a
// list, creating the attribute when it is missing. An empty map is a valid
// update that changes nothing.
func ConvertAttributeUpdates(updates map[string]AttributeValueUpdate) (*Update, error) {
	const invalid = "One or more parameter values were invalid: "
	var nv valueNamer
	var set, remove, add, del clause
	set.kind, remove.kind, add.kind, del.kind = clauseSet, clauseRemove, clauseAdd, clauseDelete
	for _, name := range sortedKeys(updates) {
		a := updates[name]
		path := AttrPath(name)
		switch a.Action {
		case "", "PUT", "ADD":
			if a.Value == nil {
				return nil, attr.Invalidf(invalid + "Only DELETE action is allowed when no attribute value is specified")
			}
			if a.Action != "ADD" {
				set.actions = append(set.actions, action{path: path, set: setValue{a: nv.value(*a.Value)}})
				continue
			}
			if t := a.Value.Type; t != attr.Number && t != attr.List && !t.IsSet() {
				return nil, attr.Invalidf(invalid+"ADD action is not supported for the type %s", t)
			}
			add.actions = append(add.actions, action{path: path, val: nv.value(*a.Value)})
		case "DELETE":
			if a.Value == nil {
				remove.actions = append(remove.actions, action{path: path})
				continue
			}
			if !a.Value.Type.IsSet() {
				return nil, attr.Invalidf(invalid+"DELETE action with value is not supported for the type %s", a.Value.Type)
			}
			del.actions = append(del.actions, action{path: path, val: nv.value(*a.Value)})
		default:
			return nil, attr.Invalidf("1 validation error detected: Value '%s' at 'attributeUpdates.%s.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]", a.Action, name)
		}
	}
	u := &Update{legacy: true}
	for _, c := range []clause{set, remove, add, del} {
		if len(c.actions) > 0 {
			u.clauses = append(u.clauses, c)
		}
	}
	return u, nil
}

// ConvertAttributesToGet converts legacy AttributesToGet to a Projection of
// top-level attributes. Names are taken literally: no placeholders, no
// reserved words. A repeated name is an error, as in DynamoDB.
func ConvertAttributesToGet(names []string) (Projection, error) {
	seen := make(map[string]bool, len(names))
	proj := make(Projection, 0, len(names))
	for _, n := range names {
		if seen[n] {
			return nil, attr.Invalidf("One or more parameter values were invalid: Duplicate value in attribute name: %s", n)
		}
		seen[n] = true
		proj = append(proj, AttrPath(n))
	}
	return proj, nil
}
