package dynamo_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestValues(t *testing.T) {
	t.Parallel()
	r := startRegion(t)
	table := r.createTable(t, types.ScalarAttributeTypeS, "")
	tbl := aws.String(table)

	t.Run("every type round-trips", func(t *testing.T) {
		deep := S("bottom")
		for i := range 30 {
			if i%2 == 0 {
				deep = M(item{"level": deep, "n": N("1")})
			} else {
				deep = L(deep, Bool(false))
			}
		}
		it := item{
			"pk":    S("types"),
			"s":     S("héllo wörld ✓ \u0000 \"quoted\" \\ \n"),
			"empty": S(""),
			"n":     N("-12.5"),
			"b":     B([]byte{0, 1, 2, 255}),
			"eb":    B([]byte{}),
			"t":     Bool(true),
			"f":     Bool(false),
			"nul":   Null(),
			"m":     M(item{"a": S("x"), "nested": M(item{"l": L(N("1"), S("2"), Null())}), "em": M(item{})}),
			"l":     L(S("a"), N("1"), B([]byte("b")), Bool(true), Null(), L(), M(item{}), SS("x"), NS("1"), BS([]byte("z"))),
			"el":    L(),
			"ss":    SS("a", "b", "c", ""),
			"ns":    NS("1", "-2", "3.25", "1E10"),
			"bs":    BS([]byte("x"), []byte{0xff}, []byte{}),
			"deep":  deep,
		}
		r.put(t, table, it)
		want := item{}
		for k, v := range it {
			want[k] = v
		}
		want["ns"] = NS("1", "-2", "3.25", "10000000000")
		wantItem(t, "GetItem", r.get(t, table, item{"pk": S("types")}), want)
	})

	t.Run("numbers", func(t *testing.T) {
		for _, tc := range []struct{ in, want string }{
			{"1.50", "1.5"},
			{"1E2", "100"},
			{"1e2", "100"},
			{"1.5E-3", "0.0015"},
			{"-0", "0"},
			{"0.000", "0"},
			{"+7", "7"},
			{"007.10", "7.1"},
			{"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
			{"-1.2345678901234567890123456789012345678", "-1.2345678901234567890123456789012345678"},
			{"0.00000000000000000000000000000000000000000001", "0.00000000000000000000000000000000000000000001"},
			{"9.9999999999999999999999999999999999999E+125", "99999999999999999999999999999999999999" + strings.Repeat("0", 88)},
			{"1E-130", "0." + strings.Repeat("0", 129) + "1"},
			{"123456789012345678901234567890123456780000", "123456789012345678901234567890123456780000"},
		} {
			t.Run(tc.in, func(t *testing.T) {
				r.put(t, table, item{"pk": S("num"), "n": N(tc.in), "ns": NS(tc.in)})
				got := r.get(t, table, item{"pk": S("num")})
				wantItem(t, "number", got, item{"pk": S("num"), "n": N(tc.want), "ns": NS(tc.want)})
			})
		}
		for _, tc := range []struct{ in, want string }{
			{"123456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number"},
			{"1.23456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number"},
			{"1E126", "Number overflow"},
			{"-1E126", "Number overflow"},
			{"1E-131", "Number underflow"},
			{"NaN", "The parameter cannot be converted to a numeric value"},
			{"Infinity", "The parameter cannot be converted to a numeric value"},
			{"-Inf", "The parameter cannot be converted to a numeric value"},
			{"abc", "The parameter cannot be converted to a numeric value"},
			{"", "The parameter cannot be converted to a numeric value"},
			{" 1", "The parameter cannot be converted to a numeric value"},
			{"1 ", "The parameter cannot be converted to a numeric value"},
			{"0x10", "The parameter cannot be converted to a numeric value"},
			{"1E99999999999999999999", ""},
		} {
			t.Run("invalid "+tc.in, func(t *testing.T) {
				_, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("badnum"), "n": N(tc.in)}})
				wantValidation(t, err, tc.want)
				_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("badnum"), "ns": NS("1", tc.in)}})
				wantValidation(t, err, tc.want)
				_, err = r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: item{"pk": S("badnum")},
					UpdateExpression: aws.String("SET n = :v"), ExpressionAttributeValues: item{":v": N(tc.in)}})
				wantValidation(t, err, tc.want)
			})
		}
		// Arithmetic that leaves the range is refused too.
		r.put(t, table, item{"pk": S("arith"), "n": N("9E+125")})
		_, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: item{"pk": S("arith")},
			UpdateExpression: aws.String("SET n = n + n")})
		wantValidation(t, err, "Number overflow")
		_, err = r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: item{"pk": S("arith")},
			UpdateExpression: aws.String("ADD n :v"), ExpressionAttributeValues: item{":v": N("0.1")}})
		wantValidation(t, err, "significant digits")
		r.put(t, table, item{"pk": S("arith"), "n": N("1234567890123456789012345678901234567.8")})
		_, err = r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: item{"pk": S("arith")},
			UpdateExpression: aws.String("ADD n :v"), ExpressionAttributeValues: item{":v": N("0.01")}})
		wantValidation(t, err, "significant digits")
		// Exact decimal arithmetic: no binary floating point on the way.
		r.put(t, table, item{"pk": S("exact"), "n": N("0.1")})
		out, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: item{"pk": S("exact")},
			UpdateExpression: aws.String("SET n = n + :v"), ExpressionAttributeValues: item{":v": N("0.2")}, ReturnValues: types.ReturnValueUpdatedNew})
		if err != nil {
			t.Fatalf("UpdateItem: %v", err)
		}
		wantItem(t, "0.1 + 0.2", out.Attributes, item{"n": N("0.3")})
	})

	t.Run("sets", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			v    types.AttributeValue
			want string
		}{
			{"empty string set", SS(), "string set  may not be empty"},
			{"empty number set", NS(), "number set  may not be empty"},
			{"empty binary set", BS(), "binary set  may not be empty"},
			{"duplicate strings", SS("a", "b", "a"), "Input collection [a, b, a] contains duplicates"},
			{"duplicate numbers", NS("1", "1.0"), "contains duplicates"},
			{"duplicate binaries", BS([]byte("x"), []byte("x")), "contains duplicates"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("set"), "v": tc.v}})
				wantValidation(t, err, tc.want)
				_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("set"), "m": M(item{"v": tc.v})}})
				wantValidation(t, err, tc.want)
				_, err = r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: item{"pk": S("set")},
					UpdateExpression: aws.String("ADD v :v"), ExpressionAttributeValues: item{":v": tc.v}})
				wantValidation(t, err, tc.want)
			})
		}
		if got := r.get(t, table, item{"pk": S("set")}); got != nil {
			t.Fatalf("invalid sets stored %s", show(got))
		}
	})

	t.Run("empty values", func(t *testing.T) {
		r.put(t, table, item{"pk": S("empties"), "s": S(""), "b": B([]byte{}), "m": M(item{"s": S("")}), "l": L(S(""))})
		wantItem(t, "empty values", r.get(t, table, item{"pk": S("empties")}),
			item{"pk": S("empties"), "s": S(""), "b": B([]byte{}), "m": M(item{"s": S("")}), "l": L(S(""))})

		rt := r.createTable(t, types.ScalarAttributeTypeB, types.ScalarAttributeTypeS)
		for _, key := range []item{
			{"pk": B([]byte{}), "sk": S("x")},
			{"pk": B([]byte("x")), "sk": S("")},
		} {
			_, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(rt), Item: key})
			wantValidation(t, err, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty")
			_, err = r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(rt), Key: key})
			wantValidation(t, err, "The AttributeValue for a key attribute cannot contain an empty")
		}
		_, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("x"), "": S("no name")}})
		wantValidation(t, err, "empty attribute name")
		_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("x"), "m": M(item{"": S("no name")})}})
		if err != nil {
			wantValidation(t, err, "empty attribute name")
		}
	})

	t.Run("key types", func(t *testing.T) {
		nt := r.createTable(t, types.ScalarAttributeTypeN, types.ScalarAttributeTypeB)
		_, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(nt), Item: item{"pk": S("1"), "sk": B([]byte("x"))}})
		wantValidation(t, err, "Type mismatch for key pk expected: N actual: S")
		_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(nt), Item: item{"pk": N("1"), "sk": S("x")}})
		wantValidation(t, err, "Type mismatch for key sk expected: B actual: S")
		_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(nt), Item: item{"pk": N("1")}})
		wantValidation(t, err, "Missing the key sk in the item")
		// Numbers in keys are normalised too: 1.0 and 1 are one key.
		r.put(t, nt, item{"pk": N("1.0"), "sk": B([]byte("x")), "v": S("first")})
		r.put(t, nt, item{"pk": N("1"), "sk": B([]byte("x")), "v": S("second")})
		wantItem(t, "item under 1E0", r.get(t, nt, item{"pk": N("1E0"), "sk": B([]byte("x"))}),
			item{"pk": N("1"), "sk": B([]byte("x")), "v": S("second")})
		wantEqual(t, "ItemCount", aws.ToInt64(r.describe(t, nt).ItemCount), 1)
	})

	t.Run("item size limit", func(t *testing.T) {
		// 400 KB, counted as DynamoDB counts it: "pk" + "big" + the
		// key's one byte + the string.
		const limit = 400 * 1024
		fits := strings.Repeat("x", limit-len("pk")-len("k")-len("big"))
		r.put(t, table, item{"pk": S("k"), "big": S(fits)})
		got := r.get(t, table, item{"pk": S("k")})
		if s, _ := got["big"].(*types.AttributeValueMemberS); s == nil || len(s.Value) != len(fits) {
			t.Fatalf("item of exactly 400 KB did not round-trip")
		}
		_, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("k"), "big": S(fits + "x")}})
		wantValidation(t, err, "Item size has exceeded the maximum allowed size")
		// A longer attribute name counts against the limit too.
		_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("k"), "bigg": S(fits)}})
		wantValidation(t, err, "Item size has exceeded the maximum allowed size")
		// An update may not grow an item past the limit.
		_, err = r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: item{"pk": S("k")},
			UpdateExpression: aws.String("SET x = :v"), ExpressionAttributeValues: item{":v": S("y")}})
		wantValidation(t, err, "Item size")
		if got := r.get(t, table, item{"pk": S("k")}); got["x"] != nil {
			t.Fatalf("update past the size limit was stored")
		}
		// Nested containers count their overhead.
		_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("k2"), "b": M(item{"c": S(fits)})}})
		wantValidation(t, err, "Item size has exceeded the maximum allowed size")
	})

	t.Run("nesting depth", func(t *testing.T) {
		nest := func(depth int) types.AttributeValue {
			v := S("x")
			for range depth {
				v = L(v)
			}
			return v
		}
		r.put(t, table, item{"pk": S("deep"), "v": nest(32)})
		_, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("deep"), "v": nest(33)}})
		wantValidation(t, err, "Nesting Levels have exceeded supported limits")
	})
}
