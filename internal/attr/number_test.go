package attr

import (
	"errors"
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "3", want: "3"},
		{in: "-7.1234", want: "-7.1234"},
		{in: "-17e5", want: "-1700000"},
		{in: "-17.4E37", want: "-174" + strings.Repeat("0", 36)},
		{in: "+3", want: "3"},
		{in: ".123", want: "0.123"},
		{in: "0001.23", want: "1.23"},
		{in: "1.50", want: "1.5"},
		{in: "1e+5", want: "100000"},
		{in: "0e1000", want: "0"},
		{in: "-0", want: "0"},
		{in: "-0.000", want: "0"},
		{in: "1e125", want: "1" + strings.Repeat("0", 125)},
		{in: "1e-130", want: "0." + strings.Repeat("0", 129) + "1"},
		{in: "3.1415926535897932384626433832795028841", want: "3.1415926535897932384626433832795028841"},
		{in: "31415926535897932384626433832795028841e30", want: "31415926535897932384626433832795028841" + strings.Repeat("0", 30)},
		{in: "110111111111111110000000000000000000000", want: "110111111111111110000000000000000000000"},
		{in: "3.14159265358979323846264338327950288419", err: "more than 38 significant digits"},
		{in: "1e126", err: "overflow"},
		{in: "11e125", err: "overflow"},
		{in: "1e-131", err: "underflow"},
		{in: "0.9e-130", err: "underflow"},
		{in: "NaN", err: "numeric"},
		{in: "Infinity", err: "numeric"},
		{in: "-Infinity", err: "numeric"},
		{in: "dog", err: "numeric"},
		{in: " 1", err: "numeric"},
		{in: "1 ", err: "numeric"},
		{in: "", err: "numeric"},
		{in: "1e99999999999999", err: "numeric"},
		{in: "0x10", err: "numeric"},
	} {
		got, err := ParseNumber(tc.in)
		if tc.err != "" {
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseNumber(%q) = %q, %v; want a ValidationError containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseNumber(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestArithmetic(t *testing.T) {
	for _, tc := range []struct {
		a, b, sum, diff string
		err             string
	}{
		{a: "1", b: "10000000000000000000000", sum: "10000000000000000000001", diff: "-9999999999999999999999"},
		{a: "0.1", b: "0.2", sum: "0.3", diff: "-0.1"},
		{a: "9e125", b: "9e125", err: "overflow", diff: "0"},
		{a: "1e50", b: "1", err: "significant digits"},
	} {
		a, b := N(tc.a).Str, N(tc.b).Str
		sum, err := AddNumbers(a, b)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s + %s = %q, %v; want error containing %q", tc.a, tc.b, sum, err, tc.err)
			}
		} else if err != nil || sum != tc.sum {
			t.Errorf("%s + %s = %q, %v; want %q", tc.a, tc.b, sum, err, tc.sum)
		}
		if tc.diff == "" {
			continue
		}
		diff, err := SubtractNumbers(a, b)
		if err != nil || diff != tc.diff {
			t.Errorf("%s - %s = %q, %v; want %q", tc.a, tc.b, diff, err, tc.diff)
		}
	}
}

func TestSize(t *testing.T) {
	for _, tc := range []struct {
		item string
		want int
	}{
		{`{"a":{"S":"hello"}}`, 1 + 5},
		{`{"ab":{"N":"12345"}}`, 2 + 3 + 1},
		{`{"n":{"N":"1000"}}`, 1 + 1 + 1},
		{`{"n":{"N":"-0.00123"}}`, 1 + 2 + 1},
		{`{"b":{"B":"AAEC"}}`, 1 + 3},
		{`{"t":{"BOOL":true},"z":{"NULL":true}}`, 2 + 2},
		{`{"m":{"M":{}}}`, 1 + 3},
		{`{"m":{"M":{"x":{"S":"yz"}}}}`, 1 + 3 + (1 + 2 + 1)},
		{`{"l":{"L":[{"S":"a"},{"N":"1"}]}}`, 1 + 3 + (1 + 1) + (2 + 1)},
		{`{"ss":{"SS":["a","bc"]}}`, 2 + 3},
	} {
		var it Item
		if err := it.UnmarshalJSONString(tc.item); err != nil {
			t.Fatal(err)
		}
		if got := it.Size(); got != tc.want {
			t.Errorf("Size(%s) = %d, want %d", tc.item, got, tc.want)
		}
	}
}
