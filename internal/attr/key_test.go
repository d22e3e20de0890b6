package attr

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/quick"
)

// randomNumber returns a random valid number with few digits and a wide
// range of exponents, so that interesting orderings are common.
func randomNumber(r *rand.Rand) string {
	if r.IntN(10) == 0 {
		return "0"
	}
	digits := make([]byte, 1+r.IntN(6))
	for i := range digits {
		digits[i] = byte('0' + r.IntN(10))
	}
	digits[0] = byte('1' + r.IntN(9))
	s := fmt.Sprintf("%se%d", digits, r.IntN(40)-20)
	if r.IntN(2) == 0 {
		s = "-" + s
	}
	c, err := ParseNumber(s)
	if err != nil {
		panic(err)
	}
	return c
}

func keyOf(t testing.TB, v Value) []byte {
	k, err := AppendKey(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNumberKeyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		a, b := randomNumber(r), randomNumber(r)
		want := CompareNumbers(a, b)
		got := bytes.Compare(keyOf(t, Value{Type: Number, Str: a}), keyOf(t, Value{Type: Number, Str: b}))
		if got != want {
			t.Fatalf("key order of %s and %s is %d, numeric order is %d", a, b, got, want)
		}
	}
}

func TestStringKeyOrder(t *testing.T) {
	f := func(a, b string, sa, sb string) bool {
		// Composite keys: the first component decides, then the second.
		ka := append(keyOf(t, S(a)), keyOf(t, S(sa))...)
		kb := append(keyOf(t, S(b)), keyOf(t, S(sb))...)
		want := strings.Compare(a, b)
		if want == 0 {
			want = strings.Compare(sa, sb)
		}
		return bytes.Compare(ka, kb) == want
	}
	cfg := &quick.Config{MaxCount: 20000, Values: nil}
	if err := quick.Check(f, cfg); err != nil {
		t.Error(err)
	}
	// Strings with NUL bytes and prefixes are the cases that break naive
	// encodings.
	for _, pair := range [][2]string{{"a", "a\x00"}, {"a\x00", "a\x00\x00"}, {"a\x00b", "a\x01"}, {"", "\x00"}, {"ab", "a\xff"}} {
		if bytes.Compare(keyOf(t, S(pair[0])), keyOf(t, S(pair[1]))) >= 0 {
			t.Errorf("key(%q) should sort before key(%q)", pair[0], pair[1])
		}
	}
}

func TestKeyRejectsNonKeyTypes(t *testing.T) {
	for _, v := range []Value{BoolValue(true), NullValue(), MapValue(nil), ListValue(nil)} {
		if _, err := AppendKey(nil, v); err == nil {
			t.Errorf("AppendKey(%v) succeeded; want an error", v.Type)
		}
	}
}

func FuzzNumberKey(f *testing.F) {
	for _, s := range []string{"0", "1", "-1", "0.5", "-0.5", "10", "1e125", "-1e-130", "123.456"} {
		f.Add(s, "1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ca, err := ParseNumber(a)
		if err != nil {
			return
		}
		cb, err := ParseNumber(b)
		if err != nil {
			return
		}
		want := CompareNumbers(ca, cb)
		got := bytes.Compare(keyOf(t, Value{Type: Number, Str: ca}), keyOf(t, Value{Type: Number, Str: cb}))
		if got != want {
			t.Fatalf("key order of %s and %s is %d, numeric order is %d", ca, cb, got, want)
		}
	})
}

func BenchmarkAppendKey(b *testing.B) {
	for _, v := range []Value{S("user#000123"), N("12345.678"), B(bytes.Repeat([]byte{1}, 64))} {
		b.Run(v.Type.String(), func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 128)
			for b.Loop() {
				buf, _ = AppendKey(buf[:0], v)
			}
		})
	}
}
