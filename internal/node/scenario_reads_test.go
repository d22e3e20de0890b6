package node

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cockroachdb/datadriven"
)

// Scenario commands that read what the regions hold: through each region's
// DynamoDB API with the SDK, and through the admin API as gyre verify does.

// get region=r key=k [table=T] prints the item's attributes, or <none>.
func (e *scenarioEnv) handleGet(d *datadriven.TestData) (string, error) {
	db, table, args, err := e.target(d, "key")
	if err != nil {
		return "", err
	}
	key := args[0]
	out, err := db.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: keyOf(key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return apiError(err)
	}
	if out.Item == nil {
		return "<none>\n", nil
	}
	return formatItem(out.Item, "pk") + "\n", nil
}

// scan reads every item of a table in a region, sorted by key.
func (e *scenarioEnv) scan(db *dynamodb.Client, table string) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	for {
		out, err := db.Scan(e.ctx, in)
		if err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	pk := func(it map[string]types.AttributeValue) string {
		s, _ := it["pk"].(*types.AttributeValueMemberS)
		if s == nil {
			return ""
		}
		return s.Value
	}
	slices.SortFunc(items, func(a, b map[string]types.AttributeValue) int { return strings.Compare(pk(a), pk(b)) })
	return items, nil
}

// dump [table=T] prints, for every table (or T) and every region in the
// order of the regions command, the region's items sorted by key: "stopped"
// for a stopped region, "not found" where the region does not serve the
// table (no replica, or one still being backfilled).
func (e *scenarioEnv) handleDump(d *datadriven.TestData) (string, error) {
	tables := listArg(d, "table")
	if len(tables) == 0 {
		for _, r := range e.regions {
			db, err := e.client(r)
			if err != nil {
				continue
			}
			out, err := db.ListTables(e.ctx, &dynamodb.ListTablesInput{})
			if err != nil {
				return "", err
			}
			for _, t := range out.TableNames {
				if !slices.Contains(tables, t) {
					tables = append(tables, t)
				}
			}
		}
		slices.Sort(tables)
	}
	var b strings.Builder
	for _, table := range tables {
		for _, r := range e.regions {
			fmt.Fprintf(&b, "%s@%s:", table, r)
			db, err := e.client(r)
			if err != nil {
				b.WriteString(" stopped\n")
				continue
			}
			items, err := e.scan(db, table)
			var nf *types.ResourceNotFoundException
			switch {
			case errors.As(err, &nf):
				b.WriteString(" not found\n")
				continue
			case err != nil:
				return "", fmt.Errorf("scanning %s in %s: %w", table, r, err)
			case len(items) == 0:
				b.WriteString(" empty\n")
				continue
			}
			b.WriteString("\n")
			for _, it := range items {
				fmt.Fprintf(&b, "  %s %s\n", formatValue(it["pk"]), formatItem(it, "pk"))
			}
		}
	}
	return b.String(), nil
}

// await-items region=r table=T count=N polls the region's table with
// consistent scans until it holds N items. Every scan must see either the
// first count seen or N: a transaction's items become visible together, or
// the scenario fails, naming the partial counts it saw.
func (e *scenarioEnv) handleAwaitItems(d *datadriven.TestData) (string, error) {
	name, db, err := e.regionArg(d)
	if err != nil {
		return "", err
	}
	table, err := e.table(d)
	if err != nil {
		return "", err
	}
	s, err := mustArg(d, "count")
	if err != nil {
		return "", err
	}
	want, err := strconv.Atoi(s)
	if err != nil {
		return "", fmt.Errorf("count=%s: %w", s, err)
	}
	first := -1
	var partial []int
	err = e.await(fmt.Sprintf("%d items of %s in %s", want, table, name), func() (bool, error) {
		items, err := e.scan(db, table)
		if err != nil {
			return false, err
		}
		n := len(items)
		if first < 0 {
			first = n
		}
		if n != first && n != want && !slices.Contains(partial, n) {
			partial = append(partial, n)
		}
		return n == want, nil
	})
	if err != nil {
		return "", err
	}
	if len(partial) > 0 {
		return fmt.Sprintf("%d items, but saw partial counts %v on the way\n", want, partial), nil
	}
	return fmt.Sprintf("%d items\n", want), nil
}

// verify runs repl.Check, as gyre verify does, against every running
// region's admin API with the admin token. Run it after stabilize: it does
// not wait for writes in flight.
func (e *scenarioEnv) handleVerify(d *datadriven.TestData) (string, error) {
	checks, err := checkReplicas(e.ctx, e.node)
	if err != nil {
		return "", err
	}
	return formatChecks(checks), nil
}
