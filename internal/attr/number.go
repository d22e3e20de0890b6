package attr

import (
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// DynamoDB's number limits: 38 significant digits, and magnitudes from 1E-130
// to 9.9999999999999999999999999999999999999E+125.
const (
	MaxDigits      = 38
	maxAdjustedExp = 125
	minAdjustedExp = -130
)

// exact is the context for arithmetic on valid numbers: wide enough that the
// sum or difference of any two of them is exact, so that only the result's
// validation decides whether it is storable.
var exact = apd.BaseContext.WithPrecision(2 * (maxAdjustedExp - minAdjustedExp + MaxDigits))

// ParseNumber checks that s is a number DynamoDB accepts and returns it in
// canonical form: plain decimal notation with no exponent, no leading or
// trailing zeros and no sign on zero ("1.50" -> "1.5", "-0" -> "0",
// "1.5E2" -> "150"). This is the form DynamoDB returns numbers in.
func ParseNumber(s string) (string, error) {
	d, err := parseDecimal(s)
	if err != nil {
		return "", err
	}
	return formatDecimal(d)
}

func parseDecimal(s string) (*apd.Decimal, error) {
	// apd accepts forms DynamoDB does not: NaN, Infinity, surrounding space.
	if s == "" || strings.ContainsAny(s, " \t\n\r") {
		return nil, errNotNumeric(s)
	}
	d, _, err := apd.NewFromString(s)
	if err != nil || d.Form != apd.Finite {
		return nil, errNotNumeric(s)
	}
	return d, nil
}

func errNotNumeric(s string) error {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return Invalidf("The parameter cannot be converted to a numeric value: %s", s)
}

// formatDecimal validates d against DynamoDB's limits and renders it in
// canonical form. It modifies d.
func formatDecimal(d *apd.Decimal) (string, error) {
	if d.IsZero() {
		return "0", nil
	}
	d.Reduce(d)
	digits := d.NumDigits()
	if digits > MaxDigits {
		return "", Invalidf("Attempting to store more than %d significant digits in a Number", MaxDigits)
	}
	adjusted := int64(d.Exponent) + digits - 1
	if adjusted > maxAdjustedExp {
		return "", Invalidf("Number overflow. Attempting to store a number with magnitude larger than supported range")
	}
	if adjusted < minAdjustedExp {
		return "", Invalidf("Number underflow. Attempting to store a number with magnitude smaller than supported range")
	}
	return d.Text('f'), nil
}

// Decimal returns the value of the canonical number n. It panics if n is not
// a valid number, which cannot happen for a Number Value that passed
// validation.
func Decimal(n string) *apd.Decimal {
	d, _, err := apd.NewFromString(n)
	if err != nil {
		panic("attr: invalid canonical number " + n)
	}
	return d
}

// CompareNumbers compares two canonical numbers by value, returning -1, 0 or
// +1.
func CompareNumbers(a, b string) int {
	if a == b {
		return 0
	}
	return Decimal(a).Cmp(Decimal(b))
}

// AddNumbers returns a+b in canonical form, or a *ValidationError if the
// result is outside DynamoDB's limits.
func AddNumbers(a, b string) (string, error) {
	var r apd.Decimal
	if _, err := exact.Add(&r, Decimal(a), Decimal(b)); err != nil {
		return "", Invalidf("Number overflow. Attempting to store a number with magnitude larger than supported range")
	}
	return formatDecimal(&r)
}

// SubtractNumbers returns a-b in canonical form, or a *ValidationError if the
// result is outside DynamoDB's limits.
func SubtractNumbers(a, b string) (string, error) {
	var r apd.Decimal
	if _, err := exact.Sub(&r, Decimal(a), Decimal(b)); err != nil {
		return "", Invalidf("Number overflow. Attempting to store a number with magnitude larger than supported range")
	}
	return formatDecimal(&r)
}

// numberSize is the number's share of an item's size as DynamoDB counts it:
// one byte per two significant digits, plus one.
func numberSize(n string) int {
	digits := 0
	started := false
	trailingZeros := 0
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < '0' || c > '9' {
			continue
		}
		if c == '0' && !started {
			continue
		}
		started = true
		digits++
		if c == '0' {
			trailingZeros++
		} else {
			trailingZeros = 0
		}
	}
	digits -= trailingZeros
	return (digits+1)/2 + 1
}
