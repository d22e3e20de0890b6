package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// Sample data seeded once, in the primary region, when the tables are
// created: an order that canaries and first tries can read back.
const (
	SampleCustomerID = "sample-customer"
	SampleProductID  = "sample-product"
	SampleOrderID    = "sample-order"
)

// tableSpec is one of the App's tables: its name and partition key.
type tableSpec struct {
	name, key string
}

func (a *App) specs() []tableSpec {
	t := a.opts.Tables
	return []tableSpec{{t.Items, "id"}, {t.Customers, "id"}, {t.Products, "id"}, {t.Orders, "orderId"}}
}

// setup makes the tables ready: in the primary region it creates each
// missing one, adds its missing replicas and seeds the sample data; in the
// others it waits for each to arrive by replication and become ACTIVE.
// Every step is idempotent, so starting again on existing data changes
// nothing. It retries until it succeeds or ctx ends.
func (a *App) setup(ctx context.Context) {
	primary := a.opts.Primary == a.opts.Region
	start := time.Now()
	warned := false
	// wait pauses before the next try: briefly after a step forward,
	// longer (up to maxDelay) while nothing changes.
	delay := minDelay
	wait := func(s step, why string, err error) bool {
		if err != nil {
			why = fmt.Sprintf("%s (%v)", why, err)
		}
		a.waiting.Store(&why)
		if !warned && time.Since(start) > 30*time.Second {
			warned = true
			if primary {
				a.log.Warn("the app's tables are still not ready", "waiting", why)
			} else {
				a.log.Warn("the app's tables have not arrived from the primary region; is it running?", "primary", a.opts.Primary, "waiting", why)
			}
		}
		d := delay
		if s == progressed {
			d, delay = 0, minDelay
		} else {
			delay = min(2*delay, maxDelay)
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	for _, spec := range a.specs() {
		for {
			s, why, err := a.prepare(ctx, spec, primary)
			if ctx.Err() != nil {
				return
			}
			if s == ready {
				break
			}
			if !wait(s, why, err) {
				return
			}
		}
	}
	if primary {
		for {
			err := a.seed(ctx)
			if err == nil {
				break
			}
			if !wait(waiting, "seeding the sample data", err) {
				return
			}
		}
	}
	a.ready.Store(true)
	a.log.Info("app ready", "tables", strings.Join(a.opts.Tables.names(), ","), "primary", primary, "took", time.Since(start).Round(time.Millisecond))
}

// The pauses of setup between tries.
const (
	minDelay = 50 * time.Millisecond
	maxDelay = 500 * time.Millisecond
)

// step is where prepare got to.
type step int

const (
	waiting    step = iota // nothing changed: the table is not there yet, or a call failed
	progressed             // a step was taken (created, replicas added): look again at once
	ready                  // the table is ready here
)

// prepare takes one step towards making a table ready, and reports where
// it got to and, if not ready, what it waits for.
func (a *App) prepare(ctx context.Context, spec tableSpec, primary bool) (step, string, error) {
	cctx, cancel := context.WithTimeout(ctx, a.opts.RequestTimeout)
	defer cancel()
	out, err := a.db.DescribeTable(cctx, &dynamodb.DescribeTableInput{TableName: aws.String(spec.name)})
	if isCode(err, "ResourceNotFoundException") {
		if !primary {
			return waiting, fmt.Sprintf("waiting for table %s to arrive from the primary region %s", spec.name, a.opts.Primary), nil
		}
		_, err := a.db.CreateTable(cctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(spec.name),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(spec.key), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(spec.key), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
		})
		if err != nil && !isCode(err, "ResourceInUseException") {
			return waiting, "creating table " + spec.name, err
		}
		a.log.Info("created table", "table", spec.name)
		return progressed, "waiting for table " + spec.name + " to become ACTIVE", nil
	}
	if err != nil {
		return waiting, "describing table " + spec.name, err
	}
	if out.Table.TableStatus != types.TableStatusActive {
		return waiting, fmt.Sprintf("waiting for table %s to become ACTIVE (it is %s)", spec.name, out.Table.TableStatus), nil
	}
	if !primary {
		return ready, "", nil
	}
	var missing []types.ReplicationGroupUpdate
	for _, region := range a.opts.Replicas {
		if region == a.opts.Region || slices.ContainsFunc(out.Table.Replicas, func(r types.ReplicaDescription) bool { return aws.ToString(r.RegionName) == region }) {
			continue
		}
		missing = append(missing, types.ReplicationGroupUpdate{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(region)}})
	}
	if len(missing) == 0 {
		return ready, "", nil
	}
	if _, err := a.db.UpdateTable(cctx, &dynamodb.UpdateTableInput{TableName: aws.String(spec.name), ReplicaUpdates: missing}); err != nil {
		return waiting, "adding replicas of table " + spec.name, err
	}
	a.log.Info("added replicas", "table", spec.name, "replicas", len(missing))
	return progressed, "checking the replicas of table " + spec.name, nil
}

// seed writes the sample customer, product and order unless they exist.
func (a *App) seed(ctx context.Context) error {
	t := a.opts.Tables
	now := time.Now().UTC().Format(time.RFC3339Nano)
	puts := []struct {
		table, key string
		item       map[string]types.AttributeValue
	}{
		{t.Customers, "id", map[string]types.AttributeValue{
			"id": s(SampleCustomerID), "name": s("Sample Customer"), "region": s(a.opts.Region), "createdAt": s(now)}},
		{t.Products, "id", map[string]types.AttributeValue{
			"id": s(SampleProductID), "name": s("Sample Product"), "price": &types.AttributeValueMemberN{Value: "9.99"}, "region": s(a.opts.Region), "createdAt": s(now)}},
		{t.Orders, "orderId", map[string]types.AttributeValue{
			"orderId": s(SampleOrderID), "customerId": s(SampleCustomerID), "productId": s(SampleProductID), "region": s(a.opts.Region), "createdAt": s(now)}},
	}
	for _, p := range puts {
		cctx, cancel := context.WithTimeout(ctx, a.opts.RequestTimeout)
		_, err := a.db.PutItem(cctx, &dynamodb.PutItemInput{
			TableName:           aws.String(p.table),
			Item:                p.item,
			ConditionExpression: aws.String("attribute_not_exists(#k)"),
			ExpressionAttributeNames: map[string]string{
				"#k": p.key,
			},
		})
		cancel()
		if err != nil && !isCode(err, "ConditionalCheckFailedException") {
			return fmt.Errorf("seeding %s: %w", p.table, err)
		}
	}
	return nil
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// isCode reports whether err is a DynamoDB error of that code.
func isCode(err error, code string) bool {
	if err == nil {
		return false
	}
	ae, ok := errors.AsType[smithy.APIError](err)
	return ok && ae.ErrorCode() == code
}
