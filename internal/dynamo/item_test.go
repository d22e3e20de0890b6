package dynamo_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestItems(t *testing.T) {
	t.Parallel()
	r := startRegion(t)
	table := r.createTable(t, types.ScalarAttributeTypeS, "")
	tbl := aws.String(table)
	key := func(pk string) item { return item{"pk": S(pk)} }

	t.Run("put get delete", func(t *testing.T) {
		it := item{"pk": S("pgd"), "a": S("x"), "n": N("1")}
		out, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: it})
		if err != nil {
			t.Fatalf("PutItem: %v", err)
		}
		if out.Attributes != nil {
			t.Fatalf("PutItem without ReturnValues returned %s", show(out.Attributes))
		}
		wantItem(t, "GetItem", r.get(t, table, key("pgd")), it)

		got, err := r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: key("absent")})
		if err != nil {
			t.Fatalf("GetItem of a missing item: %v", err)
		}
		if got.Item != nil {
			t.Fatalf("GetItem of a missing item returned %s", show(got.Item))
		}

		del, err := r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: key("pgd"), ReturnValues: types.ReturnValueAllOld})
		if err != nil {
			t.Fatalf("DeleteItem: %v", err)
		}
		wantItem(t, "DeleteItem ALL_OLD", del.Attributes, it)
		if got := r.get(t, table, key("pgd")); got != nil {
			t.Fatalf("item still there after DeleteItem: %s", show(got))
		}
		// Deleting what is not there succeeds and returns nothing.
		del, err = r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: key("pgd"), ReturnValues: types.ReturnValueAllOld})
		if err != nil || del.Attributes != nil {
			t.Fatalf("DeleteItem of a missing item: %s, %v; want nothing, no error", show(del.Attributes), err)
		}
	})

	t.Run("consumed capacity", func(t *testing.T) {
		put, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("cap"), "x": S(strings.Repeat("x", 1500))},
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if err != nil {
			t.Fatalf("PutItem: %v", err)
		}
		if c := put.ConsumedCapacity; c == nil || aws.ToString(c.TableName) != table || aws.ToFloat64(c.CapacityUnits) != 2 {
			t.Fatalf("PutItem of 1.5 KB consumed %+v, want 2 units of %s", c, table)
		}
		get, err := r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: key("cap"), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if err != nil {
			t.Fatalf("GetItem: %v", err)
		}
		if c := get.ConsumedCapacity; c == nil || aws.ToFloat64(c.CapacityUnits) != 0.5 {
			t.Fatalf("eventually consistent GetItem consumed %+v, want 0.5 units", c)
		}
		get, err = r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: key("cap")})
		if err != nil || get.ConsumedCapacity != nil {
			t.Fatalf("GetItem without ReturnConsumedCapacity: %+v, %v", get.ConsumedCapacity, err)
		}
	})

	t.Run("put return values", func(t *testing.T) {
		first := item{"pk": S("prv"), "v": N("1")}
		out, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: first, ReturnValues: types.ReturnValueAllOld})
		if err != nil || out.Attributes != nil {
			t.Fatalf("first PutItem ALL_OLD: %s, %v; want no attributes", show(out.Attributes), err)
		}
		out, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("prv"), "v": N("2")}, ReturnValues: types.ReturnValueAllOld})
		if err != nil {
			t.Fatalf("second PutItem: %v", err)
		}
		wantItem(t, "PutItem ALL_OLD", out.Attributes, first)
		for _, rv := range []types.ReturnValue{types.ReturnValueAllNew, types.ReturnValueUpdatedOld, types.ReturnValueUpdatedNew} {
			_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: first, ReturnValues: rv})
			wantValidation(t, err, "Return values set to invalid value")
			_, err = r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: key("prv"), ReturnValues: rv})
			wantValidation(t, err, "Return values set to invalid value")
		}
		_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: first, ReturnValues: "DOG"})
		wantValidation(t, err, "Member must satisfy enum value set")
	})

	t.Run("conditional writes", func(t *testing.T) {
		it := item{"pk": S("cw"), "s": S("dog")}
		notExists := aws.String("attribute_not_exists(pk)")
		if _, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: it, ConditionExpression: notExists}); err != nil {
			t.Fatalf("first conditional put: %v", err)
		}
		_, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("cw"), "s": S("cat")}, ConditionExpression: notExists})
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			t.Fatalf("second conditional put: %v, want ConditionalCheckFailedException", err)
		}
		if ccf.Item != nil {
			t.Fatalf("ConditionalCheckFailedException carries %s without ReturnValuesOnConditionCheckFailure", show(ccf.Item))
		}
		wantEqual(t, "message", ccf.ErrorMessage(), "The conditional request failed")

		_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: tbl, Item: item{"pk": S("cw"), "s": S("cat")}, ConditionExpression: notExists,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if !errors.As(err, &ccf) {
			t.Fatalf("conditional put with ALL_OLD: %v, want ConditionalCheckFailedException", err)
		}
		wantItem(t, "failed put's Item", ccf.Item, it)

		_, err = r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: tbl, Key: key("cw"), UpdateExpression: aws.String("SET s = :new"),
			ConditionExpression:                 aws.String("s = :old"),
			ExpressionAttributeValues:           item{":old": S("rat"), ":new": S("cow")},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if !errors.As(err, &ccf) {
			t.Fatalf("conditional update: %v, want ConditionalCheckFailedException", err)
		}
		wantItem(t, "failed update's Item", ccf.Item, it)

		_, err = r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: tbl, Key: key("cw"), ConditionExpression: aws.String("s = :v"),
			ExpressionAttributeValues:           item{":v": S("cat")},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if !errors.As(err, &ccf) {
			t.Fatalf("conditional delete: %v, want ConditionalCheckFailedException", err)
		}
		wantItem(t, "failed delete's Item", ccf.Item, it)

		// A failed condition on a missing item has no Item to return.
		_, err = r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: tbl, Key: key("cw-missing"), UpdateExpression: aws.String("SET s = :v"),
			ConditionExpression: aws.String("attribute_exists(pk)"), ExpressionAttributeValues: item{":v": S("x")},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if !errors.As(err, &ccf) {
			t.Fatalf("update of a missing item: %v, want ConditionalCheckFailedException", err)
		}
		if ccf.Item != nil {
			t.Fatalf("failed condition on a missing item returned %s", show(ccf.Item))
		}
		if got := r.get(t, table, key("cw-missing")); got != nil {
			t.Fatalf("failed conditional update created %s", show(got))
		}

		out, err := r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: tbl, Key: key("cw"), ConditionExpression: aws.String("s = :v"),
			ExpressionAttributeValues:           item{":v": S("dog")},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err != nil || out.Attributes != nil {
			t.Fatalf("successful conditional delete: %s, %v; want no attributes, no error", show(out.Attributes), err)
		}

		for _, bad := range []types.ReturnValuesOnConditionCheckFailure{"UPDATED_OLD", "ALL_NEW", "DUMMY"} {
			_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: tbl, Item: it, ConditionExpression: notExists, ReturnValuesOnConditionCheckFailure: bad,
			})
			wantValidation(t, err, "returnValuesOnConditionCheckFailure")
		}
	})

	t.Run("update return values", func(t *testing.T) {
		for _, tc := range []struct {
			rv     types.ReturnValue
			before item // nil: no item
			update string
			values item
			want   item
		}{
			{types.ReturnValueNone, item{"a": S("hi"), "b": S("dog")}, "SET b = :v", item{":v": S("cat")}, nil},
			{types.ReturnValueAllOld, item{"a": S("hi"), "b": S("dog")}, "SET b = :v", item{":v": S("cat")},
				item{"pk": S("urv"), "a": S("hi"), "b": S("dog")}},
			{types.ReturnValueAllOld, nil, "SET b = :v", item{":v": S("cat")}, nil},
			{types.ReturnValueAllNew, item{"a": S("hi"), "b": S("dog")}, "SET b = :v", item{":v": S("cat")},
				item{"pk": S("urv"), "a": S("hi"), "b": S("cat")}},
			{types.ReturnValueAllNew, item{"a": S("hi"), "b": S("dog")}, "REMOVE b", nil, item{"pk": S("urv"), "a": S("hi")}},
			{types.ReturnValueAllNew, nil, "SET b = :v", item{":v": S("cat")}, item{"pk": S("urv"), "b": S("cat")}},
			{types.ReturnValueUpdatedOld, item{"a": S("hi"), "b": S("dog")}, "SET b = :v, c = :w", item{":v": S("cat"), ":w": S("new")},
				item{"b": S("dog")}},
			{types.ReturnValueUpdatedOld, item{"a": S("hi")}, "SET b = :v", item{":v": S("cat")}, nil},
			{types.ReturnValueUpdatedOld, item{"a": S("hi"), "b": S("dog")}, "REMOVE b", nil, item{"b": S("dog")}},
			{types.ReturnValueUpdatedNew, item{"a": S("hi"), "b": S("dog")}, "SET b = :v, c = :w", item{":v": S("cat"), ":w": S("new")},
				item{"b": S("cat"), "c": S("new")}},
			{types.ReturnValueUpdatedNew, item{"a": S("hi"), "b": S("dog")}, "REMOVE b", nil, nil},
			{types.ReturnValueUpdatedNew, item{"a": N("1")}, "SET a = a + :v", item{":v": N("1")}, item{"a": N("2")}},
			{types.ReturnValueUpdatedNew, nil, "SET a = :v", item{":v": N("1")}, item{"a": N("1")}},
		} {
			t.Run(string(tc.rv)+" "+tc.update, func(t *testing.T) {
				if _, err := r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: key("urv")}); err != nil {
					t.Fatalf("DeleteItem: %v", err)
				}
				if tc.before != nil {
					it := item{"pk": S("urv")}
					for k, v := range tc.before {
						it[k] = v
					}
					r.put(t, table, it)
				}
				in := &dynamodb.UpdateItemInput{TableName: tbl, Key: key("urv"), UpdateExpression: aws.String(tc.update), ReturnValues: tc.rv}
				if tc.values != nil {
					in.ExpressionAttributeValues = tc.values
				}
				out, err := r.Client.UpdateItem(ctx, in)
				if err != nil {
					t.Fatalf("UpdateItem: %v", err)
				}
				wantItem(t, "Attributes", out.Attributes, tc.want)
			})
		}
	})

	t.Run("update return values nested", func(t *testing.T) {
		r.put(t, table, item{"pk": S("nested"), "a": M(item{"b": S("dog"), "c": L(N("1"), N("2"), N("3"))}), "d": S("cat")})
		for _, tc := range []struct {
			rv     types.ReturnValue
			update string
			values item
			want   item
		}{
			{types.ReturnValueUpdatedOld, "SET a.b = :v", item{":v": S("yo")}, item{"a": M(item{"b": S("dog")})}},
			{types.ReturnValueUpdatedOld, "SET a.c[1] = :v", item{":v": N("7")}, item{"a": M(item{"c": L(N("2"))})}},
			{types.ReturnValueUpdatedOld, "SET a.c[1] = :v, a.b = :w", item{":v": N("8"), ":w": S("dog")},
				item{"a": M(item{"b": S("yo"), "c": L(N("7"))})}},
			{types.ReturnValueUpdatedNew, "SET a.b = :v", item{":v": S("hello")}, item{"a": M(item{"b": S("hello")})}},
			{types.ReturnValueUpdatedNew, "SET a.c[1] = :v, a.b = :w", item{":v": N("3"), ":w": S("dog")},
				item{"a": M(item{"b": S("dog"), "c": L(N("3"))})}},
			{types.ReturnValueAllNew, "SET a.c[1] = :v", item{":v": N("4")},
				item{"pk": S("nested"), "a": M(item{"b": S("dog"), "c": L(N("1"), N("4"), N("3"))}), "d": S("cat")}},
			{types.ReturnValueUpdatedOld, "REMOVE a.c[1], a.c[3]", nil, item{"a": M(item{"c": L(N("4"))})}},
			{types.ReturnValueUpdatedOld, "SET a.x1 = :v", item{":v": N("8")}, nil},
			{types.ReturnValueUpdatedNew, "SET a.x2 = :v", item{":v": N("8")}, item{"a": M(item{"x2": N("8")})}},
			// Past a list's end, SET appends: a.c[100] itself stays absent.
			{types.ReturnValueUpdatedNew, "SET a.c[100] = :v", item{":v": N("70")}, nil},
			// REMOVE shifts the list, so a.c[1] now holds the next element.
			{types.ReturnValueUpdatedNew, "REMOVE a.c[1]", nil, item{"a": M(item{"c": L(N("70"))})}},
		} {
			t.Run(string(tc.rv)+" "+tc.update, func(t *testing.T) {
				in := &dynamodb.UpdateItemInput{TableName: tbl, Key: key("nested"), UpdateExpression: aws.String(tc.update), ReturnValues: tc.rv}
				if tc.values != nil {
					in.ExpressionAttributeValues = tc.values
				}
				out, err := r.Client.UpdateItem(ctx, in)
				if err != nil {
					t.Fatalf("UpdateItem: %v", err)
				}
				wantItem(t, "Attributes", out.Attributes, tc.want)
			})
		}
		wantItem(t, "final item", r.get(t, table, key("nested")), item{
			"pk": S("nested"), "d": S("cat"),
			"a": M(item{"b": S("dog"), "c": L(N("1"), N("70")), "x1": N("8"), "x2": N("8")}),
		})
	})

	t.Run("update expressions", func(t *testing.T) {
		base := item{
			"n":   N("5"),
			"s":   S("str"),
			"lst": L(S("a"), S("b"), S("c")),
			"map": M(item{"inr": M(item{"x": N("1")}), "l": L(N("1"), M(item{"deep": S("d")}))}),
			"ss":  SS("x", "y"),
			"ns":  NS("1", "2"),
			"bs":  BS([]byte{1}, []byte{2}),
		}
		for _, tc := range []struct {
			name   string
			update string
			names  map[string]string
			values item
			want   item // the attributes that differ from base; nil value: removed
		}{
			{"increment", "SET n = n + :v", nil, item{":v": N("2.5")}, item{"n": N("7.5")}},
			{"decrement", "SET n = n - :v", nil, item{":v": N("10")}, item{"n": N("-5")}},
			{"copy attribute", "SET cp = s", nil, nil, item{"cp": S("str")}},
			{"if_not_exists absent", "SET newattr = if_not_exists(newattr, :v)", nil, item{":v": N("0")}, item{"newattr": N("0")}},
			{"if_not_exists present", "SET n = if_not_exists(n, :v)", nil, item{":v": N("0")}, item{}},
			{"counter from nothing", "SET c = if_not_exists(c, :zero) + :one", nil, item{":zero": N("0"), ":one": N("1")}, item{"c": N("1")}},
			{"list_append at end", "SET lst = list_append(lst, :v)", nil, item{":v": L(S("d"))}, item{"lst": L(S("a"), S("b"), S("c"), S("d"))}},
			{"list_append at start", "SET lst = list_append(:v, lst)", nil, item{":v": L(S("z"))}, item{"lst": L(S("z"), S("a"), S("b"), S("c"))}},
			{"list index", "SET lst[1] = :v", nil, item{":v": S("B")}, item{"lst": L(S("a"), S("B"), S("c"))}},
			{"list index past end appends", "SET lst[10] = :v", nil, item{":v": S("z")}, item{"lst": L(S("a"), S("b"), S("c"), S("z"))}},
			{"nested map", "SET #m.inr.y = :v", map[string]string{"#m": "map"}, item{":v": S("new")},
				item{"map": M(item{"inr": M(item{"x": N("1"), "y": S("new")}), "l": L(N("1"), M(item{"deep": S("d")}))})}},
			{"nested list in map", "SET #m.l[1].deep = :v", map[string]string{"#m": "map"}, item{":v": S("D")},
				item{"map": M(item{"inr": M(item{"x": N("1")}), "l": L(N("1"), M(item{"deep": S("D")}))})}},
			{"several actions", "SET a1 = :v, a2 = :v REMOVE s ADD n :one DELETE ss :x", nil,
				item{":v": Bool(true), ":one": N("1"), ":x": SS("x")},
				item{"a1": Bool(true), "a2": Bool(true), "s": nil, "n": N("6"), "ss": SS("y")}},
			{"remove", "REMOVE s, lst[0], #m.inr", map[string]string{"#m": "map"}, nil,
				item{"s": nil, "lst": L(S("b"), S("c")), "map": M(item{"l": L(N("1"), M(item{"deep": S("d")}))})}},
			{"remove missing", "REMOVE nothing, lst[7]", nil, nil, item{}},
			{"add number", "ADD n :v", nil, item{":v": N("-5")}, item{"n": N("0")}},
			{"add to absent number", "ADD fresh :v", nil, item{":v": N("3")}, item{"fresh": N("3")}},
			{"add string set", "ADD ss :v", nil, item{":v": SS("y", "z")}, item{"ss": SS("x", "y", "z")}},
			{"add number set", "ADD ns :v", nil, item{":v": NS("3", "1.0")}, item{"ns": NS("1", "2", "3")}},
			{"add to absent set", "ADD fresh :v", nil, item{":v": BS([]byte("q"))}, item{"fresh": BS([]byte("q"))}},
			{"delete from set", "DELETE ns :v", nil, item{":v": NS("2", "9")}, item{"ns": NS("1")}},
			{"delete whole set", "DELETE bs :v", nil, item{":v": BS([]byte{1}, []byte{2})}, item{"bs": nil}},
			{"reserved word through a name", "SET #size = :v", map[string]string{"#size": "size"}, item{":v": N("1")}, item{"size": N("1")}},
			{"dotted name through a name", "SET #dot = :v", map[string]string{"#dot": "a.b"}, item{":v": N("1")}, item{"a.b": N("1")}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				start := item{"pk": S("upd")}
				for k, v := range base {
					start[k] = v
				}
				r.put(t, table, start)
				in := &dynamodb.UpdateItemInput{TableName: tbl, Key: key("upd"), UpdateExpression: aws.String(tc.update), ReturnValues: types.ReturnValueAllNew}
				if tc.names != nil {
					in.ExpressionAttributeNames = tc.names
				}
				if tc.values != nil {
					in.ExpressionAttributeValues = tc.values
				}
				out, err := r.Client.UpdateItem(ctx, in)
				if err != nil {
					t.Fatalf("UpdateItem %q: %v", tc.update, err)
				}
				want := item{}
				for k, v := range start {
					want[k] = v
				}
				for k, v := range tc.want {
					if v == nil {
						delete(want, k)
					} else {
						want[k] = v
					}
				}
				wantItem(t, "ALL_NEW", out.Attributes, want)
				wantItem(t, "stored item", r.get(t, table, key("upd")), want)
			})
		}
	})

	t.Run("invalid updates", func(t *testing.T) {
		r.put(t, table, item{"pk": S("bad"), "s": S("str"), "n": N("1"), "ss": SS("a"), "l": L(N("1"))})
		for _, tc := range []struct {
			name   string
			update string
			names  map[string]string
			values item
			want   string
		}{
			{"key attribute", "SET pk = :v", nil, item{":v": S("other")}, "Cannot update attribute pk. This attribute is part of the key"},
			{"key attribute removed", "REMOVE pk", nil, nil, "This attribute is part of the key"},
			{"unused value", "SET s = :v", nil, item{":v": S("x"), ":unused": S("y")}, "unused in expressions: keys: {:unused}"},
			{"unused name", "SET s = :v", map[string]string{"#unused": "x"}, item{":v": S("x")}, "unused in expressions: keys: {#unused}"},
			{"undefined value", "SET s = :nope", nil, item{":v": S("x")}, "An expression attribute value used in expression is not defined"},
			{"undefined name", "SET #nope = :v", nil, item{":v": S("x")}, "An expression attribute name used in the document path is not defined"},
			{"syntax error", "SET s = ", nil, nil, "Invalid UpdateExpression: Syntax error"},
			{"reserved word", "SET size = :v", nil, item{":v": S("x")}, "Attribute name is a reserved keyword; reserved keyword: size"},
			{"add to string", "ADD s :v", nil, item{":v": N("1")}, "An operand in the update expression has an incorrect data type"},
			{"plus on string", "SET s = s + :v", nil, item{":v": N("1")}, "An operand in the update expression has an incorrect data type"},
			{"delete from wrong set type", "DELETE ss :v", nil, item{":v": NS("1")}, "An operand in the update expression has an incorrect data type"},
			{"overlapping paths", "SET s = :v REMOVE s", nil, item{":v": S("x")}, "Two document paths overlap with each other"},
			{"index into a scalar", "SET s[0] = :v", nil, item{":v": S("x")}, "The document path provided in the update expression is invalid for update"},
			{"nested in a missing map", "SET nosuch.x = :v", nil, item{":v": S("x")}, "The document path provided in the update expression is invalid for update"},
			{"list_append on a non-list", "SET l = list_append(l, :v)", nil, item{":v": S("x")}, "Incorrect operand type for operator or function; operator or function: list_append, operand type: S"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := &dynamodb.UpdateItemInput{TableName: tbl, Key: key("bad"), UpdateExpression: aws.String(tc.update)}
				if tc.names != nil {
					in.ExpressionAttributeNames = tc.names
				}
				if tc.values != nil {
					in.ExpressionAttributeValues = tc.values
				}
				_, err := r.Client.UpdateItem(ctx, in)
				wantValidation(t, err, tc.want)
			})
		}
		wantItem(t, "item after failed updates", r.get(t, table, key("bad")),
			item{"pk": S("bad"), "s": S("str"), "n": N("1"), "ss": SS("a"), "l": L(N("1"))})

		_, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("bad")},
			ConditionExpression: aws.String("attribute_exists(pk)"), ExpressionAttributeValues: item{":unused": S("x")}})
		wantValidation(t, err, "unused in expressions: keys: {:unused}")
		_, err = r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: key("bad"),
			ProjectionExpression: aws.String("s"), ExpressionAttributeNames: map[string]string{"#n": "n"}})
		wantValidation(t, err, "unused in expressions: keys: {#n}")
	})

	t.Run("update creates or not", func(t *testing.T) {
		if _, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: key("ucn-remove"), UpdateExpression: aws.String("REMOVE a")}); err != nil {
			t.Fatalf("UpdateItem REMOVE: %v", err)
		}
		if got := r.get(t, table, key("ucn-remove")); got != nil {
			t.Fatalf("an update that only removes created %s, want no item", show(got))
		}
		if _, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: key("ucn-delete"),
			UpdateExpression: aws.String("DELETE a :v"), ExpressionAttributeValues: item{":v": SS("x")}}); err != nil {
			t.Fatalf("UpdateItem DELETE: %v", err)
		}
		if got := r.get(t, table, key("ucn-delete")); got != nil {
			t.Fatalf("an update that only deletes from a set created %s, want no item", show(got))
		}
		if _, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: key("ucn-set"),
			UpdateExpression: aws.String("SET a = :v"), ExpressionAttributeValues: item{":v": S("x")}}); err != nil {
			t.Fatalf("UpdateItem SET: %v", err)
		}
		wantItem(t, "item created by SET", r.get(t, table, key("ucn-set")), item{"pk": S("ucn-set"), "a": S("x")})
	})

	t.Run("conditions", func(t *testing.T) {
		r.put(t, table, item{
			"pk": S("cond"), "s": S("hello world"), "n": N("10"), "f": N("-1.5"), "b": B([]byte("bin")),
			"t": Bool(true), "nul": Null(), "l": L(S("a"), N("2"), M(item{"x": S("y")})), "m": M(item{"k": S("v"), "deep": M(item{"z": N("0")})}),
			"ss": SS("a", "b"), "ns": NS("1", "2", "3"), "bs": BS([]byte("q")),
		})
		for _, tc := range []struct {
			cond   string
			values item
			want   bool
		}{
			{"s = :v", item{":v": S("hello world")}, true},
			{"s = :v", item{":v": S("hello")}, false},
			{"n = :v", item{":v": N("10.0")}, true},
			{"n <> :v", item{":v": N("10")}, false},
			{"n <> :v", item{":v": S("10")}, true},
			{"n < :v", item{":v": N("11")}, true},
			{"n <= :v", item{":v": N("10")}, true},
			{"n > :v", item{":v": N("9.99")}, true},
			{"n >= :v", item{":v": N("10.01")}, false},
			{"f < :v", item{":v": N("-1")}, true},
			{"n < :v", item{":v": S("z")}, false}, // different types never compare
			{"s < :v", item{":v": S("hello x")}, true},
			{"b > :v", item{":v": B([]byte("bim"))}, true},
			{"n BETWEEN :lo AND :hi", item{":lo": N("10"), ":hi": N("20")}, true},
			{"n BETWEEN :lo AND :hi", item{":lo": N("11"), ":hi": N("20")}, false},
			{"n IN (:a, :b, :c)", item{":a": N("1"), ":b": N("10"), ":c": S("x")}, true},
			{"s IN (:a)", item{":a": S("x")}, false},
			{"n = :a AND s = :b", item{":a": N("10"), ":b": S("nope")}, false},
			{"n = :a OR s = :b", item{":a": N("10"), ":b": S("nope")}, true},
			{"NOT n = :a", item{":a": N("10")}, false},
			{"NOT (n = :a AND s = :b) OR t = :t", item{":a": N("10"), ":b": S("hello world"), ":t": Bool(false)}, false},
			{"(n = :a OR n = :b) AND (s = :c)", item{":a": N("1"), ":b": N("10"), ":c": S("hello world")}, true},
			{"attribute_exists(m.deep.z)", nil, true},
			{"attribute_exists(m.deep.nope)", nil, false},
			{"attribute_not_exists(nope)", nil, true},
			{"attribute_not_exists(l[2].x)", nil, false},
			{"attribute_type(s, :t)", item{":t": S("S")}, true},
			{"attribute_type(nul, :t)", item{":t": S("NULL")}, true},
			{"attribute_type(ns, :t)", item{":t": S("SS")}, false},
			{"attribute_type(m, :t)", item{":t": S("M")}, true},
			{"begins_with(s, :p)", item{":p": S("hello")}, true},
			{"begins_with(s, :p)", item{":p": S("world")}, false},
			{"begins_with(b, :p)", item{":p": B([]byte("bi"))}, true},
			{"contains(s, :p)", item{":p": S("o w")}, true},
			{"contains(ss, :p)", item{":p": S("b")}, true},
			{"contains(ns, :p)", item{":p": N("3")}, true},
			{"contains(bs, :p)", item{":p": B([]byte("q"))}, true},
			{"contains(l, :p)", item{":p": N("2")}, true},
			{"contains(l, :p)", item{":p": S("2")}, false},
			{"size(s) = :n", item{":n": N("11")}, true},
			{"size(l) = :n", item{":n": N("3")}, true},
			{"size(m) = :n", item{":n": N("2")}, true},
			{"size(ss) > :n", item{":n": N("1")}, true},
			{"size(b) = :n", item{":n": N("3")}, true},
			{"size(nope) = :n", item{":n": N("0")}, false},
			{"l[2].x = :v", item{":v": S("y")}, true},
			{"m.k = :v", item{":v": S("v")}, true},
			{"t = :v", item{":v": Bool(true)}, true},
			{"ss = :v", item{":v": SS("b", "a")}, true},
			{"l = :v", item{":v": L(S("a"), N("2"), M(item{"x": S("y")}))}, true},
		} {
			t.Run(tc.cond, func(t *testing.T) {
				in := &dynamodb.UpdateItemInput{TableName: tbl, Key: key("cond"), UpdateExpression: aws.String("SET touched = :touched"),
					ConditionExpression: aws.String(tc.cond), ExpressionAttributeValues: item{":touched": Bool(true)}}
				for k, v := range tc.values {
					in.ExpressionAttributeValues[k] = v
				}
				_, err := r.Client.UpdateItem(ctx, in)
				var ccf *types.ConditionalCheckFailedException
				switch {
				case tc.want && err != nil:
					t.Fatalf("condition %q: %v, want it to hold", tc.cond, err)
				case !tc.want && !errors.As(err, &ccf):
					t.Fatalf("condition %q: %v, want ConditionalCheckFailedException", tc.cond, err)
				}
			})
		}
		for _, tc := range []struct {
			cond   string
			values item
			want   string
		}{
			{"n BETWEEN :hi AND :lo", item{":lo": N("1"), ":hi": N("2")}, "BETWEEN"},
			{"attribute_type(s, :t)", item{":t": S("X")}, "Invalid attribute type name found; type: X"},
			{"n = n", nil, "The first operand must be distinct from the remaining operands"},
			{"size(s)", nil, "Invalid ConditionExpression"},
			{"n = ", nil, "Invalid ConditionExpression: Syntax error"},
			{"foo(n)", nil, "Invalid function name; function: foo"},
			{"begins_with(s, :v)", item{":v": N("1")}, "Incorrect operand type for operator or function"},
		} {
			t.Run("invalid "+tc.cond, func(t *testing.T) {
				in := &dynamodb.DeleteItemInput{TableName: tbl, Key: key("cond"), ConditionExpression: aws.String(tc.cond)}
				if tc.values != nil {
					in.ExpressionAttributeValues = tc.values
				}
				_, err := r.Client.DeleteItem(ctx, in)
				wantValidation(t, err, tc.want)
			})
		}
	})

	t.Run("projection", func(t *testing.T) {
		r.put(t, table, item{
			"pk": S("proj"), "top": S("t"), "oth": N("1"),
			"a":        M(item{"b": L(N("0"), N("1"), M(item{"c": S("deep"), "d": S("no")}), N("3")), "e": S("no")}),
			"lst":      L(S("x"), S("y"), S("z")),
			"odd name": S("spaces"),
		})
		for _, tc := range []struct {
			proj  string
			names map[string]string
			want  item
		}{
			{"top", nil, item{"top": S("t")}},
			{"top, oth, nosuch", nil, item{"top": S("t"), "oth": N("1")}},
			{"a.b[2].c", nil, item{"a": M(item{"b": L(M(item{"c": S("deep")}))})}},
			{"a.b[2].c, a.e", nil, item{"a": M(item{"b": L(M(item{"c": S("deep")})), "e": S("no")})}},
			{"lst[2], lst[0]", nil, item{"lst": L(S("x"), S("z"))}},
			{"lst[9]", nil, item{}},
			{"#o, #a.#b[0]", map[string]string{"#o": "odd name", "#a": "a", "#b": "b"}, item{"odd name": S("spaces"), "a": M(item{"b": L(N("0"))})}},
		} {
			t.Run(tc.proj, func(t *testing.T) {
				in := &dynamodb.GetItemInput{TableName: tbl, Key: key("proj"), ProjectionExpression: aws.String(tc.proj)}
				if tc.names != nil {
					in.ExpressionAttributeNames = tc.names
				}
				out, err := r.Client.GetItem(ctx, in)
				if err != nil {
					t.Fatalf("GetItem: %v", err)
				}
				if len(tc.want) == 0 {
					if len(out.Item) != 0 {
						t.Fatalf("Item %s, want empty", show(out.Item))
					}
					return
				}
				wantItem(t, "projected item", out.Item, tc.want)
			})
		}
		_, err := r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: key("proj"), ProjectionExpression: aws.String("a, a.b")})
		wantValidation(t, err, "Two document paths overlap")
		_, err = r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: key("proj"), ProjectionExpression: aws.String("top, top")})
		wantValidation(t, err, "Two document paths")
	})

	t.Run("concurrent writers", func(t *testing.T) {
		// Atomic counters and create-if-absent hold under contention.
		var wg sync.WaitGroup
		var won atomic.Int32
		for range 8 {
			wg.Go(func() {
				for range 10 {
					if _, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: key("counter"),
						UpdateExpression: aws.String("ADD n :one"), ExpressionAttributeValues: item{":one": N("1")}}); err != nil {
						t.Errorf("UpdateItem: %v", err)
						return
					}
				}
				_, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("once")},
					ConditionExpression: aws.String("attribute_not_exists(pk)")})
				var ccf *types.ConditionalCheckFailedException
				switch {
				case err == nil:
					won.Add(1)
				case !errors.As(err, &ccf):
					t.Errorf("PutItem: %v", err)
				}
			})
		}
		wg.Wait()
		wantEqual(t, "counter", scalar(r.get(t, table, key("counter"))["n"]), "80")
		wantEqual(t, "writers that created the item", won.Load(), 1)
	})

	t.Run("keys", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			key  item
			want string
		}{
			{"missing key", item{}, "The provided key element does not match the schema"},
			{"wrong type", item{"pk": N("1")}, "The provided key element does not match the schema"},
			{"extra attribute", item{"pk": S("a"), "x": S("b")}, "The provided key element does not match the schema"},
			{"empty string", item{"pk": S("")}, "empty string"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := r.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: tc.key})
				wantValidation(t, err, tc.want)
				_, err = r.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: tc.key})
				wantValidation(t, err, tc.want)
				_, err = r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: tc.key,
					UpdateExpression: aws.String("SET a = :v"), ExpressionAttributeValues: item{":v": S("x")}})
				wantValidation(t, err, tc.want)
			})
		}
		_, err := r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"a": S("x")}})
		wantValidation(t, err, "Missing the key pk in the item")
		_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": N("1")}})
		wantValidation(t, err, "Type mismatch for key pk expected: S actual: N")
		_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: item{"pk": S("")}})
		wantValidation(t, err, "empty string")
		_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("no_such_table"), Item: item{"pk": S("x")}})
		var rnf *types.ResourceNotFoundException
		if !errors.As(err, &rnf) {
			t.Fatalf("PutItem to a missing table: %v, want ResourceNotFoundException", err)
		}
	})
}

// TestEmptyExpressionsRejected: an expression given as "" is a
// ValidationException, as in DynamoDB, not the absence of one.
func TestEmptyExpressionsRejected(t *testing.T) {
	t.Parallel()
	r := startRegion(t)
	table := r.createTable(t, types.ScalarAttributeTypeS, "")
	_, err := r.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(table),
		Key:              item{"pk": S("k")},
		UpdateExpression: aws.String(""),
	})
	wantValidation(t, err, "Invalid UpdateExpression: The expression can not be empty;")
	_, err = r.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(table),
		Item:                item{"pk": S("k")},
		ConditionExpression: aws.String(""),
	})
	wantValidation(t, err, "Invalid ConditionExpression: The expression can not be empty;")
	if got := r.get(t, table, item{"pk": S("k")}); got != nil {
		t.Errorf("a refused write wrote %v", got)
	}
}
