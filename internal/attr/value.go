package attr

import (
	"bytes"
	"fmt"
	"slices"
)

// Type is the data type of a Value, named as DynamoDB names it.
type Type uint8

// The AttributeValue types. The zero Type is invalid.
const (
	Invalid   Type = iota
	String         // S
	Number         // N
	Binary         // B
	Bool           // BOOL
	Null           // NULL
	Map            // M
	List           // L
	StringSet      // SS
	NumberSet      // NS
	BinarySet      // BS
)

var typeNames = [...]string{"", "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}

// String returns DynamoDB's name for the type: "S", "N", "SS", ...
func (t Type) String() string {
	if int(t) < len(typeNames) && t != Invalid {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// ParseType returns the Type DynamoDB names s ("S", "N", "BOOL", ...).
func ParseType(s string) (Type, bool) {
	for i, n := range typeNames {
		if i > 0 && n == s {
			return Type(i), true
		}
	}
	return Invalid, false
}

// IsSet reports whether t is one of the set types.
func (t Type) IsSet() bool { return t == StringSet || t == NumberSet || t == BinarySet }

// IsScalarKey reports whether t can be the type of a key attribute (S, N, B).
func (t Type) IsScalarKey() bool { return t == String || t == Number || t == Binary }

// Value is one DynamoDB AttributeValue. Only the fields for its Type are
// meaningful:
//
//	String     Str
//	Number     Str, in canonical form (see ParseNumber)
//	Binary     Bin
//	Bool       Bool
//	Null       nothing
//	Map        M
//	List       L
//	StringSet  Strs
//	NumberSet  Strs, each in canonical form
//	BinarySet  Bins
//
// Values share their slices and maps when copied; use Clone before changing
// a Value that someone else may hold.
type Value struct {
	Type Type
	Str  string
	Bin  []byte
	Bool bool
	M    map[string]Value
	L    []Value
	Strs []string
	Bins [][]byte
}

// Item is a DynamoDB item: attribute names to values.
type Item map[string]Value

// S returns a String value.
func S(s string) Value { return Value{Type: String, Str: s} }

// B returns a Binary value.
func B(b []byte) Value { return Value{Type: Binary, Bin: b} }

// BoolValue returns a BOOL value.
func BoolValue(b bool) Value { return Value{Type: Bool, Bool: b} }

// NullValue returns the NULL value.
func NullValue() Value { return Value{Type: Null} }

// MapValue returns a Map value holding m.
func MapValue(m map[string]Value) Value { return Value{Type: Map, M: m} }

// ListValue returns a List value holding l.
func ListValue(l []Value) Value { return Value{Type: List, L: l} }

// N returns a Number value for the decimal string s, which must be a valid
// DynamoDB number; it panics otherwise, so use it only for constants.
func N(s string) Value {
	c, err := ParseNumber(s)
	if err != nil {
		panic(fmt.Sprintf("attr.N(%q): %v", s, err))
	}
	return Value{Type: Number, Str: c}
}

// Equal reports whether a and b are the same value. Sets are equal when they
// hold the same members in any order; numbers compare by value.
func Equal(a, b Value) bool {
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case String:
		return a.Str == b.Str
	case Number:
		return CompareNumbers(a.Str, b.Str) == 0
	case Binary:
		return bytes.Equal(a.Bin, b.Bin)
	case Bool:
		return a.Bool == b.Bool
	case Null:
		return true
	case Map:
		if len(a.M) != len(b.M) {
			return false
		}
		for k, av := range a.M {
			bv, ok := b.M[k]
			if !ok || !Equal(av, bv) {
				return false
			}
		}
		return true
	case List:
		return slices.EqualFunc(a.L, b.L, Equal)
	case StringSet:
		return sameMembers(a.Strs, b.Strs, func(x, y string) bool { return x == y })
	case NumberSet:
		return sameMembers(a.Strs, b.Strs, func(x, y string) bool { return CompareNumbers(x, y) == 0 })
	case BinarySet:
		return sameMembers(a.Bins, b.Bins, bytes.Equal)
	}
	return false
}

// sameMembers reports whether two duplicate-free sets hold the same members.
func sameMembers[T any](a, b []T, eq func(T, T) bool) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y T) bool { return eq(x, y) }) {
			return false
		}
	}
	return true
}

// ItemsEqual reports whether two items hold the same attributes and values.
func ItemsEqual(a, b Item) bool {
	return Equal(MapValue(a), MapValue(b))
}

// Clone returns a deep copy of v that shares no memory with it.
func (v Value) Clone() Value {
	switch v.Type {
	case Binary:
		v.Bin = bytes.Clone(v.Bin)
	case Map:
		m := make(map[string]Value, len(v.M))
		for k, e := range v.M {
			m[k] = e.Clone()
		}
		v.M = m
	case List:
		l := make([]Value, len(v.L))
		for i, e := range v.L {
			l[i] = e.Clone()
		}
		v.L = l
	case StringSet, NumberSet:
		v.Strs = slices.Clone(v.Strs)
	case BinarySet:
		bs := make([][]byte, len(v.Bins))
		for i, b := range v.Bins {
			bs[i] = bytes.Clone(b)
		}
		v.Bins = bs
	}
	return v
}

// Clone returns a deep copy of the item.
func (it Item) Clone() Item {
	if it == nil {
		return nil
	}
	c := make(Item, len(it))
	for k, v := range it {
		c[k] = v.Clone()
	}
	return c
}

// ValidationError reports input that breaks a rule of DynamoDB's data model
// or API. Msg is written for the client, in DynamoDB's words where DynamoDB
// has them; the protocol layer sends it as a ValidationException.
type ValidationError struct {
	Msg string
}

func (e *ValidationError) Error() string { return e.Msg }

// Invalidf returns a *ValidationError with a formatted message.
func Invalidf(format string, args ...any) error {
	return &ValidationError{Msg: fmt.Sprintf(format, args...)}
}
