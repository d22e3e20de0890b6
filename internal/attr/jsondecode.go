package attr

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"unicode/utf8"
)

// A one-pass decoder for DynamoDB's AttributeValue JSON. encoding/json hands
// UnmarshalJSON each value's raw bytes; decoding nested maps and lists with
// encoding/json again would rescan every level, costing size x depth. This
// decoder reads each byte once.

// maxDecodeDepth bounds recursion; deeper values are rejected long before
// (DynamoDB allows 32 levels).
const maxDecodeDepth = 2*MaxDepth + 16

var errJSONSyntax = errors.New("attr: malformed JSON")

type jsonDecoder struct {
	b   []byte
	pos int
}

func (d *jsonDecoder) ws() {
	for d.pos < len(d.b) {
		switch d.b[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) peek() byte {
	d.ws()
	if d.pos >= len(d.b) {
		return 0
	}
	return d.b[d.pos]
}

func (d *jsonDecoder) expect(c byte) error {
	if d.peek() != c {
		return errJSONSyntax
	}
	d.pos++
	return nil
}

// typeError reports a JSON value of the wrong kind where field wanted typ,
// as encoding/json would.
func typeError(field, value string, typ reflect.Type) error {
	return &json.UnmarshalTypeError{Value: value, Type: typ, Field: field}
}

var (
	stringType = reflect.TypeOf("")
	boolType   = reflect.TypeOf(false)
	bytesType  = reflect.TypeOf([]byte(nil))
	mapType    = reflect.TypeOf(map[string]Value(nil))
	listType   = reflect.TypeOf([]Value(nil))
	strsType   = reflect.TypeOf([]string(nil))
	binsType   = reflect.TypeOf([][]byte(nil))
	valueType  = reflect.TypeOf(Value{})
)

// kindOf names the JSON kind starting at the next byte, for errors.
func (d *jsonDecoder) kindOf() string {
	switch c := d.peek(); {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "bool"
	case c == 'n':
		return "null"
	default:
		return "number"
	}
}

// null consumes a JSON null if one is next.
func (d *jsonDecoder) null() bool {
	if d.peek() == 'n' && d.pos+4 <= len(d.b) && string(d.b[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		return true
	}
	return false
}

// str reads a JSON string.
func (d *jsonDecoder) str(field string) (string, error) {
	if d.peek() != '"' {
		return "", typeError(field, d.kindOf(), stringType)
	}
	start := d.pos + 1
	i := start
	simple := true
	for ; i < len(d.b); i++ {
		c := d.b[i]
		if c == '"' {
			break
		}
		if c == '\\' {
			simple = false
			i++
			continue
		}
		if c < 0x20 {
			return "", errJSONSyntax
		}
		if c >= utf8.RuneSelf {
			simple = false
		}
	}
	if i >= len(d.b) {
		return "", errJSONSyntax
	}
	raw := d.b[start:i]
	d.pos = i + 1
	if simple {
		return string(raw), nil
	}
	if utf8.Valid(raw) && !containsByte(raw, '\\') {
		return string(raw), nil
	}
	// Escapes or invalid UTF-8: let encoding/json apply its rules.
	var s string
	if err := json.Unmarshal(d.b[start-1:d.pos], &s); err != nil {
		return "", errJSONSyntax
	}
	return s, nil
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

func (d *jsonDecoder) boolean(field string) (bool, error) {
	d.ws()
	switch {
	case d.pos+4 <= len(d.b) && string(d.b[d.pos:d.pos+4]) == "true":
		d.pos += 4
		return true, nil
	case d.pos+5 <= len(d.b) && string(d.b[d.pos:d.pos+5]) == "false":
		d.pos += 5
		return false, nil
	}
	return false, typeError(field, d.kindOf(), boolType)
}

func (d *jsonDecoder) binary(field string) ([]byte, error) {
	s, err := d.str(field)
	if err != nil {
		if _, ok := err.(*json.UnmarshalTypeError); ok {
			return nil, typeError(field, d.kindOf(), bytesType)
		}
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err // a base64.CorruptInputError, as encoding/json gives
	}
	return b, nil
}

// skip consumes any JSON value (an unknown member).
func (d *jsonDecoder) skip(depth int) error {
	if depth > maxDecodeDepth {
		return errJSONSyntax
	}
	switch c := d.peek(); c {
	case '"':
		_, err := d.str("")
		return err
	case '{':
		d.pos++
		if d.peek() == '}' {
			d.pos++
			return nil
		}
		for {
			if _, err := d.str(""); err != nil {
				return err
			}
			if err := d.expect(':'); err != nil {
				return err
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			switch d.peek() {
			case ',':
				d.pos++
			case '}':
				d.pos++
				return nil
			default:
				return errJSONSyntax
			}
		}
	case '[':
		d.pos++
		if d.peek() == ']' {
			d.pos++
			return nil
		}
		for {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			switch d.peek() {
			case ',':
				d.pos++
			case ']':
				d.pos++
				return nil
			default:
				return errJSONSyntax
			}
		}
	default:
		// A number or literal: consume its characters.
		start := d.pos
		for d.pos < len(d.b) {
			c := d.b[d.pos]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r' {
				break
			}
			d.pos++
		}
		if d.pos == start {
			return errJSONSyntax
		}
		return nil
	}
}

// array calls elem for each element of a JSON array; null is an absent
// array (elem is not called and present is false).
func (d *jsonDecoder) array(field string, typ reflect.Type, elem func() error) (present bool, err error) {
	if d.null() {
		return false, nil
	}
	if d.peek() != '[' {
		return false, typeError(field, d.kindOf(), typ)
	}
	d.pos++
	if d.peek() == ']' {
		d.pos++
		return true, nil
	}
	for {
		if err := elem(); err != nil {
			return true, err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return true, nil
		default:
			return true, errJSONSyntax
		}
	}
}

// object calls member for each member of a JSON object; null is absent.
func (d *jsonDecoder) object(field string, typ reflect.Type, member func(key string) error) (present bool, err error) {
	if d.null() {
		return false, nil
	}
	if d.peek() != '{' {
		return false, typeError(field, d.kindOf(), typ)
	}
	d.pos++
	if d.peek() == '}' {
		d.pos++
		return true, nil
	}
	for {
		k, err := d.str(field)
		if err != nil {
			return true, errJSONSyntax
		}
		if err := d.expect(':'); err != nil {
			return true, err
		}
		if err := member(k); err != nil {
			return true, err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return true, nil
		default:
			return true, errJSONSyntax
		}
	}
}

// value decodes one AttributeValue with the same results, and the same
// validation, as decoding wireValue with encoding/json: it reads the
// object's members (member), then checks what needs the whole object
// (valueState.finish).
func (d *jsonDecoder) value(v *Value, depth int) error {
	if depth > maxDecodeDepth {
		return Invalidf("Nesting Levels have exceeded supported limits: Nested levels allowed is %d", MaxDepth)
	}
	*v = Value{}
	var s valueState
	_, err := d.object("", valueType, func(key string) error { return d.member(v, &s, key, depth) })
	if err != nil {
		return err
	}
	return s.finish(v)
}

// valueState is what value has read of one AttributeValue object besides
// the value itself: what cannot be checked until the object ends. (It does
// not hold the value: a pointer kept in it would make the compiler move
// every decoded Value to the heap.)
type valueState struct {
	// types counts the type members read; exactly one is valid.
	types int
	// num is the text of the N member, parsed at the end.
	num string
	// nullFalse says the NULL member was false.
	nullFalse bool
}

// set records that v has a member of type t. A repeated member counts
// once, the last one winning, as with encoding/json.
func (s *valueState) set(v *Value, t Type) {
	if v.Type == Invalid || v.Type != t {
		s.types++
	}
	v.Type = t
}

// member decodes the member named key of the AttributeValue object at
// depth into v and s. A null member is absent; an unknown one is skipped.
func (d *jsonDecoder) member(v *Value, s *valueState, key string, depth int) error {
	if d.null() {
		return nil
	}
	switch key {
	case "S":
		str, err := d.str("S")
		if err != nil {
			return err
		}
		s.set(v, String)
		v.Str = str
	case "N":
		str, err := d.str("N")
		if err != nil {
			return err
		}
		s.set(v, Number)
		s.num = str
	case "B":
		b, err := d.binary("B")
		if err != nil {
			return err
		}
		s.set(v, Binary)
		if b == nil {
			b = []byte{}
		}
		v.Bin = b
	case "BOOL":
		b, err := d.boolean("BOOL")
		if err != nil {
			return err
		}
		s.set(v, Bool)
		v.Bool = b
	case "NULL":
		b, err := d.boolean("NULL")
		if err != nil {
			return err
		}
		s.set(v, Null)
		s.nullFalse = !b
	case "M":
		m, err := d.mapMember(depth)
		if err != nil {
			return err
		}
		s.set(v, Map)
		v.M = m
	case "L":
		l, err := d.listMember(depth)
		if err != nil {
			return err
		}
		s.set(v, List)
		v.L = l
	case "SS", "NS":
		ss, err := d.stringsMember(key)
		if err != nil {
			return err
		}
		if key == "SS" {
			s.set(v, StringSet)
		} else {
			s.set(v, NumberSet)
		}
		v.Strs = ss
	case "BS":
		bs, err := d.binariesMember()
		if err != nil {
			return err
		}
		s.set(v, BinarySet)
		v.Bins = bs
	default:
		return d.skip(depth + 1)
	}
	return nil
}

// mapMember decodes the object of an M member of a value at depth.
func (d *jsonDecoder) mapMember(depth int) (map[string]Value, error) {
	m := map[string]Value{}
	_, err := d.object("M", mapType, func(k string) error {
		var e Value
		if err := d.value(&e, depth+1); err != nil {
			return err
		}
		m[k] = e
		return nil
	})
	return m, err
}

// listMember decodes the array of an L member of a value at depth.
func (d *jsonDecoder) listMember(depth int) ([]Value, error) {
	l := []Value{}
	_, err := d.array("L", listType, func() error {
		var e Value
		if err := d.value(&e, depth+1); err != nil {
			return err
		}
		l = append(l, e)
		return nil
	})
	return l, err
}

// stringsMember decodes the array of an SS or NS member (key); an empty
// array is nil, for finish to refuse.
func (d *jsonDecoder) stringsMember(key string) ([]string, error) {
	var ss []string
	_, err := d.array(key, strsType, func() error {
		s, err := d.str(key)
		if err != nil {
			return err
		}
		ss = append(ss, s)
		return nil
	})
	return ss, err
}

// binariesMember decodes the array of a BS member; an empty array is nil,
// for finish to refuse.
func (d *jsonDecoder) binariesMember() ([][]byte, error) {
	var bs [][]byte
	_, err := d.array("BS", binsType, func() error {
		b, err := d.binary("BS")
		if err != nil {
			return err
		}
		bs = append(bs, b)
		return nil
	})
	return bs, err
}

// finish checks what needs the whole object: exactly one type, a number
// within DynamoDB's limits (stored in canonical form), NULL true, sets
// valid.
func (s *valueState) finish(v *Value) error {
	switch {
	case s.types == 0:
		return Invalidf("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	case s.types > 1:
		return Invalidf("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	switch v.Type {
	case Number:
		c, err := ParseNumber(s.num)
		if err != nil {
			return err
		}
		v.Str = c
	case Null:
		if s.nullFalse {
			return Invalidf("One or more parameter values were invalid: Null attribute value types must have the value of true")
		}
	case StringSet, NumberSet, BinarySet:
		return v.checkSet()
	}
	return nil
}
