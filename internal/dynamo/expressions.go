package dynamo

import (
	"slices"
	"strings"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/expr"
	"github.com/gyre-dev/gyre/internal/store"
)

// exprSet gathers the expressions of one request so that placeholder use can
// be checked across all of them, and so that expression and legacy
// parameters are never mixed, as DynamoDB requires.
type exprSet struct {
	params *expr.Params
	usages []expr.Usage
	// expression and legacy list the parameters of each kind present, by
	// their DynamoDB names.
	expression, legacy []string
}

func newExprSet(names map[string]string, values map[string]attr.Value) *exprSet {
	e := &exprSet{}
	if names != nil || values != nil {
		e.params = &expr.Params{Names: names, Values: values}
	}
	return e
}

// use records which parameters of each kind a request carries.
func (e *exprSet) use(expression bool, name string, present bool) {
	if !present {
		return
	}
	if expression {
		e.expression = append(e.expression, name)
	} else {
		e.legacy = append(e.legacy, name)
	}
}

// check validates what can be validated before parsing: no mixing, and
// placeholder maps only alongside expressions.
func (e *exprSet) check() error {
	if len(e.expression) > 0 && len(e.legacy) > 0 {
		return validationErr("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {%s} Expression parameters: {%s}",
			strings.Join(e.legacy, ", "), strings.Join(e.expression, ", "))
	}
	if e.params != nil && len(e.expression) == 0 {
		if e.params.Names != nil {
			return validationErr("ExpressionAttributeNames can only be specified when using expressions")
		}
		return validationErr("ExpressionAttributeValues can only be specified when using expressions")
	}
	return e.params.Validate()
}

// done reports placeholders defined but not used by any expression.
func (e *exprSet) done() error {
	return expr.CheckUnused(e.params, e.usages...)
}

func (e *exprSet) condition(s string, filter bool) (*expr.Condition, error) {
	if s == "" {
		return nil, nil
	}
	parse := expr.ParseCondition
	if filter {
		parse = expr.ParseFilter
	}
	c, err := parse(s, e.params)
	if err != nil {
		return nil, err
	}
	e.usages = append(e.usages, c.Usage())
	return c, nil
}

func (e *exprSet) projection(s string) (expr.Projection, error) {
	if s == "" {
		return nil, nil
	}
	p, err := expr.ParseProjection(s, e.params)
	if err != nil {
		return nil, err
	}
	e.usages = append(e.usages, p.Usage())
	return p, nil
}

func (e *exprSet) update(s string) (*expr.Update, error) {
	u, err := expr.ParseUpdate(s, e.params)
	if err != nil {
		return nil, err
	}
	e.usages = append(e.usages, u.Usage())
	return u, nil
}

func (e *exprSet) keyCondition(s string) (*expr.KeyCondition, error) {
	kc, err := expr.ParseKeyCondition(s, e.params)
	if err != nil {
		return nil, err
	}
	e.usages = append(e.usages, kc.Usage())
	return kc, nil
}

// conditionOf builds a write's condition from ConditionExpression or the
// legacy Expected map.
func (e *exprSet) conditionOf(condExpr string, expected map[string]expr.ExpectedAttributeValue, op string) (*expr.Condition, error) {
	if condExpr != "" {
		return e.condition(condExpr, false)
	}
	if expected != nil || op != "" {
		return expr.ConvertExpected(expected, op)
	}
	return nil, nil
}

// projectionOf builds a read's projection from ProjectionExpression or the
// legacy AttributesToGet.
func (e *exprSet) projectionOf(projExpr string, attributesToGet []string) (expr.Projection, error) {
	if projExpr != "" {
		return e.projection(projExpr)
	}
	if attributesToGet != nil {
		return expr.ConvertAttributesToGet(attributesToGet)
	}
	return nil, nil
}

// checkKey validates that key is exactly the table's primary key.
func checkKey(t *store.Table, key attr.Item) error {
	names := t.Key.Names()
	if len(key) != len(names) {
		return validationErr("The provided key element does not match the schema")
	}
	for _, ka := range []store.KeyAttr{t.Key.Hash, t.Key.Range} {
		if ka.Name == "" {
			continue
		}
		v, ok := key[ka.Name]
		if !ok || v.Type != ka.Type {
			return validationErr("The provided key element does not match the schema")
		}
	}
	return nil
}

// checkItemKey validates that an item to be put holds the table's key
// attributes with the right types.
func checkItemKey(t *store.Table, item attr.Item) error {
	for _, ka := range []store.KeyAttr{t.Key.Hash, t.Key.Range} {
		if ka.Name == "" {
			continue
		}
		v, ok := item[ka.Name]
		if !ok {
			return validationErr("One or more parameter values were invalid: Missing the key %s in the item", ka.Name)
		}
		if v.Type != ka.Type {
			return validationErr("One or more parameter values were invalid: Type mismatch for key %s expected: %v actual: %v", ka.Name, ka.Type, v.Type)
		}
	}
	return nil
}

// isKeyAttribute reports whether name is part of the table's primary key.
func isKeyAttribute(t *store.Table, name string) bool {
	return slices.Contains(t.Key.Names(), name)
}
