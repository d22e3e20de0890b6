package dynamo

import (
	"context"
	"errors"
	"math"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/expr"
	"github.com/gyre-dev/gyre/internal/store"
)

// consumedCapacity is the ConsumedCapacity member of responses. Gyre does
// not meter; it reports what DynamoDB would have charged.
type consumedCapacity struct {
	TableName     string
	CapacityUnits float64
}

// capacity returns the ConsumedCapacity to report, or nil when the request
// did not ask for it.
func capacity(mode, table string, units float64) *consumedCapacity {
	if mode != "TOTAL" && mode != "INDEXES" {
		return nil
	}
	return &consumedCapacity{TableName: table, CapacityUnits: units}
}

// writeUnits is DynamoDB's write cost: one unit per KB, at least one.
func writeUnits(items ...attr.Item) float64 {
	size := 0
	for _, it := range items {
		size = max(size, it.Size())
	}
	return math.Max(1, math.Ceil(float64(size)/1024))
}

// readUnits is DynamoDB's read cost: one unit per 4 KB for a strongly
// consistent read, half that for an eventually consistent one.
func readUnits(size int, consistent bool) float64 {
	u := math.Max(1, math.Ceil(float64(size)/4096))
	if !consistent {
		u /= 2
	}
	return u
}

func checkReturnValues(rv string, allowed ...string) error {
	if rv == "" || rv == "NONE" {
		return nil
	}
	switch rv {
	case "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW":
		for _, a := range allowed {
			if a == rv {
				return nil
			}
		}
		return validationErr("Return values set to invalid value")
	}
	return validationErr("1 validation error detected: Value '%s' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]", rv)
}

func checkReturnOnFailure(rv string) error {
	switch rv {
	case "", "NONE", "ALL_OLD":
		return nil
	}
	return validationErr("1 validation error detected: Value '%s' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]", rv)
}

// evalCondition evaluates a write's condition on the current item and
// returns ConditionalCheckFailedException (with the item when asked) if it
// does not hold.
func evalCondition(c *expr.Condition, cur attr.Item, returnOnFailure string) error {
	if c == nil {
		return nil
	}
	ok, err := c.Eval(cur)
	if err != nil {
		return err
	}
	if !ok {
		var item attr.Item
		if returnOnFailure == "ALL_OLD" {
			item = cur
		}
		return conditionFailed(item)
	}
	return nil
}

type putItemRequest struct {
	TableName                           string
	Item                                attr.Item
	ConditionExpression                 string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]attr.Value
	ReturnValues                        string
	ReturnValuesOnConditionCheckFailure string
	ReturnConsumedCapacity              string
	ReturnItemCollectionMetrics         string
	Expected                            map[string]expr.ExpectedAttributeValue
	ConditionalOperator                 string
}

// writeResponse is the response of PutItem, UpdateItem and DeleteItem.
type writeResponse struct {
	Attributes       attr.Item         `json:",omitempty"`
	ConsumedCapacity *consumedCapacity `json:",omitempty"`
}

// putPlan is a validated PutItem, also used by BatchWriteItem and
// TransactWriteItems.
type putPlan struct {
	table *store.Table
	item  attr.Item
	cond  *expr.Condition
	// onFailure is ReturnValuesOnConditionCheckFailure.
	onFailure string
}

func (p *putPlan) op() store.Op {
	return store.Op{Table: p.table.Name, Key: p.item, Apply: func(cur attr.Item) (attr.Item, store.Action, error) {
		if err := evalCondition(p.cond, cur, p.onFailure); err != nil {
			return nil, store.Keep, err
		}
		return p.item, store.Put, nil
	}}
}

// writeCondition validates and parses the condition of a PutItem or
// DeleteItem (or of their parts of a batch or transaction): a
// ConditionExpression with its placeholders, or the legacy Expected and
// ConditionalOperator, never both.
func writeCondition(cond string, names map[string]string, values map[string]attr.Value, expected map[string]expr.ExpectedAttributeValue, condOp, onFailure string) (*expr.Condition, error) {
	es := newExprSet(names, values)
	es.use(true, "ConditionExpression", cond != "")
	es.use(false, "Expected", expected != nil)
	es.use(false, "ConditionalOperator", condOp != "")
	if err := es.check(); err != nil {
		return nil, err
	}
	c, err := es.conditionOf(cond, expected, condOp)
	if err != nil {
		return nil, err
	}
	if err := es.done(); err != nil {
		return nil, err
	}
	if err := checkReturnOnFailure(onFailure); err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Server) planPut(table string, item attr.Item, cond string, names map[string]string, values map[string]attr.Value, expected map[string]expr.ExpectedAttributeValue, condOp string, onFailure string) (*putPlan, error) {
	t, err := s.itemTable(table)
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, validationErr("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
	}
	if err := checkItemKey(t, item); err != nil {
		return nil, err
	}
	c, err := writeCondition(cond, names, values, expected, condOp, onFailure)
	if err != nil {
		return nil, err
	}
	return &putPlan{table: t, item: item, cond: c, onFailure: onFailure}, nil
}

func (s *Server) putItem(_ context.Context, body []byte) (any, error) {
	var req putItemRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if err := checkReturnValues(req.ReturnValues, "ALL_OLD"); err != nil {
		return nil, err
	}
	p, err := s.planPut(req.TableName, req.Item, req.ConditionExpression, req.ExpressionAttributeNames, req.ExpressionAttributeValues, req.Expected, req.ConditionalOperator, req.ReturnValuesOnConditionCheckFailure)
	if err != nil {
		return nil, err
	}
	out, err := s.db.Write([]store.Op{p.op()}, store.WriteOptions{})
	if err != nil {
		return nil, err
	}
	resp := writeResponse{ConsumedCapacity: capacity(req.ReturnConsumedCapacity, p.table.Name, writeUnits(out[0].Old, p.item))}
	if req.ReturnValues == "ALL_OLD" {
		resp.Attributes = out[0].Old
	}
	return resp, nil
}

type getItemRequest struct {
	TableName                string
	Key                      attr.Item
	ProjectionExpression     string
	ExpressionAttributeNames map[string]string
	AttributesToGet          []string
	ConsistentRead           bool
	ReturnConsumedCapacity   string
}

// getPlan is a validated single-item read, also used by BatchGetItem and
// TransactGetItems.
type getPlan struct {
	table *store.Table
	key   attr.Item
	proj  expr.Projection
}

func (s *Server) planGet(table string, key attr.Item, projExpr string, names map[string]string, attributesToGet []string) (*getPlan, error) {
	t, err := s.itemTable(table)
	if err != nil {
		return nil, err
	}
	if err := checkKey(t, key); err != nil {
		return nil, err
	}
	es := newExprSet(names, nil)
	es.use(true, "ProjectionExpression", projExpr != "")
	es.use(false, "AttributesToGet", attributesToGet != nil)
	if err := es.check(); err != nil {
		return nil, err
	}
	proj, err := es.projectionOf(projExpr, attributesToGet)
	if err != nil {
		return nil, err
	}
	if err := es.done(); err != nil {
		return nil, err
	}
	return &getPlan{table: t, key: key, proj: proj}, nil
}

// result applies the plan's projection to an item read.
func (p *getPlan) result(item attr.Item) attr.Item {
	if item == nil || p.proj == nil {
		return item
	}
	return p.proj.Apply(item)
}

type getItemResponse struct {
	Item             attr.Item         `json:",omitempty"`
	ConsumedCapacity *consumedCapacity `json:",omitempty"`
}

func (s *Server) getItem(_ context.Context, body []byte) (any, error) {
	var req getItemRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	p, err := s.planGet(req.TableName, req.Key, req.ProjectionExpression, req.ExpressionAttributeNames, req.AttributesToGet)
	if err != nil {
		return nil, err
	}
	item, err := s.db.Get(p.table.Name, p.key)
	if err != nil {
		return nil, err
	}
	return getItemResponse{
		Item:             p.result(item),
		ConsumedCapacity: capacity(req.ReturnConsumedCapacity, p.table.Name, readUnits(item.Size(), req.ConsistentRead)),
	}, nil
}

type updateItemRequest struct {
	TableName                           string
	Key                                 attr.Item
	UpdateExpression                    string
	ConditionExpression                 string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]attr.Value
	ReturnValues                        string
	ReturnValuesOnConditionCheckFailure string
	ReturnConsumedCapacity              string
	ReturnItemCollectionMetrics         string
	AttributeUpdates                    map[string]expr.AttributeValueUpdate
	Expected                            map[string]expr.ExpectedAttributeValue
	ConditionalOperator                 string
}

// updatePlan is a validated UpdateItem, also used by TransactWriteItems.
type updatePlan struct {
	table     *store.Table
	key       attr.Item
	update    *expr.Update // nil: only make sure the item exists
	cond      *expr.Condition
	onFailure string
}

func (p *updatePlan) op() store.Op {
	return store.Op{Table: p.table.Name, Key: p.key, Apply: func(cur attr.Item) (attr.Item, store.Action, error) {
		if err := evalCondition(p.cond, cur, p.onFailure); err != nil {
			return nil, store.Keep, err
		}
		base := cur
		if base == nil {
			base = p.key
		}
		if p.update == nil {
			return base, store.Put, nil
		}
		next, err := p.update.Apply(base)
		if err != nil {
			return nil, store.Keep, err
		}
		if cur == nil && len(next) == len(p.key) && len(p.update.Paths()) > 0 {
			// An update that only removes attributes (REMOVE, DELETE from a
			// set) does not create the item it names, as in DynamoDB; an
			// update with no actions at all does. Its outcome, no item,
			// is written as a delete, so that it wins over older writes
			// elsewhere as every acknowledged write must.
			return nil, store.Delete, nil
		}
		return next, store.Put, nil
	}}
}

func (s *Server) planUpdate(table string, key attr.Item, update, cond string, names map[string]string, values map[string]attr.Value,
	updates map[string]expr.AttributeValueUpdate, expected map[string]expr.ExpectedAttributeValue, condOp, onFailure string) (*updatePlan, error) {
	t, err := s.itemTable(table)
	if err != nil {
		return nil, err
	}
	if err := checkKey(t, key); err != nil {
		return nil, err
	}
	es := newExprSet(names, values)
	es.use(true, "UpdateExpression", update != "")
	es.use(true, "ConditionExpression", cond != "")
	es.use(false, "AttributeUpdates", updates != nil)
	es.use(false, "Expected", expected != nil)
	es.use(false, "ConditionalOperator", condOp != "")
	if err := es.check(); err != nil {
		return nil, err
	}
	p := &updatePlan{table: t, key: key, onFailure: onFailure}
	switch {
	case update != "":
		if p.update, err = es.update(update); err != nil {
			return nil, err
		}
	case updates != nil:
		if p.update, err = expr.ConvertAttributeUpdates(updates); err != nil {
			return nil, err
		}
	}
	if p.cond, err = es.conditionOf(cond, expected, condOp); err != nil {
		return nil, err
	}
	if err := es.done(); err != nil {
		return nil, err
	}
	if err := checkReturnOnFailure(onFailure); err != nil {
		return nil, err
	}
	if p.update != nil {
		for _, path := range p.update.Paths() {
			if isKeyAttribute(t, path.Top()) {
				return nil, validationErr("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", path.Top())
			}
		}
	}
	return p, nil
}

func (s *Server) updateItem(_ context.Context, body []byte) (any, error) {
	var req updateItemRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if err := checkReturnValues(req.ReturnValues, "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"); err != nil {
		return nil, err
	}
	p, err := s.planUpdate(req.TableName, req.Key, req.UpdateExpression, req.ConditionExpression, req.ExpressionAttributeNames,
		req.ExpressionAttributeValues, req.AttributeUpdates, req.Expected, req.ConditionalOperator, req.ReturnValuesOnConditionCheckFailure)
	if err != nil {
		return nil, err
	}
	out, err := s.db.Write([]store.Op{p.op()}, store.WriteOptions{})
	if err != nil {
		return nil, err
	}
	old, cur := out[0].Old, out[0].New
	resp := writeResponse{ConsumedCapacity: capacity(req.ReturnConsumedCapacity, p.table.Name, writeUnits(old, cur))}
	switch req.ReturnValues {
	case "ALL_OLD":
		resp.Attributes = old
	case "ALL_NEW":
		resp.Attributes = cur
	case "UPDATED_OLD", "UPDATED_NEW":
		src := old
		if req.ReturnValues == "UPDATED_NEW" {
			src = cur
		}
		if src != nil && p.update != nil {
			if a := expr.Projection(p.update.Paths()).Apply(src); len(a) > 0 {
				resp.Attributes = a
			}
		}
	}
	return resp, nil
}

type deleteItemRequest struct {
	TableName                           string
	Key                                 attr.Item
	ConditionExpression                 string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]attr.Value
	ReturnValues                        string
	ReturnValuesOnConditionCheckFailure string
	ReturnConsumedCapacity              string
	ReturnItemCollectionMetrics         string
	Expected                            map[string]expr.ExpectedAttributeValue
	ConditionalOperator                 string
}

// deletePlan is a validated DeleteItem, also used by BatchWriteItem and
// TransactWriteItems.
type deletePlan struct {
	table     *store.Table
	key       attr.Item
	cond      *expr.Condition
	onFailure string
}

func (p *deletePlan) op() store.Op {
	return store.Op{Table: p.table.Name, Key: p.key, Apply: func(cur attr.Item) (attr.Item, store.Action, error) {
		if err := evalCondition(p.cond, cur, p.onFailure); err != nil {
			return nil, store.Keep, err
		}
		return nil, store.Delete, nil
	}}
}

func (s *Server) planDelete(table string, key attr.Item, cond string, names map[string]string, values map[string]attr.Value, expected map[string]expr.ExpectedAttributeValue, condOp, onFailure string) (*deletePlan, error) {
	t, err := s.itemTable(table)
	if err != nil {
		return nil, err
	}
	if err := checkKey(t, key); err != nil {
		return nil, err
	}
	c, err := writeCondition(cond, names, values, expected, condOp, onFailure)
	if err != nil {
		return nil, err
	}
	return &deletePlan{table: t, key: key, cond: c, onFailure: onFailure}, nil
}

func (s *Server) deleteItem(_ context.Context, body []byte) (any, error) {
	var req deleteItemRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if err := checkReturnValues(req.ReturnValues, "ALL_OLD"); err != nil {
		return nil, err
	}
	p, err := s.planDelete(req.TableName, req.Key, req.ConditionExpression, req.ExpressionAttributeNames, req.ExpressionAttributeValues, req.Expected, req.ConditionalOperator, req.ReturnValuesOnConditionCheckFailure)
	if err != nil {
		return nil, err
	}
	out, err := s.db.Write([]store.Op{p.op()}, store.WriteOptions{})
	if err != nil {
		return nil, err
	}
	resp := writeResponse{ConsumedCapacity: capacity(req.ReturnConsumedCapacity, p.table.Name, writeUnits(out[0].Old))}
	if req.ReturnValues == "ALL_OLD" {
		resp.Attributes = out[0].Old
	}
	return resp, nil
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrTableNotFound) }
