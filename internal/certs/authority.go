package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Validities and margins of the certificates an Authority makes.
const (
	// CAValidity is how long a new CA certificate is valid: ten years, so
	// that clients trust one file for the life of a deployment.
	CAValidity = 10 * 365 * 24 * time.Hour

	// DefaultLeafValidity is Options.LeafValidity's default: 397 days, the
	// longest validity browsers accept for a server certificate.
	DefaultLeafValidity = 397 * 24 * time.Hour

	// DefaultRenewBefore is Options.RenewBefore's default: 30 days.
	DefaultRenewBefore = 30 * 24 * time.Hour

	// Backdate is how long before its creation a certificate becomes
	// valid, so that a client whose clock lags the issuer's by up to this
	// much accepts it at once.
	Backdate = time.Hour

	// CACommonName is the common name of the CA certificate, which users
	// see in their trust stores and in verification errors.
	CACommonName = "Gyre local CA"
)

// Options configures Open.
type Options struct {
	// Dir is the directory the authority is kept in, normally
	// <data_dir>/tls. Required. Open creates it and its parents (mode
	// 0700) when missing. Processes that share a Dir share the CA.
	Dir string

	// Now returns the current time: the start of the certificates' validity
	// (less Backdate) and the time against which stored certificates are
	// judged. Default time.Now when nil; tests pass a fake clock. It must be
	// safe for concurrent use.
	Now func() time.Time

	// LeafValidity is how long a server certificate is valid after it is
	// issued, capped by the CA certificate's expiry. Default
	// DefaultLeafValidity (397 days) when zero; it must be greater than
	// RenewBefore.
	LeafValidity time.Duration

	// RenewBefore is the margin Issue keeps: a stored certificate with
	// RenewBefore or less left is replaced by a new one. Default
	// DefaultRenewBefore (30 days) when zero; it must not be negative.
	RenewBefore time.Duration

	// Logger receives the creation of a CA and the issue of each
	// certificate at info level, with component=certs. Default
	// slog.Default() when nil.
	Logger *slog.Logger
}

// Authority is a certificate authority kept in a directory. It is safe for
// concurrent use by multiple goroutines, and by several processes sharing
// the directory. It holds no open files or goroutines.
type Authority struct {
	dir          string
	now          func() time.Time
	leafValidity time.Duration
	renewBefore  time.Duration
	log          *slog.Logger

	cert *x509.Certificate // the CA certificate
	key  *ecdsa.PrivateKey // the CA key
}

// Open opens the authority kept in o.Dir, creating the directory and the CA
// on first use, after filling in o's defaults; it reports every problem
// with o at once. It returns an error wrapping ErrCorrupt when the CA files
// are unreadable or do not belong together, and ErrExpired when the CA
// certificate has expired; in both cases the message names the file and
// says to delete the directory.
func Open(o Options) (*Authority, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LeafValidity == 0 {
		o.LeafValidity = DefaultLeafValidity
	}
	if o.RenewBefore == 0 {
		o.RenewBefore = DefaultRenewBefore
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	var problems []error
	if o.Dir == "" {
		problems = append(problems, errors.New("Options.Dir is required"))
	}
	if o.RenewBefore < 0 {
		problems = append(problems, fmt.Errorf("Options.RenewBefore %v must not be negative", o.RenewBefore))
	}
	if o.LeafValidity <= o.RenewBefore {
		problems = append(problems, fmt.Errorf("Options.LeafValidity %v must be greater than Options.RenewBefore %v", o.LeafValidity, o.RenewBefore))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("certs: invalid options: %w", errors.Join(problems...))
	}

	a := &Authority{
		dir:          o.Dir,
		now:          o.Now,
		leafValidity: o.LeafValidity,
		renewBefore:  o.RenewBefore,
		log:          o.Logger.With("component", "certs"),
	}
	if err := os.MkdirAll(a.dir, dirMode); err != nil {
		return nil, fmt.Errorf("certs: creating the directory: %w", err)
	}
	unlock, err := lockDir(a.dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := removeTemps(a.dir); err != nil {
		return nil, err
	}
	if err := a.loadCA(); err != nil {
		return nil, err
	}
	return a, nil
}

// CAPath returns the path of the CA certificate, the file clients must
// trust (curl --cacert, AWS_CA_BUNDLE).
func (a *Authority) CAPath() string { return filepath.Join(a.dir, caCertFile) }

// CA returns the CA certificate. The caller must not modify it.
func (a *Authority) CA() *x509.Certificate { return a.cert }

// Pool returns a new pool holding only the CA certificate, for the RootCAs
// of clients that talk to Gyre's endpoints. The caller owns it and may add
// to it.
func (a *Authority) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.cert)
	return p
}

// loadCA reads the CA files, or creates them when ca.pem does not exist.
// The caller holds the directory's lock.
func (a *Authority) loadCA() error {
	certPath := filepath.Join(a.dir, caCertFile)
	keyPath := filepath.Join(a.dir, caKeyFile)
	certPEM, err := os.ReadFile(certPath)
	if errors.Is(err, os.ErrNotExist) {
		return a.createCA()
	}
	if err != nil {
		return fmt.Errorf("certs: reading the CA certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		return a.corrupt(keyPath, "the CA key is missing while %s exists", caCertFile)
	}
	if err != nil {
		return fmt.Errorf("certs: reading the CA key: %w", err)
	}
	cert, err := decodeCert(certPEM)
	if err != nil {
		return a.corrupt(certPath, "not a PEM certificate: %v", err)
	}
	if !cert.IsCA || !cert.BasicConstraintsValid || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return a.corrupt(certPath, "%q is not a CA certificate", cert.Subject.CommonName)
	}
	key, err := decodeKey(keyPEM)
	if err != nil {
		return a.corrupt(keyPath, "not a PEM ECDSA private key: %v", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return a.corrupt(keyPath, "the key does not match the CA certificate in %s", certPath)
	}
	a.cert, a.key = cert, key
	if !a.now().Before(cert.NotAfter) {
		return a.expired()
	}
	return nil
}

// expired returns the ErrExpired error, with the fix.
func (a *Authority) expired() error {
	return fmt.Errorf("%w: %s expired on %s; delete the directory %s to start over with a new CA (clients must then trust the new %s)",
		ErrExpired, a.CAPath(), a.cert.NotAfter.UTC().Format(time.RFC3339), a.dir, caCertFile)
}

// corrupt returns the ErrCorrupt error for the file at path, with the fix.
func (a *Authority) corrupt(path, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s; delete the directory %s to start over with a new CA (clients must then trust the new %s)",
		ErrCorrupt, path, fmt.Sprintf(format, args...), a.dir, caCertFile)
}

// createCA makes a new CA key and certificate and writes them, the key
// first: ca.pem is the mark of a complete CA. The caller holds the
// directory's lock.
func (a *Authority) createCA() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("certs: generating the CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return err
	}
	now := a.now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: CACommonName, Organization: []string{"Gyre"}},
		NotBefore:             now.Add(-Backdate),
		NotAfter:              now.Add(CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("certs: signing the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("certs: parsing the new CA certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return err
	}
	if err := writeFile(a.dir, caKeyFile, keyPEM, keyMode); err != nil {
		return err
	}
	if err := writeFile(a.dir, caCertFile, encodeCerts(der), certMode); err != nil {
		return err
	}
	if err := syncDir(a.dir); err != nil {
		return err
	}
	a.cert, a.key = cert, key
	a.log.Info("created a certificate authority", "path", a.CAPath(), "serial", cert.SerialNumber.Text(16),
		"not_after", cert.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

// serialLimit is 2^128: serial numbers are random 128-bit integers.
var serialLimit = new(big.Int).Lsh(big.NewInt(1), 128)

// newSerial returns a random serial number in [1, 2^128).
func newSerial() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, serialLimit)
		if err != nil {
			return nil, fmt.Errorf("certs: drawing a serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}
