package node

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/gyre-dev/gyre/internal/topology"
)

// lwwOp is one write of TestRandomizedLastAcknowledgedWriteWins, with when
// it ran and what it leaves: the item's v, or absent.
type lwwOp struct {
	key        string
	region     string
	what       string
	start, end time.Time
	// value is the v the write leaves; absent when it leaves no item.
	value  string
	absent bool
	// known is set when the write was acknowledged with an outcome the
	// check can predict.
	known bool
	// failed is set when the write may or may not have been made.
	failed bool
}

// clockMargin is how much later than the end of every other write a write
// must start to be the last in real time whatever the milliseconds of the
// versions: a hybrid logical clock counts in milliseconds.
const clockMargin = 3 * time.Millisecond

// TestRandomizedLastAcknowledgedWriteWins has clients in three regions
// write a few hot keys (puts, updates, deletes, of items present or
// absent where they are made) while the WAN is cut and healed at random.
// Afterwards, for every key whose last write in real time overlapped no
// other, every region must hold what that write left: last writer wins is
// the last acknowledged writer, even when its write changed nothing where
// it was made.
func TestRandomizedLastAcknowledgedWriteWins(t *testing.T) {
	t.Parallel()
	seed := seedFor(t)
	regions := []string{"us-east-1", "us-west-2", "eu-west-1"}
	n := startNode(t, func(topo *topology.Topology) {
		topo.Tables = []topology.Table{{Name: "lww", PartitionKey: topology.KeyAttribute{Name: "pk", Type: topology.KeyString}}}
	})
	ctx, cancel := context.WithTimeout(context.Background(), *randomDuration)
	defer cancel()

	const writersPerRegion, keys = 3, 6
	var mu sync.Mutex
	var ops []lwwOp
	var wg sync.WaitGroup
	// The writers stop one after another, in an order of the seed's, so
	// that the last writes of the run do not all overlap.
	stopOrder := rand.New(rand.NewPCG(seed, 2000)).Perm(len(regions) * writersPerRegion)
	for ri, region := range regions {
		db, tr := sdkClient(n.Region(region))
		defer tr.CloseIdleConnections()
		for w := range writersPerRegion {
			rng := rand.New(rand.NewPCG(seed, uint64(1+ri*writersPerRegion+w)))
			name := fmt.Sprintf("%s/%d", region, w)
			wctx, wcancel := context.WithTimeout(ctx, *randomDuration-time.Duration(stopOrder[ri*writersPerRegion+w])*80*time.Millisecond)
			defer wcancel()
			wg.Go(func() {
				ctx := wctx
				// Writers stop between writes, not in the middle of one, so
				// that every write's outcome is known.
				for i := 0; ctx.Err() == nil; i++ {
					// A write cut short by the end of the run may still have
					// been made: it is kept, as one whose outcome is unknown.
					op := lwwWrite(context.Background(), db, rng, fmt.Sprintf("k%d", rng.IntN(keys)), fmt.Sprintf("%s#%d", name, i))
					op.region = region
					mu.Lock()
					ops = append(ops, op)
					mu.Unlock()
					// Pauses leave writes that overlap no other.
					select {
					case <-ctx.Done():
					case <-time.After(time.Duration(rng.IntN(15)) * time.Millisecond):
					}
				}
			})
		}
	}
	faults := &faultSchedule{n: n, regions: regions, rng: rand.New(rand.NewPCG(seed, 1000))}
	wg.Go(func() { faults.run(ctx) })
	wg.Wait()
	n.WAN().Heal()
	if err := awaitDrained(context.Background(), n, drainTimeout); err != nil {
		t.Fatal(err)
	}

	byKey := map[string][]lwwOp{}
	for _, op := range ops {
		byKey[op.key] = append(byKey[op.key], op)
	}
	checked := 0
	for key, kops := range byKey {
		sort.Slice(kops, func(i, j int) bool { return kops[i].start.Before(kops[j].start) })
		last := kops[len(kops)-1]
		clear := true
		for _, o := range kops[:len(kops)-1] {
			if !o.end.Add(clockMargin).Before(last.start) {
				clear = false // overlapped, or too close to tell apart
			}
		}
		if !clear || !last.known {
			continue
		}
		checked++
		for _, r := range n.Regions() {
			v, ok := getS(t, client(r), "lww", key, "v")
			switch {
			case last.absent && ok:
				t.Errorf("%s: %s holds v=%s, but the last write, %s in %s, left no item", key, r.Name(), v, last.what, last.region)
			case !last.absent && (!ok || v != last.value):
				t.Errorf("%s: %s holds %q (present %v), but the last write, %s in %s, left v=%s", key, r.Name(), v, ok, last.what, last.region, last.value)
			}
		}
		if t.Failed() {
			var lines []string
			for _, o := range kops[max(0, len(kops)-6):] {
				lines = append(lines, fmt.Sprintf("%s %-10s %s [%s]", o.start.Format("15:04:05.000000"), o.region, o.what, o.end.Sub(o.start)))
			}
			t.Logf("the last writes of %s:\n  %s\nfaults:\n  %s", key, strings.Join(lines, "\n  "), strings.Join(faults.log, "\n  "))
			return
		}
	}
	t.Logf("%d writes, %d faults; %d of %d keys had a last write clear of the others", len(ops), len(faults.log), checked, len(byKey))
	if checked == 0 || len(faults.log) == 0 {
		t.Errorf("the run proved little: %d keys checked, %d faults", checked, len(faults.log))
	}
}

// lwwWrite makes one random write of key: a put, an update, a delete, or
// an update that only removes an attribute (which leaves no item where
// there was none).
func lwwWrite(ctx context.Context, db *dynamodb.Client, rng *rand.Rand, key, v string) lwwOp {
	op := lwwOp{key: key, start: time.Now()}
	tbl := aws.String("lww")
	k := map[string]types.AttributeValue{"pk": s(key)}
	var err error
	switch p := rng.IntN(100); {
	case p < 35:
		op.what, op.value, op.known = "put v="+v, v, true
		_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: map[string]types.AttributeValue{"pk": s(key), "v": s(v)}})
	case p < 55:
		op.what, op.value, op.known = "update v="+v, v, true
		_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: k,
			UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s(v)}})
	case p < 90:
		op.what, op.absent, op.known = "delete", true, true
		_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: k})
	default:
		// What it leaves depends on what was there: the check cannot tell.
		op.what = "update REMOVE x"
		var out *dynamodb.UpdateItemOutput
		out, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: k,
			UpdateExpression: aws.String("REMOVE x"), ReturnValues: types.ReturnValueAllNew})
		if err == nil && len(out.Attributes) == 0 {
			op.absent, op.known = true, true
		}
	}
	op.end = time.Now()
	if err != nil {
		var ae smithy.APIError
		op.known, op.failed = false, !errors.As(err, &ae) || ae.ErrorCode() != "ConditionalCheckFailedException"
		// A failed write's interval runs to the end of the run: it may
		// land at any time before then.
		op.end = time.Now().Add(time.Hour)
	}
	return op
}
