package dynamo

import (
	"encoding/json"
	"strconv"

	"github.com/gyre-dev/gyre/internal/attr"
)

// Hand-written JSON for the responses that carry items (see jsonAppender).

// jsonObject appends the members of one JSON object.
type jsonObject struct {
	buf   []byte
	first bool
	err   error
}

func newObject(buf []byte) *jsonObject {
	return &jsonObject{buf: append(buf, '{'), first: true}
}

func (o *jsonObject) key(k string) {
	if !o.first {
		o.buf = append(o.buf, ',')
	}
	o.first = false
	o.buf = append(o.buf, '"')
	o.buf = append(o.buf, k...)
	o.buf = append(o.buf, '"', ':')
}

func (o *jsonObject) item(k string, it attr.Item) {
	if it == nil {
		return
	}
	o.key(k)
	o.buf = it.AppendJSON(o.buf)
}

func (o *jsonObject) int(k string, n int) {
	o.key(k)
	o.buf = strconv.AppendInt(o.buf, int64(n), 10)
}

// value appends a rarely present member with encoding/json.
func (o *jsonObject) value(k string, v any) {
	if o.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		o.err = err
		return
	}
	o.key(k)
	o.buf = append(o.buf, b...)
}

func (o *jsonObject) done() ([]byte, error) {
	return append(o.buf, '}'), o.err
}

func (r writeResponse) appendJSON(buf []byte) ([]byte, error) {
	o := newObject(buf)
	o.item("Attributes", r.Attributes)
	if r.ConsumedCapacity != nil {
		o.value("ConsumedCapacity", r.ConsumedCapacity)
	}
	return o.done()
}

func (r getItemResponse) appendJSON(buf []byte) ([]byte, error) {
	o := newObject(buf)
	o.item("Item", r.Item)
	if r.ConsumedCapacity != nil {
		o.value("ConsumedCapacity", r.ConsumedCapacity)
	}
	return o.done()
}

func (r *readResponse) appendJSON(buf []byte) ([]byte, error) {
	o := newObject(buf)
	if r.Items != nil {
		o.key("Items")
		o.buf = append(o.buf, '[')
		for i, it := range r.Items {
			if i > 0 {
				o.buf = append(o.buf, ',')
			}
			o.buf = it.AppendJSON(o.buf)
		}
		o.buf = append(o.buf, ']')
	}
	o.int("Count", r.Count)
	o.int("ScannedCount", r.ScannedCount)
	o.item("LastEvaluatedKey", r.LastEvaluatedKey)
	if r.ConsumedCapacity != nil {
		o.value("ConsumedCapacity", r.ConsumedCapacity)
	}
	return o.done()
}
