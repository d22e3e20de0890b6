package attr

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// errClass sorts decoding errors the way the protocol layer does: input
// that breaks a rule (ValidationException) or that is not the JSON expected
// (SerializationException).
func errClass(err error) string {
	var ve *ValidationError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ve):
		return "validation"
	default:
		return "serialization"
	}
}

var (
	typeKeyRE = regexp.MustCompile(`"((?i)s|n|b|bool|null|m|l|ss|ns|bs)"\s*:`)
	// encoding/json also reads a []byte from an array of numbers; DynamoDB
	// and the one-pass decoder want base64 strings only.
	byteArrayRE = regexp.MustCompile(`"B"\s*:\s*\[|"BS"\s*:\s*\[\s*\[`)
)

// caseVariantKey reports whether data has a member whose name matches a
// type name only ignoring case: encoding/json matches those, DynamoDB and
// the one-pass decoder do not.
func caseVariantKey(data []byte) bool {
	for _, m := range typeKeyRE.FindAllSubmatch(data, -1) {
		k := string(m[1])
		if k != strings.ToUpper(k) {
			return true
		}
	}
	return false
}

func FuzzUnmarshalJSON(f *testing.F) {
	for _, s := range []string{
		sampleItem,
		`{"S":"x"}`, `{"N":"1.50"}`, `{"B":"AAEC"}`, `{"BOOL":true}`, `{"NULL":true}`, `{"NULL":false}`,
		`{"M":{"a":{"L":[{"S":"x"},{"N":"1e3"},{"M":{}}]}}}`, `{"SS":["a","b"]}`, `{"NS":["1","1.0"]}`,
		`{"BS":["AQ=="]}`, `{"S":"\u00e9\n\"\\"}`, `{"S":null,"N":"1"}`, `{"X":{"y":[1,2,{"z":null}]},"S":"v"}`,
		`{"S":"x","S":"y"}`, `{"N":123}`, `{"L":{}}`, `{}`, `{"SS":[]}`, `{"M":null}`, `{"B":"!!"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) || caseVariantKey(data) || byteArrayRE.Match(data) {
			return
		}
		var got, want Value
		gerr := got.UnmarshalJSON(data)
		werr := unmarshalReference(&want, data)
		if errClass(gerr) != errClass(werr) {
			t.Fatalf("%s: one-pass decoder: %v; encoding/json decoder: %v", data, gerr, werr)
		}
		if gerr == nil && !Equal(got, want) {
			t.Fatalf("%s: one-pass decoded %s, encoding/json %s", data, got.AppendJSON(nil), want.AppendJSON(nil))
		}
	})
}

// TestDeepValueDecodesInLinearTime decodes a large value nested to the
// limit and checks it round-trips; the work is linear in the size (the old
// decoder rescanned every level), which BenchmarkUnmarshalDeep measures.
func TestDeepValueDecodesInLinearTime(t *testing.T) {
	inner := `{"S":"` + strings.Repeat("x", 1<<20) + `"}`
	for range MaxDepth {
		inner = `{"L":[` + inner + `]}`
	}
	var v Value
	start := time.Now()
	if err := v.UnmarshalJSON([]byte(inner)); err != nil {
		t.Fatal(err)
	}
	t.Logf("decoded a 1 MiB string nested %d deep in %v", MaxDepth, time.Since(start))
	if v.Depth() != MaxDepth {
		t.Fatalf("depth %d, want %d", v.Depth(), MaxDepth)
	}
}

func BenchmarkUnmarshalDeep(b *testing.B) {
	inner := `{"S":"` + strings.Repeat("x", 64<<10) + `"}`
	for range MaxDepth {
		inner = `{"L":[` + inner + `]}`
	}
	data := []byte(inner)
	b.Run("one-pass", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var v Value
			if err := v.UnmarshalJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var v Value
			if err := unmarshalReference(&v, data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkUnmarshalItem(b *testing.B) {
	data := []byte(`{"pk":{"S":"user#000123"},"sk":{"N":"42"},"payload":{"B":"` + strings.Repeat("QUJD", 256) + `"},"tags":{"SS":["a","b","c"]},"m":{"M":{"x":{"N":"1.5"},"y":{"BOOL":true}}}}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var it map[string]Value
		if err := json.Unmarshal(data, &it); err != nil {
			b.Fatal(err)
		}
	}
}

// putItemBody returns a PutItem request body whose Item has the key
// attributes, attrs scalar attributes of every type and lines order lines
// (maps in a list, as a document item holds them).
func putItemBody(attrs, lines int) []byte {
	var b strings.Builder
	b.WriteString(`{"TableName":"orders","ConditionExpression":"attribute_not_exists(#pk)",`)
	b.WriteString(`"ExpressionAttributeNames":{"#pk":"pk"},"ReturnValues":"NONE","Item":{`)
	b.WriteString(`"pk":{"S":"customer#000123"},"sk":{"N":"1718000000123"}`)
	for i := range attrs {
		switch i % 6 {
		case 0:
			fmt.Fprintf(&b, `,"name%d":{"S":"Ada Lovelace \u00e9 %d"}`, i, i)
		case 1:
			fmt.Fprintf(&b, `,"total%d":{"N":"%d.%02d"}`, i, i*37, i%100)
		case 2:
			fmt.Fprintf(&b, `,"paid%d":{"BOOL":%t}`, i, i%4 == 2)
		case 3:
			fmt.Fprintf(&b, `,"tags%d":{"SS":["new","gift","express-%d"]}`, i, i)
		case 4:
			fmt.Fprintf(&b, `,"blob%d":{"B":"%s"}`, i, strings.Repeat("QUJD", 8))
		case 5:
			fmt.Fprintf(&b, `,"note%d":{"NULL":true}`, i)
		}
	}
	if lines > 0 {
		b.WriteString(`,"lines":{"L":[`)
		for i := range lines {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"M":{"sku":{"S":"SKU-%06d"},"qty":{"N":"%d"},"price":{"N":"%d.99"},`+
				`"options":{"M":{"colour":{"S":"blue"},"sizes":{"NS":["%d","%d"]}}}}}`, i, i%5+1, i%50, i, i+1)
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`}}`)
	return []byte(b.String())
}

// BenchmarkUnmarshalPutItem decodes PutItem request bodies the way the
// protocol layer does (encoding/json into a struct whose Item is an Item),
// from a small flat item to a large document, so that the one-pass
// decoder is measured on what every write request carries.
func BenchmarkUnmarshalPutItem(b *testing.B) {
	type putItemRequest struct {
		TableName                string
		ConditionExpression      string
		ExpressionAttributeNames map[string]string
		ReturnValues             string
		Item                     Item
	}
	for _, size := range []struct {
		name         string
		attrs, lines int
	}{
		{"small", 6, 0},
		{"medium", 30, 10},
		{"large", 120, 400},
	} {
		data := putItemBody(size.attrs, size.lines)
		b.Run(fmt.Sprintf("%s-%dB", size.name, len(data)), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var req putItemRequest
				if err := json.Unmarshal(data, &req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
