package app

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestItemRoundTrip checks that a JSON object stored as a DynamoDB item
// reads back as it was written, numbers exactly as written.
func TestItemRoundTrip(t *testing.T) {
	for _, in := range []string{
		`{}`,
		`{"s":"x","n":12.50,"big":123456789012345678901234567890123456,"neg":-0.001,"t":true,"f":false,"z":null}`,
		`{"l":[1,"a",null,[true],{"k":"v"}],"m":{"deep":{"deeper":{"n":1e3}}}}`,
		`{"empty":"","unicode":"日本語 ✓","escaped":"a\"b\\c\n"}`,
	} {
		obj, e := decodeObject([]byte(in))
		if e != nil {
			t.Fatalf("%s: %v", in, e)
		}
		back, err := json.Marshal(fromItem(toItem(obj)))
		if err != nil {
			t.Fatal(err)
		}
		var want, got any
		dec := json.NewDecoder(strings.NewReader(in))
		dec.UseNumber()
		dec.Decode(&want)
		dec = json.NewDecoder(strings.NewReader(string(back)))
		dec.UseNumber()
		dec.Decode(&got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s came back as %s", in, back)
		}
	}
}

func TestDecodeObjectRefuses(t *testing.T) {
	for in, mention := range map[string]string{
		``:             "empty",
		`   `:          "empty",
		`{"a":`:        "ends too soon",
		`{"a":1}x`:     "more than one value",
		`[]`:           "an array",
		`"s"`:          "a string",
		`null`:         "null",
		`{"a":1,}`:     "not valid JSON",
		`{'a':1}`:      "not valid JSON",
		"{\"a\":\x00}": "not valid JSON",
	} {
		_, e := decodeObject([]byte(in))
		if e == nil || e.status != 400 || !strings.Contains(e.message, mention) {
			t.Errorf("decodeObject(%q) = %v; want 400 mentioning %q", in, e, mention)
		}
	}
}

func TestCursor(t *testing.T) {
	for _, id := range []string{"a", "01HZZZZZZZZZZZZZZZZZZZZZZZ", "with/slash and space", strings.Repeat("x", maxIDBytes)} {
		got, e := decodeCursor(encodeCursor(id))
		if e != nil || got != id {
			t.Errorf("cursor of %q came back as %q, %v", id, got, e)
		}
	}
	for _, bad := range []string{"!", "e30", encodeCursor(strings.Repeat("x", maxIDBytes+1))} {
		if _, e := decodeCursor(bad); e == nil || e.status != 400 {
			t.Errorf("decodeCursor(%q) accepted", bad)
		}
	}
}

func TestCheckID(t *testing.T) {
	for id, ok := range map[string]bool{"a": true, "ünï": true, "": false, "a\nb": false, strings.Repeat("k", maxIDBytes): true, strings.Repeat("k", maxIDBytes+1): false} {
		if e := checkID("id", id); (e == nil) != ok {
			t.Errorf("checkID(%.20q) = %v, want ok=%v", id, e, ok)
		}
	}
}

// FuzzDecodeObject checks that no body crashes decoding and conversion, and
// that what is accepted round-trips.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":null}]}`, `{"n":1e400}`, `[`, `{"a":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		obj, e := decodeObject(body)
		if e != nil {
			if e.status != 400 {
				t.Fatalf("status %d", e.status)
			}
			return
		}
		if _, err := json.Marshal(fromItem(toItem(obj))); err != nil {
			t.Fatalf("an accepted body does not encode back: %v", err)
		}
	})
}
