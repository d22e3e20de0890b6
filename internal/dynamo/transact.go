package dynamo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/store"
)

// DynamoDB's transaction limits.
const (
	maxTransactItems = 100
	maxTransactBytes = 4 << 20
)

// transactCondition holds the condition parameters every kind of
// TransactWriteItems item carries.
type transactCondition struct {
	ConditionExpression                 string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]attr.Value
	ReturnValuesOnConditionCheckFailure string
}

// params are c as the parameters of a write's condition; a transaction's
// items have no legacy ones.
func (c *transactCondition) params() *conditionParams {
	return &conditionParams{
		ConditionExpression:                 c.ConditionExpression,
		ExpressionAttributeNames:            c.ExpressionAttributeNames,
		ExpressionAttributeValues:           c.ExpressionAttributeValues,
		ReturnValuesOnConditionCheckFailure: c.ReturnValuesOnConditionCheckFailure,
	}
}

type transactWriteItem struct {
	ConditionCheck *struct {
		TableName string
		Key       attr.Item
		transactCondition
	}
	Put *struct {
		TableName string
		Item      attr.Item
		transactCondition
	}
	Delete *struct {
		TableName string
		Key       attr.Item
		transactCondition
	}
	Update *struct {
		TableName        string
		Key              attr.Item
		UpdateExpression string
		transactCondition
	}
}

func (s *Server) transactWriteItems(_ context.Context, body []byte) (any, error) {
	var req struct {
		TransactItems               []transactWriteItem
		ClientRequestToken          string
		ReturnConsumedCapacity      string
		ReturnItemCollectionMetrics string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if n := len(req.TransactItems); n == 0 || n > maxTransactItems {
		return nil, validationErr("1 validation error detected: Value '%d items' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", n, maxTransactItems)
	}
	if len(req.ClientRequestToken) > 36 {
		return nil, validationErr("1 validation error detected: Value '%s' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36", req.ClientRequestToken)
	}
	ops := make([]store.Op, 0, len(req.TransactItems))
	units := map[string]float64{}
	size := 0
	for _, ti := range req.TransactItems {
		n := 0
		for _, set := range []bool{ti.ConditionCheck != nil, ti.Put != nil, ti.Delete != nil, ti.Update != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return nil, validationErr("TransactItems can only contain one of Check, Put, Update or Delete")
		}
		switch {
		case ti.ConditionCheck != nil:
			c := ti.ConditionCheck
			if c.ConditionExpression == "" {
				return nil, validationErr("1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null")
			}
			p, err := s.planDelete(c.TableName, c.Key, c.params())
			if err != nil {
				return nil, err
			}
			ops = append(ops, store.Op{Table: p.table.Name, Key: p.key, Apply: func(cur attr.Item) (attr.Item, store.Action, error) {
				return nil, store.Keep, p.check(cur)
			}})
			units[p.table.Name] += 2
		case ti.Put != nil:
			c := ti.Put
			p, err := s.planPut(c.TableName, c.Item, c.params())
			if err != nil {
				return nil, err
			}
			size += p.item.Size()
			ops = append(ops, p.op())
			units[p.table.Name] += 2 * writeUnits(p.item)
		case ti.Delete != nil:
			c := ti.Delete
			p, err := s.planDelete(c.TableName, c.Key, c.params())
			if err != nil {
				return nil, err
			}
			ops = append(ops, p.op())
			units[p.table.Name] += 2
		case ti.Update != nil:
			c := ti.Update
			if c.UpdateExpression == "" {
				return nil, validationErr("1 validation error detected: Value null at 'transactItems.1.member.update.updateExpression' failed to satisfy constraint: Member must not be null")
			}
			p, err := s.planUpdate(c.TableName, c.Key, c.UpdateExpression, nil, c.params())
			if err != nil {
				return nil, err
			}
			ops = append(ops, p.op())
			units[p.table.Name] += 2
		}
	}
	if size > maxTransactBytes {
		return nil, validationErr("Transaction request size exceeds the limit of %d bytes", maxTransactBytes)
	}
	wo := store.WriteOptions{Transaction: true}
	if req.ClientRequestToken != "" {
		wo.Token = req.ClientRequestToken
		wo.RequestHash = requestHash(body)
	}
	if _, err := s.db.Write(ops, wo); err != nil {
		return nil, transactionError(err)
	}
	return transactResponse(req.ReturnConsumedCapacity, units), nil
}

// requestHash identifies a request's parameters for idempotency checks. It
// hashes a canonical form of the body: SDKs serialize maps (expression
// attribute values, items) in no fixed order, so the same request is sent
// with different bytes when it is retried.
func requestHash(body []byte) [sha256.Size]byte {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return sha256.Sum256(body)
	}
	canonical, err := json.Marshal(v) // objects' keys sorted, at every level
	if err != nil {
		return sha256.Sum256(body)
	}
	return sha256.Sum256(canonical)
}

func transactResponse(mode string, units map[string]float64) map[string]any {
	resp := map[string]any{}
	var caps []*consumedCapacity
	for name, u := range units {
		if c := capacity(mode, name, u); c != nil {
			caps = append(caps, c)
		}
	}
	if caps != nil {
		resp["ConsumedCapacity"] = caps
	}
	return resp
}

// transactionError turns a canceled store write into
// TransactionCanceledException with one reason per item.
func transactionError(err error) error {
	var ce *store.CanceledError
	if !errors.As(err, &ce) {
		return err
	}
	reasons := make([]cancellationReason, len(ce.Reasons))
	codes := make([]string, len(ce.Reasons))
	for i, r := range ce.Reasons {
		var cf *conditionFailure
		var ve *attr.ValidationError
		switch {
		case r == nil:
			reasons[i] = cancellationReason{Code: "None"}
		case errors.As(r, &cf):
			reasons[i] = cancellationReason{Code: "ConditionalCheckFailed", Message: cf.api.Message, Item: cf.api.Item}
		case errors.As(r, &ve):
			reasons[i] = cancellationReason{Code: "ValidationError", Message: ve.Msg}
		default:
			return r
		}
		codes[i] = reasons[i].Code
	}
	e := newError(http.StatusBadRequest, nsDynamo+"TransactionCanceledException",
		"Transaction cancelled, please refer cancellation reasons for specific reasons [%s]", strings.Join(codes, ", "))
	e.Reasons = reasons
	return e
}

func (s *Server) transactGetItems(_ context.Context, body []byte) (any, error) {
	var req struct {
		TransactItems []struct {
			Get *struct {
				TableName                string
				Key                      attr.Item
				ProjectionExpression     string
				ExpressionAttributeNames map[string]string
			}
		}
		ReturnConsumedCapacity string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if n := len(req.TransactItems); n == 0 || n > maxTransactItems {
		return nil, validationErr("1 validation error detected: Value '%d items' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", n, maxTransactItems)
	}
	plans := make([]*getPlan, len(req.TransactItems))
	seen := map[string]bool{}
	for i, ti := range req.TransactItems {
		if ti.Get == nil {
			return nil, validationErr("1 validation error detected: Value null at 'transactItems.%d.member.get' failed to satisfy constraint: Member must not be null", i+1)
		}
		g := ti.Get
		p, err := s.planGet(g.TableName, g.Key, g.ProjectionExpression, g.ExpressionAttributeNames, nil)
		if err != nil {
			return nil, err
		}
		k := p.table.Name + "\x00" + keyString(p.table, p.key)
		if seen[k] {
			return nil, validationErr("Transaction request cannot include multiple operations on one item")
		}
		seen[k] = true
		plans[i] = p
	}
	snap := s.db.NewSnapshot()
	defer snap.Close()
	responses := make([]map[string]attr.Item, len(plans))
	units := map[string]float64{}
	for i, p := range plans {
		item, err := snap.Get(p.table.Name, p.key)
		if err != nil {
			return nil, err
		}
		responses[i] = map[string]attr.Item{}
		if item != nil {
			responses[i]["Item"] = p.result(item)
		}
		units[p.table.Name] += 2 * readUnits(item.Size(), true)
	}
	resp := transactResponse(req.ReturnConsumedCapacity, units)
	resp["Responses"] = responses
	return resp, nil
}
