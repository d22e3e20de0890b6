package app

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/oklog/ulid/v2"
)

// maxFill bounds each count of POST /fill.
const maxFill = 1000

// fill serves POST /fill?customers=N&products=M[&orders=K]: create sample
// customers and products (10 of each by default) and, if asked, orders
// among them; answer their ids.
func (a *App) fill(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	count := func(name string, def int) (int, *apiError) {
		v := q.Get(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxFill {
			return 0, badRequest("%s must be a whole number from 0 to %d, not %q", name, maxFill, v)
		}
		return n, nil
	}
	nc, e := count("customers", 10)
	if e != nil {
		return e
	}
	np, e := count("products", 10)
	if e != nil {
		return e
	}
	no, e := count("orders", 0)
	if e != nil {
		return e
	}
	if no > 0 && (nc == 0 || np == 0) {
		return badRequest("orders need at least one customer and one product")
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	out := map[string][]string{"customers": {}, "products": {}, "orders": {}}
	var puts []types.WriteRequest
	var tables []string
	for i := range nc {
		id := ulid.Make().String()
		out["customers"] = append(out["customers"], id)
		tables = append(tables, a.opts.Tables.Customers)
		puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"id": s(id), "name": s(fmt.Sprintf("Customer %d", i+1)), attrRegion: s(a.opts.Region), "createdAt": s(now),
		}}})
	}
	for i := range np {
		id := ulid.Make().String()
		out["products"] = append(out["products"], id)
		tables = append(tables, a.opts.Tables.Products)
		price := fmt.Sprintf("%d.%02d", 1+rand.IntN(99), rand.IntN(100))
		puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"id": s(id), "name": s(fmt.Sprintf("Product %d", i+1)), "price": &types.AttributeValueMemberN{Value: price}, attrRegion: s(a.opts.Region), "createdAt": s(now),
		}}})
	}
	for range no {
		id := ulid.Make().String()
		out["orders"] = append(out["orders"], id)
		tables = append(tables, a.opts.Tables.Orders)
		puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			"orderId": s(id), "customerId": s(out["customers"][rand.IntN(nc)]), "productId": s(out["products"][rand.IntN(np)]),
			attrRegion: s(a.opts.Region), "createdAt": s(now),
		}}})
	}
	// BatchWriteItem takes 25 puts at a time; customers and products go
	// before the orders that name them.
	for len(puts) > 0 {
		n := min(25, len(puts))
		batch := map[string][]types.WriteRequest{}
		for i := range n {
			batch[tables[i]] = append(batch[tables[i]], puts[i])
		}
		puts, tables = puts[n:], tables[n:]
		for len(batch) > 0 {
			res, err := a.db.BatchWriteItem(r.Context(), &dynamodb.BatchWriteItemInput{RequestItems: batch})
			if err != nil {
				return a.dynamoError("BatchWriteItem", err)
			}
			batch = res.UnprocessedItems
		}
	}
	if no == 0 {
		delete(out, "orders")
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// orderRequest is the body of POST /orders.
type orderRequest struct {
	CustomerID string `json:"customerId"`
	ProductID  string `json:"productId"`
	OrderID    string `json:"orderId"`
}

// createOrder serves POST /orders: in one transaction, check that the
// customer and the product exist and that the order id is new, and store
// the order. 400 names a missing customer or product; 409 an order id in
// use.
func (a *App) createOrder(w http.ResponseWriter, r *http.Request) *apiError {
	body, _ := io.ReadAll(r.Body)
	obj, e := decodeObject(body)
	if e != nil {
		return e
	}
	var req orderRequest
	for _, f := range []struct {
		name     string
		dst      *string
		optional bool
	}{{"customerId", &req.CustomerID, false}, {"productId", &req.ProductID, false}, {"orderId", &req.OrderID, true}} {
		v, ok := obj[f.name]
		if !ok {
			if f.optional {
				continue
			}
			return badRequest("%s is required", f.name)
		}
		s, isStr := v.(string)
		if !isStr {
			return badRequest("%s must be a string, not %s", f.name, jsonKind(v))
		}
		if e := checkID(f.name, s); e != nil {
			return e
		}
		*f.dst = s
	}
	for k := range obj {
		if k != "customerId" && k != "productId" && k != "orderId" {
			return badRequest("unknown field %q; an order has customerId, productId and orderId", k)
		}
	}
	if req.OrderID == "" {
		req.OrderID = ulid.Make().String()
	}
	t := a.opts.Tables
	order := map[string]types.AttributeValue{
		"orderId": s(req.OrderID), "customerId": s(req.CustomerID), "productId": s(req.ProductID),
		attrRegion: s(a.opts.Region), "createdAt": s(time.Now().UTC().Format(time.RFC3339Nano)),
	}
	exists := func(table, id string) types.TransactWriteItem {
		return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(table), Key: map[string]types.AttributeValue{"id": s(id)},
			ConditionExpression: aws.String("attribute_exists(id)"),
		}}
	}
	_, err := a.db.TransactWriteItems(r.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		exists(t.Customers, req.CustomerID),
		exists(t.Products, req.ProductID),
		{Put: &types.Put{TableName: aws.String(t.Orders), Item: order, ConditionExpression: aws.String("attribute_not_exists(orderId)")}},
	}})
	if tce, ok := errors.AsType[*types.TransactionCanceledException](err); ok && len(tce.CancellationReasons) == 3 {
		failed := func(i int) bool { return aws.ToString(tce.CancellationReasons[i].Code) == "ConditionalCheckFailed" }
		var missing []string
		if failed(0) {
			missing = append(missing, fmt.Sprintf("customer %q", req.CustomerID))
		}
		if failed(1) {
			missing = append(missing, fmt.Sprintf("product %q", req.ProductID))
		}
		switch {
		case len(missing) > 0:
			return badRequest("no %s: create them first (POST /fill makes sample customers and products)", strings.Join(missing, " and no "))
		case failed(2):
			return errorf(http.StatusConflict, "OrderExists", "order %q already exists; choose a new orderId", req.OrderID)
		}
	}
	if err != nil {
		return a.dynamoError("TransactWriteItems", err)
	}
	w.Header().Set("Location", "/orders/"+req.OrderID+"?productId="+req.ProductID)
	writeJSON(w, http.StatusCreated, fromItem(order))
	return nil
}

// getOrder serves GET /orders/{orderId}?productId=: the order, when it
// exists and (if productId is given) is for that product.
func (a *App) getOrder(w http.ResponseWriter, r *http.Request) *apiError {
	id := r.PathValue("orderId")
	if e := checkID("the order id", id); e != nil {
		return e
	}
	out, err := a.db.GetItem(r.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(a.opts.Tables.Orders), Key: map[string]types.AttributeValue{"orderId": s(id)},
	})
	if err != nil {
		return a.dynamoError("GetItem", err)
	}
	pid := r.URL.Query().Get("productId")
	if out.Item == nil || (pid != "" && str(out.Item, "productId") != pid) {
		if pid != "" {
			return notFound("no order %q for product %q in %s", id, pid, a.opts.Region)
		}
		return notFound("no order %q in %s", id, a.opts.Region)
	}
	obj := fromItem(out.Item)
	obj[attrServedBy] = a.opts.Region
	writeJSON(w, http.StatusOK, obj)
	return nil
}
