package certs

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The names of the files in an authority's directory. A certificate's stem
// may not make a name that collides with these (see validName).
const (
	caCertFile = "ca.pem"
	caKeyFile  = "ca-key.pem"
	lockFile   = ".lock"
	tempPrefix = ".tmp-"
	keySuffix  = "-key.pem"
)

// Modes of the files written: certificates are public, keys are not.
const (
	dirMode  os.FileMode = 0o700
	certMode os.FileMode = 0o644
	keyMode  os.FileMode = 0o600
)

// writeFile replaces dir/name with data, atomically: data goes to a
// temporary file in dir, which is synced and renamed over name, so a reader
// sees the old file or the new one, never a part. The caller holds the
// directory's lock and syncs dir afterwards.
func writeFile(dir, name string, data []byte, mode os.FileMode) (err error) {
	f, err := os.CreateTemp(dir, tempPrefix+name+"-*")
	if err != nil {
		return fmt.Errorf("certs: writing %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("certs: writing %s: %w", f.Name(), err)
	}
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("certs: writing %s: %w", f.Name(), err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("certs: writing %s: %w", f.Name(), err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("certs: writing %s: %w", f.Name(), err)
	}
	if err = os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("certs: publishing %s: %w", name, err)
	}
	return nil
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("certs: syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("certs: syncing %s: %w", dir, err)
	}
	return nil
}

// removeTemps deletes the temporary files a process that died while
// writing left behind. The caller holds the directory's lock, so no
// temporary file is in use.
func removeTemps(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("certs: reading %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("certs: removing a stale temporary file: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// decodeCert returns the first certificate PEM-encoded in data.
func decodeCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	switch {
	case block == nil:
		return nil, errors.New("no PEM data")
	case block.Type != "CERTIFICATE":
		return nil, fmt.Errorf("the first PEM block is %q, want CERTIFICATE", block.Type)
	}
	return x509.ParseCertificate(block.Bytes)
}

// decodeKey returns the ECDSA private key PEM-encoded in data, PKCS #8 as
// Gyre writes it, or SEC 1.
func decodeKey(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM data")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("the PEM block is %q, want PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, err
	}
	k, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T, want an ECDSA key", key)
	}
	return k, nil
}

// encodeCerts PEM-encodes DER certificates, in order.
func encodeCerts(ders ...[]byte) []byte {
	var out []byte
	for _, der := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return out
}

// encodeKey PEM-encodes key as PKCS #8.
func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("certs: encoding a private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
