package expr

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gyre-dev/gyre/internal/attr"
)

// MaxExpressionSize is DynamoDB's limit on the length of one expression, in
// bytes.
const MaxExpressionSize = 4096

// MaxInOperands is the most values one IN operator may list.
const MaxInOperands = 100

// MaxPathDepth is the deepest document path an expression may name: a top
// level attribute plus 31 levels of nesting, the nesting DynamoDB stores.
const MaxPathDepth = attr.MaxDepth

// exprKind names the request parameter an expression came from. DynamoDB starts
// every message about an expression with it ("Invalid UpdateExpression: ...").
type exprKind uint8

// The expression kinds.
const (
	conditionExpr exprKind = iota
	filterExpr
	keyConditionExpr
	projectionExpr
	updateExpr
)

var kindNames = [...]string{"ConditionExpression", "FilterExpression", "KeyConditionExpression", "ProjectionExpression", "UpdateExpression"}

// String returns the request parameter's name, e.g. "UpdateExpression".
func (k exprKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("exprKind(%d)", uint8(k))
}

// invalidf returns a *attr.ValidationError whose message carries the
// expression kind, as DynamoDB writes it: "Invalid FilterExpression: ...".
func invalidf(k exprKind, format string, args ...any) error {
	return attr.Invalidf("Invalid "+k.String()+": "+format, args...)
}

// Params are a request's ExpressionAttributeNames and
// ExpressionAttributeValues: the substitutions for #name and :value
// placeholders. A nil map means the request did not send the parameter; an
// empty map means it sent an empty one, which Validate rejects. Parsing reads
// the maps and never changes them; parsed expressions keep their own copies
// of the names and share the values.
type Params struct {
	Names  map[string]string
	Values map[string]attr.Value
}

// Validate checks the maps themselves, as DynamoDB does before it parses any
// expression: neither may be empty, and every key must be a well-formed
// placeholder (#[A-Za-z0-9_]+ or :[A-Za-z0-9_]+). It does not check that the
// placeholders are used; see CheckUnused. A nil *Params is valid.
func (p *Params) Validate() error {
	if p == nil {
		return nil
	}
	if p.Names != nil {
		if len(p.Names) == 0 {
			return attr.Invalidf("ExpressionAttributeNames must not be empty")
		}
		for _, k := range sortedKeys(p.Names) {
			if !isPlaceholder(k, '#') {
				return attr.Invalidf("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", k)
			}
		}
	}
	if p.Values != nil {
		if len(p.Values) == 0 {
			return attr.Invalidf("ExpressionAttributeValues must not be empty")
		}
		for _, k := range sortedKeys(p.Values) {
			if !isPlaceholder(k, ':') {
				return attr.Invalidf("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", k)
			}
		}
	}
	return nil
}

// isPlaceholder reports whether s is sigil followed by one or more of
// [A-Za-z0-9_].
func isPlaceholder(s string, sigil byte) bool {
	if len(s) < 2 || s[0] != sigil {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Usage is the set of placeholders one expression refers to, whether or not
// Params defined them. Names and Values are sorted and free of duplicates.
type Usage struct {
	Names  []string // "#name" placeholders
	Values []string // ":value" placeholders
}

// usageBuilder collects placeholders while an expression is checked.
type usageBuilder struct {
	names, values []string
}

func (b *usageBuilder) name(s string)  { b.names = append(b.names, s) }
func (b *usageBuilder) value(s string) { b.values = append(b.values, s) }

func (b *usageBuilder) usage() Usage {
	slices.Sort(b.names)
	slices.Sort(b.values)
	return Usage{Names: slices.Compact(b.names), Values: slices.Compact(b.values)}
}

// CheckUnused reports placeholders that p defines but none of the request's
// expressions use, as DynamoDB does once it has parsed all of them: names
// first, then values, each listing every unused key in sorted order
// ("Value provided in ExpressionAttributeValues unused in expressions: keys:
// {:a, :b}"). Pass the Usage of every expression of the request.
func CheckUnused(p *Params, used ...Usage) error {
	if p == nil {
		return nil
	}
	usedNames := make(map[string]bool)
	usedValues := make(map[string]bool)
	for _, u := range used {
		for _, n := range u.Names {
			usedNames[n] = true
		}
		for _, v := range u.Values {
			usedValues[v] = true
		}
	}
	var unused []string
	for _, k := range sortedKeys(p.Names) {
		if !usedNames[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		return attr.Invalidf("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", strings.Join(unused, ", "))
	}
	for _, k := range sortedKeys(p.Values) {
		if !usedValues[k] {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		return attr.Invalidf("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", strings.Join(unused, ", "))
	}
	return nil
}
