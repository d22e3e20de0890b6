package node

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/gyre-dev/gyre/internal/topology"
)

var (
	randomSeed = flag.Uint64("random.seed", 0,
		"seed of the randomized replication tests; 0 draws one (printed when a test fails)")
	randomDuration = flag.Duration("random.duration", 5*time.Second,
		"how long the randomized replication test writes while the WAN is cut and healed")
)

// seedFor returns the seed of a randomized test and has it printed if the
// test fails, so that the run's operations and faults can be drawn again
// (goroutine interleaving, of course, cannot).
func seedFor(t *testing.T) uint64 {
	seed := *randomSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d: rerun with -run '^%s$' -random.seed=%d", seed, t.Name(), seed)
		}
	})
	return seed
}

// TestRandomizedReplication writes a small key space from several clients in
// each of three regions at once (puts, updates, deletes, conditional writes
// and transactions) while a fault schedule partitions, isolates and heals
// the WAN at random, and the regions' clocks are skewed at random. Then it
// heals the network, waits for replication to drain and checks, as gyre
// verify does, that every replica holds the same items.
func TestRandomizedReplication(t *testing.T) {
	t.Parallel()
	seed := seedFor(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	regions := []string{"us-east-1", "us-west-2", "eu-west-1"}
	skews := map[string]time.Duration{}
	for _, r := range regions {
		skews[r] = time.Duration(rng.IntN(4001)-2000) * time.Millisecond
	}
	t.Logf("seed %d, clock skews %v", seed, skews)
	n := startNode(t, func(topo *topology.Topology) {
		for i := range topo.Regions {
			topo.Regions[i].ClockSkew = skews[topo.Regions[i].Name]
		}
		topo.Tables = []topology.Table{{Name: "kvs", PartitionKey: topology.KeyAttribute{Name: "pk", Type: topology.KeyString}}}
	})
	ctx, cancel := context.WithTimeout(context.Background(), *randomDuration)
	defer cancel()

	const writersPerRegion, keys = 3, 12
	var stats opStats
	var wg sync.WaitGroup
	for ri, region := range regions {
		db, tr := sdkClient(n.Region(region))
		defer tr.CloseIdleConnections()
		for w := range writersPerRegion {
			wr := &writer{db: db, table: "kvs", keys: keys, name: fmt.Sprintf("%s/%d", region, w),
				rng: rand.New(rand.NewPCG(seed, uint64(1+ri*writersPerRegion+w))), stats: &stats}
			wg.Go(func() { wr.run(ctx, t) })
		}
	}
	faults := &faultSchedule{n: n, regions: regions, rng: rand.New(rand.NewPCG(seed, 1000))}
	wg.Go(func() { faults.run(ctx) })
	wg.Wait()

	n.WAN().Heal()
	t.Logf("%s; %d faults", &stats, len(faults.log))
	if t.Failed() {
		t.Logf("faults:\n  %s", strings.Join(faults.log, "\n  "))
		return
	}
	requireConsistent(t, n, func() string { return "faults:\n  " + strings.Join(faults.log, "\n  ") })
	if stats.ok.Load() == 0 || len(faults.log) == 0 {
		t.Errorf("the run proved little: %s, %d faults", &stats, len(faults.log))
	}
}

// TestRandomizedBackfill adds replicas to a table that has items while
// clients in the other replicas keep writing, deleting and recreating its
// keys, and removes one and adds it back a few times: every replica ends
// identical.
func TestRandomizedBackfill(t *testing.T) {
	t.Parallel()
	seed := seedFor(t)
	n := startNode(t, nil)
	ctx := context.Background()
	clients := map[string]*dynamodb.Client{}
	for _, r := range n.Regions() {
		db, tr := sdkClient(r)
		defer tr.CloseIdleConnections()
		clients[r.Name()] = db
	}
	east, west := clients["us-east-1"], clients["us-west-2"]
	if _, err := east.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("bfill"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	const keys = 60
	for i := range keys {
		if _, err := east.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bfill"),
			Item: map[string]types.AttributeValue{"pk": s(fmt.Sprintf("k%02d", i)), "v": s("preloaded")}}); err != nil {
			t.Fatal(err)
		}
	}
	// Latency stretches the snapshots' transfer, so that writes land
	// while they are read and applied.
	for _, pair := range [][2]string{{"us-east-1", "us-west-2"}, {"us-east-1", "eu-west-1"}, {"us-west-2", "eu-west-1"}} {
		if err := n.WAN().Set(pair[0], pair[1], 15*time.Millisecond, 5*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	replicaUpdate := func(db *dynamodb.Client, u types.ReplicationGroupUpdate) {
		t.Helper()
		if _, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("bfill"),
			ReplicaUpdates: []types.ReplicationGroupUpdate{u}}); err != nil {
			t.Fatal(err)
		}
	}
	add := func(db *dynamodb.Client, region string) {
		replicaUpdate(db, types.ReplicationGroupUpdate{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(region)}})
	}
	serving := func(region string) func() bool {
		return func() bool {
			d, err := clients[region].DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("bfill")})
			return err == nil && d.Table.TableStatus == types.TableStatusActive
		}
	}
	gone := func(region string) func() bool {
		return func() bool {
			_, err := clients[region].DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("bfill")})
			var nf *types.ResourceNotFoundException
			return errors.As(err, &nf)
		}
	}

	wctx, stop := context.WithCancel(ctx)
	var stats opStats
	var wg sync.WaitGroup
	defer func() {
		stop()
		wg.Wait()
	}()
	startWriters := func(region string, first uint64) {
		for w := range 2 {
			wr := &writer{db: clients[region], table: "bfill", keys: keys, name: fmt.Sprintf("%s/%d", region, w),
				rng: rand.New(rand.NewPCG(seed, first+uint64(w))), stats: &stats}
			wg.Go(func() { wr.run(wctx, t) })
		}
	}
	startWriters("us-east-1", 1)
	add(east, "us-west-2")
	eventually(t, "us-west-2's replica serving", serving("us-west-2"))
	startWriters("us-west-2", 10)
	add(west, "eu-west-1")
	eventually(t, "eu-west-1's replica serving", serving("eu-west-1"))
	// Remove and add the replica back, a few times, from different
	// regions, the writes going on.
	for i := range 3 {
		remover, adder := west, east
		if i%2 == 1 {
			remover, adder = east, west
		}
		replicaUpdate(remover, types.ReplicationGroupUpdate{Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String("eu-west-1")}})
		eventually(t, "eu-west-1's replica dropped", gone("eu-west-1"))
		// A replica is added back from a region that knows it is gone;
		// until then the region refuses, as DynamoDB does while a replica
		// is being deleted.
		eventually(t, "the adding region to learn that eu-west-1's replica is gone", func() bool {
			d, err := adder.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("bfill")})
			return err == nil && !slices.ContainsFunc(d.Table.Replicas, func(r types.ReplicaDescription) bool {
				return aws.ToString(r.RegionName) == "eu-west-1"
			})
		})
		add(adder, "eu-west-1")
		eventually(t, "eu-west-1's replica serving again", serving("eu-west-1"))
	}
	stop()
	wg.Wait()
	t.Logf("%s", &stats)
	if t.Failed() {
		return
	}
	requireConsistent(t, n, func() string { return "" })
	checks, err := checkReplicas(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 1 || len(checks[0].Replicas) != 3 {
		t.Errorf("want bfill checked in 3 replicas:\n%s", formatChecks(checks))
	}
}

// requireConsistent waits for replication to drain and checks every
// replica of every table with repl.Check; on failure it prints what more
// tells.
func requireConsistent(t *testing.T, n *Node, more func() string) {
	t.Helper()
	ctx := context.Background()
	if err := awaitDrained(ctx, n, drainTimeout); err != nil {
		t.Fatalf("%v\n%s", err, more())
	}
	checks, err := checkReplicas(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if !c.Consistent {
			t.Fatalf("replicas differ after draining:\n%s%s", formatChecks(checks), more())
		}
	}
	if len(checks) == 0 {
		t.Fatal("no global table was checked")
	}
}

// opStats counts a randomized run's operations.
type opStats struct {
	ok, refused atomic.Int64 // refused: a condition failed, a transaction conflicted
}

func (s *opStats) String() string {
	return fmt.Sprintf("%d writes, %d refused", s.ok.Load(), s.refused.Load())
}

// writer is one client writing random operations on a small key space
// until its context ends.
type writer struct {
	db    *dynamodb.Client
	table string
	keys  int
	name  string
	rng   *rand.Rand
	stats *opStats
}

func (w *writer) key() string { return fmt.Sprintf("k%02d", w.rng.IntN(w.keys)) }

func (w *writer) run(ctx context.Context, t *testing.T) {
	for i := 0; ctx.Err() == nil; i++ {
		err := w.op(ctx, fmt.Sprintf("%s#%d", w.name, i))
		var ae smithy.APIError
		switch {
		case err == nil:
			w.stats.ok.Add(1)
		case ctx.Err() != nil:
			return
		case errors.As(err, &ae) && (ae.ErrorCode() == "ConditionalCheckFailedException" || ae.ErrorCode() == "TransactionCanceledException"):
			w.stats.refused.Add(1)
		default:
			t.Errorf("%s: %v", w.name, err)
			return
		}
	}
}

// op makes one random write; v names it.
func (w *writer) op(ctx context.Context, v string) error {
	tbl := aws.String(w.table)
	key := func(k string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": s(k)}
	}
	switch p := w.rng.IntN(100); {
	case p < 35:
		_, err := w.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl,
			Item: map[string]types.AttributeValue{"pk": s(w.key()), "v": s(v), "n": &types.AttributeValueMemberN{Value: "1"}}})
		return err
	case p < 60:
		_, err := w.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: key(w.key()),
			UpdateExpression: aws.String("SET v = :v ADD n :one, tags :t"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":v": s(v), ":one": &types.AttributeValueMemberN{Value: "1"},
				":t": &types.AttributeValueMemberSS{Value: []string{w.name}},
			}})
		return err
	case p < 75:
		_, err := w.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: key(w.key())})
		return err
	case p < 85:
		_, err := w.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl,
			Item:                map[string]types.AttributeValue{"pk": s(w.key()), "v": s(v), "created": s(w.name)},
			ConditionExpression: aws.String("attribute_not_exists(pk)")})
		return err
	case p < 90:
		_, err := w.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: key(w.key()),
			UpdateExpression:          aws.String("REMOVE tags SET v = :v"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": s(v)}})
		return err
	default:
		// A transaction over distinct keys: puts and a delete.
		perm := w.rng.Perm(w.keys)[:2+w.rng.IntN(2)]
		var items []types.TransactWriteItem
		for i, k := range perm {
			k := fmt.Sprintf("k%02d", k)
			if i == 0 && w.rng.IntN(2) == 0 {
				items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: tbl, Key: key(k)}})
				continue
			}
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: tbl,
				Item: map[string]types.AttributeValue{"pk": s(k), "v": s(v), "tx": s(v)}}})
		}
		_, err := w.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		return err
	}
}

// faultSchedule cuts and heals the WAN at random until its context ends,
// through the same calls gyre wan makes.
type faultSchedule struct {
	n       *Node
	regions []string
	rng     *rand.Rand
	start   time.Time
	log     []string
}

func (f *faultSchedule) run(ctx context.Context) {
	f.start = time.Now()
	w := f.n.WAN()
	pair := func() (string, string) {
		i := f.rng.IntN(len(f.regions))
		j := (i + 1 + f.rng.IntN(len(f.regions)-1)) % len(f.regions)
		return f.regions[i], f.regions[j]
	}
	for {
		// A schedule, not a wait for readiness: the faults last as long as
		// the seed says.
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(50+f.rng.IntN(250)) * time.Millisecond):
		}
		var what string
		var err error
		switch p := f.rng.IntN(100); {
		case p < 30:
			a, b := pair()
			what, err = "partition "+a+" "+b, w.Partition(a, b)
		case p < 45:
			r := f.regions[f.rng.IntN(len(f.regions))]
			what, err = "isolate "+r, w.Isolate(r)
		case p < 65:
			a, b := pair()
			what, err = "heal-link "+a+" "+b, w.HealLink(a, b)
		case p < 80:
			r := f.regions[f.rng.IntN(len(f.regions))]
			what, err = "rejoin "+r, w.Rejoin(r)
		default:
			what = "heal"
			w.Heal()
		}
		if err != nil {
			what += ": " + err.Error()
		}
		f.log = append(f.log, fmt.Sprintf("%6dms %s", time.Since(f.start).Milliseconds(), what))
	}
}
