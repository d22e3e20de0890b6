package dynamo

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/gyre-dev/gyre/internal/attr"
)

// TestHandWrittenResponsesMatchEncodingJSON checks the hand-written
// encoders against encoding/json's rendering of the same structs.
func TestHandWrittenResponsesMatchEncodingJSON(t *testing.T) {
	item := attr.Item{"pk": attr.S("a\"b\n"), "n": attr.N("-1.5"), "m": attr.MapValue(map[string]attr.Value{"l": attr.ListValue([]attr.Value{attr.BoolValue(true), attr.NullValue()})})}
	cc := &consumedCapacity{TableName: "t", CapacityUnits: 0.5}
	for _, resp := range []jsonAppender{
		writeResponse{},
		writeResponse{Attributes: item, ConsumedCapacity: cc},
		getItemResponse{},
		getItemResponse{Item: item},
		&readResponse{Items: []attr.Item{}, Count: 0},
		&readResponse{Items: []attr.Item{item, item}, Count: 2, ScannedCount: 3, LastEvaluatedKey: attr.Item{"pk": attr.S("x")}, ConsumedCapacity: cc},
		&readResponse{Count: 7, ScannedCount: 9},
	} {
		got, err := resp.appendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%T: hand-written JSON does not parse: %v\n%s", resp, err, got)
		}
		json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%T:\n got %s\nwant %s", resp, got, want)
		}
	}
}
