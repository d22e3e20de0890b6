package dynamo_test

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// scalar returns a scalar attribute value as a string, for comparisons.
func scalar(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberB:
		return string(v.Value)
	case nil:
		return "<nil>"
	}
	return show(v)
}

// column returns attribute name of each item.
func column(items []item, name string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, scalar(it[name]))
	}
	return out
}

// queryAll runs a query through the SDK's paginator and returns every item
// of every page, and the number of pages.
func (r *testRegion) queryAll(t testing.TB, in *dynamodb.QueryInput) ([]item, int) {
	t.Helper()
	var items []item
	pages := 0
	p := dynamodb.NewQueryPaginator(r.Client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("Query page %d: %v", pages+1, err)
		}
		pages++
		items = append(items, page.Items...)
	}
	return items, pages
}

func TestQuery(t *testing.T) {
	t.Parallel()
	r := startRegion(t)

	// A table with a number sort key, a GSI on g (string) with sort key
	// sk, and an LSI on pk and l (string) projecting keys only.
	table := tableName(t)
	_, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			attrDef("pk", types.ScalarAttributeTypeS), attrDef("sk", types.ScalarAttributeTypeN),
			attrDef("g", types.ScalarAttributeTypeS), attrDef("l", types.ScalarAttributeTypeS),
		},
		KeySchema: []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash), keyElem("sk", types.KeyTypeRange)},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("gsi"),
			KeySchema:  []types.KeySchemaElement{keyElem("g", types.KeyTypeHash), keyElem("sk", types.KeyTypeRange)},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
			IndexName:  aws.String("lsi"),
			KeySchema:  []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash), keyElem("l", types.KeyTypeRange)},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	tbl := aws.String(table)
	sortKeys := []string{"-1E10", "-100", "-1.5", "-1", "-0.001", "0", "0.5", "1", "1.25", "2", "10", "100", "12345678901234567890", "1E10"}
	ordered := []string{"-10000000000", "-100", "-1.5", "-1", "-0.001", "0", "0.5", "1", "1.25", "2", "10", "100", "10000000000", "12345678901234567890"}
	var items []item
	for i, sk := range sortKeys {
		it := item{"pk": S("p"), "sk": N(sk), "i": N(strconv.Itoa(i)), "l": S(fmt.Sprintf("l%02d", len(sortKeys)-i))}
		if i%2 == 0 {
			it["g"] = S("even")
		}
		items = append(items, it)
	}
	for i := range 5 {
		items = append(items, item{"pk": S("other"), "sk": N(strconv.Itoa(i)), "g": S("even")})
	}
	r.batchPut(t, table, items)

	t.Run("key conditions", func(t *testing.T) {
		for _, tc := range []struct {
			cond   string
			values item
			want   []string
		}{
			{"pk = :p", nil, ordered},
			{"pk = :p AND sk = :v", item{":v": N("1.250")}, []string{"1.25"}},
			{"pk = :p AND sk < :v", item{":v": N("-1")}, []string{"-10000000000", "-100", "-1.5"}},
			{"pk = :p AND sk <= :v", item{":v": N("-1")}, []string{"-10000000000", "-100", "-1.5", "-1"}},
			{"pk = :p AND sk > :v", item{":v": N("100")}, []string{"10000000000", "12345678901234567890"}},
			{"pk = :p AND sk >= :v", item{":v": N("100")}, []string{"100", "10000000000", "12345678901234567890"}},
			{"pk = :p AND sk BETWEEN :a AND :b", item{":a": N("-1"), ":b": N("1")}, []string{"-1", "-0.001", "0", "0.5", "1"}},
			{"pk = :p AND sk BETWEEN :a AND :b", item{":a": N("0.6"), ":b": N("0.7")}, []string{}},
			{"sk > :v AND pk = :p", item{":v": N("100")}, []string{"10000000000", "12345678901234567890"}},
			{"(pk = :p) AND (sk < :v)", item{":v": N("-100")}, []string{"-10000000000"}},
			{"pk = :nobody", item{":nobody": S("nobody")}, []string{}},
		} {
			t.Run(tc.cond, func(t *testing.T) {
				values := item{}
				if strings.Contains(tc.cond, ":p") {
					values[":p"] = S("p")
				}
				maps.Copy(values, tc.values)
				out, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String(tc.cond), ExpressionAttributeValues: values})
				if err != nil {
					t.Fatalf("Query: %v", err)
				}
				wantEqual(t, "sort keys", column(out.Items, "sk"), tc.want)
				wantEqual(t, "Count", int(out.Count), len(tc.want))
				wantEqual(t, "ScannedCount", int(out.ScannedCount), len(tc.want))
				if out.LastEvaluatedKey != nil {
					t.Fatalf("LastEvaluatedKey %s on the only page", show(out.LastEvaluatedKey))
				}
				// Backwards gives the same items in reverse.
				back, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String(tc.cond),
					ExpressionAttributeValues: values, ScanIndexForward: aws.Bool(false)})
				if err != nil {
					t.Fatalf("Query backwards: %v", err)
				}
				rev := slices.Clone(tc.want)
				slices.Reverse(rev)
				wantEqual(t, "sort keys backwards", column(back.Items, "sk"), rev)
			})
		}
	})

	t.Run("string sort keys", func(t *testing.T) {
		st := r.createTable(t, types.ScalarAttributeTypeS, types.ScalarAttributeTypeS)
		keys := []string{"b", "a", "ab", "aa", "a\u00ff", "A", "ä", "Z", "abc", "b\x00", "~"}
		var its []item
		for _, k := range keys {
			its = append(its, item{"pk": S("p"), "sk": S(k)})
		}
		r.batchPut(t, st, its)
		byteOrder := slices.Clone(keys)
		slices.Sort(byteOrder) // DynamoDB orders strings by their UTF-8 bytes
		for _, tc := range []struct {
			cond string
			v    string
			want []string
		}{
			{"pk = :p", "", byteOrder},
			{"pk = :p AND begins_with(sk, :v)", "a", []string{"a", "aa", "ab", "abc", "a\u00ff"}},
			{"pk = :p AND begins_with(sk, :v)", "ab", []string{"ab", "abc"}},
			{"pk = :p AND begins_with(sk, :v)", "x", []string{}},
			{"pk = :p AND sk < :v", "a", []string{"A", "Z"}},
			{"pk = :p AND sk > :v", "b", []string{"b\x00", "~", "ä"}},
			{"pk = :p AND sk BETWEEN :v AND :w", "aa", []string{"aa", "ab", "abc"}},
		} {
			t.Run(tc.cond+" "+tc.v, func(t *testing.T) {
				values := item{":p": S("p")}
				if tc.v != "" {
					values[":v"] = S(tc.v)
				}
				if strings.Contains(tc.cond, ":w") {
					values[":w"] = S("abz")
				}
				out, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(st), KeyConditionExpression: aws.String(tc.cond), ExpressionAttributeValues: values})
				if err != nil {
					t.Fatalf("Query: %v", err)
				}
				wantEqual(t, "sort keys", column(out.Items, "sk"), tc.want)
			})
		}
		bt := r.createTable(t, types.ScalarAttributeTypeS, types.ScalarAttributeTypeB)
		r.batchPut(t, bt, []item{
			{"pk": S("p"), "sk": B([]byte{0xff})}, {"pk": S("p"), "sk": B([]byte{0x00, 0x01})},
			{"pk": S("p"), "sk": B([]byte{0x00})}, {"pk": S("p"), "sk": B([]byte{0x7f, 0x80})},
		})
		out, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(bt), KeyConditionExpression: aws.String("pk = :p AND begins_with(sk, :v)"),
			ExpressionAttributeValues: item{":p": S("p"), ":v": B([]byte{0x00})}})
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		wantEqual(t, "binary sort keys", column(out.Items, "sk"), []string{"\x00", "\x00\x01"})
	})

	t.Run("pagination", func(t *testing.T) {
		for _, limit := range []int32{1, 3, 13, 14, 100} {
			t.Run(fmt.Sprint(limit), func(t *testing.T) {
				for _, forward := range []bool{true, false} {
					got, pages := r.queryAll(t, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("pk = :p"),
						ExpressionAttributeValues: item{":p": S("p")}, Limit: aws.Int32(limit), ScanIndexForward: aws.Bool(forward)})
					want := slices.Clone(ordered)
					if !forward {
						slices.Reverse(want)
					}
					wantEqual(t, "sort keys over all pages", column(got, "sk"), want)
					// A page that ends exactly at the last item still has a
					// LastEvaluatedKey, so one more (empty) page follows.
					if wantPages := len(ordered)/int(limit) + 1; pages != wantPages {
						t.Fatalf("%d pages of %d, want %d", pages, limit, wantPages)
					}
				}
			})
		}
		out, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("pk = :p"),
			ExpressionAttributeValues: item{":p": S("p")}, Limit: aws.Int32(2)})
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		wantItem(t, "LastEvaluatedKey", out.LastEvaluatedKey, item{"pk": S("p"), "sk": N("-100")})

		_, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("pk = :p"),
			ExpressionAttributeValues: item{":p": S("p")}, ExclusiveStartKey: item{"pk": S("p")}})
		wantValidation(t, err, "The provided starting key is invalid")
		_, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("pk = :p"),
			ExpressionAttributeValues: item{":p": S("p")}, Limit: aws.Int32(0)})
		wantValidation(t, err, "Member must have value greater than or equal to 1")
	})

	t.Run("filter and select", func(t *testing.T) {
		out, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("pk = :p"),
			FilterExpression: aws.String("attribute_exists(g) AND i >= :i"), ExpressionAttributeValues: item{":p": S("p"), ":i": N("6")}})
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		wantEqual(t, "Count", out.Count, 4)
		wantEqual(t, "ScannedCount", out.ScannedCount, int32(len(ordered)))
		wantEqual(t, "sort keys", column(out.Items, "sk"), []string{"0.5", "1.25", "10", "12345678901234567890"})

		// Limit bounds the items read, before the filter.
		out, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("pk = :p"),
			FilterExpression: aws.String("attribute_exists(g)"), ExpressionAttributeValues: item{":p": S("p")}, Limit: aws.Int32(4)})
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		wantEqual(t, "Count with Limit", out.Count, 2)
		wantEqual(t, "ScannedCount with Limit", out.ScannedCount, 4)
		if out.LastEvaluatedKey == nil {
			t.Fatalf("no LastEvaluatedKey after a limited page")
		}

		out, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("pk = :p"),
			ExpressionAttributeValues: item{":p": S("p")}, Select: types.SelectCount})
		if err != nil {
			t.Fatalf("Query COUNT: %v", err)
		}
		if out.Items != nil {
			t.Fatalf("Select COUNT returned %d items", len(out.Items))
		}
		wantEqual(t, "Count", out.Count, int32(len(ordered)))

		out, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("pk = :p AND sk = :one"),
			ProjectionExpression: aws.String("i, l"), ExpressionAttributeValues: item{":p": S("p"), ":one": N("1")}})
		if err != nil {
			t.Fatalf("Query with projection: %v", err)
		}
		wantEqual(t, "projected items", show(out.Items), show([]item{{"i": N("7"), "l": S("l07")}}))

		for _, tc := range []struct {
			name string
			in   dynamodb.QueryInput
			want string
		}{
			{"filter on the key", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("sk > :p")},
				"Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"},
			{"no key condition", dynamodb.QueryInput{FilterExpression: aws.String("i = :p")},
				"Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."},
			{"no hash key", dynamodb.QueryInput{KeyConditionExpression: aws.String("sk = :p")}, "Query condition missed key schema element"},
			{"non-key attribute", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p AND i = :p")}, "Query condition missed key schema element: sk"},
			{"or", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p OR sk = :p")}, "Invalid operator used in KeyConditionExpression: OR"},
			{"hash key inequality", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk > :p")}, "Query key condition not supported"},
			{"begins_with on a number", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p AND begins_with(sk, :one)")}, "begins_with"},
			{"empty range", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p AND sk BETWEEN :two AND :one")}, "BETWEEN"},
			{"key type mismatch", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p AND sk = :p")}, "One or more parameter values were invalid: Condition parameter type does not match schema type"},
			{"COUNT with projection", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), Select: types.SelectCount, ProjectionExpression: aws.String("i")},
				"Cannot specify the ProjectionExpression when choosing to get COUNT"},
			{"consistent read on a GSI", dynamodb.QueryInput{IndexName: aws.String("gsi"), KeyConditionExpression: aws.String("g = :p"), ConsistentRead: aws.Bool(true)},
				"Consistent reads are not supported on global secondary indexes"},
			{"unknown index", dynamodb.QueryInput{IndexName: aws.String("nope"), KeyConditionExpression: aws.String("pk = :p")},
				"The table does not have the specified index: nope"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := tc.in
				in.TableName = tbl
				in.ExpressionAttributeValues = item{":p": S("p")}
				for _, v := range []string{"one", "two"} {
					if strings.Contains(aws.ToString(in.KeyConditionExpression), ":"+v) {
						in.ExpressionAttributeValues[":"+v] = N(map[string]string{"one": "1", "two": "2"}[v])
					}
				}
				_, err := r.Client.Query(ctx, &in)
				wantValidation(t, err, tc.want)
			})
		}
	})

	t.Run("global index", func(t *testing.T) {
		got, _ := r.queryAll(t, &dynamodb.QueryInput{TableName: tbl, IndexName: aws.String("gsi"),
			KeyConditionExpression: aws.String("g = :g AND sk >= :zero"), ExpressionAttributeValues: item{":g": S("even"), ":zero": N("0")}, Limit: aws.Int32(2)})
		// Items of both partitions, in sort key order; equal sort keys in
		// any order.
		var keys []string
		for _, it := range got {
			keys = append(keys, scalar(it["pk"])+"/"+scalar(it["sk"]))
		}
		slices.Sort(keys)
		wantEqual(t, "index items", keys, []string{"other/0", "other/1", "other/2", "other/3", "other/4", "p/0.5", "p/1.25", "p/10", "p/12345678901234567890"})
		for i := 1; i < len(got); i++ {
			a, b := scalar(got[i-1]["sk"]), scalar(got[i]["sk"])
			if fa, _ := strconv.ParseFloat(a, 64); func() bool { fb, _ := strconv.ParseFloat(b, 64); return fa > fb }() {
				t.Fatalf("index items out of order: %s before %s", a, b)
			}
		}
		for _, it := range got {
			if scalar(it["pk"]) == "p" && (len(it) != 5 || it["i"] == nil) {
				t.Fatalf("ALL projection returned %s, want every attribute", show(it))
			}
		}
		wantEqual(t, "GSI ItemCount", aws.ToInt64(r.describe(t, table).GlobalSecondaryIndexes[0].ItemCount), 12)
		sc, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: tbl, IndexName: aws.String("gsi")})
		if err != nil {
			t.Fatalf("Scan of the index: %v", err)
		}
		wantEqual(t, "items in the index", sc.Count, 12)
		// An item whose index key has the wrong type is refused.
		_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("p"), "sk": N("99"), "g": N("1")}})
		wantValidation(t, err, "Type mismatch for Index Key g Expected: S Actual: N IndexName: gsi")
		_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("p"), "sk": N("99"), "g": S("")}})
		wantValidation(t, err, "empty string value")
	})

	t.Run("local index", func(t *testing.T) {
		out, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, IndexName: aws.String("lsi"), ConsistentRead: aws.Bool(true),
			KeyConditionExpression: aws.String("pk = :p AND l BETWEEN :a AND :b"), ExpressionAttributeValues: item{":p": S("p"), ":a": S("l01"), ":b": S("l03")}})
		if err != nil {
			t.Fatalf("Query on the LSI: %v", err)
		}
		wantEqual(t, "LSI items", show(out.Items), show([]item{
			{"pk": S("p"), "sk": N("10000000000"), "l": S("l01")},
			{"pk": S("p"), "sk": N("12345678901234567890"), "l": S("l02")},
			{"pk": S("p"), "sk": N("100"), "l": S("l03")},
		}))
		// Attributes outside a local index's projection are fetched from
		// the table.
		out, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: tbl, IndexName: aws.String("lsi"),
			KeyConditionExpression: aws.String("pk = :p AND l = :a"), ProjectionExpression: aws.String("i"), ExpressionAttributeValues: item{":p": S("p"), ":a": S("l01")}})
		if err != nil {
			t.Fatalf("Query on the LSI with a projection: %v", err)
		}
		wantEqual(t, "LSI projected", show(out.Items), show([]item{{"i": N("13")}}))
		// Paging through the index.
		got, _ := r.queryAll(t, &dynamodb.QueryInput{TableName: tbl, IndexName: aws.String("lsi"), Limit: aws.Int32(4),
			KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: item{":p": S("p")}, ScanIndexForward: aws.Bool(false)})
		var want []string
		for i := len(sortKeys); i >= 1; i-- {
			want = append(want, fmt.Sprintf("l%02d", i))
		}
		wantEqual(t, "LSI sort keys backwards", column(got, "l"), want)
	})

	t.Run("index maintenance", func(t *testing.T) {
		name := tableName(t)
		_, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{
				attrDef("pk", types.ScalarAttributeTypeS), attrDef("sk", types.ScalarAttributeTypeS), attrDef("g", types.ScalarAttributeTypeS), attrDef("l", types.ScalarAttributeTypeN),
			},
			KeySchema: []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash), keyElem("sk", types.KeyTypeRange)},
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("by_g"), KeySchema: []types.KeySchemaElement{keyElem("g", types.KeyTypeHash)},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"inc"}}}},
			LocalSecondaryIndexes: []types.LocalSecondaryIndex{{IndexName: aws.String("by_l"), KeySchema: []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash), keyElem("l", types.KeyTypeRange)},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}},
		})
		if err != nil {
			t.Fatalf("CreateTable: %v", err)
		}
		byG := func(g string) []item {
			out, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(name), IndexName: aws.String("by_g"),
				KeyConditionExpression: aws.String("g = :g"), ExpressionAttributeValues: item{":g": S(g)}})
			if err != nil {
				t.Fatalf("Query by_g: %v", err)
			}
			return out.Items
		}
		counts := func() (int64, int64) {
			d := r.describe(t, name)
			return aws.ToInt64(d.GlobalSecondaryIndexes[0].ItemCount), aws.ToInt64(d.LocalSecondaryIndexes[0].ItemCount)
		}
		k := item{"pk": S("p"), "sk": S("s")}
		r.put(t, name, item{"pk": S("p"), "sk": S("s"), "g": S("old"), "l": N("1"), "inc": S("in"), "exc": S("out")})
		wantEqual(t, "INCLUDE projection", show(byG("old")), show([]item{{"pk": S("p"), "sk": S("s"), "g": S("old"), "inc": S("in")}}))
		if _, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(name), Key: k,
			UpdateExpression: aws.String("SET g = :g, inc = :i"), ExpressionAttributeValues: item{":g": S("new"), ":i": S("in2")}}); err != nil {
			t.Fatalf("UpdateItem: %v", err)
		}
		if got := byG("old"); len(got) != 0 {
			t.Fatalf("item still under its old index key: %s", show(got))
		}
		wantEqual(t, "moved item", show(byG("new")), show([]item{{"pk": S("p"), "sk": S("s"), "g": S("new"), "inc": S("in2")}}))
		// Changing an attribute the index does not project leaves it alone,
		// and changing one it does is seen.
		if _, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(name), Key: k,
			UpdateExpression: aws.String("SET exc = :e REMOVE l"), ExpressionAttributeValues: item{":e": S("out2")}}); err != nil {
			t.Fatalf("UpdateItem: %v", err)
		}
		g, l := counts()
		wantEqual(t, "index counts after REMOVE l", [2]int64{g, l}, [2]int64{1, 0})
		sel, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(name), IndexName: aws.String("by_g"), Select: types.SelectAllProjectedAttributes,
			KeyConditionExpression: aws.String("g = :g"), ExpressionAttributeValues: item{":g": S("new")}})
		if err != nil {
			t.Fatalf("Query ALL_PROJECTED_ATTRIBUTES: %v", err)
		}
		wantEqual(t, "ALL_PROJECTED_ATTRIBUTES", show(sel.Items), show([]item{{"pk": S("p"), "sk": S("s"), "g": S("new"), "inc": S("in2")}}))
		_, err = r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(name), IndexName: aws.String("by_g"), Select: types.SelectAllAttributes,
			KeyConditionExpression: aws.String("g = :g"), ExpressionAttributeValues: item{":g": S("new")}})
		wantValidation(t, err, "Select type ALL_ATTRIBUTES is not supported for global secondary index by_g")

		r.put(t, name, item{"pk": S("p"), "sk": S("s"), "g": S("new"), "l": N("5"), "exc": S("x")})
		lsi, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(name), IndexName: aws.String("by_l"), Select: types.SelectAllAttributes,
			KeyConditionExpression: aws.String("pk = :p AND l > :z"), ExpressionAttributeValues: item{":p": S("p"), ":z": N("0")}})
		if err != nil {
			t.Fatalf("Query the LSI for ALL_ATTRIBUTES: %v", err)
		}
		wantEqual(t, "LSI ALL_ATTRIBUTES", show(lsi.Items), show([]item{{"pk": S("p"), "sk": S("s"), "g": S("new"), "l": N("5"), "exc": S("x")}}))

		if _, err := r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(name), Key: k}); err != nil {
			t.Fatalf("DeleteItem: %v", err)
		}
		if got := byG("new"); len(got) != 0 {
			t.Fatalf("deleted item still in the index: %s", show(got))
		}
		g, l = counts()
		wantEqual(t, "index counts after delete", [2]int64{g, l}, [2]int64{0, 0})
	})

	t.Run("index pages over equal index keys", func(t *testing.T) {
		// Every item has the same index key, so only the table key in
		// LastEvaluatedKey tells where a page ended.
		name := tableName(t)
		_, err := r.Client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{
				attrDef("pk", types.ScalarAttributeTypeS), attrDef("sk", types.ScalarAttributeTypeS), attrDef("g", types.ScalarAttributeTypeS), attrDef("h", types.ScalarAttributeTypeN),
			},
			KeySchema: []types.KeySchemaElement{keyElem("pk", types.KeyTypeHash), keyElem("sk", types.KeyTypeRange)},
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
				{IndexName: aws.String("by_g"), KeySchema: []types.KeySchemaElement{keyElem("g", types.KeyTypeHash)},
					Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}},
				{IndexName: aws.String("by_g_h"), KeySchema: []types.KeySchemaElement{keyElem("g", types.KeyTypeHash), keyElem("h", types.KeyTypeRange)},
					Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}},
			},
		})
		if err != nil {
			t.Fatalf("CreateTable: %v", err)
		}
		var its []item
		want := map[string]bool{}
		for i := range 30 {
			pk, sk := fmt.Sprintf("p%d", i%4), fmt.Sprintf("s%02d", i)
			its = append(its, item{"pk": S(pk), "sk": S(sk), "g": S("same"), "h": N(strconv.Itoa(i % 3))})
			want[pk+"/"+sk] = true
		}
		r.batchPut(t, name, its)
		for _, index := range []string{"by_g", "by_g_h"} {
			for _, limit := range []int32{1, 4, 29, 30} {
				for _, forward := range []bool{true, false} {
					got, _ := r.queryAll(t, &dynamodb.QueryInput{TableName: aws.String(name), IndexName: aws.String(index), Limit: aws.Int32(limit),
						ScanIndexForward: aws.Bool(forward), KeyConditionExpression: aws.String("g = :g"), ExpressionAttributeValues: item{":g": S("same")}})
					seen := map[string]bool{}
					for _, it := range got {
						k := scalar(it["pk"]) + "/" + scalar(it["sk"])
						if seen[k] || !want[k] {
							t.Fatalf("%s limit %d forward %v: item %s twice or unknown", index, limit, forward, k)
						}
						seen[k] = true
					}
					if len(seen) != len(want) {
						t.Fatalf("%s limit %d forward %v: %d items, want %d", index, limit, forward, len(seen), len(want))
					}
				}
			}
		}
	})

	t.Run("1 MB pages", func(t *testing.T) {
		big := r.createTable(t, types.ScalarAttributeTypeS, types.ScalarAttributeTypeN)
		const n, size = 150, 10 << 10 // 1.5 MB in one partition
		pad := strings.Repeat("x", size)
		var its []item
		for i := range n {
			its = append(its, item{"pk": S("big"), "sk": N(strconv.Itoa(i)), "ballast": S(pad)})
		}
		r.batchPut(t, big, its)
		out, err := r.Client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(big), KeyConditionExpression: aws.String("pk = :p"),
			ExpressionAttributeValues: item{":p": S("big")}})
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		if out.LastEvaluatedKey == nil {
			t.Fatalf("1.5 MB came back in one page of %d items", out.Count)
		}
		if read := int(out.Count) * size; read < 1<<20-size || read > 1<<20+size {
			t.Fatalf("first page holds %d items of %d bytes, want about 1 MB", out.Count, size)
		}
		got, pages := r.queryAll(t, &dynamodb.QueryInput{TableName: aws.String(big), KeyConditionExpression: aws.String("pk = :p"),
			ExpressionAttributeValues: item{":p": S("big")}, ProjectionExpression: aws.String("sk")})
		wantEqual(t, "pages", pages, 2)
		wantEqual(t, "items over all pages", len(got), n)
		for i, it := range got {
			if scalar(it["sk"]) != strconv.Itoa(i) {
				t.Fatalf("item %d has sort key %s", i, scalar(it["sk"]))
			}
		}
		// The byte limit applies before a filter, so a selective filter
		// still returns after 1 MB.
		sc, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(big), Select: types.SelectCount,
			FilterExpression: aws.String("attribute_not_exists(ballast)")})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		if sc.Count != 0 || sc.LastEvaluatedKey == nil || sc.ScannedCount >= n {
			t.Fatalf("filtered scan: Count %d, ScannedCount %d, LastEvaluatedKey %v; want 0, about 100, a key", sc.Count, sc.ScannedCount, sc.LastEvaluatedKey)
		}
	})
}

func TestScan(t *testing.T) {
	t.Parallel()
	r := startRegion(t)
	table := r.createTable(t, types.ScalarAttributeTypeS, types.ScalarAttributeTypeN)
	tbl := aws.String(table)
	var items []item
	want := map[string]bool{}
	for p := range 40 {
		for s := range 5 {
			items = append(items, item{"pk": S(fmt.Sprintf("p%02d", p)), "sk": N(strconv.Itoa(s)), "v": N(strconv.Itoa(p*5 + s))})
			want[fmt.Sprintf("p%02d/%d", p, s)] = true
		}
	}
	r.batchPut(t, table, items)
	keyOf := func(it item) string { return scalar(it["pk"]) + "/" + scalar(it["sk"]) }

	scanAll := func(t *testing.T, in *dynamodb.ScanInput) []item {
		var got []item
		p := dynamodb.NewScanPaginator(r.Client, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			got = append(got, page.Items...)
		}
		return got
	}
	exactlyOnce := func(t *testing.T, got []item) {
		t.Helper()
		seen := map[string]int{}
		for _, it := range got {
			seen[keyOf(it)]++
		}
		for k, n := range seen {
			if n != 1 || !want[k] {
				t.Fatalf("item %s seen %d times", k, n)
			}
		}
		if len(seen) != len(want) {
			t.Fatalf("scan saw %d items, want %d", len(seen), len(want))
		}
	}

	t.Run("all", func(t *testing.T) {
		out, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: tbl})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		exactlyOnce(t, out.Items)
		wantEqual(t, "Count", int(out.Count), len(want))
		if out.LastEvaluatedKey != nil {
			t.Fatalf("LastEvaluatedKey on the only page")
		}
		// Items of one partition come together, in sort key order.
		for i := 1; i < len(out.Items); i++ {
			a, b := out.Items[i-1], out.Items[i]
			if scalar(a["pk"]) == scalar(b["pk"]) && scalar(a["sk"]) >= scalar(b["sk"]) {
				t.Fatalf("%s before %s", keyOf(a), keyOf(b))
			}
		}
	})

	t.Run("paginated", func(t *testing.T) {
		for _, limit := range []int32{1, 7, 199, 200} {
			exactlyOnce(t, scanAll(t, &dynamodb.ScanInput{TableName: tbl, Limit: aws.Int32(limit)}))
		}
	})

	t.Run("filter", func(t *testing.T) {
		out, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: tbl, FilterExpression: aws.String("v < :v AND sk = :z"),
			ExpressionAttributeValues: item{":v": N("50"), ":z": N("0")}, ProjectionExpression: aws.String("pk")})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		wantEqual(t, "Count", out.Count, 10)
		wantEqual(t, "ScannedCount", out.ScannedCount, 200)
		got := column(out.Items, "pk")
		slices.Sort(got)
		wantEqual(t, "partitions", got, []string{"p00", "p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08", "p09"})
		cnt, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: tbl, Select: types.SelectCount, FilterExpression: aws.String("v >= :v"),
			ExpressionAttributeValues: item{":v": N("150")}})
		if err != nil {
			t.Fatalf("Scan COUNT: %v", err)
		}
		if cnt.Items != nil || cnt.Count != 50 || cnt.ScannedCount != 200 {
			t.Fatalf("Scan COUNT: %d items, Count %d, ScannedCount %d; want none, 50, 200", len(cnt.Items), cnt.Count, cnt.ScannedCount)
		}
	})

	t.Run("parallel segments", func(t *testing.T) {
		for _, total := range []int32{1, 2, 3, 8, 1000} {
			t.Run(fmt.Sprint(total), func(t *testing.T) {
				results := make([][]item, total)
				var wg sync.WaitGroup
				workers := make(chan struct{}, 16) // as many segments at once as a worker pool would run
				for seg := range total {
					workers <- struct{}{}
					wg.Go(func() {
						defer func() { <-workers }()
						p := dynamodb.NewScanPaginator(r.Client, &dynamodb.ScanInput{TableName: tbl, Segment: aws.Int32(seg), TotalSegments: aws.Int32(total), Limit: aws.Int32(16)})
						for p.HasMorePages() {
							page, err := p.NextPage(ctx)
							if err != nil {
								t.Errorf("segment %d of %d: %v", seg, total, err)
								return
							}
							results[seg] = append(results[seg], page.Items...)
						}
					})
				}
				wg.Wait()
				var all []item
				nonEmpty := 0
				for _, seg := range results {
					all = append(all, seg...)
					if len(seg) > 0 {
						nonEmpty++
					}
				}
				exactlyOnce(t, all)
				if total > 1 && total <= 8 && nonEmpty < 2 {
					t.Fatalf("all items fell into one of %d segments", total)
				}
			})
		}
		for _, tc := range []struct {
			seg, total *int32
			want       string
		}{
			{aws.Int32(0), nil, "The TotalSegments parameter is required but was not present in the request when parameter Segment is present"},
			{nil, aws.Int32(2), "The Segment parameter is required but was not present in the request when parameter TotalSegments is present"},
			{aws.Int32(2), aws.Int32(2), "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 2 is not less than TotalSegments: 2"},
			{aws.Int32(0), aws.Int32(1000001), "Member must have value less than or equal to 1000000"},
			{aws.Int32(-1), aws.Int32(2), "Segment"},
		} {
			_, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: tbl, Segment: tc.seg, TotalSegments: tc.total})
			wantValidation(t, err, tc.want)
		}
	})

	t.Run("empty table", func(t *testing.T) {
		empty := r.createTable(t, types.ScalarAttributeTypeS, "")
		out, err := r.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(empty)})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		if out.Items == nil || len(out.Items) != 0 || out.Count != 0 || out.LastEvaluatedKey != nil {
			t.Fatalf("Scan of an empty table: %d items (nil %v), Count %d, LastEvaluatedKey %v", len(out.Items), out.Items == nil, out.Count, out.LastEvaluatedKey)
		}
	})
}
