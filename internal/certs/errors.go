package certs

import "errors"

var (
	// ErrCorrupt is returned by Open when ca.pem or ca-key.pem cannot be
	// read or parsed, when ca.pem is not a CA certificate, or when the key
	// in ca-key.pem is not the one ca.pem certifies. The error names the
	// file; the fix is to delete the directory, so that Open creates a new
	// CA.
	ErrCorrupt = errors.New("certs: corrupt certificate authority")

	// ErrExpired is returned by Open, and by Issue when it would sign, when
	// the CA certificate in ca.pem is past its NotAfter: nothing it signs
	// would verify. The fix is to
	// delete the directory, so that Open creates a new CA.
	ErrExpired = errors.New("certs: the CA certificate has expired")
)
