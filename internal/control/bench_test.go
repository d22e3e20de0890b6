package control

import (
	"context"
	"fmt"
	"net"
	"testing"
)

// BenchmarkOn measures the lookup DNS and the front door make per answer
// and per request.
func BenchmarkOn(b *testing.B) {
	for _, n := range []int{3, 30, 300} {
		s := benchService(b, n)
		b.Run(fmt.Sprintf("controls=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if !s.On(regions[i%len(regions)]) {
					b.Fatal("off")
				}
			}
		})
		b.Run(fmt.Sprintf("controls=%d/parallel", n), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if !s.On(regions[i%len(regions)]) {
						b.Fatal("off")
					}
					i++
				}
			})
		})
	}
}

// BenchmarkCheck measures judging a change against the rules.
func BenchmarkCheck(b *testing.B) {
	state := map[string]bool{}
	for _, r := range regions {
		state[r] = true
	}
	state["gate"], state["shop"] = true, true
	rules := []Rule{
		{Name: "one", Type: Assertion, Controls: regions, AtLeast: 1},
		{Name: "gate", Type: Gating, Controls: []string{"gate"}, Targets: []string{"shop"}, AtLeast: 1},
	}
	changes := map[string]bool{"us-east-1": false, "shop": false}
	b.ReportAllocs()
	for b.Loop() {
		if err := Check(state, changes, rules); err != nil {
			b.Fatal(err)
		}
	}
}

// benchService is a Service that is not started: its view is its Options',
// which is the same structure a started node publishes.
func benchService(b *testing.B, controls int) *Service {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var peers []Peer
	for i, r := range regions {
		peers = append(peers, Peer{ID: r, RaftAddr: fmt.Sprintf("127.0.0.1:%d", 7000+i)})
	}
	var extra []string
	for i := len(regions); i < controls; i++ {
		extra = append(extra, fmt.Sprint("app-", i))
	}
	s, err := New(Options{NodeID: regions[0], Peers: peers, Listener: ln, DataDir: b.TempDir(), Controls: extra})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Shutdown(context.Background()) })
	return s
}
