package dynamo

import (
	"context"
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

// conditionFailure is the error of a write whose condition does not hold:
// ConditionalCheckFailedException, with the current item when
// ReturnValuesOnConditionCheckFailure asks for it. It has a type of its own
// so that a transaction tells it from its items' other errors with
// errors.As; it unwraps to the DynamoDB error it answers with.
type conditionFailure struct{ api *apiError }

func (e *conditionFailure) Error() string { return e.api.Error() }
func (e *conditionFailure) Unwrap() error { return e.api }

// precondition is a write's checked condition.
type precondition struct {
	cond *expr.Condition // nil: none
	// onFailure is ReturnValuesOnConditionCheckFailure.
	onFailure string
}

// check evaluates the condition on the current item and returns a
// *conditionFailure if it does not hold.
func (p precondition) check(cur attr.Item) error {
	if p.cond == nil {
		return nil
	}
	ok, err := p.cond.Eval(cur)
	if err != nil {
		return err
	}
	if !ok {
		var item attr.Item
		if p.onFailure == "ALL_OLD" {
			item = cur
		}
		return &conditionFailure{api: conditionFailed(item)}
	}
	return nil
}

// conditionParams are the condition parameters of a single-item write, with
// the placeholder maps all of the write's expressions share, as PutItem,
// UpdateItem and DeleteItem carry them; batches and transactions fill in
// those their items carry. (The three requests list these fields themselves
// rather than embed this struct, which would cost encoding/json allocations
// on every request.)
type conditionParams struct {
	ConditionExpression                 string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]attr.Value
	Expected                            map[string]expr.ExpectedAttributeValue
	ConditionalOperator                 string
	ReturnValuesOnConditionCheckFailure string
}

// exprSet starts the expression set of a write with these placeholders.
func (c *conditionParams) exprSet() *exprSet {
	return newExprSet(c.ExpressionAttributeNames, c.ExpressionAttributeValues)
}

// use records the condition's parameters in es, after any others the write
// has, so that DynamoDB's messages list them in its order.
func (c *conditionParams) use(es *exprSet) {
	es.use(true, "ConditionExpression", c.ConditionExpression != "")
	es.use(false, "Expected", c.Expected != nil)
	es.use(false, "ConditionalOperator", c.ConditionalOperator != "")
}

// precondition parses the condition once es has been checked, and
// validates ReturnValuesOnConditionCheckFailure after es is done.
func (c *conditionParams) precondition(es *exprSet) (precondition, error) {
	cond, err := es.conditionOf(c.ConditionExpression, c.Expected, c.ConditionalOperator)
	if err != nil {
		return precondition{}, err
	}
	if err := es.done(); err != nil {
		return precondition{}, err
	}
	if err := checkReturnOnFailure(c.ReturnValuesOnConditionCheckFailure); err != nil {
		return precondition{}, err
	}
	return precondition{cond: cond, onFailure: c.ReturnValuesOnConditionCheckFailure}, nil
}

// writeCondition validates and parses the condition of a write that has no
// other expression, a PutItem or DeleteItem (or their parts of a batch or
// transaction): a ConditionExpression with its placeholders, or the legacy
// Expected and ConditionalOperator, never both.
func writeCondition(c *conditionParams) (precondition, error) {
	es := c.exprSet()
	c.use(es)
	if err := es.check(); err != nil {
		return precondition{}, err
	}
	return c.precondition(es)
}

// writeResponse is the response of PutItem, UpdateItem and DeleteItem.
type writeResponse struct {
	Attributes       attr.Item         `json:",omitempty"`
	ConsumedCapacity *consumedCapacity `json:",omitempty"`
}

// itemWrite is a validated PutItem, UpdateItem or DeleteItem.
type itemWrite interface {
	op() store.Op
	// updated lists the attributes UPDATED_OLD and UPDATED_NEW return.
	updated() []expr.Path
}

// writeItem is the one path of PutItem, UpdateItem and DeleteItem, in
// DynamoDB's order: it checks ReturnValues against those the operation
// allows, plans the write (the operation's own validation), applies it
// alone, and answers with the attributes ReturnValues asks for and the
// capacity consumed.
func (s *Server) writeItem(returnValues, returnCapacity string, plan func() (itemWrite, error), allowed ...string) (any, error) {
	if err := checkReturnValues(returnValues, allowed...); err != nil {
		return nil, err
	}
	p, err := plan()
	if err != nil {
		return nil, err
	}
	op := p.op()
	out, err := s.db.Write([]store.Op{op}, store.WriteOptions{})
	if err != nil {
		return nil, err
	}
	old, cur := out[0].Old, out[0].New
	return writeResponse{
		Attributes:       returnedAttributes(returnValues, old, cur, p.updated()),
		ConsumedCapacity: capacity(returnCapacity, op.Table, writeUnits(old, cur)),
	}, nil
}

// returnedAttributes is what ReturnValues asks a write to answer with: the
// item as it was or is, or only the attributes an update named (nil when it
// has none of them).
func returnedAttributes(rv string, old, cur attr.Item, updated []expr.Path) attr.Item {
	switch rv {
	case "ALL_OLD":
		return old
	case "ALL_NEW":
		return cur
	case "UPDATED_OLD", "UPDATED_NEW":
		src := old
		if rv == "UPDATED_NEW" {
			src = cur
		}
		if src == nil || len(updated) == 0 {
			return nil
		}
		if a := expr.Projection(updated).Apply(src); len(a) > 0 {
			return a
		}
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

// condition returns the request's condition parameters.
func (r *putItemRequest) condition() *conditionParams {
	return &conditionParams{
		ConditionExpression:                 r.ConditionExpression,
		ExpressionAttributeNames:            r.ExpressionAttributeNames,
		ExpressionAttributeValues:           r.ExpressionAttributeValues,
		Expected:                            r.Expected,
		ConditionalOperator:                 r.ConditionalOperator,
		ReturnValuesOnConditionCheckFailure: r.ReturnValuesOnConditionCheckFailure,
	}
}

// putPlan is a validated PutItem, also used by BatchWriteItem and
// TransactWriteItems.
type putPlan struct {
	table *store.Table
	item  attr.Item
	precondition
}

func (p *putPlan) op() store.Op {
	return store.Op{Table: p.table.Name, Key: p.item, Apply: func(cur attr.Item) (attr.Item, store.Action, error) {
		if err := p.check(cur); err != nil {
			return nil, store.Keep, err
		}
		return p.item, store.Put, nil
	}}
}

func (p *putPlan) updated() []expr.Path { return nil }

func (s *Server) planPut(table string, item attr.Item, cond *conditionParams) (*putPlan, error) {
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
	pc, err := writeCondition(cond)
	if err != nil {
		return nil, err
	}
	return &putPlan{table: t, item: item, precondition: pc}, nil
}

func (s *Server) putItem(_ context.Context, body []byte) (any, error) {
	var req putItemRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	return s.writeItem(req.ReturnValues, req.ReturnConsumedCapacity, func() (itemWrite, error) {
		return s.planPut(req.TableName, req.Item, req.condition())
	}, "ALL_OLD")
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
	AttributeUpdates                    map[string]expr.AttributeValueUpdate
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

// condition returns the request's condition parameters.
func (r *updateItemRequest) condition() *conditionParams {
	return &conditionParams{
		ConditionExpression:                 r.ConditionExpression,
		ExpressionAttributeNames:            r.ExpressionAttributeNames,
		ExpressionAttributeValues:           r.ExpressionAttributeValues,
		Expected:                            r.Expected,
		ConditionalOperator:                 r.ConditionalOperator,
		ReturnValuesOnConditionCheckFailure: r.ReturnValuesOnConditionCheckFailure,
	}
}

// updatePlan is a validated UpdateItem, also used by TransactWriteItems.
type updatePlan struct {
	table  *store.Table
	key    attr.Item
	update *expr.Update // nil: only make sure the item exists
	// paths are the update's paths, found once.
	paths []expr.Path
	precondition
}

func (p *updatePlan) op() store.Op {
	return store.Op{Table: p.table.Name, Key: p.key, Apply: func(cur attr.Item) (attr.Item, store.Action, error) {
		if err := p.check(cur); err != nil {
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
		if cur == nil && len(next) == len(p.key) && len(p.paths) > 0 {
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

func (p *updatePlan) updated() []expr.Path { return p.paths }

func (s *Server) planUpdate(table string, key attr.Item, update string, updates map[string]expr.AttributeValueUpdate, cond *conditionParams) (*updatePlan, error) {
	t, err := s.itemTable(table)
	if err != nil {
		return nil, err
	}
	if err := checkKey(t, key); err != nil {
		return nil, err
	}
	es := cond.exprSet()
	es.use(true, "UpdateExpression", update != "")
	es.use(false, "AttributeUpdates", updates != nil)
	cond.use(es)
	if err := es.check(); err != nil {
		return nil, err
	}
	p := &updatePlan{table: t, key: key}
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
	if p.precondition, err = cond.precondition(es); err != nil {
		return nil, err
	}
	if p.update != nil {
		p.paths = p.update.Paths()
	}
	for _, path := range p.paths {
		if isKeyAttribute(t, path.Top()) {
			return nil, validationErr("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", path.Top())
		}
	}
	return p, nil
}

func (s *Server) updateItem(_ context.Context, body []byte) (any, error) {
	var req updateItemRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	return s.writeItem(req.ReturnValues, req.ReturnConsumedCapacity, func() (itemWrite, error) {
		return s.planUpdate(req.TableName, req.Key, req.UpdateExpression, req.AttributeUpdates, req.condition())
	}, "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW")
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

// condition returns the request's condition parameters.
func (r *deleteItemRequest) condition() *conditionParams {
	return &conditionParams{
		ConditionExpression:                 r.ConditionExpression,
		ExpressionAttributeNames:            r.ExpressionAttributeNames,
		ExpressionAttributeValues:           r.ExpressionAttributeValues,
		Expected:                            r.Expected,
		ConditionalOperator:                 r.ConditionalOperator,
		ReturnValuesOnConditionCheckFailure: r.ReturnValuesOnConditionCheckFailure,
	}
}

// deletePlan is a validated DeleteItem, also used by BatchWriteItem and
// TransactWriteItems, whose ConditionCheck is a deletePlan's condition
// without its delete.
type deletePlan struct {
	table *store.Table
	key   attr.Item
	precondition
}

func (p *deletePlan) op() store.Op {
	return store.Op{Table: p.table.Name, Key: p.key, Apply: func(cur attr.Item) (attr.Item, store.Action, error) {
		if err := p.check(cur); err != nil {
			return nil, store.Keep, err
		}
		return nil, store.Delete, nil
	}}
}

func (p *deletePlan) updated() []expr.Path { return nil }

func (s *Server) planDelete(table string, key attr.Item, cond *conditionParams) (*deletePlan, error) {
	t, err := s.itemTable(table)
	if err != nil {
		return nil, err
	}
	if err := checkKey(t, key); err != nil {
		return nil, err
	}
	pc, err := writeCondition(cond)
	if err != nil {
		return nil, err
	}
	return &deletePlan{table: t, key: key, precondition: pc}, nil
}

func (s *Server) deleteItem(_ context.Context, body []byte) (any, error) {
	var req deleteItemRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	return s.writeItem(req.ReturnValues, req.ReturnConsumedCapacity, func() (itemWrite, error) {
		return s.planDelete(req.TableName, req.Key, req.condition())
	}, "ALL_OLD")
}
