package node

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cockroachdb/datadriven"

	"github.com/gyre-dev/gyre/internal/topology"
)

// Scenario commands that start, stop and reshape the deployment: regions
// and their clocks, tables and their replicas.

// table name=T [replicas=(r1,r2)] declares a global table the node creates
// at start in each of its replicas (every region by default).
func (e *scenarioEnv) handleTable(d *datadriven.TestData) (string, error) {
	if e.node != nil {
		return "", errors.New("declare tables before regions; later, use create-table and add-replica")
	}
	name, err := mustArg(d, "name")
	if err != nil {
		return "", err
	}
	e.tables = append(e.tables, topology.Table{
		Name:         name,
		PartitionKey: topology.KeyAttribute{Name: "pk", Type: topology.KeyString},
		Replicas:     listArg(d, "replicas"),
	})
	return "", nil
}

// regions r1 r2 r3 [skew=(r2:+5s,r3:-1m)] starts a node running the named
// regions, on free ports, with no WAN latency and the given clock offsets.
func (e *scenarioEnv) handleRegions(d *datadriven.TestData) (string, error) {
	if e.node != nil {
		return "", errors.New("the regions are already running")
	}
	names := positional(d)
	if len(names) == 0 {
		return "", errors.New("name at least one region")
	}
	skews := map[string]time.Duration{}
	for _, s := range listArg(d, "skew") {
		region, off, ok := strings.Cut(s, ":")
		dur, err := time.ParseDuration(off)
		if !ok || err != nil {
			return "", fmt.Errorf("skew %q: want region:offset, e.g. us-west-2:+5s", s)
		}
		if !slices.Contains(names, region) {
			return "", fmt.Errorf("skew names %s, which is not one of the regions", region)
		}
		skews[region] = dur
	}
	e.regions = names
	e.node = startNode(e.t, func(topo *topology.Topology) {
		topo.Regions = nil
		for _, name := range names {
			topo.Regions = append(topo.Regions, topology.Region{
				Name: name, DynamoDB: "127.0.0.1:0", Admin: "127.0.0.1:0", ClockSkew: skews[name],
			})
		}
		topo.Tables = slices.Clone(e.tables)
	})
	for _, name := range names {
		e.connect(name)
	}
	return "", nil
}

// create-table region=r name=T creates a table in one region through the
// API; add-replica makes it global.
func (e *scenarioEnv) handleCreateTable(d *datadriven.TestData) (string, error) {
	_, db, err := e.regionArg(d)
	if err != nil {
		return "", err
	}
	name, err := mustArg(d, "name")
	if err != nil {
		return "", err
	}
	_, err = db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		return apiError(err)
	}
	e.tables = append(e.tables, topology.Table{Name: name})
	return "", nil
}

// stop region=r shuts a region down (Node.Stop); the others see it as
// unreachable.
func (e *scenarioEnv) handleStop(d *datadriven.TestData) (string, error) {
	name, _, err := e.regionArg(d)
	if err != nil {
		return "", err
	}
	e.disconnect(name)
	return "", e.node.Stop(e.ctx, name)
}

// restart region=r starts a stopped region again on its addresses and its
// data (Node.Restart, see restartRegion).
func (e *scenarioEnv) handleRestart(d *datadriven.TestData) (string, error) {
	name, err := mustArg(d, "region")
	if err != nil {
		return "", err
	}
	if err := restartRegion(e.ctx, e.node, name); err != nil {
		return "", err
	}
	e.connect(name)
	return "", nil
}

// add-replica region=r table=T new=r2 [nowait] adds a replica through
// UpdateTable's ReplicaUpdates in region r and, unless nowait, waits as
// wait-active does.
func (e *scenarioEnv) handleAddReplica(d *datadriven.TestData) (string, error) {
	db, table, args, err := e.target(d, "new")
	if err != nil {
		return "", err
	}
	region := args[0]
	_, err = db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{
		TableName: aws.String(table),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{
			Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(region)},
		}},
	})
	if err != nil {
		return apiError(err)
	}
	if d.HasArg("nowait") {
		return "", nil
	}
	return e.handleWaitActive(d)
}

// wait-active region=r table=T new=r2 waits until the new replica has been
// backfilled and serves the table, and region r lists it ACTIVE; it prints
// the replicas region r's DescribeTable lists.
func (e *scenarioEnv) handleWaitActive(d *datadriven.TestData) (string, error) {
	name, db, err := e.regionArg(d)
	if err != nil {
		return "", err
	}
	table, err := e.table(d)
	if err != nil {
		return "", err
	}
	region, err := mustArg(d, "new")
	if err != nil {
		return "", err
	}
	newDB, err := e.client(region)
	if err != nil {
		return "", err
	}
	var replicas string
	err = e.await(fmt.Sprintf("the replica of %s in %s ACTIVE", table, region), func() (bool, error) {
		mine, err := newDB.DescribeTable(e.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if mine.Table.TableStatus != types.TableStatusActive {
			return false, nil
		}
		var active bool
		replicas, _, active, err = e.describeReplicas(db, table, region)
		return active, err
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s in %s: %s\n", table, name, replicas), nil
}

// remove-replica region=r table=T old=r2 removes a replica through
// UpdateTable's ReplicaUpdates in region r, waits until region r2 has
// dropped its copy and r no longer lists it, and prints the replicas r's
// DescribeTable lists.
func (e *scenarioEnv) handleRemoveReplica(d *datadriven.TestData) (string, error) {
	name, db, err := e.regionArg(d)
	if err != nil {
		return "", err
	}
	table, err := e.table(d)
	if err != nil {
		return "", err
	}
	region, err := mustArg(d, "old")
	if err != nil {
		return "", err
	}
	oldDB, err := e.client(region)
	if err != nil {
		return "", err
	}
	_, err = db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{
		TableName: aws.String(table),
		ReplicaUpdates: []types.ReplicationGroupUpdate{{
			Delete: &types.DeleteReplicationGroupMemberAction{RegionName: aws.String(region)},
		}},
	})
	if err != nil {
		return apiError(err)
	}
	var replicas string
	err = e.await(fmt.Sprintf("the replica of %s in %s gone", table, region), func() (bool, error) {
		_, err := oldDB.DescribeTable(e.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			return false, nil
		}
		var listed bool
		replicas, listed, _, err = e.describeReplicas(db, table, region)
		return !listed, err
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s in %s: %s\n", table, name, replicas), nil
}

// describeReplicas prints the other replicas a region's DescribeTable
// lists, and reports whether it lists region, and whether as ACTIVE.
func (e *scenarioEnv) describeReplicas(db *dynamodb.Client, table, region string) (printed string, listed, active bool, err error) {
	out, err := db.DescribeTable(e.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return "", false, false, err
	}
	var parts []string
	for _, r := range out.Table.Replicas {
		name := aws.ToString(r.RegionName)
		parts = append(parts, name+"="+string(r.ReplicaStatus))
		if name == region {
			listed, active = true, r.ReplicaStatus == types.ReplicaStatusActive
		}
	}
	slices.Sort(parts)
	if len(parts) == 0 {
		parts = []string{"no other replicas"}
	}
	return strings.Join(parts, " "), listed, active, nil
}

// await polls cond until it holds, fails or drainTimeout passes.
func (e *scenarioEnv) await(what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(drainTimeout)
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", drainTimeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
