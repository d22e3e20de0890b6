package app

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/oklog/ulid/v2"
)

// Item attributes the App sets itself.
const (
	attrID       = "id"
	attrRegion   = "region"
	attrServedBy = "servedBy"
)

// Paging bounds of GET /data.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// itemBody reads the JSON object of a POST or PUT /data and makes it an
// item with id and the region taking the write. servedBy, which reads add,
// is dropped, so that an item read can be written back as it came.
func (a *App) itemBody(r *http.Request, id string, fromPath bool) (map[string]types.AttributeValue, *apiError) {
	body, _ := io.ReadAll(r.Body)
	obj, e := decodeObject(body)
	if e != nil {
		return nil, e
	}
	if v, ok := obj[attrID]; ok {
		s, isStr := v.(string)
		switch {
		case !fromPath:
			return nil, badRequest("id is assigned by the server; leave it out, or use PUT /data/{id} to choose it")
		case !isStr || s != id:
			return nil, badRequest("the body's id must be the id of the path (%q), or be left out", id)
		}
	}
	delete(obj, attrServedBy)
	item := toItem(obj)
	item[attrID] = s(id)
	item[attrRegion] = s(a.opts.Region)
	return item, nil
}

// createItem serves POST /data: store the object under a new id.
func (a *App) createItem(w http.ResponseWriter, r *http.Request) *apiError {
	id := ulid.Make().String()
	item, e := a.itemBody(r, id, false)
	if e != nil {
		return e
	}
	// A new ULID cannot exist; the condition makes sure nothing is
	// overwritten whatever happens.
	_, err := a.db.PutItem(r.Context(), &dynamodb.PutItemInput{
		TableName: aws.String(a.opts.Tables.Items), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(id)"),
	})
	if err != nil {
		return a.dynamoError("PutItem", err)
	}
	w.Header().Set("Location", "/data/"+id)
	writeJSON(w, http.StatusCreated, fromItem(item))
	return nil
}

// putItem serves PUT /data/{id}: create or replace the item; 201 when it
// is new, 200 when it replaced one.
func (a *App) putItem(w http.ResponseWriter, r *http.Request) *apiError {
	id := r.PathValue("id")
	if e := checkID("the id", id); e != nil {
		return e
	}
	item, e := a.itemBody(r, id, true)
	if e != nil {
		return e
	}
	out, err := a.db.PutItem(r.Context(), &dynamodb.PutItemInput{
		TableName: aws.String(a.opts.Tables.Items), Item: item, ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return a.dynamoError("PutItem", err)
	}
	status := http.StatusOK
	if len(out.Attributes) == 0 {
		status = http.StatusCreated
	}
	writeJSON(w, status, fromItem(item))
	return nil
}

// getItem serves GET /data/{id}.
func (a *App) getItem(w http.ResponseWriter, r *http.Request) *apiError {
	id := r.PathValue("id")
	if e := checkID("the id", id); e != nil {
		return e
	}
	out, err := a.db.GetItem(r.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(a.opts.Tables.Items), Key: map[string]types.AttributeValue{attrID: s(id)},
	})
	if err != nil {
		return a.dynamoError("GetItem", err)
	}
	if out.Item == nil {
		return notFound("no item with id %q in %s", id, a.opts.Region)
	}
	obj := fromItem(out.Item)
	obj[attrServedBy] = a.opts.Region
	writeJSON(w, http.StatusOK, obj)
	return nil
}

// deleteItem serves DELETE /data/{id}: 204 when it deleted an item, 404
// when there was none.
func (a *App) deleteItem(w http.ResponseWriter, r *http.Request) *apiError {
	id := r.PathValue("id")
	if e := checkID("the id", id); e != nil {
		return e
	}
	out, err := a.db.DeleteItem(r.Context(), &dynamodb.DeleteItemInput{
		TableName: aws.String(a.opts.Tables.Items), Key: map[string]types.AttributeValue{attrID: s(id)},
		ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return a.dynamoError("DeleteItem", err)
	}
	if len(out.Attributes) == 0 {
		return notFound("no item with id %q in %s", id, a.opts.Region)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listItems serves GET /data?limit=&cursor=: a page of items and, when
// there may be more, the cursor of the next page.
func (a *App) listItems(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	limit := defaultPageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return badRequest("limit must be a whole number from 1 to %d, not %q", maxPageSize, v)
		}
		limit = n
	}
	in := &dynamodb.ScanInput{TableName: aws.String(a.opts.Tables.Items), Limit: aws.Int32(int32(limit))}
	if c := q.Get("cursor"); c != "" {
		id, e := decodeCursor(c)
		if e != nil {
			return e
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{attrID: s(id)}
	}
	out, err := a.db.Scan(r.Context(), in)
	if err != nil {
		return a.dynamoError("Scan", err)
	}
	items := make([]map[string]any, len(out.Items))
	for i, it := range out.Items {
		items[i] = fromItem(it)
	}
	page := map[string]any{"items": items, attrServedBy: a.opts.Region}
	if id := str(out.LastEvaluatedKey, attrID); id != "" {
		page["cursor"] = encodeCursor(id)
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// A cursor is the last id of a page, as base64url JSON, so that clients
// treat it as opaque.
func encodeCursor(id string) string {
	b, _ := json.Marshal(map[string]string{"after": id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string) (string, *apiError) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	var v struct {
		After string `json:"after"`
	}
	if err != nil || json.Unmarshal(b, &v) != nil || v.After == "" || len(v.After) > maxIDBytes {
		return "", badRequest("cursor %q is not one this API gave out; pass the cursor of the previous page as it came", c)
	}
	return v.After, nil
}
