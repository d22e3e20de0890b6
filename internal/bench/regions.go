package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gyre-dev/gyre/internal/node"
	"github.com/gyre-dev/gyre/internal/topology"
)

// Regions says where the replication benchmark finds the regions it
// measures. There are three ways, chosen by which fields are set:
//
//   - ConfigFile: an already running topology (gyre up, or gyre region
//     processes); the origin's DynamoDB endpoint, every region's admin API,
//     the credentials and the admin token come from the file;
//   - Admin: running regions given by their admin URLs; the origin and its
//     DynamoDB endpoint must be given (ReplicationOptions.Origin and
//     Write.Endpoint);
//   - neither: regions Open starts in this process, named by Names, with
//     data in DataDir and every WAN link at Latency and Jitter.
//
// It backs `gyre bench replication`: its errors name the command's flags
// that set each field.
type Regions struct {
	// ConfigFile is the path of the topology file of running regions.
	// Default none.
	ConfigFile string
	// Admin maps region names to the admin API addresses of running
	// regions, as URLs or host:port (http is assumed). Default none; not
	// with ConfigFile.
	Admin map[string]string

	// Names are the regions to start, without ConfigFile or Admin: at
	// least two. The first is the default origin.
	Names []string
	// Latency and Jitter set every WAN link between the regions Open
	// starts: one-way latency, and up to this much more per message. Both
	// zero (the default) disable the simulated WAN.
	Latency, Jitter time.Duration
	// DataDir is where the regions Open starts keep their data. Default: a
	// temporary directory, removed by the stop func Open returns.
	DataDir string
	// Logger receives the logs of the regions Open starts. Default
	// slog.Default().
	Logger *slog.Logger

	// AdminToken, if set, is the admin APIs' token, whatever the regions'
	// source says. Default: the topology's admin_token with ConfigFile,
	// Gyre's development token with Admin, the started regions' own.
	AdminToken string
}

// Open finds the regions, or starts them, and points o at them: it fills
// o.Admin and o.AdminToken, defaults o.Origin to the first region, and, as
// each way of finding regions allows, o.Write.Endpoint and its credentials
// (see Regions). For regions it starts, it also sets o.AfterWarmup to
// restart the destinations after the warmup, so that their lag windows
// hold only the measured writes.
//
// The caller must call stop once the benchmark is done: it stops the
// regions Open started and removes their temporary data directory (it does
// nothing for running regions). On error there is nothing to stop.
func (r *Regions) Open(o *ReplicationOptions) (stop func(), err error) {
	stop = func() {}
	switch {
	case r.ConfigFile != "" && len(r.Admin) > 0:
		return nil, errors.New("give --config or --admin, not both")
	case r.ConfigFile != "":
		err = r.fromConfig(o)
	case len(r.Admin) > 0:
		err = r.fromAdmin(o)
	default:
		stop, err = r.start(o)
	}
	if err != nil {
		return nil, err
	}
	if r.AdminToken != "" {
		o.AdminToken = r.AdminToken
	}
	return stop, nil
}

// fromConfig points o at the running topology of ConfigFile. An endpoint
// or credentials already in o.Write win over the file's.
func (r *Regions) fromConfig(o *ReplicationOptions) error {
	t, err := topology.Load(r.ConfigFile)
	if err != nil {
		return err
	}
	if o.Origin == "" {
		o.Origin = t.Regions[0].Name
	}
	origin, ok := t.Region(o.Origin)
	if !ok {
		return fmt.Errorf("--origin %s: no such region in %s (regions: %v)", o.Origin, r.ConfigFile, t.RegionNames())
	}
	w := &o.Write
	if w.Endpoint == "" {
		w.Endpoint = "http://" + origin.DynamoDB
	}
	if w.AccessKey == "" && w.SecretKey == "" {
		w.AccessKey, w.SecretKey = t.Credentials.AccessKey, t.Credentials.SecretKey
	}
	for _, reg := range t.Regions {
		o.Admin = append(o.Admin, AdminAPI{Region: reg.Name, URL: "http://" + reg.Admin})
	}
	o.AdminToken = t.AdminToken
	return nil
}

// fromAdmin points o at the running regions of Admin, in the order of
// their names.
func (r *Regions) fromAdmin(o *ReplicationOptions) error {
	if o.Origin == "" || o.Write.Endpoint == "" {
		return errors.New("with --admin, --origin and --endpoint (the origin's DynamoDB endpoint) are required")
	}
	for _, name := range slices.Sorted(maps.Keys(r.Admin)) {
		u := r.Admin[name]
		if !strings.Contains(u, "://") {
			u = "http://" + u
		}
		o.Admin = append(o.Admin, AdminAPI{Region: name, URL: u})
	}
	o.AdminToken = topology.DevAdminToken
	return nil
}

// start starts the regions of Names in this process and points o at them.
// stop shuts them down.
func (r *Regions) start(o *ReplicationOptions) (stop func(), err error) {
	if o.Write.Endpoint != "" {
		return nil, errors.New("--endpoint is for --admin; without --config or --admin bench starts its own regions")
	}
	if len(r.Names) < 2 {
		return nil, fmt.Errorf("--regions needs at least two regions, got %v", r.Names)
	}
	if o.Origin == "" {
		o.Origin = r.Names[0]
	}
	n, stop, err := r.startNode(o.Write.Table)
	if err != nil {
		return nil, err
	}
	origin := n.Region(o.Origin)
	if origin == nil {
		stop()
		return nil, fmt.Errorf("--origin %s is not one of --regions %v", o.Origin, r.Names)
	}
	o.Write.Endpoint = "http://" + origin.Addr().String()
	for _, reg := range n.Regions() {
		o.Admin = append(o.Admin, AdminAPI{Region: reg.Name(), URL: "http://" + reg.AdminAddr().String()})
	}
	o.AdminToken = n.Topology().AdminToken
	o.AfterWarmup = restartDestinations(n, r.Names, o.Origin)
	return stop, nil
}

// restartDestinations returns an AfterWarmup that stops and restarts every
// region but the origin: a restarted region's lag window is empty, so it
// holds only the measured writes.
func restartDestinations(n *node.Node, names []string, origin string) func(context.Context) error {
	return func(ctx context.Context) error {
		for _, name := range names {
			if name == origin {
				continue
			}
			if err := n.Stop(ctx, name); err != nil {
				return fmt.Errorf("restarting %s after the warmup: %w", name, err)
			}
			if err := n.Restart(name); err != nil {
				return fmt.Errorf("restarting %s after the warmup: %w", name, err)
			}
		}
		return nil
	}
}

// startNode starts the regions of Names in this process on free loopback
// ports, with table as a global table in all of them. cleanup shuts them
// down and removes a temporary data directory.
func (r *Regions) startNode(table string) (_ *node.Node, cleanup func(), err error) {
	if table == "" {
		table = DefaultTable
	}
	dataDir, removeDir := r.DataDir, func() {}
	if dataDir == "" {
		dir, err := os.MkdirTemp("", "gyre-bench-replication-")
		if err != nil {
			return nil, nil, err
		}
		dataDir, removeDir = dir, func() { os.RemoveAll(dir) }
	}
	t := r.topology(dataDir, table)
	if err := t.Validate(); err != nil {
		removeDir()
		return nil, nil, err
	}
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	n, err := node.Start(node.Options{Topology: t, Logger: log})
	if err != nil {
		removeDir()
		return nil, nil, err
	}
	return n, func() {
		n.Shutdown(context.Background())
		removeDir()
	}, nil
}

// topology describes the regions startNode starts, defaults filled in:
// every address on a free loopback port, so that nothing collides with
// another gyre on this machine; table global, keys pk (S) and sk (N); the
// WAN between every pair of regions at Latency and Jitter, or disabled if
// both are zero.
func (r *Regions) topology(dataDir, table string) *topology.Topology {
	const free = "127.0.0.1:0"
	t := &topology.Topology{DataDir: dataDir, Routing: topology.Routing{DNS: free, FrontDoor: free, Admin: free}}
	for _, name := range r.Names {
		t.Regions = append(t.Regions, topology.Region{Name: name, DynamoDB: free, Admin: free, Public: free, Control: free})
	}
	t.Tables = []topology.Table{{
		Name:         table,
		PartitionKey: topology.KeyAttribute{Name: "pk", Type: topology.KeyString},
		SortKey:      topology.KeyAttribute{Name: "sk", Type: topology.KeyNumber},
	}}
	if r.Latency == 0 && r.Jitter == 0 {
		t.WAN.Disabled = true
	} else {
		latency, jitter := r.Latency, r.Jitter
		for i, a := range r.Names {
			for _, b := range r.Names[i+1:] {
				t.WAN.Links = append(t.WAN.Links, topology.Link{Between: []string{a, b}, Latency: &latency, Jitter: &jitter})
			}
		}
	}
	t.EnsureDefaults()
	return t
}
