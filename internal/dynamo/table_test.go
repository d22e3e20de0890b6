package dynamo_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func keyElem(name string, kt types.KeyType) types.KeySchemaElement {
	return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: kt}
}

func attrDef(name string, at types.ScalarAttributeType) types.AttributeDefinition {
	return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: at}
}

// schemaOf renders a key schema as "pk HASH, sk RANGE".
func schemaOf(ks []types.KeySchemaElement) string {
	var parts []string
	for _, e := range ks {
		parts = append(parts, aws.ToString(e.AttributeName)+" "+string(e.KeyType))
	}
	return strings.Join(parts, ", ")
}

// defsOf renders attribute definitions sorted, as "a:S, b:N".
func defsOf(ds []types.AttributeDefinition) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, aws.ToString(d.AttributeName)+":"+string(d.AttributeType))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func TestTables(t *testing.T) {
	t.Parallel()
	r := startRegion(t)

	t.Run("create hash key on demand", func(t *testing.T) {
		name := tableName(t)
		out, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(name),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{attrDef("id", types.ScalarAttributeTypeS)},
			KeySchema:            []types.KeySchemaElement{keyElem("id", types.KeyTypeHash)},
		})
		if err != nil {
			t.Fatalf("CreateTable: %v", err)
		}
		d := out.TableDescription
		wantEqual(t, "TableName", aws.ToString(d.TableName), name)
		wantEqual(t, "KeySchema", schemaOf(d.KeySchema), "id HASH")
		wantEqual(t, "AttributeDefinitions", defsOf(d.AttributeDefinitions), "id:S")
		wantEqual(t, "BillingMode", d.BillingModeSummary.BillingMode, types.BillingModePayPerRequest)
		wantEqual(t, "TableArn", aws.ToString(d.TableArn), "arn:aws:dynamodb:us-east-1:000000000000:table/"+name)
		if s := d.TableStatus; s != types.TableStatusActive && s != types.TableStatusCreating {
			t.Fatalf("TableStatus %q, want CREATING or ACTIVE", s)
		}
		if aws.ToString(d.TableId) == "" || d.CreationDateTime == nil || time.Since(*d.CreationDateTime) > time.Minute {
			t.Fatalf("TableId %q, CreationDateTime %v: want an id and the time now", aws.ToString(d.TableId), d.CreationDateTime)
		}
		wantEqual(t, "ItemCount", aws.ToInt64(d.ItemCount), 0)
		// The SDK's waiter is how applications wait for a new table.
		w := dynamodb.NewTableExistsWaiter(r.Client, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
		if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 10*time.Second); err != nil {
			t.Fatalf("TableExists waiter: %v", err)
		}
		wantEqual(t, "TableStatus", r.describe(t, name).TableStatus, types.TableStatusActive)
	})

	t.Run("create hash and range provisioned", func(t *testing.T) {
		name := tableName(t)
		out, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: aws.String(name),
			AttributeDefinitions: []types.AttributeDefinition{
				attrDef("pk", types.ScalarAttributeTypeS), attrDef("sk", types.ScalarAttributeTypeN),
			},
			KeySchema:             []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash), keyElem("sk", types.KeyTypeRange)},
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(7)},
		})
		if err != nil {
			t.Fatalf("CreateTable: %v", err)
		}
		d := r.describe(t, name)
		wantEqual(t, "KeySchema", schemaOf(d.KeySchema), "pk HASH, sk RANGE")
		wantEqual(t, "AttributeDefinitions", defsOf(d.AttributeDefinitions), "pk:S, sk:N")
		wantEqual(t, "ReadCapacityUnits", aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits), 5)
		wantEqual(t, "WriteCapacityUnits", aws.ToInt64(d.ProvisionedThroughput.WriteCapacityUnits), 7)
		if d.BillingModeSummary != nil && d.BillingModeSummary.BillingMode != types.BillingModeProvisioned {
			t.Fatalf("BillingMode %q, want PROVISIONED", d.BillingModeSummary.BillingMode)
		}
		wantEqual(t, "CreateTable's TableName", aws.ToString(out.TableDescription.TableName), name)
	})

	t.Run("create with indexes and stream", func(t *testing.T) {
		name := tableName(t)
		_, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:   aws.String(name),
			BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{
				attrDef("pk", types.ScalarAttributeTypeS), attrDef("sk", types.ScalarAttributeTypeS),
				attrDef("g", types.ScalarAttributeTypeS), attrDef("l", types.ScalarAttributeTypeN),
			},
			KeySchema: []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash), keyElem("sk", types.KeyTypeRange)},
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
				IndexName:  aws.String("by_g"),
				KeySchema:  []types.KeySchemaElement{keyElem("g", types.KeyTypeHash)},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			}},
			LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
				IndexName:  aws.String("by_l"),
				KeySchema:  []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash), keyElem("l", types.KeyTypeRange)},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"x"}},
			}},
			StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
		})
		if err != nil {
			t.Fatalf("CreateTable: %v", err)
		}
		r.batchPut(t, name, []item{
			{"pk": S("a"), "sk": S("1"), "g": S("x"), "l": N("1")},
			{"pk": S("a"), "sk": S("2"), "g": S("y")},
			{"pk": S("b"), "sk": S("1"), "l": N("2"), "x": S("xx"), "y": S("yy")},
		})
		d := r.describe(t, name)
		wantEqual(t, "AttributeDefinitions", defsOf(d.AttributeDefinitions), "g:S, l:N, pk:S, sk:S")
		if len(d.GlobalSecondaryIndexes) != 1 || len(d.LocalSecondaryIndexes) != 1 {
			t.Fatalf("got %d GSIs and %d LSIs, want 1 and 1", len(d.GlobalSecondaryIndexes), len(d.LocalSecondaryIndexes))
		}
		g := d.GlobalSecondaryIndexes[0]
		wantEqual(t, "GSI name", aws.ToString(g.IndexName), "by_g")
		wantEqual(t, "GSI KeySchema", schemaOf(g.KeySchema), "g HASH")
		wantEqual(t, "GSI projection", g.Projection.ProjectionType, types.ProjectionTypeAll)
		wantEqual(t, "GSI status", g.IndexStatus, types.IndexStatusActive)
		wantEqual(t, "GSI ItemCount", aws.ToInt64(g.ItemCount), 2)
		wantEqual(t, "GSI IndexArn", aws.ToString(g.IndexArn), aws.ToString(d.TableArn)+"/index/by_g")
		l := d.LocalSecondaryIndexes[0]
		wantEqual(t, "LSI name", aws.ToString(l.IndexName), "by_l")
		wantEqual(t, "LSI KeySchema", schemaOf(l.KeySchema), "pk HASH, l RANGE")
		wantEqual(t, "LSI projection", l.Projection.ProjectionType, types.ProjectionTypeInclude)
		wantEqual(t, "LSI NonKeyAttributes", l.Projection.NonKeyAttributes, []string{"x"})
		wantEqual(t, "LSI ItemCount", aws.ToInt64(l.ItemCount), 2)
		if d.StreamSpecification == nil || !aws.ToBool(d.StreamSpecification.StreamEnabled) || d.StreamSpecification.StreamViewType != types.StreamViewTypeNewAndOldImages {
			t.Fatalf("StreamSpecification %+v, want enabled NEW_AND_OLD_IMAGES", d.StreamSpecification)
		}
		if label := aws.ToString(d.LatestStreamLabel); label == "" || aws.ToString(d.LatestStreamArn) != aws.ToString(d.TableArn)+"/stream/"+label {
			t.Fatalf("LatestStreamLabel %q, LatestStreamArn %q: want the table ARN /stream/ label", label, aws.ToString(d.LatestStreamArn))
		}
		wantEqual(t, "ItemCount", aws.ToInt64(d.ItemCount), 3)
	})

	t.Run("item count and size follow writes", func(t *testing.T) {
		name := r.createTable(t, types.ScalarAttributeTypeS, "")
		// Sizes as DynamoDB counts them: attribute names plus values.
		r.put(t, name, item{"pk": S("a"), "abc": S("hello")})   // 2+1 + 3+5 = 11
		r.put(t, name, item{"pk": S("bb"), "flag": Bool(true)}) // 2+2 + 4+1 = 9
		r.put(t, name, item{"pk": S("cc"), "n": N("12345")})    // 2+2 + 1+ceil(5/2)+1 = 9
		d := r.describe(t, name)
		wantEqual(t, "ItemCount", aws.ToInt64(d.ItemCount), 3)
		wantEqual(t, "TableSizeBytes", aws.ToInt64(d.TableSizeBytes), 11+9+9)
		r.put(t, name, item{"pk": S("a")}) // replaced: 3
		if _, err := r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(name), Key: item{"pk": S("bb")}}); err != nil {
			t.Fatalf("DeleteItem: %v", err)
		}
		d = r.describe(t, name)
		wantEqual(t, "ItemCount", aws.ToInt64(d.ItemCount), 2)
		wantEqual(t, "TableSizeBytes", aws.ToInt64(d.TableSizeBytes), 3+9)
	})

	t.Run("delete then not found", func(t *testing.T) {
		name := r.createTable(t, types.ScalarAttributeTypeS, "")
		r.put(t, name, item{"pk": S("a")})
		out, err := r.Client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatalf("DeleteTable: %v", err)
		}
		wantEqual(t, "deleted TableName", aws.ToString(out.TableDescription.TableName), name)
		if s := out.TableDescription.TableStatus; s != types.TableStatusDeleting {
			t.Fatalf("DeleteTable's TableStatus %q, want DELETING", s)
		}
		w := dynamodb.NewTableNotExistsWaiter(r.Client, func(o *dynamodb.TableNotExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
		if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 10*time.Second); err != nil {
			t.Fatalf("TableNotExists waiter: %v", err)
		}
		var rnf *types.ResourceNotFoundException
		_, err = r.Client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if !errors.As(err, &rnf) {
			t.Fatalf("DescribeTable of a deleted table: %v, want ResourceNotFoundException", err)
		}
		_, err = r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(name), Key: item{"pk": S("a")}})
		if !errors.As(err, &rnf) {
			t.Fatalf("GetItem on a deleted table: %v, want ResourceNotFoundException", err)
		}
		_, err = r.Client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		if !errors.As(err, &rnf) {
			t.Fatalf("DeleteTable twice: %v, want ResourceNotFoundException", err)
		}
		// The name can be used again, for a table that starts empty.
		if _, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{attrDef("pk", types.ScalarAttributeTypeS)},
			KeySchema:            []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash)},
		}); err != nil {
			t.Fatalf("CreateTable again: %v", err)
		}
		if got := r.get(t, name, item{"pk": S("a")}); got != nil {
			t.Fatalf("recreated table holds %s, want nothing", show(got))
		}
		wantEqual(t, "recreated ItemCount", aws.ToInt64(r.describe(t, name).ItemCount), 0)
	})

	t.Run("create twice", func(t *testing.T) {
		name := r.createTable(t, types.ScalarAttributeTypeS, "")
		_, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{attrDef("pk", types.ScalarAttributeTypeS)},
			KeySchema:            []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash)},
		})
		var riu *types.ResourceInUseException
		if !errors.As(err, &riu) {
			t.Fatalf("second CreateTable: %v, want ResourceInUseException", err)
		}
	})

	t.Run("describe missing table", func(t *testing.T) {
		_, err := r.Client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("no_such_table")})
		var rnf *types.ResourceNotFoundException
		if !errors.As(err, &rnf) {
			t.Fatalf("DescribeTable: %v, want ResourceNotFoundException", err)
		}
	})

	t.Run("add and drop a global index on a table with items", func(t *testing.T) {
		name := r.createTable(t, types.ScalarAttributeTypeS, types.ScalarAttributeTypeN)
		var items []item
		for i := range 300 {
			it := item{"pk": S("p" + strconv.Itoa(i%7)), "sk": N(strconv.Itoa(i))}
			switch {
			case i%3 == 0:
				it["color"] = S([]string{"red", "green", "blue"}[i%2])
			case i%10 == 1:
				it["color"] = N("1") // the wrong type for the index: left out of it
			}
			items = append(items, it)
		}
		r.batchPut(t, name, items)
		out, err := r.Client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: []types.AttributeDefinition{attrDef("color", types.ScalarAttributeTypeS), attrDef("sk", types.ScalarAttributeTypeN)},
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName:  aws.String("by_color"),
				KeySchema:  []types.KeySchemaElement{keyElem("color", types.KeyTypeHash), keyElem("sk", types.KeyTypeRange)},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
			}}},
		})
		if err != nil {
			t.Fatalf("UpdateTable creating an index: %v", err)
		}
		gsis := out.TableDescription.GlobalSecondaryIndexes
		if len(gsis) != 1 || gsis[0].IndexStatus != types.IndexStatusCreating {
			t.Fatalf("UpdateTable's indexes %+v, want by_color CREATING", gsis)
		}
		waitIndexActive(t, r, name, "by_color")

		var got []string
		p := dynamodb.NewQueryPaginator(r.Client, &dynamodb.QueryInput{
			TableName: aws.String(name), IndexName: aws.String("by_color"),
			KeyConditionExpression:    aws.String("color = :c"),
			ExpressionAttributeValues: item{":c": S("red")},
			Limit:                     aws.Int32(7),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("Query on the new index: %v", err)
			}
			for _, it := range page.Items {
				if len(it) != 3 {
					t.Fatalf("KEYS_ONLY index returned %s, want just pk, sk and color", show(it))
				}
				got = append(got, it["sk"].(*types.AttributeValueMemberN).Value)
			}
		}
		var want []string
		for i := 0; i < 300; i += 6 {
			want = append(want, strconv.Itoa(i))
		}
		wantEqual(t, "sort keys of red items", got, want)
		d := r.describe(t, name)
		wantEqual(t, "index ItemCount", aws.ToInt64(d.GlobalSecondaryIndexes[0].ItemCount), 100)
		wantEqual(t, "AttributeDefinitions", defsOf(d.AttributeDefinitions), "color:S, pk:S, sk:N")
		_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name), Item: item{"pk": S("p0"), "sk": N("1000"), "color": N("2")}})
		wantValidation(t, err, "Type mismatch for Index Key color Expected: S Actual: N IndexName: by_color")

		_, err = r.Client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName: aws.String(name),
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{
				Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("by_color")},
			}},
		})
		if err != nil {
			t.Fatalf("UpdateTable deleting the index: %v", err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(r.describe(t, name).GlobalSecondaryIndexes) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("index still described 10s after being deleted")
			}
			time.Sleep(10 * time.Millisecond)
		}
		_, err = r.Client.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(name), IndexName: aws.String("by_color"),
			KeyConditionExpression: aws.String("color = :c"), ExpressionAttributeValues: item{":c": S("red")},
		})
		wantValidation(t, err, "The table does not have the specified index: by_color")
		wantEqual(t, "AttributeDefinitions", defsOf(r.describe(t, name).AttributeDefinitions), "pk:S, sk:N")
	})

	t.Run("time to live", func(t *testing.T) {
		name := r.createTable(t, types.ScalarAttributeTypeS, "")
		desc, err := r.Client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeTimeToLive: %v", err)
		}
		wantEqual(t, "TimeToLiveStatus", desc.TimeToLiveDescription.TimeToLiveStatus, types.TimeToLiveStatusDisabled)
		out, err := r.Client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expires"), Enabled: aws.Bool(true)},
		})
		if err != nil {
			t.Fatalf("UpdateTimeToLive: %v", err)
		}
		wantEqual(t, "UpdateTimeToLive's AttributeName", aws.ToString(out.TimeToLiveSpecification.AttributeName), "expires")
		wantEqual(t, "UpdateTimeToLive's Enabled", aws.ToBool(out.TimeToLiveSpecification.Enabled), true)
		desc, err = r.Client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeTimeToLive: %v", err)
		}
		wantEqual(t, "TimeToLiveStatus", desc.TimeToLiveDescription.TimeToLiveStatus, types.TimeToLiveStatusEnabled)
		wantEqual(t, "AttributeName", aws.ToString(desc.TimeToLiveDescription.AttributeName), "expires")

		now := time.Now().Unix()
		r.batchPut(t, name, []item{
			{"pk": S("past"), "expires": N(strconv.FormatInt(now-60, 10))},
			{"pk": S("future"), "expires": N(strconv.FormatInt(now+3600, 10))},
			{"pk": S("none")},
			{"pk": S("string"), "expires": S(strconv.FormatInt(now-60, 10))},
			{"pk": S("ancient"), "expires": N(strconv.FormatInt(now-6*365*24*3600, 10))}, // more than five years: ignored
			{"pk": S("millis"), "expires": N(strconv.FormatInt((now+3600)*1000, 10))},
		})
		if err := r.DB().ExpireNow(); err != nil {
			t.Fatalf("ExpireNow: %v", err)
		}
		for _, pk := range []string{"future", "none", "string", "ancient", "millis"} {
			if r.get(t, name, item{"pk": S(pk)}) == nil {
				t.Errorf("item %s expired, want it kept", pk)
			}
		}
		if got := r.get(t, name, item{"pk": S("past")}); got != nil {
			t.Errorf("expired item still there: %s", show(got))
		}
		wantEqual(t, "ItemCount after expiry", aws.ToInt64(r.describe(t, name).ItemCount), 5)

		_, err = r.Client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expires"), Enabled: aws.Bool(true)},
		})
		wantValidation(t, err, "TimeToLive is already enabled")
		_, err = r.Client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expires"), Enabled: aws.Bool(false)},
		})
		if err != nil {
			t.Fatalf("disabling TTL: %v", err)
		}
		_, err = r.Client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String("no_such_table"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expires"), Enabled: aws.Bool(true)},
		})
		var rnf *types.ResourceNotFoundException
		if !errors.As(err, &rnf) {
			t.Fatalf("UpdateTimeToLive on a missing table: %v, want ResourceNotFoundException", err)
		}
	})

	t.Run("update billing and stream", func(t *testing.T) {
		name := r.createTable(t, types.ScalarAttributeTypeS, "")
		_, err := r.Client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:             aws.String(name),
			BillingMode:           types.BillingModeProvisioned,
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(3), WriteCapacityUnits: aws.Int64(4)},
			StreamSpecification:   &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly},
		})
		if err != nil {
			t.Fatalf("UpdateTable: %v", err)
		}
		d := r.describe(t, name)
		wantEqual(t, "BillingMode", d.BillingModeSummary.BillingMode, types.BillingModeProvisioned)
		wantEqual(t, "ReadCapacityUnits", aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits), 3)
		wantEqual(t, "StreamViewType", d.StreamSpecification.StreamViewType, types.StreamViewTypeKeysOnly)
	})

	t.Run("deletion protection", func(t *testing.T) {
		name := tableName(t)
		_, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest, DeletionProtectionEnabled: aws.Bool(true),
			AttributeDefinitions: []types.AttributeDefinition{attrDef("pk", types.ScalarAttributeTypeS)},
			KeySchema:            []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash)},
		})
		if err != nil {
			t.Fatalf("CreateTable: %v", err)
		}
		wantEqual(t, "DeletionProtectionEnabled", aws.ToBool(r.describe(t, name).DeletionProtectionEnabled), true)
		_, err = r.Client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		wantValidation(t, err, "Resource cannot be deleted as it is currently protected against deletion")
		if _, err := r.Client.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name), DeletionProtectionEnabled: aws.Bool(false)}); err != nil {
			t.Fatalf("UpdateTable: %v", err)
		}
		if _, err := r.Client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Fatalf("DeleteTable after lifting protection: %v", err)
		}
	})

	t.Run("tags", func(t *testing.T) {
		name := tableName(t)
		out, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{attrDef("pk", types.ScalarAttributeTypeS)},
			KeySchema:            []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash)},
			Tags:                 []types.Tag{{Key: aws.String("team"), Value: aws.String("storage")}},
		})
		if err != nil {
			t.Fatalf("CreateTable: %v", err)
		}
		arn := out.TableDescription.TableArn
		if _, err := r.Client.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: arn,
			Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}, {Key: aws.String("team"), Value: aws.String("db")}}}); err != nil {
			t.Fatalf("TagResource: %v", err)
		}
		if _, err := r.Client.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"env", "absent"}}); err != nil {
			t.Fatalf("UntagResource: %v", err)
		}
		tags, err := r.Client.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: arn})
		if err != nil {
			t.Fatalf("ListTagsOfResource: %v", err)
		}
		if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" || aws.ToString(tags.Tags[0].Value) != "db" {
			t.Fatalf("tags %+v, want team=db", tags.Tags)
		}
		_, err = r.Client.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/no_such_table")})
		var rnf *types.ResourceNotFoundException
		if !errors.As(err, &rnf) {
			t.Fatalf("ListTagsOfResource of a missing table: %v, want ResourceNotFoundException", err)
		}
	})

	t.Run("endpoints and limits", func(t *testing.T) {
		ep, err := r.Client.DescribeEndpoints(ctx, &dynamodb.DescribeEndpointsInput{})
		if err != nil || len(ep.Endpoints) != 1 || aws.ToString(ep.Endpoints[0].Address) == "" {
			t.Fatalf("DescribeEndpoints: %+v, %v", ep, err)
		}
		lim, err := r.Client.DescribeLimits(ctx, &dynamodb.DescribeLimitsInput{})
		if err != nil || aws.ToInt64(lim.TableMaxReadCapacityUnits) == 0 {
			t.Fatalf("DescribeLimits: %+v, %v", lim, err)
		}
	})

	t.Run("invalid schemas", func(t *testing.T) {
		s := attrDef("pk", types.ScalarAttributeTypeS)
		hash := []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash)}
		onDemand := types.BillingModePayPerRequest
		for _, tc := range []struct {
			name string
			in   dynamodb.CreateTableInput
			want string
		}{
			{"unused attribute definition", dynamodb.CreateTableInput{
				AttributeDefinitions: []types.AttributeDefinition{s, attrDef("x", types.ScalarAttributeTypeS)},
				KeySchema:            hash, BillingMode: onDemand,
			}, "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"},
			{"undefined key attribute", dynamodb.CreateTableInput{
				AttributeDefinitions: []types.AttributeDefinition{attrDef("x", types.ScalarAttributeTypeS)},
				KeySchema:            hash, BillingMode: onDemand,
			}, "Some index key attributes are not defined in AttributeDefinitions"},
			{"name too short", dynamodb.CreateTableInput{
				TableName:            aws.String("ab"),
				AttributeDefinitions: []types.AttributeDefinition{s}, KeySchema: hash, BillingMode: onDemand,
			}, "Member must have length greater than or equal to 3"},
			{"name with a space", dynamodb.CreateTableInput{
				TableName:            aws.String("a b c"),
				AttributeDefinitions: []types.AttributeDefinition{s}, KeySchema: hash, BillingMode: onDemand,
			}, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
			{"name too long", dynamodb.CreateTableInput{
				TableName:            aws.String(strings.Repeat("x", 256)),
				AttributeDefinitions: []types.AttributeDefinition{s}, KeySchema: hash, BillingMode: onDemand,
			}, "Member must have length less than or equal to 255"},
			{"on demand with throughput", dynamodb.CreateTableInput{
				AttributeDefinitions: []types.AttributeDefinition{s}, KeySchema: hash, BillingMode: onDemand,
				ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)},
			}, "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"},
			{"provisioned without throughput", dynamodb.CreateTableInput{
				AttributeDefinitions: []types.AttributeDefinition{s}, KeySchema: hash,
			}, "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"},
			{"boolean key", dynamodb.CreateTableInput{
				AttributeDefinitions: []types.AttributeDefinition{attrDef("pk", "BOOL")}, KeySchema: hash, BillingMode: onDemand,
			}, "Member must satisfy enum value set: [B, N, S]"},
			{"range first", dynamodb.CreateTableInput{
				AttributeDefinitions: []types.AttributeDefinition{s},
				KeySchema:            []types.KeySchemaElement{keyElem("pk", types.KeyTypeRange)}, BillingMode: onDemand,
			}, "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"},
			{"no key schema", dynamodb.CreateTableInput{
				AttributeDefinitions: []types.AttributeDefinition{s}, KeySchema: []types.KeySchemaElement{}, BillingMode: onDemand,
			}, "failed to satisfy constraint: Member must have length"},
			{"same attribute twice in key", dynamodb.CreateTableInput{
				AttributeDefinitions: []types.AttributeDefinition{s},
				KeySchema:            []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash), keyElem("pk", types.KeyTypeRange)}, BillingMode: onDemand,
			}, "Invalid KeySchema"},
			{"local index without range key", dynamodb.CreateTableInput{
				AttributeDefinitions: []types.AttributeDefinition{s, attrDef("l", types.ScalarAttributeTypeS)}, KeySchema: hash, BillingMode: onDemand,
				LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
					IndexName:  aws.String("lsi"),
					KeySchema:  []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash), keyElem("l", types.KeyTypeRange)},
					Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
				}},
			}, "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"},
			{"index projecting ALL and named attributes", dynamodb.CreateTableInput{
				AttributeDefinitions: []types.AttributeDefinition{s, attrDef("g", types.ScalarAttributeTypeS)}, KeySchema: hash, BillingMode: onDemand,
				GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
					IndexName:  aws.String("gsi"),
					KeySchema:  []types.KeySchemaElement{keyElem("g", types.KeyTypeHash)},
					Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll, NonKeyAttributes: []string{"x"}},
				}},
			}, "ProjectionType is ALL, but NonKeyAttributes is specified"},
			{"duplicate index names", dynamodb.CreateTableInput{
				AttributeDefinitions: []types.AttributeDefinition{s, attrDef("g", types.ScalarAttributeTypeS)}, KeySchema: hash, BillingMode: onDemand,
				GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
					{IndexName: aws.String("gsi"), KeySchema: []types.KeySchemaElement{keyElem("g", types.KeyTypeHash)}, Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
					{IndexName: aws.String("gsi"), KeySchema: []types.KeySchemaElement{keyElem("g", types.KeyTypeHash)}, Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
				},
			}, "Duplicate index name: gsi"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := tc.in
				if in.TableName == nil {
					in.TableName = aws.String(tableName(t))
				}
				_, err := r.Client.CreateTable(ctx, &in)
				wantValidation(t, err, tc.want)
				// Nothing was created.
				var rnf *types.ResourceNotFoundException
				if _, err := r.Client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}); !errors.As(err, &rnf) && len(*in.TableName) >= 3 && len(*in.TableName) <= 255 && !strings.Contains(*in.TableName, " ") {
					t.Fatalf("DescribeTable after a failed CreateTable: %v, want ResourceNotFoundException", err)
				}
			})
		}
	})
}

// waitIndexActive polls DescribeTable, as the SDK's waiters do, until the
// index is ACTIVE.
func waitIndexActive(t testing.TB, r *testRegion, table, index string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		d := r.describe(t, table)
		for _, g := range d.GlobalSecondaryIndexes {
			if aws.ToString(g.IndexName) == index && g.IndexStatus == types.IndexStatusActive {
				if aws.ToBool(g.Backfilling) {
					t.Fatalf("index %s is ACTIVE and still Backfilling", index)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("index %s of %s not ACTIVE after 20s", index, table)
		}
		time.Sleep(delay)
	}
}

func TestListTables(t *testing.T) {
	t.Parallel()
	r := startRegion(t) // a region of its own, so it knows every table
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("list_%02d", i)
		want = append(want, name)
		if _, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{attrDef("pk", types.ScalarAttributeTypeS)},
			KeySchema:            []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash)},
		}); err != nil {
			t.Fatalf("CreateTable: %v", err)
		}
	}

	out, err := r.Client.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	wantEqual(t, "all tables", out.TableNames, want)
	if out.LastEvaluatedTableName != nil {
		t.Fatalf("LastEvaluatedTableName %q on the only page", *out.LastEvaluatedTableName)
	}

	out, err = r.Client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(3), ExclusiveStartTableName: aws.String("list_01")})
	if err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	wantEqual(t, "page after list_01", out.TableNames, want[2:5])
	wantEqual(t, "LastEvaluatedTableName", aws.ToString(out.LastEvaluatedTableName), "list_04")

	var pages [][]string
	p := dynamodb.NewListTablesPaginator(r.Client, &dynamodb.ListTablesInput{Limit: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListTables page: %v", err)
		}
		pages = append(pages, page.TableNames)
	}
	wantEqual(t, "pages", fmt.Sprint(pages), "[[list_00 list_01] [list_02 list_03] [list_04 list_05] [list_06]]")

	_, err = r.Client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(101)})
	wantValidation(t, err, "Member must have value less than or equal to 100")
}

// TestTableArnAsName: operations take a table's ARN where they take its
// name, as DynamoDB does.
func TestTableArnAsName(t *testing.T) {
	t.Parallel()
	r := startRegion(t)
	table := r.createTable(t, types.ScalarAttributeTypeS, "")
	arn := aws.ToString(r.describe(t, table).TableArn)
	if _, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(arn), Item: item{"pk": S("a")}}); err != nil {
		t.Fatalf("PutItem by ARN: %v", err)
	}
	if got := r.get(t, table, item{"pk": S("a")}); got == nil {
		t.Error("the item put by ARN is not in the table")
	}
	_, err := r.Client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("arn:aws:dynamodb:mars-1:000000000000:table/" + table)})
	wantValidation(t, err, "is not the ARN of a table in")
}
