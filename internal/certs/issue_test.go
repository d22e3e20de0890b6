package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

// checkStored fails t unless the files for name hold cert.
func checkStored(t *testing.T, a *Authority, name string, cert tls.Certificate) {
	t.Helper()
	stored, err := tls.LoadX509KeyPair(a.certPath(name), a.keyPath(name))
	if err != nil {
		t.Fatalf("loading the stored pair for %q: %v", name, err)
	}
	if len(stored.Certificate) != 2 || !slices.EqualFunc(stored.Certificate, cert.Certificate, slices.Equal) {
		t.Errorf("%s.pem does not hold the returned chain (leaf, CA)", name)
	}
	if !stored.PrivateKey.(*ecdsa.PrivateKey).Equal(cert.PrivateKey) {
		t.Errorf("%s-key.pem does not hold the returned key", name)
	}
	entries, err := os.ReadDir(a.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Errorf("temporary file %s left in the directory", e.Name())
		}
	}
}

func TestIssueLeaf(t *testing.T) {
	cases := []struct {
		name    string
		dns     []string
		ips     []netip.Addr
		wantCN  string
		wantIPs []string
	}{
		{"region", []string{"us-east-1.gyre.test", "dynamodb.us-east-1.gyre.test"}, addrs("127.0.1.1"),
			"us-east-1.gyre.test", []string{"127.0.1.1"}},
		{"front-door", []string{"api.gyre.test", "*.gyre.test", "localhost"}, addrs("127.0.0.1", "::1"),
			"api.gyre.test", []string{"127.0.0.1", "::1"}},
		{"dns-only", []string{"api.gyre.test"}, nil, "api.gyre.test", []string{}},
		{"ip-only", nil, addrs("127.0.2.1"), "127.0.2.1", []string{"127.0.2.1"}},
		{"mapped-ipv4", nil, addrs("::ffff:127.0.3.1"), "127.0.3.1", []string{"127.0.3.1"}},
	}
	a := open(t, t.TempDir(), nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cert, err := a.Issue(tc.name, tc.dns, tc.ips)
			if err != nil {
				t.Fatal(err)
			}
			leaf := cert.Leaf
			if leaf == nil {
				t.Fatal("Leaf is nil")
			}
			if len(cert.Certificate) != 2 || !slices.Equal(cert.Certificate[0], leaf.Raw) || !slices.Equal(cert.Certificate[1], a.CA().Raw) {
				t.Errorf("the chain is not [leaf, CA]")
			}
			checks := []struct {
				what      string
				got, want any
			}{
				{"CommonName", leaf.Subject.CommonName, tc.wantCN},
				{"DNSNames", strings.Join(leaf.DNSNames, ","), strings.Join(tc.dns, ",")},
				{"IPAddresses", strings.Join(ipStrings(leaf.IPAddresses), ","), strings.Join(tc.wantIPs, ",")},
				{"no other SANs", len(leaf.EmailAddresses) + len(leaf.URIs), 0},
				{"KeyUsage", leaf.KeyUsage, x509.KeyUsageDigitalSignature},
				{"ExtKeyUsage", slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}), true},
				{"IsCA", leaf.IsCA, false},
				{"NotBefore", leaf.NotBefore, t0.Add(-time.Hour)},
				{"NotAfter", leaf.NotAfter, t0.Add(397 * 24 * time.Hour)},
				{"serial > 0", leaf.SerialNumber.Sign() > 0, true},
				{"serial ≤ 128 bits", leaf.SerialNumber.BitLen() <= 128, true},
				{"signed by the CA", leaf.CheckSignatureFrom(a.CA()), nil},
				{"AuthorityKeyId", string(leaf.AuthorityKeyId), string(a.CA().SubjectKeyId)},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
			if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
				t.Errorf("the key is %T, want ECDSA P-256", leaf.PublicKey)
			}
			host := tc.wantCN
			if _, err := leaf.Verify(x509.VerifyOptions{
				Roots: a.Pool(), DNSName: host, CurrentTime: t0.Add(-30 * time.Minute),
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			}); err != nil {
				t.Errorf("the certificate does not verify for %s half an hour before it was issued: %v", host, err)
			}
			checkStored(t, a, tc.name, cert)
			for _, m := range []struct {
				path string
				want os.FileMode
			}{{a.certPath(tc.name), 0o644}, {a.keyPath(tc.name), 0o600}} {
				if got := mode(t, m.path); got != m.want {
					t.Errorf("mode of %s = %v, want %v", m.path, got, m.want)
				}
			}
		})
	}
}

func TestIssueCappedByCA(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	a := open(t, dir, c)
	c.Set(a.CA().NotAfter.Add(-100 * 24 * time.Hour))
	cert, err := a.Issue("us-east-1", []string{"us-east-1.gyre.test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cert.Leaf.NotAfter, a.CA().NotAfter; !got.Equal(want) {
		t.Errorf("a certificate issued 100 days before the CA expires ends at %v, want the CA's %v", got, want)
	}
	c.Set(a.CA().NotAfter)
	if _, err := a.Issue("us-west-2", []string{"us-west-2.gyre.test"}, nil); !errors.Is(err, ErrExpired) {
		t.Errorf("Issue once the CA has expired = %v, want ErrExpired", err)
	}
}

func TestIssueReuse(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	a := open(t, dir, c)
	other := open(t, t.TempDir(), c)
	if _, err := other.Issue("intruder", []string{"api.gyre.test"}, addrs("127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	copyFile := func(from, to string) func(t *testing.T) {
		return func(t *testing.T) {
			b, err := os.ReadFile(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(to, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	notAfter := t0.Add(DefaultLeafValidity)
	api, ip := []string{"api.gyre.test", "*.gyre.test"}, addrs("127.0.0.1")

	// The steps run in order on one directory; each says whether Issue
	// must return the previous step's certificate or a new one.
	steps := []struct {
		name   string
		before func(t *testing.T)
		now    time.Time
		dns    []string
		ips    []netip.Addr
		reuse  bool
	}{
		{name: "first", now: t0, dns: api, ips: ip},
		{name: "same names", now: t0, dns: api, ips: ip, reuse: true},
		{name: "other order and case", now: t0, dns: []string{"*.GYRE.test", "API.gyre.test"}, ips: addrs("::ffff:127.0.0.1"), reuse: true},
		{name: "a DNS name more", now: t0, dns: append(slices.Clone(api), "localhost"), ips: ip},
		{name: "a DNS name less", now: t0, dns: api, ips: ip},
		{name: "an IP more", now: t0, dns: api, ips: addrs("127.0.0.1", "::1")},
		{name: "another IP", now: t0, dns: api, ips: addrs("::1")},
		{name: "back", now: t0, dns: api, ips: ip},
		{name: "31 days left", now: notAfter.Add(-31 * 24 * time.Hour), dns: api, ips: ip, reuse: true},
		{name: "30 days left", now: notAfter.Add(-30 * 24 * time.Hour), dns: api, ips: ip},
		{name: "clock went back", now: t0, dns: api, ips: ip},
		{name: "again", now: t0, dns: api, ips: ip, reuse: true},
		{name: "signed by another CA", before: func(t *testing.T) {
			copyFile(other.certPath("intruder"), a.certPath("front-door"))(t)
			copyFile(other.keyPath("intruder"), a.keyPath("front-door"))(t)
		}, now: t0, dns: api, ips: ip},
		{name: "the key of another certificate", before: func(t *testing.T) {
			if _, err := a.Issue("us-east-1", []string{"us-east-1.gyre.test"}, nil); err != nil {
				t.Fatal(err)
			}
			copyFile(a.keyPath("us-east-1"), a.keyPath("front-door"))(t)
		}, now: t0, dns: api, ips: ip},
		{name: "corrupt certificate", before: func(t *testing.T) {
			if err := os.WriteFile(a.certPath("front-door"), []byte("garbage"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, now: t0, dns: api, ips: ip},
		{name: "key gone", before: func(t *testing.T) {
			if err := os.Remove(a.keyPath("front-door")); err != nil {
				t.Fatal(err)
			}
		}, now: t0, dns: api, ips: ip},
		{name: "certificate gone", before: func(t *testing.T) {
			if err := os.Remove(a.certPath("front-door")); err != nil {
				t.Fatal(err)
			}
		}, now: t0, dns: api, ips: ip},
		{name: "another process reopens", before: func(t *testing.T) { a = open(t, dir, c) }, now: t0, dns: api, ips: ip, reuse: true},
	}
	var prev tls.Certificate
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.before != nil {
				s.before(t)
			}
			c.Set(s.now)
			cert, err := a.Issue("front-door", s.dns, s.ips)
			if err != nil {
				t.Fatal(err)
			}
			same := prev.Leaf != nil && cert.Leaf.Equal(prev.Leaf)
			switch {
			case s.reuse && !same:
				t.Errorf("Issue made certificate %x, want the stored %x", cert.Leaf.SerialNumber, prev.Leaf.SerialNumber)
			case !s.reuse && same:
				t.Errorf("Issue returned the stored certificate %x, want a new one", cert.Leaf.SerialNumber)
			}
			if !s.reuse {
				if !cert.Leaf.NotBefore.Equal(s.now.Add(-Backdate)) {
					t.Errorf("the new certificate starts at %v, want %v", cert.Leaf.NotBefore, s.now.Add(-Backdate))
				}
				if got := dnsSet(cert.Leaf.DNSNames); !slices.Equal(got, dnsSet(s.dns)) {
					t.Errorf("the new certificate is for %v, want %v", got, s.dns)
				}
			}
			checkStored(t, a, "front-door", cert)
			prev = cert
		})
	}
}

func TestIssueInvalid(t *testing.T) {
	long := strings.Repeat("a", 64)
	cases := []struct {
		name string
		stem string
		dns  []string
		ips  []netip.Addr
		want []string
	}{
		{"empty name", "", []string{"api.gyre.test"}, nil, []string{"the name must not be empty"}},
		{"path in name", "../etc", []string{"api.gyre.test"}, nil, []string{`name "../etc" must start with`}},
		{"slash in name", "us/east", []string{"api.gyre.test"}, nil, []string{`name "us/east" must start with`}},
		{"hidden name", ".lock", []string{"api.gyre.test"}, nil, []string{`name ".lock" must start with`}},
		{"uppercase name", "US-East-1", []string{"api.gyre.test"}, nil, []string{`name "US-East-1" must start with`}},
		{"long name", strings.Repeat("x", 65), []string{"api.gyre.test"}, nil, []string{"longer than 64 bytes"}},
		{"the CA's name", "ca", []string{"api.gyre.test"}, nil, []string{`name "ca" is the CA's own`}},
		{"a key's name", "front-key", []string{"api.gyre.test"}, nil, []string{`must not end in "-key"`}},
		{"no names", "front-door", nil, nil, []string{"at least one DNS name or IP address is required"}},
		{"empty DNS name", "front-door", []string{""}, nil, []string{"a DNS name is empty"}},
		{"trailing dot", "front-door", []string{"api.gyre.test."}, nil, []string{`"api.gyre.test." must not end in a dot`}},
		{"empty label", "front-door", []string{"api..gyre.test"}, nil, []string{"has an empty label"}},
		{"underscore", "front-door", []string{"my_api.gyre.test"}, nil, []string{`has '_'`}},
		{"space", "front-door", []string{"api gyre.test"}, nil, []string{`has ' '`}},
		{"leading hyphen", "front-door", []string{"-api.gyre.test"}, nil, []string{"starts or ends with '-'"}},
		{"long label", "front-door", []string{long + ".gyre.test"}, nil, []string{"label longer than 63 bytes"}},
		{"long DNS name", "front-door", []string{strings.Repeat("a.", 127) + "test"}, nil, []string{"longer than 253 bytes"}},
		{"IP as DNS name", "front-door", []string{"127.0.0.1"}, nil, []string{"is an IP address: pass it among the IP addresses"}},
		{"inner wildcard", "front-door", []string{"api.*.test"}, nil, []string{"a wildcard may only be the whole leftmost label"}},
		{"partial wildcard", "front-door", []string{"a*.gyre.test"}, nil, []string{"a wildcard may only be the whole leftmost label"}},
		{"double wildcard", "front-door", []string{"*.*.gyre.test"}, nil, []string{"a wildcard may only be the whole leftmost label"}},
		{"wildcard over a TLD", "front-door", []string{"*.test"}, nil, []string{"a wildcard needs at least two labels after it"}},
		{"bare wildcard", "front-door", []string{"*"}, nil, []string{"a wildcard needs at least two labels after it"}},
		{"duplicate DNS name", "front-door", []string{"api.gyre.test", "API.gyre.test"}, nil, []string{`DNS name "API.gyre.test" is listed twice`}},
		{"zero IP", "front-door", nil, []netip.Addr{{}}, []string{"the zero netip.Addr"}},
		{"unspecified IP", "front-door", nil, addrs("0.0.0.0"), []string{"0.0.0.0 is unspecified"}},
		{"zoned IP", "front-door", nil, addrs("fe80::1%eth0"), []string{"must not have a zone"}},
		{"duplicate IP", "front-door", nil, addrs("127.0.0.1", "::ffff:127.0.0.1"), []string{"127.0.0.1 is listed twice"}},
		{"every problem at once", "../x", []string{"ok.gyre.test", "bad_name", "*.test"}, addrs("::"), []string{
			`certs: invalid certificate request for "../x"`, `name "../x"`, `"bad_name"`, `"*.test"`, ":: is unspecified",
		}},
	}
	dir := t.TempDir()
	a := open(t, dir, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Issue(tc.stem, tc.dns, tc.ips)
			if err == nil {
				t.Fatalf("Issue(%q, %q, %v) succeeded, want an error saying %q", tc.stem, tc.dns, tc.ips, tc.want)
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Issue error %q does not say %q", err, s)
				}
			}
		})
	}
	// Nothing was written for a rejected request.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); n != "ca.pem" && n != "ca-key.pem" && n != ".lock" {
			t.Errorf("a rejected request left %s", filepath.Join(dir, n))
		}
	}
}
