package attr

import (
	"fmt"
	"strings"
)

// Order-preserving key encoding. AppendKey writes a key value so that the
// encodings of two values of the same type compare, as byte strings, the way
// DynamoDB orders the values: strings and binaries by their bytes, numbers
// numerically. Every encoding is self-delimiting, so a key made of several
// encoded values sorts by the first, then the second, and a scan of all keys
// with one encoded prefix finds exactly the keys that begin with that value.
//
//	S, B: the bytes with 0x00 escaped as 0x00 0xFF, then 0x00 0x01.
//	N:    a class byte (negative 0x01, zero 0x02, positive 0x03), then for
//	      non-zero numbers the decimal exponent (biased, two bytes) and the
//	      significant digits as ASCII, then 0x00; for negative numbers every
//	      byte after the class byte is inverted, so larger magnitudes sort
//	      first.
const (
	numNegative = 0x01
	numZero     = 0x02
	numPositive = 0x03
	expBias     = 0x8000
)

// AppendKey appends the order-preserving encoding of a key value (String,
// Number or Binary) to buf. It returns an error for any other type.
func AppendKey(buf []byte, v Value) ([]byte, error) {
	switch v.Type {
	case String:
		return appendEscaped(buf, v.Str), nil
	case Binary:
		return appendEscaped(buf, string(v.Bin)), nil
	case Number:
		return appendNumberKey(buf, v.Str), nil
	}
	return buf, fmt.Errorf("attr: %v is not a key type", v.Type)
}

func appendEscaped(buf []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			break
		}
		buf = append(buf, s[:i+1]...)
		buf = append(buf, 0xFF)
		s = s[i+1:]
	}
	buf = append(buf, s...)
	return append(buf, 0x00, 0x01)
}

// appendNumberKey encodes a canonical number. With the number written as
// 0.d1d2...dn x 10^e (d1 != 0, dn != 0), positive numbers order by e, then by
// the digit string, where a prefix sorts first.
func appendNumberKey(buf []byte, n string) []byte {
	neg := strings.HasPrefix(n, "-")
	if neg {
		n = n[1:]
	}
	intPart, frac, _ := strings.Cut(n, ".")
	intPart = strings.TrimLeft(intPart, "0")
	var digits string
	var exp int
	if intPart != "" {
		exp = len(intPart)
		digits = intPart + frac
	} else {
		trimmed := strings.TrimLeft(frac, "0")
		exp = -(len(frac) - len(trimmed))
		digits = trimmed
	}
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return append(buf, numZero)
	}
	class := byte(numPositive)
	if neg {
		class = numNegative
	}
	buf = append(buf, class)
	start := len(buf)
	e := uint16(exp + expBias)
	buf = append(buf, byte(e>>8), byte(e))
	buf = append(buf, digits...)
	buf = append(buf, 0x00)
	if neg {
		for i := start; i < len(buf); i++ {
			buf[i] = ^buf[i]
		}
	}
	return buf
}
