package dynamo_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestLegacyParameters drives the pre-expression parameters that older
// application code still sends.
func TestLegacyParameters(t *testing.T) {
	t.Parallel()
	r := startRegion(t)
	table := r.createTable(t, types.ScalarAttributeTypeS, types.ScalarAttributeTypeN)
	tbl := aws.String(table)
	var items []item
	for i := range 10 {
		it := item{"pk": S("p"), "sk": N(strconv.Itoa(i)), "v": N(strconv.Itoa(i * 10)), "name": S("item" + strconv.Itoa(i))}
		if i%2 == 0 {
			it["even"] = Bool(true)
		}
		items = append(items, it)
	}
	r.batchPut(t, table, items)
	// Conditional writes go to a table of their own, so that the scans
	// below see just the items above.
	writes := r.createTable(t, types.ScalarAttributeTypeS, types.ScalarAttributeTypeN)
	cond := func(op types.ComparisonOperator, vs ...types.AttributeValue) types.Condition {
		return types.Condition{ComparisonOperator: op, AttributeValueList: vs}
	}

	t.Run("Expected", func(t *testing.T) {
		key := item{"pk": S("exp"), "sk": N("1")}
		r.put(t, writes, item{"pk": S("exp"), "sk": N("1"), "state": S("new"), "n": N("5")})
		var ccf *types.ConditionalCheckFailedException
		for _, tc := range []struct {
			name     string
			expected map[string]types.ExpectedAttributeValue
			op       types.ConditionalOperator
			want     bool
		}{
			{"value matches", map[string]types.ExpectedAttributeValue{"state": {Value: S("new")}}, "", true},
			{"value differs", map[string]types.ExpectedAttributeValue{"state": {Value: S("old")}}, "", false},
			{"exists false", map[string]types.ExpectedAttributeValue{"nope": {Exists: aws.Bool(false)}}, "", true},
			{"exists false fails", map[string]types.ExpectedAttributeValue{"state": {Exists: aws.Bool(false)}}, "", false},
			{"exists true with value", map[string]types.ExpectedAttributeValue{"state": {Exists: aws.Bool(true), Value: S("new")}}, "", true},
			{"comparison", map[string]types.ExpectedAttributeValue{"n": {ComparisonOperator: types.ComparisonOperatorGt, AttributeValueList: []types.AttributeValue{N("4")}}}, "", true},
			{"between", map[string]types.ExpectedAttributeValue{"n": {ComparisonOperator: types.ComparisonOperatorBetween, AttributeValueList: []types.AttributeValue{N("6"), N("9")}}}, "", false},
			{"and", map[string]types.ExpectedAttributeValue{"state": {Value: S("new")}, "n": {Value: N("6")}}, types.ConditionalOperatorAnd, false},
			{"or", map[string]types.ExpectedAttributeValue{"state": {Value: S("new")}, "n": {Value: N("6")}}, types.ConditionalOperatorOr, true},
			{"not null", map[string]types.ExpectedAttributeValue{"state": {ComparisonOperator: types.ComparisonOperatorNotNull}}, "", true},
			{"null", map[string]types.ExpectedAttributeValue{"state": {ComparisonOperator: types.ComparisonOperatorNull}}, "", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(writes), Item: item{"pk": S("exp"), "sk": N("1"), "state": S("new"), "n": N("5")},
					Expected: tc.expected, ConditionalOperator: tc.op})
				switch {
				case tc.want && err != nil:
					t.Fatalf("PutItem: %v, want success", err)
				case !tc.want && !errors.As(err, &ccf):
					t.Fatalf("PutItem: %v, want ConditionalCheckFailedException", err)
				}
				_, err = r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(writes), Key: key, Expected: tc.expected, ConditionalOperator: tc.op})
				switch {
				case tc.want && err != nil:
					t.Fatalf("DeleteItem: %v, want success", err)
				case !tc.want && !errors.As(err, &ccf):
					t.Fatalf("DeleteItem: %v, want ConditionalCheckFailedException", err)
				}
				r.put(t, writes, item{"pk": S("exp"), "sk": N("1"), "state": S("new"), "n": N("5")})
			})
		}
		_, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(writes), Item: key,
			Expected:            map[string]types.ExpectedAttributeValue{"state": {Value: S("new")}},
			ConditionExpression: aws.String("attribute_exists(pk)")})
		wantValidation(t, err, "Can not use both expression and non-expression parameters in the same request")
		_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(writes), Item: key,
			Expected: map[string]types.ExpectedAttributeValue{"state": {Value: S("new")}}, ConditionalOperator: types.ConditionalOperatorOr})
		wantValidation(t, err, "ConditionalOperator can only be used when Filter or Expected has two or more elements")
	})

	t.Run("AttributesToGet", func(t *testing.T) {
		out, err := r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: item{"pk": S("p"), "sk": N("2")}, AttributesToGet: []string{"name", "even", "absent"}})
		if err != nil {
			t.Fatalf("GetItem: %v", err)
		}
		wantItem(t, "item", out.Item, item{"name": S("item2"), "even": Bool(true)})
		bg, err := r.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			table: {Keys: []item{{"pk": S("p"), "sk": N("3")}}, AttributesToGet: []string{"v"}},
		}})
		if err != nil {
			t.Fatalf("BatchGetItem: %v", err)
		}
		wantEqual(t, "batch item", show(bg.Responses[table]), show([]item{{"v": N("30")}}))
		_, err = r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: item{"pk": S("p"), "sk": N("2")},
			AttributesToGet: []string{"name"}, ProjectionExpression: aws.String("v")})
		wantValidation(t, err, "Can not use both expression and non-expression parameters in the same request")
	})

	t.Run("KeyConditions and QueryFilter", func(t *testing.T) {
		out, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditions: map[string]types.Condition{
			"pk": cond(types.ComparisonOperatorEq, S("p")),
			"sk": cond(types.ComparisonOperatorBetween, N("2"), N("7")),
		}, QueryFilter: map[string]types.Condition{
			"even": cond(types.ComparisonOperatorNotNull),
			"v":    cond(types.ComparisonOperatorGe, N("40")),
		}, AttributesToGet: []string{"sk"}})
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		wantEqual(t, "sort keys", column(out.Items, "sk"), []string{"4", "6"})
		wantEqual(t, "ScannedCount", out.ScannedCount, 6)

		out, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditions: map[string]types.Condition{
			"pk": cond(types.ComparisonOperatorEq, S("p")),
			"sk": cond(types.ComparisonOperatorLt, N("3")),
		}, QueryFilter: map[string]types.Condition{
			"even": cond(types.ComparisonOperatorNull),
			"name": cond(types.ComparisonOperatorEq, S("item0")),
		}, ConditionalOperator: types.ConditionalOperatorOr, ScanIndexForward: aws.Bool(false)})
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		wantEqual(t, "sort keys", column(out.Items, "sk"), []string{"1", "0"})

		out, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditions: map[string]types.Condition{
			"pk": cond(types.ComparisonOperatorEq, S("p")),
			"sk": cond(types.ComparisonOperatorGt, N("7")),
		}})
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		wantEqual(t, "sort keys", column(out.Items, "sk"), []string{"8", "9"})

		_, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditions: map[string]types.Condition{
			"pk": cond(types.ComparisonOperatorEq, S("p")),
		}, KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: item{":p": S("p")}})
		wantValidation(t, err, "Can not use both expression and non-expression parameters in the same request")
		_, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditions: map[string]types.Condition{
			"pk": cond(types.ComparisonOperatorNe, S("p")),
		}})
		wantAPIError(t, err, "ValidationException")
		_, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditions: map[string]types.Condition{
			"pk": cond(types.ComparisonOperatorEq, S("p"), S("q")),
		}})
		wantValidation(t, err, "Invalid number of argument(s) for the EQ ComparisonOperator")
	})

	t.Run("ScanFilter", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			filter map[string]types.Condition
			op     types.ConditionalOperator
			want   int32
		}{
			{"in", map[string]types.Condition{"v": cond(types.ComparisonOperatorIn, N("10"), N("20"), N("999"))}, "", 2},
			{"begins with", map[string]types.Condition{"name": cond(types.ComparisonOperatorBeginsWith, S("item"))}, "", 10},
			{"contains", map[string]types.Condition{"name": cond(types.ComparisonOperatorContains, S("m7"))}, "", 1},
			{"not contains", map[string]types.Condition{"name": cond(types.ComparisonOperatorNotContains, S("m7"))}, "", 9},
			{"ne", map[string]types.Condition{"v": cond(types.ComparisonOperatorNe, N("0"))}, "", 9},
			{"ne missing attribute", map[string]types.Condition{"even": cond(types.ComparisonOperatorNe, Bool(true))}, "", 5},
			{"lt or gt", map[string]types.Condition{"v": cond(types.ComparisonOperatorLt, N("20")), "sk": cond(types.ComparisonOperatorGt, N("7"))}, types.ConditionalOperatorOr, 4},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: tbl, ScanFilter: tc.filter, ConditionalOperator: tc.op, Select: types.SelectCount})
				if err != nil {
					t.Fatalf("Scan: %v", err)
				}
				wantEqual(t, "Count", out.Count, tc.want)
			})
		}
		_, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: tbl, ScanFilter: map[string]types.Condition{"v": cond("SOMETIMES", N("1"))}})
		wantValidation(t, err, "Member must satisfy enum value set")
	})

	t.Run("AttributeUpdates", func(t *testing.T) {
		key := item{"pk": S("au"), "sk": N("1")}
		r.put(t, writes, item{"pk": S("au"), "sk": N("1"), "n": N("7"), "s": SS("a", "b"), "gone": S("x")})
		out, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(writes), Key: key, ReturnValues: types.ReturnValueAllNew,
			AttributeUpdates: map[string]types.AttributeValueUpdate{
				"n":     {Action: types.AttributeActionAdd, Value: N("-2.5")},
				"s":     {Action: types.AttributeActionDelete, Value: SS("a")},
				"gone":  {Action: types.AttributeActionDelete},
				"new":   {Action: types.AttributeActionPut, Value: L(S("x"))},
				"dflt":  {Value: S("put is the default")},
				"fresh": {Action: types.AttributeActionAdd, Value: NS("1")},
			}})
		if err != nil {
			t.Fatalf("UpdateItem: %v", err)
		}
		wantItem(t, "updated item", out.Attributes, item{"pk": S("au"), "sk": N("1"), "n": N("4.5"), "s": SS("b"),
			"new": L(S("x")), "dflt": S("put is the default"), "fresh": NS("1")})
		// A delete-only update does not create a missing item; an empty
		// one does.
		if _, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(writes), Key: item{"pk": S("au"), "sk": N("2")},
			AttributeUpdates: map[string]types.AttributeValueUpdate{"x": {Action: types.AttributeActionDelete}}}); err != nil {
			t.Fatalf("UpdateItem: %v", err)
		}
		if got := r.get(t, writes, item{"pk": S("au"), "sk": N("2")}); got != nil {
			t.Fatalf("delete-only update created %s", show(got))
		}
		out, err = r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(writes), Key: item{"pk": S("au"), "sk": N("3")},
			AttributeUpdates: map[string]types.AttributeValueUpdate{}, ReturnValues: types.ReturnValueAllNew})
		if err != nil {
			t.Fatalf("UpdateItem: %v", err)
		}
		wantItem(t, "item created by an empty update", out.Attributes, item{"pk": S("au"), "sk": N("3")})

		_, err = r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(writes), Key: key,
			AttributeUpdates: map[string]types.AttributeValueUpdate{"sk": {Value: N("9")}}})
		wantValidation(t, err, "This attribute is part of the key")
		_, err = r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(writes), Key: key,
			AttributeUpdates: map[string]types.AttributeValueUpdate{"n": {Value: N("9")}}, UpdateExpression: aws.String("SET n = :v"),
			ExpressionAttributeValues: item{":v": N("1")}})
		wantValidation(t, err, "Can not use both expression and non-expression parameters in the same request")
		// With Expected, as old code does an optimistic update.
		_, err = r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(writes), Key: key,
			AttributeUpdates: map[string]types.AttributeValueUpdate{"n": {Value: N("100")}},
			Expected:         map[string]types.ExpectedAttributeValue{"n": {Value: N("4.5")}}})
		if err != nil {
			t.Fatalf("UpdateItem with Expected: %v", err)
		}
		_, err = r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(writes), Key: key,
			AttributeUpdates: map[string]types.AttributeValueUpdate{"n": {Value: N("200")}},
			Expected:         map[string]types.ExpectedAttributeValue{"n": {Value: N("4.5")}}})
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			t.Fatalf("stale update: %v, want ConditionalCheckFailedException", err)
		}
		wantEqual(t, "n", scalar(r.get(t, writes, key)["n"]), "100")
	})
}
