package sigv4

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkVerify measures Verify on SDK-signed DynamoDB requests by body
// size. Hashing the body dominates large requests; "uncached-key" shows what
// the signing key cache saves.
func BenchmarkVerify(b *testing.B) {
	run := func(b *testing.B, size int, edit func(*Options)) {
		s := dynamoRequest()
		s.body = bytes.Repeat([]byte("x"), size)
		r, body := sign(b, s)
		v := newTestVerifier(b, newFakeClock(signedAt), edit)
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(size))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := v.Verify(r, body); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, size := range []int{0, 256, 4 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("body=%d", size), func(b *testing.B) { run(b, size, nil) })
	}
	b.Run("body=256/uncached-key", func(b *testing.B) {
		run(b, 256, func(o *Options) { o.KeyCacheSize = -1 })
	})
	b.Run("rejected/wrong-secret", func(b *testing.B) {
		s := dynamoRequest()
		s.secret = "wrong"
		r, body := sign(b, s)
		v := newTestVerifier(b, newFakeClock(signedAt), nil)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(r, body); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}
