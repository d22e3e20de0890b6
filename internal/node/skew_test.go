package node

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gyre-dev/gyre/internal/topology"
)

// Last writer wins on the version a region's hybrid logical clock gives a
// write, not on anyone's wall clock: with skewed clocks, a region whose
// clock runs ahead wins every concurrent conflict, and a write that follows
// a replicated one in the same region wins over it, however far behind that
// region's clock runs.

// skewedNode runs the three default regions with clock offsets and a table
// kvs replicated everywhere, and returns SDK clients by region.
func skewedNode(t *testing.T, skews map[string]time.Duration) (*Node, map[string]*dynamodb.Client) {
	t.Helper()
	n := startNode(t, func(topo *topology.Topology) {
		for i := range topo.Regions {
			topo.Regions[i].ClockSkew = skews[topo.Regions[i].Name]
		}
		topo.Tables = []topology.Table{{Name: "kvs", PartitionKey: topology.KeyAttribute{Name: "pk", Type: topology.KeyString}}}
	})
	clients := map[string]*dynamodb.Client{}
	for _, r := range n.Regions() {
		clients[r.Name()] = client(r)
	}
	return n, clients
}

func putV(t *testing.T, db *dynamodb.Client, key, v string) {
	t.Helper()
	_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("kvs"),
		Item: map[string]types.AttributeValue{"pk": s(key), "v": s(v)}})
	if err != nil {
		t.Fatalf("putting %s=%s: %v", key, v, err)
	}
}

// wantEverywhere checks that every running region holds v under key, once
// replication has drained.
func wantEverywhere(t *testing.T, n *Node, key, want string) {
	t.Helper()
	if err := awaitDrained(context.Background(), n, drainTimeout); err != nil {
		t.Fatal(err)
	}
	for _, r := range n.Regions() {
		if got, _ := getS(t, client(r), "kvs", key, "v"); got != want {
			t.Errorf("%s: %s = %q, want %q", r.Name(), key, got, want)
		}
	}
}

func TestSkewedAheadClockWinsConcurrentWrites(t *testing.T) {
	t.Parallel()
	n, db := skewedNode(t, map[string]time.Duration{"us-west-2": 3 * time.Second, "eu-west-1": -3 * time.Second})
	if err := awaitDrained(context.Background(), n, drainTimeout); err != nil {
		t.Fatal(err)
	}
	for _, r := range n.Topology().RegionNames() {
		if err := n.WAN().Isolate(r); err != nil {
			t.Fatal(err)
		}
	}
	// In real time us-west-2 writes first and eu-west-1 last; none has
	// seen another's write. us-west-2's clock is ahead of the others' by
	// more than the test takes, so its write carries the latest version.
	putV(t, db["us-west-2"], "k", "west")
	putV(t, db["us-east-1"], "k", "east")
	putV(t, db["eu-west-1"], "k", "eu")
	for region, want := range map[string]string{"us-west-2": "west", "us-east-1": "east", "eu-west-1": "eu"} {
		if got, _ := getS(t, db[region], "kvs", "k", "v"); got != want {
			t.Errorf("isolated %s reads %q, want its own write %q", region, got, want)
		}
	}
	n.WAN().Heal()
	wantEverywhere(t, n, "k", "west")
}

func TestWriteAfterReplicatedWriteWinsDespiteClockBehind(t *testing.T) {
	t.Parallel()
	// eu-west-1's clock runs 3s behind: every write it makes on its own
	// clock is older than what the others made a moment before.
	n, db := skewedNode(t, map[string]time.Duration{"eu-west-1": -3 * time.Second})
	eu := n.Region("eu-west-1")

	t.Run("concurrent", func(t *testing.T) {
		// Without having seen us-east-1's write, eu-west-1's later write
		// (in real time) is the older one and loses.
		if err := n.WAN().Isolate("eu-west-1"); err != nil {
			t.Fatal(err)
		}
		putV(t, db["us-east-1"], "concurrent", "east")
		putV(t, db["eu-west-1"], "concurrent", "eu")
		n.WAN().Heal()
		wantEverywhere(t, n, "concurrent", "east")
	})

	t.Run("after applying", func(t *testing.T) {
		putV(t, db["us-east-1"], "causal", "east")
		eventually(t, "us-east-1's write in eu-west-1", func() bool {
			v, _ := getS(t, db["eu-west-1"], "kvs", "causal", "v")
			return v == "east"
		})
		putV(t, db["eu-west-1"], "causal", "eu")
		wantEverywhere(t, n, "causal", "eu")
	})

	t.Run("after applying and restarting", func(t *testing.T) {
		// A restart starts a fresh clock on the skewed wall clock; what the
		// region stored before must still order its next write after it.
		putV(t, db["us-east-1"], "restart", "east")
		eventually(t, "us-east-1's write in eu-west-1", func() bool {
			v, _ := getS(t, db["eu-west-1"], "kvs", "restart", "v")
			return v == "east"
		})
		if err := n.Stop(context.Background(), "eu-west-1"); err != nil {
			t.Fatal(err)
		}
		restart(t, n, "eu-west-1")
		eu = n.Region("eu-west-1")
		putV(t, client(eu), "restart", "eu")
		wantEverywhere(t, n, "restart", "eu")
	})

	t.Run("delete after applying", func(t *testing.T) {
		putV(t, db["us-east-1"], "gone", "east")
		eventually(t, "us-east-1's write in eu-west-1", func() bool {
			v, _ := getS(t, client(eu), "kvs", "gone", "v")
			return v == "east"
		})
		if _, err := client(eu).DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String("kvs"),
			Key: map[string]types.AttributeValue{"pk": s("gone")}}); err != nil {
			t.Fatal(err)
		}
		wantEverywhere(t, n, "gone", "")
	})
	if err := awaitDrained(context.Background(), n, drainTimeout); err != nil {
		t.Fatal(err)
	}
	checks, err := checkReplicas(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if !c.Consistent {
			t.Errorf("replicas differ:\n%s", formatChecks(checks))
		}
	}
}

func TestSchemaChangeAfterRestartDespiteClockBehind(t *testing.T) {
	t.Parallel()
	n, db := skewedNode(t, map[string]time.Duration{"eu-west-1": -3 * time.Second})
	ctx := context.Background()
	_, err := db["us-east-1"].UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:            aws.String("kvs"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("v"), AttributeType: types.ScalarAttributeTypeS}},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String("by-v"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("v"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	indexes := func(db *dynamodb.Client) int {
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("kvs")})
		if err != nil {
			t.Fatal(err)
		}
		return len(d.Table.GlobalSecondaryIndexes)
	}
	// Every schema change us-east-1 made must have reached eu-west-1 (an
	// UpdateTable may log more than one), or one it had not seen would be
	// concurrent with its drop, and might win.
	if err := awaitDrained(ctx, n, drainTimeout); err != nil {
		t.Fatal(err)
	}
	if got := indexes(db["eu-west-1"]); got != 1 {
		t.Fatalf("eu-west-1 has %d indexes, want the one us-east-1 made", got)
	}
	// eu-west-1 restarts with a fresh clock 3s behind the version of the
	// index it holds; dropping the index must still be the later change.
	if err := n.Stop(ctx, "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	restart(t, n, "eu-west-1")
	eu := client(n.Region("eu-west-1"))
	if _, err := eu.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("kvs"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("by-v")}}}}); err != nil {
		t.Fatal(err)
	}
	if err := awaitDrained(ctx, n, drainTimeout); err != nil {
		t.Fatal(err)
	}
	for _, r := range n.Regions() {
		if got := indexes(client(r)); got != 0 {
			t.Errorf("%s still has %d index(es) after eu-west-1 dropped it", r.Name(), got)
		}
	}
}
