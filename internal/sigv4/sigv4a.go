package sigv4

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/big"
)

// Algorithm names a signing algorithm as it appears at the start of the
// Authorization header and in X-Amz-Algorithm.
type Algorithm string

const (
	// AlgorithmV4 is SigV4: an HMAC-SHA256 signature under a key derived from
	// the secret for one day, region and service.
	AlgorithmV4 Algorithm = "AWS4-HMAC-SHA256"

	// AlgorithmV4a is SigV4a: an ECDSA P-256 signature over SHA-256, under a
	// key pair derived from the access key id and secret, valid in every
	// region of the region set it signs (X-Amz-Region-Set). Verify accepts it
	// only when Options.AllowSigV4a is set.
	AlgorithmV4a Algorithm = "AWS4-ECDSA-P256-SHA256"
)

// SigV4a derives one P-256 key pair per access key pair, the way the AWS SDKs
// do (the SigV4a specification, after FIPS 186-4 B.4.2): NIST SP 800-108's
// KDF in counter mode with HMAC-SHA256 keyed by "AWS4A"+secret, label
// AlgorithmV4a, and context the access key id followed by one external
// counter byte, produces a 256-bit candidate c; a candidate above N-2, N the
// order of P-256, is refused and the counter incremented; the private scalar
// is c+1, so it lies in [1, N-1].
//
// The common runtime refuses only c > N-2 while the Go SDK also refuses
// c == N-2; they differ with probability 2^-256, and Gyre follows the
// former.

// maxKeyCounter is the last external counter value tried, as in the SDKs.
// Each candidate is refused with probability about 2^-32.
const maxKeyCounter = 254

// p256NMinus2 is N-2 for P-256, big-endian: the largest candidate accepted.
var p256NMinus2 = func() (b [32]byte) {
	n := new(big.Int).Sub(elliptic.P256().Params().N, big.NewInt(2))
	n.FillBytes(b[:])
	return b
}()

// errNoKeyCandidate is returned by deriveV4aKey when every counter yields a
// candidate above N-2, which no access key pair is expected ever to do.
var errNoKeyCandidate = errors.New("sigv4: no SigV4a key candidate below the P-256 order")

// deriveV4aKey derives the SigV4a key pair of an access key pair. It costs
// an HMAC and a scalar multiplication, so Verify caches the public key.
func deriveV4aKey(accessKeyID, secret string) (*ecdsa.PrivateKey, error) {
	mac := hmac.New(sha256.New, []byte("AWS4A"+secret))
	candidate := func(counter byte) (c [32]byte) {
		// The KDF's fixed input: i (one block of output suffices, so always
		// 1), the label, a zero byte, the context, and L, 256 bits.
		mac.Reset()
		mac.Write([]byte{0, 0, 0, 1})
		mac.Write([]byte(AlgorithmV4a))
		mac.Write([]byte{0})
		mac.Write([]byte(accessKeyID))
		mac.Write([]byte{counter})
		mac.Write([]byte{0, 0, 1, 0})
		mac.Sum(c[:0])
		return c
	}
	d, ok := pickScalar(candidate)
	if !ok {
		return nil, errNoKeyCandidate
	}
	return ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
}

// deriveV4aPublicKey derives the SigV4a key pair of an access key pair and
// returns its public half alone, so that a cache of public keys holds no
// private scalar.
func deriveV4aPublicKey(accessKeyID, secret string) (*ecdsa.PublicKey, error) {
	priv, err := deriveV4aKey(accessKeyID, secret)
	if err != nil {
		return nil, err
	}
	point, err := priv.PublicKey.Bytes()
	if err != nil {
		return nil, err
	}
	return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
}

// pickScalar returns c+1 for the first candidate(counter), counter from 1 to
// maxKeyCounter, that is at most N-2; false when there is none.
func pickScalar(candidate func(counter byte) [32]byte) ([32]byte, bool) {
	for counter := 1; counter <= maxKeyCounter; counter++ {
		c := candidate(byte(counter))
		if greaterBE(&c, &p256NMinus2) {
			continue
		}
		addOne(&c)
		return c, true
	}
	return [32]byte{}, false
}

// greaterBE reports whether a > b, both big-endian, without branching on
// their bytes: the candidate is secret, since its successor is the private
// key.
func greaterBE(a, b *[32]byte) bool {
	var gt, eq int32 = 0, 1
	for i := range a {
		x, y := int32(a[i]), int32(b[i])
		gt |= (y - x) >> 31 & eq      // x > y while equal so far
		eq &= ((x ^ y) - 1) >> 31 & 1 // x == y
	}
	return gt == 1
}

// addOne adds one to the big-endian c, which must be below 2^256-1.
func addOne(c *[32]byte) {
	carry := uint16(1)
	for i := len(c) - 1; i >= 0; i-- {
		sum := uint16(c[i]) + carry
		c[i] = byte(sum)
		carry = sum >> 8
	}
}

// maxDERSignature is the longest ASN.1 DER encoding of a P-256 ECDSA
// signature: a SEQUENCE of two INTEGERs of up to 33 bytes each.
const maxDERSignature = 72

// derSignature is a decoded SigV4a signature.
type derSignature struct {
	b [maxDERSignature]byte
	n int
}

// decodeDER decodes a hex SigV4a signature; false when it is not hex or too
// long to be a P-256 signature, which can never verify. Whether it is
// well-formed DER is left to ecdsa.VerifyASN1.
func decodeDER(s string) (derSignature, bool) {
	var sig derSignature
	if len(s) == 0 || len(s) > 2*maxDERSignature || len(s)%2 != 0 {
		return sig, false
	}
	n, err := hex.Decode(sig.b[:], []byte(s))
	if err != nil {
		return sig, false
	}
	sig.n = n
	return sig, true
}

// v4aKeyCacheKey names a derived SigV4a public key. Both halves of the
// access key pair enter the derivation, and keying on the secret means a
// rotated secret simply misses.
type v4aKeyCacheKey struct {
	accessKeyID, secret string
}
