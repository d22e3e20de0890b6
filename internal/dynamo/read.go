package dynamo

import (
	"context"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/expr"
	"github.com/gyre-dev/gyre/internal/store"
)

// pageBytes is DynamoDB's limit on the data one Query or Scan page reads.
const pageBytes = 1 << 20

type readRequest struct {
	TableName                 string
	IndexName                 string
	KeyConditionExpression    string
	FilterExpression          string
	ProjectionExpression      string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]attr.Value
	KeyConditions             map[string]expr.LegacyCondition
	QueryFilter               map[string]expr.LegacyCondition
	ScanFilter                map[string]expr.LegacyCondition
	AttributesToGet           []string
	ConditionalOperator       string
	Select                    string
	Limit                     *int
	ExclusiveStartKey         attr.Item
	ScanIndexForward          *bool
	ConsistentRead            bool
	ReturnConsumedCapacity    string
	Segment                   *int
	TotalSegments             *int
}

type readResponse struct {
	Items            []attr.Item       `json:",omitzero"`
	Count            int               `json:"Count"`
	ScannedCount     int               `json:"ScannedCount"`
	LastEvaluatedKey attr.Item         `json:",omitempty"`
	ConsumedCapacity *consumedCapacity `json:",omitempty"`
}

// readPlan is a validated Query or Scan.
type readPlan struct {
	table      *store.Table
	index      *store.Index
	iter       store.IterOptions
	filter     *expr.Condition
	proj       expr.Projection
	count      bool // Select COUNT
	fetchTable bool // read each item from the table (LSI without the needed attributes)
	limit      int  // 0: none
	consistent bool
	capacity   string
}

func (s *Server) query(_ context.Context, body []byte) (any, error) {
	return s.read(body, true)
}

func (s *Server) scan(_ context.Context, body []byte) (any, error) {
	return s.read(body, false)
}

func (s *Server) read(body []byte, isQuery bool) (any, error) {
	var req readRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	p, err := s.planRead(&req, isQuery)
	if err != nil {
		return nil, err
	}
	return s.runRead(p)
}

func (s *Server) planRead(req *readRequest, isQuery bool) (*readPlan, error) {
	t, err := s.itemTable(req.TableName)
	if err != nil {
		return nil, err
	}
	p := &readPlan{table: t, consistent: req.ConsistentRead, capacity: req.ReturnConsumedCapacity}
	keys := t.Key
	if req.IndexName != "" {
		if p.index = t.Index(req.IndexName); p.index == nil {
			return nil, validationErr("The table does not have the specified index: %s", req.IndexName)
		}
		if !p.index.Local && req.ConsistentRead {
			return nil, validationErr("Consistent reads are not supported on global secondary indexes")
		}
		keys = p.index.Key
		p.iter.Index = req.IndexName
	}
	if req.Limit != nil {
		if *req.Limit < 1 {
			return nil, validationErr("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *req.Limit)
		}
		p.limit = *req.Limit
	}

	es := newExprSet(req.ExpressionAttributeNames, req.ExpressionAttributeValues)
	es.use(true, "KeyConditionExpression", req.KeyConditionExpression != "")
	es.use(true, "FilterExpression", req.FilterExpression != "")
	es.use(true, "ProjectionExpression", req.ProjectionExpression != "")
	es.use(false, "KeyConditions", req.KeyConditions != nil)
	es.use(false, "QueryFilter", req.QueryFilter != nil)
	es.use(false, "ScanFilter", req.ScanFilter != nil)
	es.use(false, "AttributesToGet", req.AttributesToGet != nil)
	es.use(false, "ConditionalOperator", req.ConditionalOperator != "")
	if err := es.check(); err != nil {
		return nil, err
	}

	if isQuery {
		if err := p.planKeyCondition(es, req, keys); err != nil {
			return nil, err
		}
	} else if err := p.planSegments(req); err != nil {
		return nil, err
	}

	switch {
	case req.FilterExpression != "":
		if p.filter, err = es.condition(req.FilterExpression, true); err != nil {
			return nil, err
		}
	case isQuery && (req.QueryFilter != nil || req.ConditionalOperator != ""):
		if p.filter, err = expr.ConvertFilter("queryFilter", req.QueryFilter, req.ConditionalOperator); err != nil {
			return nil, err
		}
	case !isQuery && (req.ScanFilter != nil || req.ConditionalOperator != ""):
		if p.filter, err = expr.ConvertFilter("scanFilter", req.ScanFilter, req.ConditionalOperator); err != nil {
			return nil, err
		}
	}
	if isQuery && p.filter != nil {
		for _, path := range p.filter.Paths() {
			for _, k := range keys.Names() {
				if path.Top() == k {
					return nil, validationErr("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", k)
				}
			}
		}
	}
	if p.proj, err = es.projectionOf(req.ProjectionExpression, req.AttributesToGet); err != nil {
		return nil, err
	}
	if err := es.done(); err != nil {
		return nil, err
	}
	if err := p.planSelect(req.Select); err != nil {
		return nil, err
	}
	if req.ExclusiveStartKey != nil {
		if err := p.checkStartKey(req.ExclusiveStartKey); err != nil {
			return nil, err
		}
		p.iter.After = req.ExclusiveStartKey
	}
	return p, nil
}

func (p *readPlan) planKeyCondition(es *exprSet, req *readRequest, keys store.KeySchema) error {
	var kc *expr.KeyCondition
	var err error
	switch {
	case req.KeyConditionExpression != "":
		kc, err = es.keyCondition(req.KeyConditionExpression)
	case req.KeyConditions != nil:
		kc, err = expr.ConvertKeyConditions(req.KeyConditions)
	default:
		return validationErr("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	if err != nil {
		return err
	}
	err = kc.Resolve(expr.KeySchema{Hash: keys.Hash.Name, HashType: keys.Hash.Type, Range: keys.Range.Name, RangeType: keys.Range.Type})
	if err != nil {
		return err
	}
	h := kc.HashValue
	p.iter.Hash = &h
	if kc.Range != nil {
		p.iter.Range = &store.RangeCond{Op: rangeOps[kc.Range.Op], Values: kc.Range.Values}
	}
	p.iter.Reverse = req.ScanIndexForward != nil && !*req.ScanIndexForward
	return nil
}

var rangeOps = map[expr.RangeOp]store.RangeOp{
	expr.EQ: store.RangeEQ, expr.LT: store.RangeLT, expr.LE: store.RangeLE, expr.GT: store.RangeGT,
	expr.GE: store.RangeGE, expr.Between: store.RangeBetween, expr.BeginsWith: store.RangeBeginsWith,
}

func (p *readPlan) planSegments(req *readRequest) error {
	switch {
	case req.Segment == nil && req.TotalSegments == nil:
		return nil
	case req.TotalSegments == nil:
		return validationErr("The TotalSegments parameter is required but was not present in the request when parameter Segment is present")
	case req.Segment == nil:
		return validationErr("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
	case *req.TotalSegments < 1 || *req.TotalSegments > 1000000:
		return validationErr("1 validation error detected: Value '%d' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000 and greater than or equal to 1", *req.TotalSegments)
	case *req.Segment < 0 || *req.Segment >= *req.TotalSegments:
		return validationErr("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d", *req.Segment, *req.TotalSegments)
	}
	p.iter.Segment, p.iter.TotalSegments = *req.Segment, *req.TotalSegments
	return nil
}

func (p *readPlan) planSelect(sel string) error {
	projected := p.proj != nil
	switch sel {
	case "":
	case "ALL_ATTRIBUTES":
		if projected {
			return validationErr("Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES")
		}
		if p.index != nil && p.index.Projection.Type != store.ProjectAll {
			if !p.index.Local {
				return validationErr("One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index %s because its projection type is not ALL", p.index.Name)
			}
			p.fetchTable = true
		}
	case "ALL_PROJECTED_ATTRIBUTES":
		if p.index == nil {
			return validationErr("One or more parameter values were invalid: ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
		}
		if projected {
			return validationErr("Cannot specify the ProjectionExpression when choosing to get ALL_PROJECTED_ATTRIBUTES")
		}
	case "SPECIFIC_ATTRIBUTES":
		if !projected {
			return validationErr("One or more parameter values were invalid: Must specify the ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES")
		}
	case "COUNT":
		if projected {
			return validationErr("Cannot specify the ProjectionExpression when choosing to get COUNT")
		}
		p.count = true
	default:
		return validationErr("1 validation error detected: Value '%s' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]", sel)
	}
	// A local index can hand out attributes it does not store by reading
	// the table, as DynamoDB does; a global one cannot.
	if p.index != nil && p.index.Local && p.index.Projection.Type != store.ProjectAll && (projected || p.filter != nil) {
		p.fetchTable = true
	}
	return nil
}

// checkStartKey validates ExclusiveStartKey: exactly the table's key plus,
// for an index, the index's key.
func (p *readPlan) checkStartKey(k attr.Item) error {
	want := map[string]attr.Type{}
	for _, ka := range []store.KeyAttr{p.table.Key.Hash, p.table.Key.Range} {
		if ka.Name != "" {
			want[ka.Name] = ka.Type
		}
	}
	if p.index != nil {
		for _, ka := range []store.KeyAttr{p.index.Key.Hash, p.index.Key.Range} {
			if ka.Name != "" {
				want[ka.Name] = ka.Type
			}
		}
	}
	if len(k) != len(want) {
		return validationErr("The provided starting key is invalid: The provided key element does not match the schema")
	}
	for name, typ := range want {
		if v, ok := k[name]; !ok || v.Type != typ {
			return validationErr("The provided starting key is invalid: The provided key element does not match the schema")
		}
	}
	return nil
}

// lastKey returns the key attributes of item that a next page starts after.
func (p *readPlan) lastKey(item attr.Item) attr.Item {
	k := attr.Item{}
	names := p.table.Key.Names()
	if p.index != nil {
		names = append(names, p.index.Key.Names()...)
	}
	for _, n := range names {
		if v, ok := item[n]; ok {
			k[n] = v
		}
	}
	return k
}

func (s *Server) runRead(p *readPlan) (*readResponse, error) {
	it, err := s.db.NewIter(p.table.Name, p.iter)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	resp := &readResponse{}
	read := 0
	for it.Next() {
		entry := it.Item()
		read += it.Size()
		resp.ScannedCount++
		item := entry
		if p.fetchTable {
			if item, err = s.db.Get(p.table.Name, entry); err != nil {
				return nil, err
			}
		}
		if item != nil && p.filter != nil {
			ok, err := p.filter.Eval(item)
			if err != nil {
				return nil, err
			}
			if !ok {
				item = nil
			}
		}
		if item != nil {
			resp.Count++
			if !p.count {
				if p.proj != nil {
					item = p.proj.Apply(item)
				}
				resp.Items = append(resp.Items, item)
			}
		}
		if (p.limit > 0 && resp.ScannedCount == p.limit) || read >= pageBytes {
			resp.LastEvaluatedKey = p.lastKey(entry)
			break
		}
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	if !p.count && resp.Items == nil {
		resp.Items = []attr.Item{}
	}
	resp.ConsumedCapacity = capacity(p.capacity, p.table.Name, readUnits(read, p.consistent))
	return resp, nil
}
