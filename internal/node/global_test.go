package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gyre-dev/gyre/internal/repl"
	"github.com/gyre-dev/gyre/internal/topology"
)

// startNode runs the default three regions on free ports with no WAN
// latency, data in a temporary directory.
func startNode(t *testing.T, edit func(*topology.Topology)) *Node {
	t.Helper()
	return startNodeWith(t, edit, false)
}

// startNodeWith is startNode, also running the routing plane when router
// is set.
func startNodeWith(t *testing.T, edit func(*topology.Topology), router bool) *Node {
	t.Helper()
	topo := topology.Default()
	for i := range topo.Regions {
		r := &topo.Regions[i]
		r.DynamoDB, r.Admin, r.Control = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
		r.Public, r.PublicHTTPS = fmt.Sprintf("127.0.%d.1:0", i+1), ""
	}
	topo.Routing.DNS, topo.Routing.FrontDoor, topo.Routing.FrontDoorHTTPS, topo.Routing.Admin = "", "", "", ""
	// The reference app has tests of its own; elsewhere it would only add
	// tables (a test turns it back on in edit).
	topo.App.Disabled = true
	topo.Routing.HealthChecks, topo.Routing.RecordSets = nil, nil
	topo.DataDir = t.TempDir()
	topo.WAN.Disabled = true
	if edit != nil {
		edit(topo)
	}
	// Every listener on a free port, each region's public endpoint on its
	// own loopback address, so tests can run side by side.
	for i := range topo.Regions {
		r := &topo.Regions[i]
		if r.Public == "" {
			r.Public = fmt.Sprintf("127.0.%d.1:0", i+1)
		}
		if r.Control == "" {
			r.Control = "127.0.0.1:0"
		}
		if r.PublicHTTPS == "" {
			host, _, _ := net.SplitHostPort(r.Public)
			r.PublicHTTPS = net.JoinHostPort(host, "0")
		}
	}
	rt := &topo.Routing
	for _, addr := range []*string{&rt.DNS, &rt.FrontDoor, &rt.FrontDoorHTTPS, &rt.Admin} {
		if *addr == "" {
			*addr = "127.0.0.1:0"
		}
	}
	topo.EnsureDefaults()
	if err := topo.Validate(); err != nil {
		t.Fatal(err)
	}
	n, err := Start(Options{
		Topology: topo,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Replication: repl.Options{
			HeartbeatInterval: 50 * time.Millisecond, StallTimeout: 2 * time.Second,
			AckInterval: 50 * time.Millisecond, GCInterval: 200 * time.Millisecond,
			RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		},
		Router:        router,
		RouterOptions: RouterOptions{ReportInterval: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Shutdown(context.Background()) })
	return n
}

func client(r *Region) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:           r.Name(),
		BaseEndpoint:     aws.String("http://" + r.Addr().String()),
		Credentials:      credentials.NewStaticCredentialsProvider(DevAccessKey, DevSecretKey, ""),
		RetryMaxAttempts: 1,
	})
}

// eventually polls cond until it holds or 30s pass: replication is
// asynchronous, and the condition is the readiness being waited for.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func getS(t *testing.T, db *dynamodb.Client, table, pk, attr string) (string, bool) {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": s(pk)}})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return "", false
		}
		t.Fatal(err)
	}
	v, ok := out.Item[attr].(*types.AttributeValueMemberS)
	if !ok {
		return "", false
	}
	return v.Value, true
}

func TestReplicaUpdatesThroughTheAPI(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	east, west, eu := client(n.Region("us-east-1")), client(n.Region("us-west-2")), client(n.Region("eu-west-1"))
	_, err := east.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("orders"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		_, err := east.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{"pk": s(fmt.Sprint("old-", i)), "v": s("east")}})
		if err != nil {
			t.Fatal(err)
		}
	}
	out, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName: aws.String("orders"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{
			{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("us-west-2")}},
			{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := aws.ToString(out.TableDescription.GlobalTableVersion); v != "2019.11.21" {
		t.Errorf("GlobalTableVersion %q", v)
	}
	eventually(t, "both new replicas ACTIVE in us-east-1's DescribeTable", func() bool {
		d, err := east.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
		if err != nil || len(d.Table.Replicas) != 2 {
			return false
		}
		for _, r := range d.Table.Replicas {
			if r.ReplicaStatus != types.ReplicaStatusActive {
				return false
			}
		}
		return true
	})
	// The backfill brought the old items.
	if v, ok := getS(t, eu, "orders", "old-49", "v"); !ok || v != "east" {
		t.Errorf("old-49 in eu-west-1 = %q, %v", v, ok)
	}
	// Every region is writable, and writes reach every other.
	if _, err := west.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{"pk": s("new"), "v": s("west")}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "west's write in eu-west-1", func() bool { v, _ := getS(t, eu, "orders", "new", "v"); return v == "west" })
	eventually(t, "west's write in us-east-1", func() bool { v, _ := getS(t, east, "orders", "new", "v"); return v == "west" })

	// A GSI made in one region reaches the others.
	_, err = eu.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:            aws.String("orders"),
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
	eventually(t, "the GSI in us-east-1, backfilled", func() bool {
		q, err := east.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("orders"), IndexName: aws.String("by-v"),
			KeyConditionExpression: aws.String("v = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("east")}})
		return err == nil && q.Count == 50
	})

	// Removing a replica drops its copy.
	if _, err := east.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("orders"),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "eu-west-1's replica gone", func() bool {
		_, err := eu.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
		var nf *types.ResourceNotFoundException
		return errors.As(err, &nf)
	})
}

func TestTopologyTablesTTLAndTransactions(t *testing.T) {
	n := startNode(t, func(topo *topology.Topology) {
		topo.Tables = []topology.Table{{Name: "carts", PartitionKey: topology.KeyAttribute{Name: "pk", Type: topology.KeyString}, TTLAttribute: "exp"}}
	})
	ctx := context.Background()
	east, eu := client(n.Region("us-east-1")), client(n.Region("eu-west-1"))
	// A transaction lands whole in every replica.
	var items []types.TransactWriteItem
	for i := range 10 {
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String("carts"), Item: map[string]types.AttributeValue{"pk": s(fmt.Sprint("tx-", i)), "v": s("1")}}})
	}
	if _, err := east.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the transaction in eu-west-1", func() bool {
		out, err := eu.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("carts")})
		if err != nil {
			t.Fatal(err)
		}
		if out.Count != 0 && out.Count != 10 {
			t.Fatalf("eu-west-1 saw %d of the transaction's 10 items: half-visible", out.Count)
		}
		return out.Count == 10
	})
	// An item expired by one region's sweeper is deleted in every region.
	past := fmt.Sprint(time.Now().Add(-time.Hour).Unix())
	if _, err := eu.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("carts"), Item: map[string]types.AttributeValue{"pk": s("stale"), "exp": &types.AttributeValueMemberN{Value: past}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the expired item deleted in us-east-1", func() bool {
		_, ok := getS(t, east, "carts", "stale", "pk")
		return !ok
	})
}

func TestRegionCatchesUpAfterRestart(t *testing.T) {
	n := startNode(t, func(topo *topology.Topology) {
		topo.Tables = []topology.Table{{Name: "kvs", PartitionKey: topology.KeyAttribute{Name: "pk", Type: topology.KeyString}}}
	})
	ctx := context.Background()
	east := client(n.Region("us-east-1"))
	if err := n.Stop(ctx, "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := east.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("kvs"), Item: map[string]types.AttributeValue{"pk": s(fmt.Sprint("k", i)), "v": s("while-down")}}); err != nil {
			t.Fatal(err)
		}
	}
	restart(t, n, "eu-west-1")
	eu := client(n.Region("eu-west-1"))
	eventually(t, "eu-west-1 to catch up", func() bool { v, _ := getS(t, eu, "kvs", "k19", "v"); return v == "while-down" })
}

// TestRefusedUpdateTableChangesNothing sends UpdateTable requests that add
// a replica and change an index, one part of which is refused: nothing of
// the request may be applied.
func TestRefusedUpdateTableChangesNothing(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	east := client(n.Region("us-east-1"))
	_, err := east.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("plans"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	addWest := []types.ReplicationGroupUpdate{{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String("us-west-2")}}}
	byV := &types.CreateGlobalSecondaryIndexAction{
		IndexName:  aws.String("by-v"),
		KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("v"), KeyType: types.KeyTypeHash}},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
	}
	for name, in := range map[string]*dynamodb.UpdateTableInput{
		"a replica and an index keyed on an attribute redefined": {
			ReplicaUpdates:              addWest,
			AttributeDefinitions:        []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeN}, {AttributeName: aws.String("v"), AttributeType: types.ScalarAttributeTypeS}},
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: byV}},
		},
		"a replica and an index with no definition of its key": {
			ReplicaUpdates:              addWest,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: byV}},
		},
		"a replica twice": {
			ReplicaUpdates: append(addWest, addWest...),
		},
		"a replica and a stream already off": {
			ReplicaUpdates:      addWest,
			StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(false)},
		},
	} {
		in.TableName = aws.String("plans")
		if _, err := east.UpdateTable(ctx, in); err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		d, err := east.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("plans")})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Table.Replicas) != 0 || len(d.Table.GlobalSecondaryIndexes) != 0 {
			t.Errorf("%s: refused, but the table now has replicas %v and indexes %v", name, d.Table.Replicas, d.Table.GlobalSecondaryIndexes)
		}
	}
}
