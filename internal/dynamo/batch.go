package dynamo

import (
	"context"
	"maps"
	"slices"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/store"
)

// DynamoDB's batch limits.
const (
	maxBatchGetKeys     = 100
	maxBatchWriteItems  = 25
	maxBatchGetResponse = 16 << 20
)

type keysAndAttributes struct {
	Keys                     []attr.Item
	ProjectionExpression     string
	ExpressionAttributeNames map[string]string
	AttributesToGet          []string
	ConsistentRead           bool
}

// keyString identifies an item's key within a table, for duplicate checks.
func keyString(t *store.Table, key attr.Item) string {
	b, _ := attr.AppendKey(nil, key[t.Key.Hash.Name])
	if t.Key.HasRange() {
		b, _ = attr.AppendKey(b, key[t.Key.Range.Name])
	}
	return string(b)
}

func (s *Server) batchGetItem(_ context.Context, body []byte) (any, error) {
	var req struct {
		RequestItems           map[string]keysAndAttributes
		ReturnConsumedCapacity string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if len(req.RequestItems) == 0 {
		return nil, validationErr("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	total := 0
	type tablePlan struct {
		name  string
		kaa   keysAndAttributes
		plans []*getPlan
	}
	var tables []tablePlan
	for _, name := range slices.Sorted(maps.Keys(req.RequestItems)) {
		kaa := req.RequestItems[name]
		if len(kaa.Keys) == 0 {
			return nil, validationErr("1 validation error detected: Value '[]' at 'requestItems.%s.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1", name)
		}
		total += len(kaa.Keys)
		if total > maxBatchGetKeys {
			return nil, validationErr("Too many items requested for the BatchGetItem call")
		}
		tp := tablePlan{name: name, kaa: kaa}
		seen := map[string]bool{}
		for _, key := range kaa.Keys {
			p, err := s.planGet(name, key, kaa.ProjectionExpression, kaa.ExpressionAttributeNames, kaa.AttributesToGet)
			if err != nil {
				return nil, err
			}
			k := keyString(p.table, key)
			if seen[k] {
				return nil, validationErr("Provided list of item keys contains duplicates")
			}
			seen[k] = true
			tp.plans = append(tp.plans, p)
		}
		tables = append(tables, tp)
	}
	responses := map[string][]attr.Item{}
	unprocessed := map[string]keysAndAttributes{}
	var caps []*consumedCapacity
	size := 0
	for _, tp := range tables {
		responses[tp.name] = []attr.Item{}
		read := 0
		for i, p := range tp.plans {
			if size >= maxBatchGetResponse {
				// The rest is left for the client to ask again, as
				// DynamoDB does when a response would be too large.
				rest := tp.kaa
				rest.Keys = tp.kaa.Keys[i:]
				unprocessed[tp.name] = rest
				break
			}
			item, err := s.db.Get(p.table.Name, p.key)
			if err != nil {
				return nil, err
			}
			if item == nil {
				continue
			}
			read += item.Size()
			size += item.Size()
			responses[tp.name] = append(responses[tp.name], p.result(item))
		}
		if c := capacity(req.ReturnConsumedCapacity, tp.name, readUnits(read, tp.kaa.ConsistentRead)); c != nil {
			caps = append(caps, c)
		}
	}
	resp := map[string]any{"Responses": responses, "UnprocessedKeys": unprocessed}
	if caps != nil {
		resp["ConsumedCapacity"] = caps
	}
	return resp, nil
}

type writeRequest struct {
	PutRequest    *struct{ Item attr.Item }
	DeleteRequest *struct{ Key attr.Item }
}

func (s *Server) batchWriteItem(_ context.Context, body []byte) (any, error) {
	var req struct {
		RequestItems                map[string][]writeRequest
		ReturnConsumedCapacity      string
		ReturnItemCollectionMetrics string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if len(req.RequestItems) == 0 {
		return nil, validationErr("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	var ops []store.Op
	units := map[string]float64{}
	for _, name := range slices.Sorted(maps.Keys(req.RequestItems)) {
		writes := req.RequestItems[name]
		if len(writes) == 0 {
			return nil, validationErr("1 validation error detected: Value '[]' at 'requestItems.%s.member' failed to satisfy constraint: Member must have length greater than or equal to 1", name)
		}
		seen := map[string]bool{}
		for _, w := range writes {
			if len(ops) == maxBatchWriteItems {
				return nil, validationErr("Too many items requested for the BatchWriteItem call")
			}
			var op store.Op
			var t *store.Table
			var key attr.Item
			switch {
			case w.PutRequest != nil && w.DeleteRequest == nil:
				p, err := s.planPut(name, w.PutRequest.Item, &conditionParams{})
				if err != nil {
					return nil, err
				}
				op, t, key = p.op(), p.table, p.item
				units[name] += writeUnits(p.item)
			case w.DeleteRequest != nil && w.PutRequest == nil:
				p, err := s.planDelete(name, w.DeleteRequest.Key, &conditionParams{})
				if err != nil {
					return nil, err
				}
				op, t, key = p.op(), p.table, p.key
				units[name]++
			default:
				return nil, validationErr("One or more parameter values were invalid: A WriteRequest must contain exactly one of PutRequest or DeleteRequest")
			}
			k := keyString(t, key)
			if seen[k] {
				return nil, validationErr("Provided list of item keys contains duplicates")
			}
			seen[k] = true
			ops = append(ops, op)
		}
	}
	if _, err := s.db.Write(ops, store.WriteOptions{}); err != nil {
		return nil, err
	}
	resp := map[string]any{"UnprocessedItems": map[string]any{}}
	var caps []*consumedCapacity
	for _, name := range slices.Sorted(maps.Keys(units)) {
		if c := capacity(req.ReturnConsumedCapacity, name, units[name]); c != nil {
			caps = append(caps, c)
		}
	}
	if caps != nil {
		resp["ConsumedCapacity"] = caps
	}
	return resp, nil
}
