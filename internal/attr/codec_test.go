package attr

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
)

const sampleItem = `{
	"pk": {"S": "user#1"},
	"n": {"N": "-12.50"},
	"b": {"B": "AAECAw=="},
	"t": {"BOOL": true},
	"f": {"BOOL": false},
	"z": {"NULL": true},
	"m": {"M": {"a": {"L": [{"S": "x"}, {"N": "1e3"}, {"M": {}}]}, "e": {"S": ""}}},
	"ss": {"SS": ["a", "b"]},
	"ns": {"NS": ["1", "2.50"]},
	"bs": {"BS": ["AQ==", "Ag=="]},
	"quote": {"S": "\"\\\n\u0001 é \u2028"}
}`

func mustItem(t testing.TB, s string) Item {
	t.Helper()
	var it Item
	if err := it.UnmarshalJSONString(s); err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
	return it
}

func TestCodecRoundTrip(t *testing.T) {
	it := mustItem(t, sampleItem)
	enc := AppendItem(nil, it)
	got, err := DecodeItem(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !ItemsEqual(it, got) {
		t.Fatalf("round trip changed the item:\n got %s\nwant %s", got.AppendJSON(nil), it.AppendJSON(nil))
	}
	// The encoding is deterministic: map order does not leak into it.
	for range 20 {
		if again := AppendItem(nil, it.Clone()); !bytes.Equal(again, enc) {
			t.Fatal("encoding the same item twice gave different bytes")
		}
	}
	// Every strict prefix of an encoding is corrupt, never a panic.
	for i := range enc {
		if _, err := DecodeItem(enc[:i]); err == nil {
			t.Fatalf("DecodeItem accepted a %d-byte prefix of a %d-byte encoding", i, len(enc))
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	it := mustItem(t, sampleItem)
	out, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	again := mustItem(t, string(out))
	if !ItemsEqual(it, again) {
		t.Fatalf("JSON round trip changed the item:\n%s", out)
	}
	if n := again["n"].Str; n != "-12.5" {
		t.Errorf("number came back as %q, want canonical -12.5", n)
	}
	if ns := again["ns"].Strs; ns[1] != "2.5" {
		t.Errorf("number set member came back as %q, want 2.5", ns[1])
	}
}

func TestJSONValidation(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{`{"a":{}}`, "Supplied AttributeValue is empty"},
		{`{"a":{"S":"x","N":"1"}}`, "more than one datatypes"},
		{`{"a":{"SS":[]}}`, "An string set  may not be empty"},
		{`{"a":{"NS":["1","1.0"]}}`, "contains duplicates"},
		{`{"a":{"SS":["x","x"]}}`, "contains duplicates"},
		{`{"a":{"BS":["AQ==","AQ=="]}}`, "contains duplicates"},
		{`{"a":{"NULL":false}}`, "Null attribute value types must have the value of true"},
		{`{"a":{"N":"abc"}}`, "numeric"},
		{`{"a":{"NS":["1","x"]}}`, "numeric"},
		{`{"a":{"M":{"b":{}}}}`, "Supplied AttributeValue is empty"},
	} {
		var it Item
		err := it.UnmarshalJSONString(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("decoding %s: got %v, want error containing %q", tc.in, err, tc.err)
		}
	}
	// A number in place of the string is a serialization error, not a
	// validation error, as in DynamoDB.
	var it Item
	err := it.UnmarshalJSONString(`{"a":{"N":123}}`)
	var ute *json.UnmarshalTypeError
	if !errors.As(err, &ute) {
		t.Errorf(`decoding {"N":123}: got %v, want a *json.UnmarshalTypeError`, err)
	}
}

func TestDepth(t *testing.T) {
	v := S("leaf")
	for range MaxDepth {
		v = ListValue([]Value{v})
	}
	if err := v.Validate(); err != nil {
		t.Errorf("depth %d rejected: %v", MaxDepth, err)
	}
	v = MapValue(map[string]Value{"x": v})
	if err := v.Validate(); err == nil {
		t.Errorf("depth %d accepted; want a ValidationError", MaxDepth+1)
	}
}

func FuzzDecodeItem(f *testing.F) {
	f.Add(AppendItem(nil, mustItem(f, sampleItem)))
	f.Add([]byte{})
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		it, err := DecodeItem(data)
		if err != nil {
			return
		}
		if _, err := DecodeItem(AppendItem(nil, it)); err != nil {
			t.Fatalf("re-encoding a decoded item: %v", err)
		}
	})
}

func BenchmarkCodec(b *testing.B) {
	for _, size := range []int{100, 1000, 10000} {
		it := Item{"pk": S("user#1"), "sk": N("42"), "data": S(strings.Repeat("x", size)), "n": N("3.14")}
		enc := AppendItem(nil, it)
		b.Run("encode/"+strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, len(enc))
			for b.Loop() {
				buf = AppendItem(buf[:0], it)
			}
		})
		b.Run("decode/"+strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeItem(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
