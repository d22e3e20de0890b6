package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Issue returns a server certificate for the endpoint name, covering
// exactly dnsNames and ips, ready for tls.Config.Certificates: its Leaf is
// parsed and its chain holds the leaf then the CA certificate. name is the
// file stem the certificate is kept under (<name>.pem, <name>-key.pem):
// lowercase letters, digits, '.', '_' and '-', starting with a letter or a
// digit, not "ca" and not ending in "-key". At least one DNS name or IP
// address is required; DNS names are hostnames, with a wildcard allowed as
// the whole leftmost label of a name of three labels or more
// (*.gyre.test). Issue reports every problem of a request at once.
//
// When the stored certificate for name was signed by this CA, covers the
// same DNS names (without regard to case or order) and addresses, and has
// more than Options.RenewBefore left, Issue returns it; otherwise it signs
// a new one, with a new key, and replaces the stored files. Processes that
// issue the same name at once end up with the same certificate.
func (a *Authority) Issue(name string, dnsNames []string, ips []netip.Addr) (tls.Certificate, error) {
	req, err := newRequest(name, dnsNames, ips)
	if err != nil {
		return tls.Certificate{}, err
	}
	unlock, err := lockDir(a.dir)
	if err != nil {
		return tls.Certificate{}, err
	}
	defer unlock()

	now := a.now()
	stored, why := a.stored(req, now)
	if why == "" {
		return stored, nil
	}
	cert, err := a.sign(req, now)
	if err != nil {
		return tls.Certificate{}, err
	}
	a.log.Info("issued a certificate", "name", name, "reason", why, "serial", cert.Leaf.SerialNumber.Text(16),
		"dns", dnsNames, "ips", ips, "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	return cert, nil
}

// stored returns the stored certificate for req when it may be reused at
// now; otherwise it returns why not, for the log.
func (a *Authority) stored(req *request, now time.Time) (tls.Certificate, string) {
	certPEM, err := os.ReadFile(a.certPath(req.name))
	if errors.Is(err, os.ErrNotExist) {
		return tls.Certificate{}, "none stored"
	}
	if err != nil {
		return tls.Certificate{}, "unreadable: " + err.Error()
	}
	keyPEM, err := os.ReadFile(a.keyPath(req.name))
	if err != nil {
		return tls.Certificate{}, "key unreadable: " + err.Error()
	}
	leaf, err := decodeCert(certPEM)
	if err != nil {
		return tls.Certificate{}, "certificate unreadable: " + err.Error()
	}
	key, err := decodeKey(keyPEM)
	if err != nil {
		return tls.Certificate{}, "key unreadable: " + err.Error()
	}
	if why := a.reusable(leaf, key, req, now); why != "" {
		return tls.Certificate{}, why
	}
	return a.tlsCertificate(leaf, key), ""
}

// reusable says why leaf and key may not serve req at now, or "" when
// they may.
func (a *Authority) reusable(leaf *x509.Certificate, key *ecdsa.PrivateKey, req *request, now time.Time) string {
	switch {
	case !bytes.Equal(leaf.RawIssuer, a.cert.RawSubject) || leaf.CheckSignatureFrom(a.cert) != nil:
		return "signed by another CA"
	case !key.PublicKey.Equal(leaf.PublicKey):
		return "the key does not match the certificate"
	case !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth):
		return "not a server certificate"
	case !slices.Equal(dnsSet(leaf.DNSNames), dnsSet(req.dns)):
		return "different DNS names"
	case !slices.Equal(leafIPs(leaf), ipSet(req.ips)):
		return "different IP addresses"
	case now.Before(leaf.NotBefore):
		return "not valid yet"
	case leaf.NotAfter.Sub(now) <= a.renewBefore:
		return "expires soon"
	}
	return ""
}

// leafIPs returns the IP addresses of leaf as ipSet does.
func leafIPs(leaf *x509.Certificate) []netip.Addr {
	out := make([]netip.Addr, 0, len(leaf.IPAddresses))
	for _, ip := range leaf.IPAddresses {
		if addr, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, addr)
		}
	}
	return ipSet(out)
}

// sign makes a new key and certificate for req, valid from now, and writes
// them over the stored ones, the key first. The caller holds the
// directory's lock, so no one reads the pair between the two renames.
func (a *Authority) sign(req *request, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certs: generating a key for %q: %w", req.name, err)
	}
	serial, err := newSerial()
	if err != nil {
		return tls.Certificate{}, err
	}
	var cn string
	if len(req.dns) > 0 {
		cn = req.dns[0]
	} else {
		cn = req.ips[0].String()
	}
	ips := make([]net.IP, len(req.ips))
	for i, ip := range req.ips {
		ips[i] = ip.AsSlice()
	}
	if !now.Before(a.cert.NotAfter) {
		return tls.Certificate{}, a.expired()
	}
	notAfter := now.Add(a.leafValidity)
	if notAfter.After(a.cert.NotAfter) {
		notAfter = a.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Gyre"}},
		NotBefore:             now.Add(-Backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              req.dns,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certs: signing the certificate for %q: %w", req.name, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certs: parsing the new certificate for %q: %w", req.name, err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFile(a.dir, req.name+keySuffix, keyPEM, keyMode); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFile(a.dir, req.name+".pem", encodeCerts(der, a.cert.Raw), certMode); err != nil {
		return tls.Certificate{}, err
	}
	if err := syncDir(a.dir); err != nil {
		return tls.Certificate{}, err
	}
	return a.tlsCertificate(leaf, key), nil
}

// tlsCertificate returns leaf and key as a tls.Certificate whose chain
// ends with the CA certificate.
func (a *Authority) tlsCertificate(leaf *x509.Certificate, key *ecdsa.PrivateKey) tls.Certificate {
	return tls.Certificate{
		Certificate: [][]byte{leaf.Raw, a.cert.Raw},
		PrivateKey:  key,
		Leaf:        leaf,
	}
}

// certPath is where the certificate for name is stored.
func (a *Authority) certPath(name string) string { return filepath.Join(a.dir, name+".pem") }

// keyPath is where the key for name is stored.
func (a *Authority) keyPath(name string) string { return filepath.Join(a.dir, name+keySuffix) }
