package certs

import (
	"net/netip"
	"testing"
)

func BenchmarkIssue(b *testing.B) {
	ips := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	names := [][]string{
		{"api.gyre.test", "*.gyre.test"},
		{"api.gyre.test", "*.gyre.test", "localhost"},
	}
	// new alternates between two sets of names, so that every Issue signs
	// and writes a certificate; stored finds the stored one every time.
	b.Run("new", func(b *testing.B) {
		a := open(b, b.TempDir(), nil)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := a.Issue("front-door", names[i%2], ips); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("stored", func(b *testing.B) {
		a := open(b, b.TempDir(), nil)
		if _, err := a.Issue("front-door", names[0], ips); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Issue("front-door", names[0], ips); err != nil {
				b.Fatal(err)
			}
		}
	})
}
