package node

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cockroachdb/datadriven"
)

// Scenario commands that write through a region's DynamoDB API. Each prints
// nothing when the write succeeds (update prints the item it left), and the
// error code when the region refuses it.

func keyOf(k string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: k}}
}

// put region=r key=k val=v [table=T] [cond=(expr)] stores {pk: k, v: v}.
func (e *scenarioEnv) handlePut(d *datadriven.TestData) (string, error) {
	db, table, args, err := e.target(d, "key", "val")
	if err != nil {
		return "", err
	}
	key, val := args[0], args[1]
	item := keyOf(key)
	item["v"] = &types.AttributeValueMemberS{Value: val}
	in := &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}
	if cond := optArg(d, "cond", ""); cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	if _, err := db.PutItem(e.ctx, in); err != nil {
		return apiError(err)
	}
	return "", nil
}

// update region=r key=k expr=(SET ...) [vals=(:a=1, :b=S:x, :s=SS:a|b)]
// [cond=(expr)] applies an update expression and prints the item after it.
// A value is a number if it reads as one, else a string, unless its type
// is given: S:, N:, SS: or NS: (set members separated by |).
func (e *scenarioEnv) handleUpdate(d *datadriven.TestData) (string, error) {
	db, table, args, err := e.target(d, "key", "expr")
	if err != nil {
		return "", err
	}
	key, expr := args[0], args[1]
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(table), Key: keyOf(key),
		UpdateExpression: aws.String(expr), ReturnValues: types.ReturnValueAllNew,
	}
	if cond := optArg(d, "cond", ""); cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	for _, v := range listArg(d, "vals") {
		name, val, ok := strings.Cut(v, "=")
		if !ok || !strings.HasPrefix(name, ":") {
			return "", fmt.Errorf("value %q: want :name=value", v)
		}
		if in.ExpressionAttributeValues == nil {
			in.ExpressionAttributeValues = map[string]types.AttributeValue{}
		}
		in.ExpressionAttributeValues[name] = parseValue(val)
	}
	out, err := db.UpdateItem(e.ctx, in)
	if err != nil {
		return apiError(err)
	}
	return formatItem(out.Attributes, "pk") + "\n", nil
}

// parseValue reads a value of update's vals= (see handleUpdate).
func parseValue(s string) types.AttributeValue {
	typ, rest, typed := strings.Cut(s, ":")
	if typed {
		switch typ {
		case "S":
			return &types.AttributeValueMemberS{Value: rest}
		case "N":
			return &types.AttributeValueMemberN{Value: rest}
		case "SS":
			return &types.AttributeValueMemberSS{Value: strings.Split(rest, "|")}
		case "NS":
			return &types.AttributeValueMemberNS{Value: strings.Split(rest, "|")}
		}
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return &types.AttributeValueMemberN{Value: s}
	}
	return &types.AttributeValueMemberS{Value: s}
}

// delete region=r key=k [table=T] [cond=(expr)] deletes an item.
func (e *scenarioEnv) handleDelete(d *datadriven.TestData) (string, error) {
	db, table, args, err := e.target(d, "key")
	if err != nil {
		return "", err
	}
	key := args[0]
	in := &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: keyOf(key)}
	if cond := optArg(d, "cond", ""); cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	if _, err := db.DeleteItem(e.ctx, in); err != nil {
		return apiError(err)
	}
	return "", nil
}

// transact region=r [table=T] [put=(k1:v1, k2:v2)] [delete=(k3)] writes
// the puts and deletes in one TransactWriteItems; a canceled transaction
// prints each item's cancellation reason.
func (e *scenarioEnv) handleTransact(d *datadriven.TestData) (string, error) {
	db, table, _, err := e.target(d)
	if err != nil {
		return "", err
	}
	var items []types.TransactWriteItem
	for _, kv := range listArg(d, "put") {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			return "", fmt.Errorf("put %q: want key:value", kv)
		}
		item := keyOf(k)
		item["v"] = &types.AttributeValueMemberS{Value: v}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: item}})
	}
	for _, k := range listArg(d, "delete") {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(table), Key: keyOf(k)}})
	}
	_, err = db.TransactWriteItems(e.ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		var reasons []string
		for _, r := range tc.CancellationReasons {
			reasons = append(reasons, aws.ToString(r.Code))
		}
		return fmt.Sprintf("error: TransactionCanceledException [%s]\n", strings.Join(reasons, " ")), nil
	}
	if err != nil {
		return apiError(err)
	}
	return "", nil
}
