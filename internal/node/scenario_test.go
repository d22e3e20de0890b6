package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"github.com/cockroachdb/datadriven"

	"github.com/gyre-dev/gyre/internal/scenario"
	"github.com/gyre-dev/gyre/internal/topology"
)

// TestReplicationScenarios runs the scripts in testdata/replication, in the
// style of etcd raft's interaction tests: each file starts a node of real
// regions on 127.0.0.1:0 (regions), drives them through their DynamoDB
// APIs with the real AWS SDK (put, update, delete, transact, get), cuts and
// heals links through the simulated WAN (partition, isolate, heal),
// stops and restarts regions, adds and removes replicas, waits for
// replication to drain (stabilize) and prints what every region holds
// (dump) and what gyre verify finds (verify). Nothing time-dependent is
// printed, so the expected output is exact; -rewrite regenerates it (read
// the diff before keeping it).
//
// Commands, one handler each in scenario_{lifecycle,writes,reads,network}_test.go:
//
//	table name=T [replicas=(r1,r2)]           declare a global table (before regions)
//	regions r1 r2 r3 [skew=(r2:+5s,r3:-1m)]   start the node, clocks skewed
//	create-table region=r name=T              a single-region table, through the API
//	put region=r key=k val=v [table=T] [cond=(expr)]
//	update region=r key=k expr=(SET ...) [vals=(:a=1,:b=S:x,:s=SS:a|b)] [cond=(expr)]
//	delete region=r key=k [cond=(expr)]
//	transact region=r [put=(k1:v1,k2:v2)] [delete=(k3)]
//	get region=r key=k                        the item's attributes, or <none>
//	await-items region=r table=T count=N      poll until N items; any other count but the first fails
//	partition a b | isolate r | heal-link a b | rejoin r | heal | latency a b 40ms
//	stabilize                                 wait for replication to drain over the links that are up
//	dump [table=T]                            every region's items, sorted
//	verify                                    repl.Check, as gyre verify runs it
//	stop region=r | restart region=r
//	add-replica region=r table=T new=r2 [nowait] | wait-active region=r table=T new=r2
//	remove-replica region=r table=T old=r2
//
// Every table has the string partition key pk; put writes the attribute v.
// table= defaults to the first table declared or created.
func TestReplicationScenarios(t *testing.T) {
	t.Parallel()
	datadriven.Walk(t, "testdata/replication", func(t *testing.T, path string) {
		t.Parallel()
		env := &scenarioEnv{t: t, ctx: context.Background(), clients: map[string]*sdkRegion{}}
		t.Cleanup(env.closeClients)
		datadriven.RunTest(t, path, env.handle)
	})
}

// scenarioEnv is one scenario's node and its clients.
type scenarioEnv struct {
	t   *testing.T
	ctx context.Context
	// tables are declared by table and created by regions or create-table.
	tables []topology.Table
	// regions names the topology's regions in order; node runs them, but
	// for those stopped.
	regions []string
	node    *Node
	clients map[string]*sdkRegion
}

// sdkRegion is an AWS SDK client for one running region.
type sdkRegion struct {
	db        *dynamodb.Client
	transport *http.Transport
}

// scenarioCommands maps each command to its handler. A handler returns the
// command's output; an error is a broken scenario (an unknown region, a
// wait that timed out), not an answer to print.
var scenarioCommands map[string]func(*scenarioEnv, *datadriven.TestData) (string, error)

func init() {
	scenarioCommands = map[string]func(*scenarioEnv, *datadriven.TestData) (string, error){
		"table":          (*scenarioEnv).handleTable,
		"regions":        (*scenarioEnv).handleRegions,
		"create-table":   (*scenarioEnv).handleCreateTable,
		"put":            (*scenarioEnv).handlePut,
		"update":         (*scenarioEnv).handleUpdate,
		"delete":         (*scenarioEnv).handleDelete,
		"transact":       (*scenarioEnv).handleTransact,
		"get":            (*scenarioEnv).handleGet,
		"await-items":    (*scenarioEnv).handleAwaitItems,
		"partition":      (*scenarioEnv).handlePartition,
		"isolate":        (*scenarioEnv).handleIsolate,
		"heal-link":      (*scenarioEnv).handleHealLink,
		"rejoin":         (*scenarioEnv).handleRejoin,
		"heal":           (*scenarioEnv).handleHeal,
		"latency":        (*scenarioEnv).handleLatency,
		"stabilize":      (*scenarioEnv).handleStabilize,
		"dump":           (*scenarioEnv).handleDump,
		"verify":         (*scenarioEnv).handleVerify,
		"stop":           (*scenarioEnv).handleStop,
		"restart":        (*scenarioEnv).handleRestart,
		"add-replica":    (*scenarioEnv).handleAddReplica,
		"wait-active":    (*scenarioEnv).handleWaitActive,
		"remove-replica": (*scenarioEnv).handleRemoveReplica,
	}
}

func (e *scenarioEnv) handle(t *testing.T, d *datadriven.TestData) string {
	h, ok := scenarioCommands[d.Cmd]
	if !ok {
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	if e.node == nil && d.Cmd != "table" && d.Cmd != "regions" {
		d.Fatalf(t, "%s before regions", d.Cmd)
	}
	out, err := h(e, d)
	if err != nil {
		d.Fatalf(t, "%s: %v", d.Cmd, err)
	}
	return out
}

// client returns the SDK client of a running region.
func (e *scenarioEnv) client(region string) (*dynamodb.Client, error) {
	if !slices.Contains(e.regions, region) {
		return nil, fmt.Errorf("no region %q (regions: %v)", region, e.regions)
	}
	c, ok := e.clients[region]
	if !ok {
		return nil, fmt.Errorf("region %s is stopped", region)
	}
	return c.db, nil
}

// connect makes a fresh client for a region that has (re)started.
func (e *scenarioEnv) connect(region string) {
	if c, ok := e.clients[region]; ok {
		c.transport.CloseIdleConnections()
	}
	db, tr := sdkClient(e.node.Region(region))
	e.clients[region] = &sdkRegion{db: db, transport: tr}
}

func (e *scenarioEnv) disconnect(region string) {
	if c, ok := e.clients[region]; ok {
		c.transport.CloseIdleConnections()
		delete(e.clients, region)
	}
}

func (e *scenarioEnv) closeClients() {
	for r := range e.clients {
		e.disconnect(r)
	}
}

// Arguments, read the same way as every package's scenarios.
var (
	positional = scenario.Positional
	optArg     = scenario.Opt
	mustArg    = scenario.Must
	listArg    = scenario.List
)

// table returns the table= argument, by default the first table.
func (e *scenarioEnv) table(d *datadriven.TestData) (string, error) {
	if name := optArg(d, "table", ""); name != "" {
		return name, nil
	}
	if len(e.tables) == 0 {
		return "", errors.New("no table= and no table declared or created")
	}
	return e.tables[0].Name, nil
}

// target reads what most commands act on: the client of the region named
// by region=, the table (table=, or the first one), and the values of the
// required keys, in order.
func (e *scenarioEnv) target(d *datadriven.TestData, keys ...string) (*dynamodb.Client, string, []string, error) {
	_, db, err := e.regionArg(d)
	if err != nil {
		return nil, "", nil, err
	}
	table, err := e.table(d)
	if err != nil {
		return nil, "", nil, err
	}
	vals := make([]string, len(keys))
	for i, k := range keys {
		if vals[i], err = mustArg(d, k); err != nil {
			return nil, "", nil, err
		}
	}
	return db, table, vals, nil
}

// regionArg returns the client of the region named by region=.
func (e *scenarioEnv) regionArg(d *datadriven.TestData) (string, *dynamodb.Client, error) {
	name, err := mustArg(d, "region")
	if err != nil {
		return "", nil, err
	}
	db, err := e.client(name)
	return name, db, err
}

// apiError prints a DynamoDB error answer as the scenario's output: its
// error code, deterministic where the message may not be. Any other error
// (the connection failed) breaks the scenario.
func apiError(err error) (string, error) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "", err
	}
	return "error: " + ae.ErrorCode() + "\n", nil
}
