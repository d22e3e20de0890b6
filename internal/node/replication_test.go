package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gyre-dev/gyre/internal/repl"
)

// Helpers shared by the replication suites (scenario_test.go,
// random_test.go, skew_test.go): SDK clients with transports of their own,
// waiting for replication to drain, and the consistency check gyre verify
// runs.

// sdkClient returns a real AWS SDK client for a region's DynamoDB endpoint,
// with retries off so every error surfaces, and the transport it owns: the
// caller closes its idle connections when done (a restarted region needs a
// fresh client, not the pooled connections of the old process).
func sdkClient(r *Region) (*dynamodb.Client, *http.Transport) {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	db := dynamodb.New(dynamodb.Options{
		Region:           r.Name(),
		BaseEndpoint:     aws.String("http://" + r.Addr().String()),
		Credentials:      credentials.NewStaticCredentialsProvider(DevAccessKey, DevSecretKey, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: tr, Timeout: 30 * time.Second},
	})
	return db, tr
}

// restartRegion restarts a stopped region (Node.Restart), waiting while its
// address is taken: once a region has stopped, the kernel may give its
// port to an outgoing connection, until that connection closes.
func restartRegion(ctx context.Context, n *Node, name string) error {
	ctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	for {
		err := n.Restart(name)
		if !errors.Is(err, syscall.EADDRINUSE) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func restart(t *testing.T, n *Node, name string) {
	t.Helper()
	if err := restartRegion(context.Background(), n, name); err != nil {
		t.Fatal(err)
	}
}

// drainTimeout bounds every wait for replication to drain.
const drainTimeout = 30 * time.Second

// awaitDrained waits until replication among the running regions has
// drained over every link the WAN holds up: no table is being backfilled,
// every such link's stream is connected, and every destination has
// acknowledged every entry of every origin's log. Links the WAN holds down,
// and regions that are stopped, are left out, so that a scenario can let
// what can converge converge in the middle of a partition. It returns what
// was still pending when the deadline passed.
func awaitDrained(ctx context.Context, n *Node, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		pending := undrained(n)
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("replication did not drain within %v:\n  %s", timeout, strings.Join(pending, "\n  "))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// undrained lists what keeps replication from having drained, empty when it
// has (see awaitDrained).
func undrained(n *Node) []string {
	net := n.WAN().Snapshot()
	up := func(a, b string) bool {
		if n.Region(a) == nil || n.Region(b) == nil {
			return false
		}
		l, ok := net.Link(a, b)
		return ok && l.Up
	}
	var pending []string
	for _, r := range n.Regions() {
		s := r.Status().Replication
		if s == nil {
			continue
		}
		for _, t := range s.Backfilling {
			pending = append(pending, fmt.Sprintf("%s: backfilling %s", r.Name(), t))
		}
		for _, l := range s.Links {
			if up(l.Origin, l.Destination) && l.State != repl.LinkConnected {
				pending = append(pending, fmt.Sprintf("%s <- %s: %s %s", l.Destination, l.Origin, l.State, l.LastError))
			}
		}
		for _, o := range s.Outbound {
			if !up(s.Region, o.Destination) {
				continue
			}
			switch {
			case !o.Known:
				pending = append(pending, fmt.Sprintf("%s -> %s: no acknowledgement yet (log head %d)", s.Region, o.Destination, s.LogHead))
			case o.Backlog > 0:
				pending = append(pending, fmt.Sprintf("%s -> %s: %d entries not acknowledged", s.Region, o.Destination, o.Backlog))
			}
		}
	}
	slices.Sort(pending)
	return pending
}

// checkReplicas runs the check gyre verify runs against every running
// region's admin API, with the admin token.
func checkReplicas(ctx context.Context, n *Node) ([]repl.TableCheck, error) {
	var targets []repl.Target
	for _, r := range n.Regions() {
		targets = append(targets, repl.Target{Region: r.Name(), URL: "http://" + r.AdminAddr().String()})
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	return repl.Check(ctx, &http.Client{Transport: tr, Timeout: time.Minute}, n.Topology().AdminToken, targets)
}

// formatChecks prints consistency checks deterministically: the verdict per
// table and, where replicas differ, each differing key with the regions
// grouped by the item they hold (A, B, ... in order of first appearance;
// "missing" where a region lacks the item).
func formatChecks(checks []repl.TableCheck) string {
	var b strings.Builder
	if len(checks) == 0 {
		b.WriteString("no global tables\n")
	}
	for _, c := range checks {
		items := 0
		if len(c.Replicas) > 0 {
			items = c.Replicas[0].Items
		}
		if c.Consistent {
			fmt.Fprintf(&b, "%s: consistent, %d replicas, %d items\n", c.Table, len(c.Replicas), items)
			continue
		}
		fmt.Fprintf(&b, "%s: DIFFERENT\n", c.Table)
		for _, d := range c.Replicas {
			fmt.Fprintf(&b, "  %s: %d items\n", d.Region, d.Items)
		}
		for _, r := range c.Unreachable {
			fmt.Fprintf(&b, "  %s: unreachable\n", r)
		}
		for _, d := range c.Differences {
			regions := make([]string, 0, len(d.Hashes))
			for r := range d.Hashes {
				regions = append(regions, r)
			}
			slices.Sort(regions)
			names := map[string]string{}
			fmt.Fprintf(&b, "  key %s:", d.Key)
			for _, r := range regions {
				h := d.Hashes[r]
				name := "missing"
				if h != "" {
					if names[h] == "" {
						names[h] = string(rune('A' + len(names)))
					}
					name = names[h]
				}
				fmt.Fprintf(&b, " %s=%s", r, name)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// formatItem prints an item's attributes other than its key, sorted by
// name: "n=3 tags={a,b} v=x".
func formatItem(item map[string]types.AttributeValue, key ...string) string {
	names := make([]string, 0, len(item))
	for name := range item {
		if !slices.Contains(key, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "(key only)"
	}
	return formatAttrs(item, names)
}

func formatAttrs(m map[string]types.AttributeValue, names []string) string {
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + "=" + formatValue(m[name])
	}
	return strings.Join(parts, " ")
}

// formatValue prints an attribute value compactly; sets are sorted, so
// equal values print equally.
func formatValue(v types.AttributeValue) string {
	sorted := func(vs []string) string {
		vs = slices.Clone(vs)
		slices.Sort(vs)
		return "{" + strings.Join(vs, ",") + "}"
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberB:
		return fmt.Sprintf("0x%x", v.Value)
	case *types.AttributeValueMemberBOOL:
		return fmt.Sprint(v.Value)
	case *types.AttributeValueMemberNULL:
		return "null"
	case *types.AttributeValueMemberSS:
		return sorted(v.Value)
	case *types.AttributeValueMemberNS:
		return sorted(v.Value)
	case *types.AttributeValueMemberBS:
		hex := make([]string, len(v.Value))
		for i, b := range v.Value {
			hex[i] = fmt.Sprintf("0x%x", b)
		}
		return sorted(hex)
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = formatValue(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case *types.AttributeValueMemberM:
		names := make([]string, 0, len(v.Value))
		for name := range v.Value {
			names = append(names, name)
		}
		slices.Sort(names)
		return "(" + formatAttrs(v.Value, names) + ")"
	}
	return fmt.Sprintf("%T", v)
}
