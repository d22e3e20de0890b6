package dynamo_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestBatch(t *testing.T) {
	t.Parallel()
	r := startRegion(t)
	a := r.createTable(t, types.ScalarAttributeTypeS, "")
	b := r.createTable(t, types.ScalarAttributeTypeS, types.ScalarAttributeTypeN)

	t.Run("write and get", func(t *testing.T) {
		r.put(t, a, item{"pk": S("doomed")})
		out, err := r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
			a: {
				{PutRequest: &types.PutRequest{Item: item{"pk": S("a1"), "v": N("1")}}},
				{PutRequest: &types.PutRequest{Item: item{"pk": S("a2"), "v": N("2")}}},
				{DeleteRequest: &types.DeleteRequest{Key: item{"pk": S("doomed")}}},
				{DeleteRequest: &types.DeleteRequest{Key: item{"pk": S("never-there")}}},
			},
			b: {
				{PutRequest: &types.PutRequest{Item: item{"pk": S("b"), "sk": N("1"), "v": S("x")}}},
				{PutRequest: &types.PutRequest{Item: item{"pk": S("b"), "sk": N("2"), "v": S("y")}}},
			},
		}})
		if err != nil {
			t.Fatalf("BatchWriteItem: %v", err)
		}
		if out.UnprocessedItems == nil || len(out.UnprocessedItems) != 0 {
			t.Fatalf("UnprocessedItems %v, want an empty map", out.UnprocessedItems)
		}
		got, err := r.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			a: {Keys: []item{{"pk": S("a1")}, {"pk": S("a2")}, {"pk": S("doomed")}, {"pk": S("absent")}}, ConsistentRead: aws.Bool(true)},
			b: {Keys: []item{{"pk": S("b"), "sk": N("2")}, {"pk": S("b"), "sk": N("1.0")}}, ProjectionExpression: aws.String("sk, v")},
		}})
		if err != nil {
			t.Fatalf("BatchGetItem: %v", err)
		}
		if got.UnprocessedKeys == nil || len(got.UnprocessedKeys) != 0 {
			t.Fatalf("UnprocessedKeys %v, want an empty map", got.UnprocessedKeys)
		}
		sorted := func(items []item) string {
			s := make([]string, len(items))
			for i, it := range items {
				s[i] = show(it)
			}
			slices.Sort(s)
			return fmt.Sprint(s)
		}
		wantEqual(t, "table a", sorted(got.Responses[a]), sorted([]item{{"pk": S("a1"), "v": N("1")}, {"pk": S("a2"), "v": N("2")}}))
		wantEqual(t, "table b", sorted(got.Responses[b]), sorted([]item{{"sk": N("1"), "v": S("x")}, {"sk": N("2"), "v": S("y")}}))

		// A table with nothing found is in Responses with no items.
		got, err = r.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			a: {Keys: []item{{"pk": S("absent")}}},
		}})
		if err != nil {
			t.Fatalf("BatchGetItem: %v", err)
		}
		if items, ok := got.Responses[a]; !ok || len(items) != 0 {
			t.Fatalf("Responses %v, want table %s with no items", got.Responses, a)
		}
	})

	t.Run("limits", func(t *testing.T) {
		var keys []item
		for i := range 101 {
			keys = append(keys, item{"pk": S(strconv.Itoa(i))})
		}
		_, err := r.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{a: {Keys: keys}}})
		wantValidation(t, err, "Too many items requested for the BatchGetItem call")
		_, err = r.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			a: {Keys: keys[:60]},
			b: {Keys: []item{}},
		}})
		wantAPIError(t, err, "ValidationException")
		out, err := r.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{a: {Keys: keys[:100]}}})
		if err != nil {
			t.Fatalf("BatchGetItem of 100 keys: %v", err)
		}
		if len(out.UnprocessedKeys) != 0 {
			t.Fatalf("BatchGetItem of 100 keys left some unprocessed")
		}

		var writes []types.WriteRequest
		for i := range 26 {
			writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item{"pk": S("lim" + strconv.Itoa(i))}}})
		}
		_, err = r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{a: writes}})
		wantAPIError(t, err, "ValidationException")
		_, err = r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
			a: writes[:20],
			b: {
				{PutRequest: &types.PutRequest{Item: item{"pk": S("b"), "sk": N("1")}}}, {PutRequest: &types.PutRequest{Item: item{"pk": S("b"), "sk": N("2")}}},
				{PutRequest: &types.PutRequest{Item: item{"pk": S("b"), "sk": N("3")}}}, {PutRequest: &types.PutRequest{Item: item{"pk": S("b"), "sk": N("4")}}},
				{PutRequest: &types.PutRequest{Item: item{"pk": S("b"), "sk": N("5")}}}, {PutRequest: &types.PutRequest{Item: item{"pk": S("b"), "sk": N("6")}}},
			},
		}})
		wantValidation(t, err, "Too many items requested for the BatchWriteItem call")
		if got := r.get(t, a, item{"pk": S("lim0")}); got != nil {
			t.Fatalf("a refused batch wrote %s", show(got))
		}
		if _, err := r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{a: writes[:25]}}); err != nil {
			t.Fatalf("BatchWriteItem of 25: %v", err)
		}
	})

	t.Run("invalid batches", func(t *testing.T) {
		_, err := r.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			b: {Keys: []item{{"pk": S("b"), "sk": N("1")}, {"pk": S("b"), "sk": N("1.0")}}},
		}})
		wantValidation(t, err, "Provided list of item keys contains duplicates")
		_, err = r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{a: {
			{PutRequest: &types.PutRequest{Item: item{"pk": S("dup"), "v": N("1")}}},
			{DeleteRequest: &types.DeleteRequest{Key: item{"pk": S("dup")}}},
		}}})
		wantValidation(t, err, "Provided list of item keys contains duplicates")
		_, err = r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{a: {
			{PutRequest: &types.PutRequest{Item: item{"pk": S("ok")}}},
			{PutRequest: &types.PutRequest{Item: item{"pk": N("1")}}},
		}}})
		wantValidation(t, err, "Type mismatch for key pk")
		if got := r.get(t, a, item{"pk": S("ok")}); got != nil {
			t.Fatalf("a refused batch wrote %s", show(got))
		}
		_, err = r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{a: {{}}}})
		wantValidation(t, err, "")
		_, err = r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{}})
		wantValidation(t, err, "")
		var rnf *types.ResourceNotFoundException
		_, err = r.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			"no_such_table": {Keys: []item{{"pk": S("x")}}},
		}})
		if !errors.As(err, &rnf) {
			t.Fatalf("BatchGetItem on a missing table: %v, want ResourceNotFoundException", err)
		}
		_, err = r.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
			"no_such_table": {{PutRequest: &types.PutRequest{Item: item{"pk": S("x")}}}},
		}})
		if !errors.As(err, &rnf) {
			t.Fatalf("BatchWriteItem on a missing table: %v, want ResourceNotFoundException", err)
		}
	})
}

func TestTransactions(t *testing.T) {
	t.Parallel()
	r := startRegion(t)
	a := r.createTable(t, types.ScalarAttributeTypeS, "")
	b := r.createTable(t, types.ScalarAttributeTypeS, types.ScalarAttributeTypeN)

	t.Run("all or nothing", func(t *testing.T) {
		r.put(t, a, item{"pk": S("acct1"), "balance": N("100")})
		r.put(t, a, item{"pk": S("acct2"), "balance": N("5")})
		r.put(t, b, item{"pk": S("log"), "sk": N("1")})
		transfer := func(amount string) *dynamodb.TransactWriteItemsInput {
			return &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: aws.String(b), Item: item{"pk": S("log"), "sk": N("2"), "amount": N(amount)}}},
				{Update: &types.Update{TableName: aws.String(a), Key: item{"pk": S("acct2")},
					UpdateExpression: aws.String("SET balance = balance - :amt"), ConditionExpression: aws.String("balance >= :amt"),
					ExpressionAttributeValues: item{":amt": N(amount)}, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
				{Update: &types.Update{TableName: aws.String(a), Key: item{"pk": S("acct1")},
					UpdateExpression: aws.String("SET balance = balance + :amt"), ExpressionAttributeValues: item{":amt": N(amount)}}},
				{Delete: &types.Delete{TableName: aws.String(b), Key: item{"pk": S("log"), "sk": N("1")}}},
			}}
		}
		_, err := r.Client.TransactWriteItems(ctx, transfer("10"))
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			t.Fatalf("transfer of too much: %v, want TransactionCanceledException", err)
		}
		var codes []string
		for _, reason := range tce.CancellationReasons {
			codes = append(codes, aws.ToString(reason.Code))
		}
		wantEqual(t, "cancellation codes", codes, []string{"None", "ConditionalCheckFailed", "None", "None"})
		wantItem(t, "failed item", tce.CancellationReasons[1].Item, item{"pk": S("acct2"), "balance": N("5")})
		wantEqual(t, "message", tce.ErrorMessage(), "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, None, None]")
		wantItem(t, "acct1 after the cancelled transfer", r.get(t, a, item{"pk": S("acct1")}), item{"pk": S("acct1"), "balance": N("100")})
		if got := r.get(t, b, item{"pk": S("log"), "sk": N("2")}); got != nil {
			t.Fatalf("cancelled transaction wrote %s", show(got))
		}
		if r.get(t, b, item{"pk": S("log"), "sk": N("1")}) == nil {
			t.Fatalf("cancelled transaction deleted log 1")
		}

		if _, err := r.Client.TransactWriteItems(ctx, transfer("5")); err != nil {
			t.Fatalf("transfer: %v", err)
		}
		wantItem(t, "acct1", r.get(t, a, item{"pk": S("acct1")}), item{"pk": S("acct1"), "balance": N("105")})
		wantItem(t, "acct2", r.get(t, a, item{"pk": S("acct2")}), item{"pk": S("acct2"), "balance": N("0")})
		wantItem(t, "log 2", r.get(t, b, item{"pk": S("log"), "sk": N("2")}), item{"pk": S("log"), "sk": N("2"), "amount": N("5")})
		if got := r.get(t, b, item{"pk": S("log"), "sk": N("1")}); got != nil {
			t.Fatalf("log 1 not deleted: %s", show(got))
		}
	})

	t.Run("condition check", func(t *testing.T) {
		r.put(t, a, item{"pk": S("gate"), "open": Bool(true)})
		write := func(open bool) error {
			_, err := r.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{ConditionCheck: &types.ConditionCheck{TableName: aws.String(a), Key: item{"pk": S("gate")},
					ConditionExpression: aws.String("#o = :t"), ExpressionAttributeNames: map[string]string{"#o": "open"},
					ExpressionAttributeValues: item{":t": Bool(open)}}},
				{Put: &types.Put{TableName: aws.String(a), Item: item{"pk": S("behind-gate"), "open": Bool(open)},
					ConditionExpression: aws.String("attribute_not_exists(pk)")}},
			}})
			return err
		}
		err := write(false)
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			t.Fatalf("closed gate: %v, want TransactionCanceledException", err)
		}
		wantEqual(t, "first code", aws.ToString(tce.CancellationReasons[0].Code), "ConditionalCheckFailed")
		wantEqual(t, "second code", aws.ToString(tce.CancellationReasons[1].Code), "None")
		if err := write(true); err != nil {
			t.Fatalf("open gate: %v", err)
		}
		// The check wrote nothing.
		wantItem(t, "gate", r.get(t, a, item{"pk": S("gate")}), item{"pk": S("gate"), "open": Bool(true)})
		err = write(true)
		if !errors.As(err, &tce) {
			t.Fatalf("second put behind the gate: %v, want TransactionCanceledException", err)
		}
		wantEqual(t, "codes", []string{aws.ToString(tce.CancellationReasons[0].Code), aws.ToString(tce.CancellationReasons[1].Code)},
			[]string{"None", "ConditionalCheckFailed"})
	})

	t.Run("idempotency", func(t *testing.T) {
		in := func(token string, by string) *dynamodb.TransactWriteItemsInput {
			return &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String(token), TransactItems: []types.TransactWriteItem{
				{Update: &types.Update{TableName: aws.String(a), Key: item{"pk": S("counter")},
					UpdateExpression: aws.String("ADD n :by SET a1 = :a, a2 = :b, a3 = :c, a4 = :d"),
					// Several values, so that the SDK's map order varies
					// from one serialization to the next.
					ExpressionAttributeValues: item{":by": N(by), ":a": S("a"), ":b": S("b"), ":c": S("c"), ":d": M(item{"x": S("1"), "y": S("2"), "z": S("3")})}}},
			}}
		}
		for i := range 5 {
			if _, err := r.Client.TransactWriteItems(ctx, in("token-1", "1")); err != nil {
				t.Fatalf("attempt %d with the same token: %v", i+1, err)
			}
		}
		got := r.get(t, a, item{"pk": S("counter")})
		wantEqual(t, "counter after five attempts with one token", scalar(got["n"]), "1")
		_, err := r.Client.TransactWriteItems(ctx, in("token-1", "2"))
		wantAPIError(t, err, "IdempotentParameterMismatchException")
		var ipm *types.IdempotentParameterMismatchException
		if !errors.As(err, &ipm) {
			t.Fatalf("%v is not an IdempotentParameterMismatchException", err)
		}
		if _, err := r.Client.TransactWriteItems(ctx, in("token-2", "2")); err != nil {
			t.Fatalf("new token: %v", err)
		}
		// The SDK fills in a fresh token when none is given.
		if _, err := r.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: in("", "1").TransactItems}); err != nil {
			t.Fatalf("no token: %v", err)
		}
		got = r.get(t, a, item{"pk": S("counter")})
		wantEqual(t, "counter", scalar(got["n"]), "4")
		_, err = r.Client.TransactWriteItems(ctx, in("0123456789012345678901234567890123456", "1"))
		wantValidation(t, err, "Member must have length less than or equal to 36")
	})

	t.Run("invalid transactions", func(t *testing.T) {
		put := func(table string, it item) types.TransactWriteItem {
			return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: it}}
		}
		_, err := r.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			put(a, item{"pk": S("same")}),
			{Delete: &types.Delete{TableName: aws.String(a), Key: item{"pk": S("same")}}},
		}})
		wantValidation(t, err, "Transaction request cannot include multiple operations on one item")
		var many []types.TransactWriteItem
		for i := range 101 {
			many = append(many, put(a, item{"pk": S("many" + strconv.Itoa(i))}))
		}
		_, err = r.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: many})
		wantValidation(t, err, "Member must have length less than or equal to 100")
		if _, err := r.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: many[:100]}); err != nil {
			t.Fatalf("100 items: %v", err)
		}
		_, err = r.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			put(a, item{"pk": S("ok")}), put(a, item{"pk": N("1")}),
		}})
		wantValidation(t, err, "Type mismatch for key pk")
		_, err = r.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			put(a, item{"pk": S("ok")}), put("no_such_table", item{"pk": S("x")}),
		}})
		var rnf *types.ResourceNotFoundException
		if !errors.As(err, &rnf) {
			t.Fatalf("transaction on a missing table: %v, want ResourceNotFoundException", err)
		}
		if got := r.get(t, a, item{"pk": S("ok")}); got != nil {
			t.Fatalf("a refused transaction wrote %s", show(got))
		}
		_, err = r.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{}}})
		wantAPIError(t, err, "ValidationException")
	})

	t.Run("get", func(t *testing.T) {
		r.put(t, a, item{"pk": S("tg1"), "v": S("one"), "w": S("w")})
		r.put(t, b, item{"pk": S("tg"), "sk": N("2"), "v": S("two")})
		out, err := r.Client.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
			{Get: &types.Get{TableName: aws.String(a), Key: item{"pk": S("tg1")}, ProjectionExpression: aws.String("#v"), ExpressionAttributeNames: map[string]string{"#v": "v"}}},
			{Get: &types.Get{TableName: aws.String(a), Key: item{"pk": S("tg-absent")}}},
			{Get: &types.Get{TableName: aws.String(b), Key: item{"pk": S("tg"), "sk": N("2")}}},
		}})
		if err != nil {
			t.Fatalf("TransactGetItems: %v", err)
		}
		if len(out.Responses) != 3 {
			t.Fatalf("%d responses, want 3", len(out.Responses))
		}
		wantItem(t, "first", out.Responses[0].Item, item{"v": S("one")})
		if out.Responses[1].Item != nil {
			t.Fatalf("missing item returned %s", show(out.Responses[1].Item))
		}
		wantItem(t, "third", out.Responses[2].Item, item{"pk": S("tg"), "sk": N("2"), "v": S("two")})

		_, err = r.Client.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
			{Get: &types.Get{TableName: aws.String(a), Key: item{"pk": S("tg1")}}},
			{Get: &types.Get{TableName: aws.String(a), Key: item{"pk": S("tg1")}}},
		}})
		wantValidation(t, err, "Transaction request cannot include multiple operations on one item")
		_, err = r.Client.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
			{Get: &types.Get{TableName: aws.String(a), Key: item{"nope": S("tg1")}}},
		}})
		wantValidation(t, err, "The provided key element does not match the schema")
	})
}
