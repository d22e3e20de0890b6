package control

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/gyre-dev/gyre/internal/wan"
)

// TestWANPartition runs the group over a real simulated WAN and isolates
// the leader: the majority elects another and takes changes, the isolated
// node cannot, and it catches up once the network heals.
func TestWANPartition(t *testing.T) {
	var links []wan.Link
	for i, a := range regions {
		for _, b := range regions[i+1:] {
			links = append(links, wan.Link{From: a, To: b, Latency: 2 * time.Millisecond})
		}
	}
	w, err := wan.New(wan.Options{Regions: regions, Links: links, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, regions, func(o *Options) {
		from := o.NodeID
		o.Dial = func(ctx context.Context, to, network, addr string) (net.Conn, error) {
			return w.DialContext(ctx, from, to, network, addr)
		}
	})
	leader := c.waitLeader(regions...)
	if err := w.Isolate(leader); err != nil {
		t.Fatal(err)
	}
	rest := slices.DeleteFunc(slices.Clone(regions), func(r string) bool { return r == leader })
	newLeader := c.waitLeader(rest...)
	if newLeader == leader {
		t.Fatalf("the isolated node %s still leads", leader)
	}

	// A change through the follower of the majority: forwarded over the WAN.
	from := c.follower(newLeader)
	if from == leader {
		from = rest[0]
		if from == newLeader {
			from = rest[1]
		}
	}
	if _, err := set(t, c.nodes[from], map[string]bool{leader: false}, nil); err != nil {
		t.Fatalf("Set on %s with %s isolated: %v", from, leader, err)
	}
	c.waitOn(leader, false, rest...)

	// The isolated node's own change: a control the majority leaves on.
	other := rest[0]
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := c.nodes[leader].Set(ctx, map[string]bool{other: false}, nil, "test"); !errors.Is(err, ErrNoQuorum) {
		t.Fatalf("Set on the isolated node: %v, want ErrNoQuorum", err)
	}
	if !c.nodes[leader].On(leader) {
		t.Errorf("the isolated node learned of a change across the partition")
	}

	w.Heal()
	c.waitOn(leader, false, regions...)
	c.waitLeader(regions...)
	for _, n := range c.running() {
		if !n.On(other) {
			t.Errorf("%s: the isolated node's change was applied", n.id)
		}
	}
}
