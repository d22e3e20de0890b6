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

// BenchmarkVerifySigV4a measures Verify on SigV4a-signed requests by body
// size. The ECDSA verification dominates small requests; "uncached-key"
// adds the key derivation the public key cache saves, and
// "rejected/wrong-secret" is what a client without the secret costs.
func BenchmarkVerifySigV4a(b *testing.B) {
	run := func(b *testing.B, s sdkRequest, edit func(*Options), wantOK bool) {
		r, body := signV4a(b, s, "us-*,eu-west-1")
		v := newTestVerifier(b, newFakeClock(signedAt), func(o *Options) {
			v4aOptions("us-east-1")(o)
			if edit != nil {
				edit(o)
			}
		})
		if _, err := v.Verify(r, body); (err == nil) != wantOK {
			b.Fatalf("Verify = %v, want ok=%v", err, wantOK)
		}
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := v.Verify(r, body); (err == nil) != wantOK {
				b.Fatalf("Verify = %v, want ok=%v", err, wantOK)
			}
		}
	}
	sized := func(size int) sdkRequest {
		s := apiRequest()
		s.body = bytes.Repeat([]byte("x"), size)
		return s
	}
	for _, size := range []int{0, 256, 4 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("body=%d", size), func(b *testing.B) { run(b, sized(size), nil, true) })
	}
	b.Run("body=256/uncached-key", func(b *testing.B) {
		run(b, sized(256), func(o *Options) { o.KeyCacheSize = -1 }, true)
	})
	b.Run("rejected/wrong-secret", func(b *testing.B) {
		s := sized(256)
		s.secret = "wrong"
		run(b, s, nil, false)
	})
	b.Run("rejected/region-set", func(b *testing.B) {
		run(b, sized(256), func(o *Options) { o.Region = "ap-south-1" }, false)
	})
}
