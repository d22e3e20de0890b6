package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ErrSchema is returned by Run when the table exists with a key schema other
// than pk (S, HASH), sk (N, RANGE).
var ErrSchema = errors.New("bench: table has the wrong key schema")

// ErrNoTable is returned by Run when the table is missing and
// Options.ExistingTable forbids creating it.
var ErrNoTable = errors.New("bench: table does not exist")

// How long Run waits for a new table to become ACTIVE, and how often it asks.
const (
	tableWait         = 5 * time.Minute
	tableWaitMinDelay = 500 * time.Millisecond
	tableWaitMaxDelay = 5 * time.Second
)

// ensureTable checks that the table exists with the expected key schema,
// creating it and waiting for it to be ACTIVE if it is missing and allowed.
// created says this call created the table, even if it then failed.
func ensureTable(ctx context.Context, c *client, o *Options, log *slog.Logger) (created bool, err error) {
	out, err := c.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &o.Table})
	var notFound *types.ResourceNotFoundException
	switch {
	case err == nil:
		if err := checkSchema(out.Table); err != nil {
			return false, fmt.Errorf("table %q: %w", o.Table, err)
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return false, nil
		}
	case !errors.As(err, &notFound):
		return false, fmt.Errorf("describing table %q: %w", o.Table, err)
	case o.ExistingTable:
		return false, fmt.Errorf("%w: %q, and creating it is turned off", ErrNoTable, o.Table)
	default:
		log.Info("creating table", "table", o.Table)
		var inUse *types.ResourceInUseException
		_, err := c.db.CreateTable(ctx, createTableInput(o.Table))
		switch {
		case err == nil:
			created = true
		case !errors.As(err, &inUse): // in use: someone else is creating it
			return false, fmt.Errorf("creating table %q: %w", o.Table, err)
		}
	}
	w := dynamodb.NewTableExistsWaiter(c.db, func(wo *dynamodb.TableExistsWaiterOptions) {
		wo.MinDelay, wo.MaxDelay = tableWaitMinDelay, tableWaitMaxDelay
	})
	active, err := w.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: &o.Table}, tableWait)
	if err != nil {
		return created, fmt.Errorf("waiting for table %q to become active: %w", o.Table, err)
	}
	if err := checkSchema(active.Table); err != nil {
		return created, fmt.Errorf("table %q: %w", o.Table, err)
	}
	log.Info("table active", "table", o.Table)
	return created, nil
}

func createTableInput(table string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeN},
		},
	}
}

// checkSchema reports whether the table's key schema is pk (S, HASH), sk (N,
// RANGE). Attribute types are checked where the description lists them.
func checkSchema(t *types.TableDescription) error {
	if t == nil {
		return fmt.Errorf("%w: the endpoint described no table", ErrSchema)
	}
	want := map[string]types.KeyType{attrPK: types.KeyTypeHash, attrSK: types.KeyTypeRange}
	got := map[string]types.KeyType{}
	for _, k := range t.KeySchema {
		got[aws.ToString(k.AttributeName)] = k.KeyType
	}
	if len(got) != len(want) || got[attrPK] != types.KeyTypeHash || got[attrSK] != types.KeyTypeRange {
		return fmt.Errorf("%w: want pk HASH, sk RANGE, got %v", ErrSchema, got)
	}
	wantType := map[string]types.ScalarAttributeType{attrPK: types.ScalarAttributeTypeS, attrSK: types.ScalarAttributeTypeN}
	for _, d := range t.AttributeDefinitions {
		name := aws.ToString(d.AttributeName)
		if w, ok := wantType[name]; ok && d.AttributeType != w {
			return fmt.Errorf("%w: want %s of type %s, got %s", ErrSchema, name, w, d.AttributeType)
		}
	}
	return nil
}

// deleteTable deletes the table; a table already gone is no error.
func deleteTable(ctx context.Context, c *client, table string) error {
	_, err := c.db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table})
	var notFound *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("deleting table %q: %w", table, err)
	}
	return nil
}

// Preload batching: DynamoDB's BatchWriteItem takes at most 25 puts. A batch
// whose items come back unprocessed, or that is throttled, is retried after
// a doubling backoff, at most preloadAttempts times in all.
const (
	batchSize           = 25
	preloadAttempts     = 10
	preloadFirstBackoff = 50 * time.Millisecond
	preloadMaxBackoff   = 5 * time.Second
)

// preloadRetryable are the error codes after which a preload batch is tried
// again rather than failing the run.
var preloadRetryable = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
}

// preload writes every item of the layout once with BatchWriteItem, using up
// to Concurrency goroutines. It returns the first error, after stopping the
// rest.
func preload(ctx context.Context, c *client, o *Options, l layout, log *slog.Logger) error {
	start := time.Now()
	log.Info("preloading", "table", o.Table, "items", l.items(), "item_size", o.ItemSize)
	payload := make([]byte, o.ItemSize)
	rand.Read(payload)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := (l.items() + batchSize - 1) / batchSize
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(o.Concurrency, batches) {
		wg.Go(func() {
			for {
				b := int(next.Add(1) - 1)
				if b >= batches || ctx.Err() != nil {
					return
				}
				reqs := make([]types.WriteRequest, 0, batchSize)
				for i := b * batchSize; i < min((b+1)*batchSize, l.items()); i++ {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: l.item(i, payload)}})
				}
				if err := writeBatch(ctx, c, o.Table, reqs); err != nil {
					cancel(fmt.Errorf("preloading table %q: %w", o.Table, err))
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	log.Info("preloaded", "table", o.Table, "items", l.items(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// writeBatch writes one batch, retrying unprocessed items and throttling.
func writeBatch(ctx context.Context, c *client, table string, reqs []types.WriteRequest) error {
	backoff := preloadFirstBackoff
	for attempt := 1; ; attempt++ {
		out, err := c.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{table: reqs},
		})
		switch {
		case err == nil && len(out.UnprocessedItems[table]) == 0:
			return nil
		case err == nil:
			reqs = out.UnprocessedItems[table]
		case !preloadRetryable[errorCode(err)]:
			return err
		}
		if attempt == preloadAttempts {
			if err != nil {
				return fmt.Errorf("giving up after %d attempts: %w", attempt, err)
			}
			return fmt.Errorf("giving up after %d attempts with %d items unprocessed", attempt, len(reqs))
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
		backoff = min(2*backoff, preloadMaxBackoff)
	}
}
