package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"
)

// signingKey is the key SigV4 derives from a secret for one day, region and
// service: HMAC-SHA256 chained over "AWS4"+secret, the date, the region, the
// service and "aws4_request".
type signingKey [sha256.Size]byte

func deriveKey(secret, date, region, service string) signingKey {
	k := hmacSum([]byte("AWS4"+secret), date)
	k = hmacSum(k[:], region)
	k = hmacSum(k[:], service)
	return signingKey(hmacSum(k[:], "aws4_request"))
}

// appendInnerKey and finishHMAC compute HMAC-SHA256 (RFC 2104) keyed by a
// signing key without allocating, which crypto/hmac cannot: the caller
// appends the message after the inner key block and passes the whole buffer
// to finishHMAC. A signing key is shorter than SHA-256's block, so it is only
// padded, never hashed. TestHMAC checks them against crypto/hmac.
func appendInnerKey(dst []byte, key *signingKey) []byte {
	for i := range sha256.BlockSize {
		dst = append(dst, keyByte(key, i)^0x36)
	}
	return dst
}

func finishHMAC(key *signingKey, innerKeyAndMessage []byte) [sha256.Size]byte {
	inner := sha256.Sum256(innerKeyAndMessage)
	var outer [sha256.BlockSize + sha256.Size]byte
	for i := range sha256.BlockSize {
		outer[i] = keyByte(key, i) ^ 0x5c
	}
	copy(outer[sha256.BlockSize:], inner[:])
	return sha256.Sum256(outer[:])
}

func keyByte(key *signingKey, i int) byte {
	if i < len(key) {
		return key[i]
	}
	return 0
}

func hmacSum(key []byte, data string) [sha256.Size]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

// keyCacheKey names a derived SigV4 signing key. The service is fixed per
// Verifier, so it is not part of the name. Keying on the secret rather than
// the access key id means a rotated secret simply misses.
type keyCacheKey struct {
	secret, date, region string
}

// keyCache holds derived keys, V, under their names, K: SigV4 signing keys,
// so that a request costs one HMAC instead of five, and SigV4a public keys,
// so that it costs no scalar multiplication. It is bounded: when full,
// putting a key evicts an arbitrary one. It is safe for concurrent use.
type keyCache[K comparable, V any] struct {
	limit int // zero disables the cache
	mu    struct {
		sync.RWMutex
		keys map[K]V
	}
}

func newKeyCache[K comparable, V any](limit int) *keyCache[K, V] {
	c := &keyCache[K, V]{limit: max(limit, 0)}
	c.mu.keys = make(map[K]V)
	return c
}

func (c *keyCache[K, V]) get(k K) (V, bool) {
	if c.limit == 0 {
		var zero V
		return zero, false
	}
	c.mu.RLock()
	key, ok := c.mu.keys[k]
	c.mu.RUnlock()
	return key, ok
}

// put stores key under k. Verify calls it only after the key has verified a
// signature, so a client that does not know the secret cannot fill the cache.
func (c *keyCache[K, V]) put(k K, key V) {
	if c.limit == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.mu.keys[k]; !ok && len(c.mu.keys) >= c.limit {
		for old := range c.mu.keys {
			delete(c.mu.keys, old)
			break
		}
	}
	c.mu.keys[k] = key
}

func (c *keyCache[K, V]) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.mu.keys)
}
