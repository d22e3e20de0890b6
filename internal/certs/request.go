package certs

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// nameRE is the shape of a certificate's file stem: lowercase, so that
// names differing only in case cannot share files on a case-insensitive
// file system, and starting with a letter or digit, so that no stem makes
// a hidden file (the lock, temporary files).
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// maxNameLen bounds a file stem, well below any file system's limit.
const maxNameLen = 64

// request is a validated Issue request: the SANs as asked for, and their
// normalized sets for comparison with a stored certificate.
type request struct {
	name string
	dns  []string
	ips  []netip.Addr
}

// newRequest validates an Issue request and reports every problem at once.
func newRequest(name string, dnsNames []string, ips []netip.Addr) (*request, error) {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	switch {
	case name == "":
		add("the name must not be empty")
	case len(name) > maxNameLen:
		add("name %q is longer than %d bytes", name, maxNameLen)
	case !nameRE.MatchString(name):
		add("name %q must start with a lowercase letter or digit and have only lowercase letters, digits, '.', '_' and '-'", name)
	case name == "ca":
		add(`name "ca" is the CA's own`)
	case strings.HasSuffix(name, "-key"):
		add(`name %q must not end in "-key": its certificate file would be another name's key file`, name)
	}
	if len(dnsNames) == 0 && len(ips) == 0 {
		add("at least one DNS name or IP address is required")
	}

	seen := map[string]bool{}
	for _, n := range dnsNames {
		if err := checkHostname(n); err != nil {
			errs = append(errs, err)
			continue
		}
		k := strings.ToLower(n)
		if seen[k] {
			add("DNS name %q is listed twice", n)
		}
		seen[k] = true
	}
	r := &request{name: name, dns: slices.Clone(dnsNames)}
	seenIP := map[netip.Addr]bool{}
	for _, ip := range ips {
		switch {
		case !ip.IsValid():
			add("an IP address is the zero netip.Addr")
			continue
		case ip.Zone() != "":
			add("IP address %s must not have a zone", ip)
			continue
		case ip.IsUnspecified():
			add("IP address %s is unspecified: no client connects to it", ip)
			continue
		}
		// Certificates carry IPv4 in 4 bytes, mapped or not.
		ip = ip.Unmap()
		if seenIP[ip] {
			add("IP address %s is listed twice", ip)
		}
		seenIP[ip] = true
		r.ips = append(r.ips, ip)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("certs: invalid certificate request for %q: %w", name, errors.Join(errs...))
	}
	return r, nil
}

// checkHostname reports what makes n unfit for a DNS subject alternative
// name: RFC 1123 labels of letters, digits and inner hyphens, and an
// optional wildcard as the whole leftmost label.
func checkHostname(n string) error {
	switch {
	case n == "":
		return errors.New("a DNS name is empty")
	case len(n) > 253:
		return fmt.Errorf("DNS name %q is longer than 253 bytes", n)
	case strings.HasSuffix(n, "."):
		return fmt.Errorf("DNS name %q must not end in a dot", n)
	}
	if _, err := netip.ParseAddr(n); err == nil {
		return fmt.Errorf("DNS name %q is an IP address: pass it among the IP addresses", n)
	}
	labels := strings.Split(n, ".")
	for i, l := range labels {
		switch {
		case l == "*" && i == 0:
			// Clients refuse a wildcard over a top-level domain
			// ("*.test"), so one needs two labels after it.
			if len(labels) < 3 {
				return fmt.Errorf("DNS name %q: a wildcard needs at least two labels after it, as in *.gyre.test", n)
			}
		case strings.Contains(l, "*"):
			return fmt.Errorf("DNS name %q: a wildcard may only be the whole leftmost label", n)
		case l == "":
			return fmt.Errorf("DNS name %q has an empty label", n)
		case len(l) > 63:
			return fmt.Errorf("DNS name %q has a label longer than 63 bytes", n)
		case l[0] == '-' || l[len(l)-1] == '-':
			return fmt.Errorf("DNS name %q has a label that starts or ends with '-'", n)
		default:
			for _, c := range l {
				if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
					return fmt.Errorf("DNS name %q has %q: only letters, digits and '-' are allowed", n, c)
				}
			}
		}
	}
	return nil
}

// dnsSet returns names, lowercased and sorted: DNS names compare without
// case or order.
func dnsSet(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(n)
	}
	slices.Sort(out)
	return out
}

// ipSet returns ips, unmapped and sorted.
func ipSet(ips []netip.Addr) []netip.Addr {
	out := make([]netip.Addr, len(ips))
	for i, ip := range ips {
		out[i] = ip.Unmap()
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}
