package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"testing/quick"
)

// TestDeriveKey checks the example in AWS's documentation of how to derive a
// SigV4 signing key.
func TestDeriveKey(t *testing.T) {
	k := deriveKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
	const want = "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
	if got := hex.EncodeToString(k[:]); got != want {
		t.Errorf("deriveKey = %s, want %s", got, want)
	}
}

// TestHMAC checks the allocation-free HMAC against crypto/hmac.
func TestHMAC(t *testing.T) {
	prop := func(key signingKey, msg []byte) bool {
		got := finishHMAC(&key, append(appendInnerKey(nil, &key), msg...))
		m := hmac.New(sha256.New, key[:])
		m.Write(msg)
		return hmac.Equal(got[:], m.Sum(nil))
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
}
