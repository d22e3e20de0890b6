package expr

import (
	"bytes"
	"encoding/base64"
	"strings"

	"github.com/gyre-dev/gyre/internal/attr"
)

// Condition is a parsed ConditionExpression or FilterExpression, or a legacy
// Expected, QueryFilter or ScanFilter converted to the same form. It is
// immutable and safe for concurrent use.
type Condition struct {
	root  *condNode
	usage Usage
}

// ParseCondition parses a ConditionExpression, resolving its placeholders
// from p (which may be nil), and checks it as DynamoDB does. Errors are
// *attr.ValidationError with DynamoDB's message ("Invalid
// ConditionExpression: ..."). The caller must still check, across all the
// expressions of the request, that every placeholder of p is used (see
// CheckUnused).
func ParseCondition(s string, p *Params) (*Condition, error) {
	return parseCondition(conditionExpr, s, p)
}

// ParseFilter parses a FilterExpression; it is ParseCondition with
// FilterExpression in its messages.
func ParseFilter(s string, p *Params) (*Condition, error) {
	return parseCondition(filterExpr, s, p)
}

func parseCondition(k exprKind, s string, p *Params) (*Condition, error) {
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
	return &Condition{root: root, usage: usage}, nil
}

// Usage returns the placeholders the condition refers to.
func (c *Condition) Usage() Usage { return c.usage }

// String returns the condition in canonical expression syntax, with the
// placeholders it was parsed with; parsing it with the same Params gives the
// same condition. Conditions converted from legacy parameters print with
// the literal attribute names and numbered placeholders (:v0, ...) for
// their values, which is for diagnostics only.
func (c *Condition) String() string {
	var b strings.Builder
	c.root.format(&b)
	return b.String()
}

// Paths returns every document path the condition reads, in order, so that
// the caller can refuse a FilterExpression on key attributes.
func (c *Condition) Paths() []Path {
	var paths []Path
	walkCond(c.root, func(n *condNode) {
		for _, a := range n.args {
			walkOperand(a, func(o *operand) {
				if o.kind == opPath {
					paths = append(paths, o.path)
				}
			})
		}
	})
	return paths
}

// Eval reports whether item satisfies the condition. A nil item is an item
// that does not exist: every path in it is missing. Comparing values of
// different types is false, not an error; so is any comparison with a
// missing attribute, except <>, which is true. Eval does not modify item.
// The error result is reserved; no valid condition fails to evaluate today.
func (c *Condition) Eval(item attr.Item) (bool, error) {
	return c.root.eval(item), nil
}

// walkCond calls f on every node of the tree, parents first, left to right:
// the order the expression wrote them in.
func walkCond(n *condNode, f func(*condNode)) {
	f(n)
	for _, k := range n.kids {
		walkCond(k, f)
	}
}

// walkOperand calls f on o and every operand nested in it, in order.
func walkOperand(o *operand, f func(*operand)) {
	f(o)
	for _, a := range o.args {
		walkOperand(a, f)
	}
}

// The functions DynamoDB knows, and how many operands each takes.
var functionArity = map[string]int{
	"attribute_exists":     1,
	"attribute_not_exists": 1,
	"attribute_type":       2,
	"begins_with":          2,
	"contains":             2,
	"size":                 1,
	"if_not_exists":        2,
	"list_append":          2,
}

// conditionFunctions are the functions a condition may use as a condition.
var conditionFunctions = map[string]bool{
	"attribute_exists":     true,
	"attribute_not_exists": true,
	"attribute_type":       true,
	"begins_with":          true,
	"contains":             true,
}

// checkCondition resolves the placeholders of a parsed condition and checks
// it, reporting the first problem in the order DynamoDB does: redundant
// parentheses, unknown functions, functions used in the wrong place,
// reserved words, then the first condition (in the order written) with an
// undefined placeholder, a wrong number of operands, a repeated operand or an
// operand of the wrong type.
func checkCondition(k exprKind, root *condNode, p *Params, redundant bool) (Usage, error) {
	if redundant {
		return Usage{}, invalidf(k, "The expression has redundant parentheses;")
	}
	var errs [3]error // unknown function, misused function, reserved word
	note := func(i int, err error) {
		if errs[i] == nil {
			errs[i] = err
		}
	}
	walkCond(root, func(n *condNode) {
		if n.kind == cFunc {
			if _, ok := functionArity[n.fn]; !ok {
				note(0, invalidf(k, "Invalid function name; function: %s", n.fn))
			} else if !conditionFunctions[n.fn] {
				note(1, invalidf(k, "The function is not allowed to be used this way in an expression; function: %s", n.fn))
			}
		}
		for _, a := range n.args {
			walkOperand(a, func(o *operand) {
				switch o.kind {
				case opCall:
					if _, ok := functionArity[o.fn]; !ok {
						note(0, invalidf(k, "Invalid function name; function: %s", o.fn))
					} else if o.fn != "size" {
						note(1, invalidf(k, "The function is not allowed to be used this way in an expression; function: %s", o.fn))
					}
				case opPath:
					if err := checkPathNames(k, o.path); err != nil {
						note(2, err)
					}
				}
			})
		}
	})
	for _, err := range errs {
		if err != nil {
			return Usage{}, err
		}
	}
	var u usageBuilder
	var condErr error
	walkCond(root, func(n *condNode) {
		if n.kind == cAnd || n.kind == cOr || n.kind == cNot {
			return
		}
		if err := checkLeaf(k, n, p, &u); err != nil && condErr == nil {
			condErr = err
		}
	})
	if condErr != nil {
		return Usage{}, condErr
	}
	return u.usage(), nil
}

// checkPathNames reports a bare reserved word in path, or a path nested too
// deeply.
func checkPathNames(k exprKind, path Path) error {
	for _, e := range path {
		if !e.IsIndex && e.Placeholder == "" && isReserved(e.Name) {
			return invalidf(k, "Attribute name is a reserved keyword; reserved keyword: %s", e.Name)
		}
	}
	if len(path) > MaxPathDepth {
		return invalidf(k, "The document path has too many nesting levels; nesting levels: %d", len(path))
	}
	return nil
}

// resolve substitutes the placeholders in o and the operands nested in it,
// recording their use. It reports the first undefined one.
func resolve(k exprKind, o *operand, p *Params, u *usageBuilder) error {
	var err error
	walkOperand(o, func(o *operand) {
		switch o.kind {
		case opPath:
			if e := resolvePath(k, o.path, p, u); e != nil && err == nil {
				err = e
			}
		case opValue:
			u.value(o.ref)
			v, ok := lookupValue(p, o.ref)
			if !ok && err == nil {
				err = invalidf(k, "An expression attribute value used in expression is not defined; attribute value: %s", o.ref)
			}
			o.val = v
		}
	})
	return err
}

func resolvePath(k exprKind, path Path, p *Params, u *usageBuilder) error {
	var err error
	for i := range path {
		e := &path[i]
		if e.Placeholder == "" {
			continue
		}
		u.name(e.Placeholder)
		name, ok := lookupName(p, e.Placeholder)
		if !ok && err == nil {
			err = invalidf(k, "An expression attribute name used in the document path is not defined; attribute name: %s", e.Placeholder)
		}
		e.Name = name
	}
	return err
}

func lookupName(p *Params, ref string) (string, bool) {
	if p == nil {
		return "", false
	}
	n, ok := p.Names[ref]
	return n, ok
}

func lookupValue(p *Params, ref string) (attr.Value, bool) {
	if p == nil {
		return attr.Value{}, false
	}
	v, ok := p.Values[ref]
	return v, ok
}

// checkLeaf resolves and checks one comparison, BETWEEN, IN or function
// condition.
func checkLeaf(k exprKind, n *condNode, p *Params, u *usageBuilder) error {
	var err error
	for _, a := range n.args {
		if e := resolve(k, a, p, u); e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return err
	}
	// Operand counts of every function, the condition's own first.
	if n.kind == cFunc {
		if err := checkArity(k, n.fn, len(n.args)); err != nil {
			return err
		}
	}
	for _, a := range n.args {
		walkOperand(a, func(o *operand) {
			if o.kind == opCall && err == nil {
				err = checkArity(k, o.fn, len(o.args))
			}
		})
	}
	if err != nil {
		return err
	}
	// An operator or function may not take one path as both its operands.
	if (n.kind == cCmp || n.kind == cFunc) && len(n.args) == 2 &&
		n.args[0].kind == opPath && n.args[1].kind == opPath && n.args[0].path.Equal(n.args[1].path) {
		op := n.fn
		if n.kind == cCmp {
			op = cmpNames[n.cmp]
		}
		return invalidf(k, "The first operand must be distinct from the remaining operands for this operator or function; operator: %s, first operand: %s",
			op, n.args[0].path.describe())
	}
	// Types of the operands: nested functions first, then the condition.
	for _, a := range n.args {
		if err := checkNestedFunctions(k, a); err != nil {
			return err
		}
	}
	switch n.kind {
	case cFunc:
		return checkFunction(k, n.fn, n.args)
	case cCmp:
		if n.cmp != tokEq && n.cmp != tokNe {
			for _, a := range n.args {
				if err := checkOrderable(k, cmpNames[n.cmp], a); err != nil {
					return err
				}
			}
		}
	case cBetween:
		for _, a := range n.args {
			if err := checkOrderable(k, "BETWEEN", a); err != nil {
				return err
			}
		}
		lo, hi := n.args[1], n.args[2]
		if lo.kind == opValue && hi.kind == opValue {
			return checkBounds(k, "The BETWEEN operator", lo.val, hi.val)
		}
	case cIn:
		if len(n.args)-1 > MaxInOperands {
			return invalidf(k, "The IN operator is provided with too many operands; number of operands: %d", len(n.args)-1)
		}
	}
	return nil
}

func checkArity(k exprKind, fn string, n int) error {
	if want := functionArity[fn]; n != want {
		return invalidf(k, "Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", fn, n)
	}
	return nil
}

func checkNestedFunctions(k exprKind, o *operand) error {
	for _, a := range o.args {
		if err := checkNestedFunctions(k, a); err != nil {
			return err
		}
	}
	if o.kind == opCall {
		return checkFunction(k, o.fn, o.args)
	}
	return nil
}

// constType returns the type name of o when it is known before evaluation: a
// :value's type, or N for size(). It returns "" for a path.
func constType(o *operand) string {
	switch {
	case o.kind == opValue:
		return o.val.Type.String()
	case o.kind == opCall && o.fn == "size":
		return "N"
	}
	return ""
}

func operandTypeError(k exprKind, fn, typ string) error {
	return invalidf(k, "Incorrect operand type for operator or function; operator or function: %s, operand type: %s", fn, typ)
}

// checkFunction checks the operands of a condition function whose operand
// count is right.
func checkFunction(k exprKind, fn string, args []*operand) error {
	switch fn {
	case "attribute_exists", "attribute_not_exists":
		if args[0].kind != opPath {
			return invalidf(k, "Operator or function requires a document path; operator or function: %s", fn)
		}
	case "begins_with":
		for _, a := range args {
			if t := constType(a); t != "" && t != "S" && t != "B" {
				return operandTypeError(k, fn, t)
			}
		}
	case "attribute_type":
		t := constType(args[1])
		if t != "S" {
			if t == "" {
				t = "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"
			}
			return operandTypeError(k, fn, t)
		}
		if _, ok := attr.ParseType(args[1].val.Str); !ok {
			return invalidf(k, "Invalid attribute type name found; type: %s, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}", args[1].val.Str)
		}
	case "size":
		if t := constType(args[0]); t == "N" || t == "BOOL" || t == "NULL" {
			return operandTypeError(k, fn, t)
		}
	}
	return nil
}

// checkOrderable refuses an operand of <, <=, >, >= or BETWEEN whose type is
// known and cannot be ordered: only strings, numbers and binaries can.
func checkOrderable(k exprKind, op string, o *operand) error {
	if t := constType(o); t != "" && t != "S" && t != "N" && t != "B" {
		return operandTypeError(k, op, t)
	}
	return nil
}

// checkBounds checks the constant bounds of a BETWEEN: same type, lower not
// above upper. what names the operator in the message.
func checkBounds(k exprKind, what string, lo, hi attr.Value) error {
	if lo.Type != hi.Type {
		return invalidf(k, "%s requires same data type for lower and upper bounds; lower bound operand: AttributeValue: %s, upper bound operand: AttributeValue: %s",
			what, describeValue(lo), describeValue(hi))
	}
	if c, ok := compareOrdered(lo, hi); ok && c > 0 {
		return invalidf(k, "%s requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: %s, upper bound operand: AttributeValue: %s",
			what, describeValue(lo), describeValue(hi))
	}
	return nil
}

// describeValue renders a scalar as DynamoDB's messages do: {N:10}, {S:a}.
func describeValue(v attr.Value) string {
	switch v.Type {
	case attr.String, attr.Number:
		return "{" + v.Type.String() + ":" + v.Str + "}"
	case attr.Binary:
		return "{B:" + base64.StdEncoding.EncodeToString(v.Bin) + "}"
	}
	return "{" + v.Type.String() + "}"
}

// Evaluation.

func (n *condNode) eval(item attr.Item) bool {
	switch n.kind {
	case cAnd:
		return n.kids[0].eval(item) && n.kids[1].eval(item)
	case cOr:
		return n.kids[0].eval(item) || n.kids[1].eval(item)
	case cNot:
		return !n.kids[0].eval(item)
	case cCmp:
		a, aok := n.args[0].eval(item)
		b, bok := n.args[1].eval(item)
		if !aok || !bok {
			return n.cmp == tokNe
		}
		switch n.cmp {
		case tokEq:
			return attr.Equal(a, b)
		case tokNe:
			return !attr.Equal(a, b)
		}
		c, ok := compareOrdered(a, b)
		if !ok {
			return false
		}
		switch n.cmp {
		case tokLt:
			return c < 0
		case tokLe:
			return c <= 0
		case tokGt:
			return c > 0
		default:
			return c >= 0
		}
	case cBetween:
		v, ok := n.args[0].eval(item)
		lo, lok := n.args[1].eval(item)
		hi, hok := n.args[2].eval(item)
		if !ok || !lok || !hok {
			return false
		}
		c1, ok1 := compareOrdered(lo, v)
		c2, ok2 := compareOrdered(v, hi)
		return ok1 && ok2 && c1 <= 0 && c2 <= 0
	case cIn:
		v, ok := n.args[0].eval(item)
		if !ok {
			return false
		}
		for _, a := range n.args[1:] {
			if w, ok := a.eval(item); ok && attr.Equal(v, w) {
				return true
			}
		}
		return false
	case cFunc:
		return evalFunction(n.fn, n.args, item)
	}
	panic("expr: unknown condition node kind")
}

func evalFunction(fn string, args []*operand, item attr.Item) bool {
	switch fn {
	case "attribute_exists":
		_, ok := args[0].eval(item)
		return ok
	case "attribute_not_exists":
		_, ok := args[0].eval(item)
		return !ok
	case "attribute_type":
		v, ok := args[0].eval(item)
		t, tok := args[1].eval(item)
		if !ok || !tok || t.Type != attr.String {
			return false
		}
		want, _ := attr.ParseType(t.Str)
		return v.Type == want
	case "begins_with":
		a, aok := args[0].eval(item)
		b, bok := args[1].eval(item)
		return aok && bok && beginsWith(a, b)
	case "contains":
		a, aok := args[0].eval(item)
		b, bok := args[1].eval(item)
		return aok && bok && contains(a, b)
	}
	panic("expr: condition function " + fn + " passed the checks but cannot be evaluated")
}

// eval returns the operand's value in item, and whether it has one.
func (o *operand) eval(item attr.Item) (attr.Value, bool) {
	switch o.kind {
	case opPath:
		return o.path.Get(item)
	case opValue:
		return o.val, true
	case opCall:
		if o.fn == "size" {
			v, ok := o.args[0].eval(item)
			if !ok {
				return attr.Value{}, false
			}
			return sizeOf(v)
		}
	}
	panic("expr: operand cannot be evaluated in a condition")
}

// sizeOf returns size() of v: the length of a string or binary in bytes, the
// number of elements of a set, list or map. Other types have no size.
func sizeOf(v attr.Value) (attr.Value, bool) {
	var n int
	switch v.Type {
	case attr.String:
		n = len(v.Str)
	case attr.Binary:
		n = len(v.Bin)
	case attr.StringSet, attr.NumberSet:
		n = len(v.Strs)
	case attr.BinarySet:
		n = len(v.Bins)
	case attr.List:
		n = len(v.L)
	case attr.Map:
		n = len(v.M)
	default:
		return attr.Value{}, false
	}
	return attr.Value{Type: attr.Number, Str: itoa(n)}, true
}

func itoa(n int) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(buf[i:])
		}
	}
}

// compareOrdered compares two strings, two numbers or two binaries: strings
// and binaries by their bytes, numbers by value. ok is false for values of
// different types or of types without an order.
func compareOrdered(a, b attr.Value) (c int, ok bool) {
	if a.Type != b.Type {
		return 0, false
	}
	switch a.Type {
	case attr.String:
		return strings.Compare(a.Str, b.Str), true
	case attr.Number:
		return attr.CompareNumbers(a.Str, b.Str), true
	case attr.Binary:
		return bytes.Compare(a.Bin, b.Bin), true
	}
	return 0, false
}

func beginsWith(a, b attr.Value) bool {
	switch {
	case a.Type == attr.String && b.Type == attr.String:
		return strings.HasPrefix(a.Str, b.Str)
	case a.Type == attr.Binary && b.Type == attr.Binary:
		return bytes.HasPrefix(a.Bin, b.Bin)
	}
	return false
}

// contains reports whether a string or binary a holds b as a substring, or a
// set or list a holds b as an element.
func contains(a, b attr.Value) bool {
	switch a.Type {
	case attr.String:
		return b.Type == attr.String && strings.Contains(a.Str, b.Str)
	case attr.Binary:
		return b.Type == attr.Binary && bytes.Contains(a.Bin, b.Bin)
	case attr.StringSet:
		if b.Type == attr.String {
			for _, s := range a.Strs {
				if s == b.Str {
					return true
				}
			}
		}
	case attr.NumberSet:
		if b.Type == attr.Number {
			for _, s := range a.Strs {
				if attr.CompareNumbers(s, b.Str) == 0 {
					return true
				}
			}
		}
	case attr.BinarySet:
		if b.Type == attr.Binary {
			for _, s := range a.Bins {
				if bytes.Equal(s, b.Bin) {
					return true
				}
			}
		}
	case attr.List:
		for _, e := range a.L {
			if attr.Equal(e, b) {
				return true
			}
		}
	}
	return false
}
