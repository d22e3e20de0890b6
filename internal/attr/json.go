package attr

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// MaxDepth is DynamoDB's limit on the nesting of maps and lists.
const MaxDepth = 32

// UnmarshalJSON decodes DynamoDB's JSON form of an AttributeValue
// ({"S": "x"}, {"N": "1.5"}, {"M": {...}}, ...) and validates it: exactly one
// type, numbers within DynamoDB's limits (stored in canonical form), sets
// non-empty and without duplicates. A value of the wrong JSON kind is a
// *json.UnmarshalTypeError; well-formed JSON that breaks a rule is a
// *ValidationError. It reads its input once, however deeply nested.
func (v *Value) UnmarshalJSON(data []byte) error {
	d := jsonDecoder{b: data}
	if err := d.value(v, 0); err != nil {
		return err
	}
	if d.peek() != 0 {
		return errJSONSyntax
	}
	return nil
}

// checkSet canonicalizes the members of a number set and rejects empty sets
// and duplicates, as DynamoDB does.
func (v *Value) checkSet() error {
	var size int
	switch v.Type {
	case StringSet, NumberSet:
		size = len(v.Strs)
	case BinarySet:
		size = len(v.Bins)
	}
	if size == 0 {
		kind := map[Type]string{StringSet: "string", NumberSet: "number", BinarySet: "binary"}[v.Type]
		return Invalidf("One or more parameter values were invalid: An %s set  may not be empty", kind)
	}
	seen := make(map[string]struct{}, size)
	dup := func(k string) bool {
		if _, ok := seen[k]; ok {
			return true
		}
		seen[k] = struct{}{}
		return false
	}
	switch v.Type {
	case StringSet:
		for _, s := range v.Strs {
			if dup(s) {
				return errDuplicates(v.Strs)
			}
		}
	case NumberSet:
		for i, s := range v.Strs {
			c, err := ParseNumber(s)
			if err != nil {
				return err
			}
			v.Strs[i] = c
			if dup(c) {
				return errDuplicates(v.Strs)
			}
		}
	case BinarySet:
		for _, b := range v.Bins {
			if dup(string(b)) {
				strs := make([]string, len(v.Bins))
				for i, b := range v.Bins {
					strs[i] = base64.StdEncoding.EncodeToString(b)
				}
				return errDuplicates(strs)
			}
		}
	}
	return nil
}

func errDuplicates(members []string) error {
	list := strings.Join(members, ", ")
	if len(list) > 200 {
		list = list[:200] + "..."
	}
	return Invalidf("One or more parameter values were invalid: Input collection [%s] contains duplicates.", list)
}

// Depth returns how deeply v nests maps and lists: 0 for a scalar or set, 1
// for a map or list of scalars, and so on.
func (v Value) Depth() int {
	d := 0
	switch v.Type {
	case Map:
		for _, e := range v.M {
			d = max(d, e.Depth())
		}
		return d + 1
	case List:
		for _, e := range v.L {
			d = max(d, e.Depth())
		}
		return d + 1
	}
	return 0
}

// Validate checks the rules that decoding cannot see from inside one value:
// nesting depth, and for values built in code rather than decoded, the same
// set and number rules UnmarshalJSON applies.
func (v Value) Validate() error {
	if v.Depth() > MaxDepth {
		return Invalidf("Nesting Levels have exceeded supported limits: Nested levels allowed is %d", MaxDepth)
	}
	return v.validate()
}

func (v Value) validate() error {
	switch v.Type {
	case Invalid:
		return Invalidf("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	case Number:
		if _, err := ParseNumber(v.Str); err != nil {
			return err
		}
	case StringSet, NumberSet, BinarySet:
		c := v
		c.Strs = append([]string(nil), v.Strs...)
		return c.checkSet()
	case Map:
		for _, e := range v.M {
			if err := e.validate(); err != nil {
				return err
			}
		}
	case List:
		for _, e := range v.L {
			if err := e.validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Validate checks every attribute of the item (see Value.Validate) and that
// no attribute name is empty.
func (it Item) Validate() error {
	for k, v := range it {
		if k == "" {
			return Invalidf("One or more parameter values were invalid: An AttributeValue may not contain an empty attribute name")
		}
		if err := v.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// MarshalJSON encodes v in DynamoDB's JSON form.
func (v Value) MarshalJSON() ([]byte, error) {
	return v.AppendJSON(nil), nil
}

// AppendJSON appends v's DynamoDB JSON form to buf and returns the result.
func (v Value) AppendJSON(buf []byte) []byte {
	switch v.Type {
	case String:
		buf = append(buf, `{"S":`...)
		buf = appendJSONString(buf, v.Str)
	case Number:
		buf = append(buf, `{"N":"`...)
		buf = append(buf, v.Str...)
		buf = append(buf, '"')
	case Binary:
		buf = append(buf, `{"B":"`...)
		buf = base64.StdEncoding.AppendEncode(buf, v.Bin)
		buf = append(buf, '"')
	case Bool:
		if v.Bool {
			return append(buf, `{"BOOL":true}`...)
		}
		return append(buf, `{"BOOL":false}`...)
	case Null:
		return append(buf, `{"NULL":true}`...)
	case Map:
		buf = append(buf, `{"M":`...)
		buf = appendJSONMap(buf, v.M)
	case List:
		buf = append(buf, `{"L":[`...)
		for i, e := range v.L {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = e.AppendJSON(buf)
		}
		buf = append(buf, ']')
	case StringSet, NumberSet:
		if v.Type == StringSet {
			buf = append(buf, `{"SS":[`...)
		} else {
			buf = append(buf, `{"NS":[`...)
		}
		for i, s := range v.Strs {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, s)
		}
		buf = append(buf, ']')
	case BinarySet:
		buf = append(buf, `{"BS":[`...)
		for i, b := range v.Bins {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, '"')
			buf = base64.StdEncoding.AppendEncode(buf, b)
			buf = append(buf, '"')
		}
		buf = append(buf, ']')
	default:
		return append(buf, `{}`...)
	}
	return append(buf, '}')
}

// MarshalJSON encodes the item as a JSON object of AttributeValues.
func (it Item) MarshalJSON() ([]byte, error) {
	return appendJSONMap(nil, it), nil
}

// AppendJSON appends the item's JSON form to buf and returns the result.
func (it Item) AppendJSON(buf []byte) []byte { return appendJSONMap(buf, it) }

func appendJSONMap(buf []byte, m map[string]Value) []byte {
	buf = append(buf, '{')
	first := true
	for k, e := range m {
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = appendJSONString(buf, k)
		buf = append(buf, ':')
		buf = e.AppendJSON(buf)
	}
	return append(buf, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping what JSON requires
// and replacing invalid UTF-8 with U+FFFD as encoding/json does.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// UnmarshalJSONString decodes a JSON object of AttributeValues into it.
func (it *Item) UnmarshalJSONString(s string) error {
	m := map[string]Value{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return err
	}
	*it = m
	return nil
}
