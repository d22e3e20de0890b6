package topology

import (
	"maps"
	"path/filepath"
	"slices"
	"time"
)

// Topology is the model of gyre.yaml: where Gyre keeps its data, the
// credentials it accepts, its regions, the global tables it creates at start
// and the simulated WAN between the regions.
//
// The field comments are the user's documentation of the file. Each yaml tag
// is the key in the file; durations are written as strings such as "500ms".
//
// A Topology is plain data: it is not safe for concurrent mutation, and the
// rest of Gyre should treat a validated Topology as read-only (Clone it to
// change a copy).
type Topology struct {
	// DataDir is where Gyre keeps region data; each region keeps its own in
	// the subdirectory named after it (see DataDirFor). A relative path is
	// relative to the directory gyre runs in. Default ./gyre-data.
	DataDir string `yaml:"data_dir"`

	// Credentials are what clients sign their DynamoDB requests with
	// (AWS Signature Version 4). Default: the development pair gyre /
	// gyregyregyre.
	Credentials Credentials `yaml:"credentials"`

	// AdminToken is the bearer token that guards each region's admin API,
	// which is also the endpoint peer regions replicate from. Default
	// gyre-admin, which is for development only: anyone who has read Gyre's
	// documentation knows it. Set your own before an admin endpoint is
	// reachable by anyone but you. Must not contain whitespace.
	AdminToken string `yaml:"admin_token"`

	// Regions are the regions Gyre runs, in order. Names must be unique, and
	// every address must be used by one region field only. Default: the
	// three regions of Default (us-east-1, us-west-2, eu-west-1).
	Regions []Region `yaml:"regions"`

	// Tables are global tables created at start in each of their replica
	// regions. Tables can also be created later through the DynamoDB API;
	// these are the ones that exist from the first moment. Default: none.
	Tables []Table `yaml:"tables"`

	// WAN shapes the simulated wide-area network between regions.
	WAN WAN `yaml:"wan"`

	// Routing configures the routing plane: DNS, the front door, health
	// checks, client locations and routing controls.
	Routing Routing `yaml:"routing"`

	// PrimaryRegion is where the applications' tables are created (with a
	// replica in every region they run in) and where seeding and
	// migrations run, as one deploys a global table from one region and
	// references it from the others. Default: the first region.
	PrimaryRegion string `yaml:"primary_region"`

	// App configures the reference application served in every region.
	App App `yaml:"app"`

	// Apps are applications of your own that Gyre runs in every region.
	// Default: none.
	Apps []UserApp `yaml:"apps"`

	// TLS configures HTTPS on the public endpoints and the front door.
	TLS TLS `yaml:"tls"`
}

// Credentials are the SigV4 credentials clients sign requests with.
type Credentials struct {
	// AccessKey is the access key id clients present (aws_access_key_id).
	// Default gyre. Must not contain "/" or whitespace.
	AccessKey string `yaml:"access_key"`
	// SecretKey is the secret access key clients sign with
	// (aws_secret_access_key). Default gyregyregyre, which is for
	// development only.
	SecretKey string `yaml:"secret_key"`
}

// Region is one region: its name and the addresses it serves on.
type Region struct {
	// Name identifies the region, e.g. us-east-1: lowercase letters, digits
	// and hyphens. Required, unique. It names the region's data directory and
	// is the region name clients put in their SDK configuration.
	Name string `yaml:"name"`

	// DynamoDB is the host:port of the region's DynamoDB endpoint.
	// Default 127.0.0.1:8001 for the first region, 8002 for the second, and
	// so on. Port 0 picks a free port at start.
	DynamoDB string `yaml:"dynamodb"`

	// Admin is the host:port of the region's admin API, which is also the
	// endpoint peer regions replicate from. Default 127.0.0.1:9001 for the
	// first region, 9002 for the second, and so on. Port 0 picks a free port
	// at start.
	Admin string `yaml:"admin"`

	// ClockSkew shifts the region's clock by this much, to see how
	// last-writer-wins behaves when regions disagree about the time. It may
	// be negative (a clock that runs behind). Default 0s.
	ClockSkew time.Duration `yaml:"clock_skew"`

	// Public is the host:port of the region's public endpoint: what DNS
	// answers with and the front door proxies to; it serves the reference
	// application, users' apps and the DynamoDB API. Default 127.0.N.1:8080
	// for the N-th region, each region on its own loopback address and the
	// same port.
	Public string `yaml:"public"`

	// PublicHTTPS is the host:port where the public endpoint also serves
	// HTTPS, with a certificate from Gyre's local certificate authority.
	// Default: the public endpoint's host, port 8443 (a free port when the
	// public endpoint's port is 0). Not used when tls.disabled is set.
	PublicHTTPS string `yaml:"public_https"`

	// Control is the host:port of the region's routing-control Raft node.
	// Default 127.0.0.1:7001 for the first region, 7002 for the second...
	Control string `yaml:"control"`

	// Location is the client location the region sits at (for health
	// check vantage points). Default: the built-in location next to the
	// AWS region of the same name, if any.
	Location string `yaml:"location,omitempty"`
}

// KeyType is the scalar type of a key attribute.
type KeyType string

// The key attribute types DynamoDB allows.
const (
	KeyString KeyType = "S" // a string
	KeyNumber KeyType = "N" // a number
	KeyBinary KeyType = "B" // binary data
)

// KeyAttribute is one key attribute of a table or an index.
type KeyAttribute struct {
	// Name is the attribute's name: 1 to 255 bytes. Required.
	Name string `yaml:"name"`
	// Type is S (string), N (number) or B (binary). Default S.
	Type KeyType `yaml:"type"`
}

// ProjectionType says which attributes a secondary index stores.
type ProjectionType string

// The projections of DynamoDB's secondary indexes.
const (
	ProjectionAll      ProjectionType = "ALL"       // every attribute
	ProjectionKeysOnly ProjectionType = "KEYS_ONLY" // the table's and the index's keys
	ProjectionInclude  ProjectionType = "INCLUDE"   // the keys and NonKeyAttributes
)

// Table is a global table, created in each of its replica regions at start.
type Table struct {
	// Name is the table's name: 3 to 255 characters from a-z, A-Z, 0-9,
	// "_", "-" and ".". Required, unique.
	Name string `yaml:"name"`

	// PartitionKey is the table's partition (hash) key. Required.
	PartitionKey KeyAttribute `yaml:"partition_key,flow"`

	// SortKey is the table's sort (range) key. Optional: absent (Name
	// empty) for a table with a partition key only. Its name must differ
	// from the partition key's.
	SortKey KeyAttribute `yaml:"sort_key,flow,omitempty"`

	// Replicas are the regions that hold a replica of the table; writes in
	// any of them replicate to the others. Each must name a region in
	// regions, once. Default (absent or empty): every region.
	Replicas []string `yaml:"replicas,flow"`

	// GlobalSecondaryIndexes are the table's global secondary indexes.
	// Optional; index names must be unique within the table.
	GlobalSecondaryIndexes []Index `yaml:"global_secondary_indexes,omitempty"`

	// TTLAttribute names the attribute holding each item's expiry time, in
	// seconds since the Unix epoch; expired items are deleted in the
	// background. Optional: empty turns time to live off.
	TTLAttribute string `yaml:"ttl_attribute,omitempty"`
}

// Index is a global secondary index of a table.
type Index struct {
	// Name is the index's name, with the same rules as a table name.
	// Required, unique within its table.
	Name string `yaml:"name"`

	// PartitionKey is the index's partition key. Required. An attribute
	// used as a key in both the table and an index must have the same type
	// in both.
	PartitionKey KeyAttribute `yaml:"partition_key,flow"`

	// SortKey is the index's sort key. Optional; its name must differ from
	// the index's partition key's.
	SortKey KeyAttribute `yaml:"sort_key,flow,omitempty"`

	// Projection is which attributes the index stores besides the keys:
	// ALL, KEYS_ONLY or INCLUDE. Default ALL.
	Projection ProjectionType `yaml:"projection"`

	// NonKeyAttributes are the attributes an INCLUDE projection stores.
	// Required (at least one, no repeats) with INCLUDE, not allowed with
	// the other projections.
	NonKeyAttributes []string `yaml:"non_key_attributes,flow,omitempty"`
}

// WAN shapes the simulated wide-area network that every connection between
// regions goes through. What this section leaves unset takes the WAN
// layer's built-in values: the one-way latency of its table of real
// inter-region latencies, and its jitter rule (a small fraction of the
// latency). Faults (dropped links, partitions) are not configured here: they
// are caused at run time through the admin API and the CLI.
type WAN struct {
	// Disabled turns latency simulation off: every pair of regions gets zero
	// latency and zero jitter, whatever Links and DefaultJitter say.
	// Connections still go through the WAN layer, so faults still work.
	// Default false.
	Disabled bool `yaml:"disabled"`

	// DefaultJitter is the jitter of every pair whose link does not set its
	// own, including pairs that no link names: each message's one-way delay
	// varies by up to this much. Default (absent): the WAN layer's built-in
	// jitter. Must not be negative.
	DefaultJitter *time.Duration `yaml:"default_jitter,omitempty"`

	// Links override the latency and jitter between pairs of regions.
	// Optional; at most one link per pair.
	Links []Link `yaml:"links"`
}

// Link overrides the simulated network between two regions, in both
// directions.
type Link struct {
	// Between names the two regions the link joins, in either order: two
	// different regions from regions. Required.
	Between []string `yaml:"between,flow"`

	// Latency is the one-way delay between the two regions; 0s means none.
	// Default (absent): the built-in latency for the pair. Must not be
	// negative.
	Latency *time.Duration `yaml:"latency,omitempty"`

	// Jitter is how much each message's one-way delay may vary beyond
	// Latency; 0s means none. Default (absent): wan.default_jitter. Must not
	// be negative.
	Jitter *time.Duration `yaml:"jitter,omitempty"`
}

// Region returns the region named name, pointing into t so that a change
// through it changes t, and whether there is one.
func (t *Topology) Region(name string) (*Region, bool) {
	for i := range t.Regions {
		if t.Regions[i].Name == name {
			return &t.Regions[i], true
		}
	}
	return nil, false
}

// RegionNames returns the names of t's regions, in the order of the file.
func (t *Topology) RegionNames() []string {
	names := make([]string, len(t.Regions))
	for i, r := range t.Regions {
		names[i] = r.Name
	}
	return names
}

// DataDirFor returns the directory that holds region's data: the region's
// name under DataDir. It does not check that the region exists.
func (t *Topology) DataDirFor(region string) string {
	return filepath.Join(t.DataDir, region)
}

// Peers returns every region other than the one named region, in the order
// of the file: the regions it exchanges replication with. The pointers point
// into t. It returns every region if none is named region.
func (t *Topology) Peers(region string) []*Region {
	peers := make([]*Region, 0, len(t.Regions))
	for i := range t.Regions {
		if t.Regions[i].Name != region {
			peers = append(peers, &t.Regions[i])
		}
	}
	return peers
}

// TablesIn returns the tables that have a replica in region, in the order
// of the file; the pointers point into t. Call it after EnsureDefaults, which
// fills in the replicas of tables that name none.
func (t *Topology) TablesIn(region string) []*Table {
	var tables []*Table
	for i := range t.Tables {
		for _, r := range t.Tables[i].Replicas {
			if r == region {
				tables = append(tables, &t.Tables[i])
				break
			}
		}
	}
	return tables
}

// LinkBetween returns the link that joins regions a and b, named in either
// order, and whether there is one. The pointer points into w.
func (w *WAN) LinkBetween(a, b string) (*Link, bool) {
	for i := range w.Links {
		l := &w.Links[i]
		if len(l.Between) == 2 &&
			(l.Between[0] == a && l.Between[1] == b || l.Between[0] == b && l.Between[1] == a) {
			return l, true
		}
	}
	return nil, false
}

// Pair returns the one-way latency and the jitter w sets between regions a
// and b, named in either order: zero for both when w is disabled; else the
// settings of the link joining them, with DefaultJitter for a jitter the
// link leaves unset. A nil result means the WAN layer's built-in value. The
// pointers are the caller's.
func (w *WAN) Pair(a, b string) (latency, jitter *time.Duration) {
	if w.Disabled {
		return new(time.Duration), new(time.Duration)
	}
	jitter = w.DefaultJitter
	if l, ok := w.LinkBetween(a, b); ok {
		latency = l.Latency
		if l.Jitter != nil {
			jitter = l.Jitter
		}
	}
	return cloneDuration(latency), cloneDuration(jitter)
}

// Clone returns a deep copy of t.
func (t *Topology) Clone() *Topology {
	c := *t
	c.Regions = slices.Clone(t.Regions)
	c.Tables = slices.Clone(t.Tables)
	for i := range c.Tables {
		tb := &c.Tables[i]
		tb.Replicas = slices.Clone(tb.Replicas)
		tb.GlobalSecondaryIndexes = slices.Clone(tb.GlobalSecondaryIndexes)
		for j := range tb.GlobalSecondaryIndexes {
			ix := &tb.GlobalSecondaryIndexes[j]
			ix.NonKeyAttributes = slices.Clone(ix.NonKeyAttributes)
		}
	}
	c.WAN.DefaultJitter = cloneDuration(t.WAN.DefaultJitter)
	c.Routing = t.Routing.clone()
	c.Apps = slices.Clone(t.Apps)
	for i := range c.Apps {
		a := &c.Apps[i]
		a.Regions = slices.Clone(a.Regions)
		a.Tables = slices.Clone(a.Tables)
		if a.Env != nil {
			a.Env = maps.Clone(a.Env)
		}
	}
	c.WAN.Links = slices.Clone(t.WAN.Links)
	for i := range c.WAN.Links {
		l := &c.WAN.Links[i]
		l.Between = slices.Clone(l.Between)
		l.Latency = cloneDuration(l.Latency)
		l.Jitter = cloneDuration(l.Jitter)
	}
	return &c
}

// RedactedValue replaces secrets in the copy Redacted returns.
const RedactedValue = "<redacted>"

// Redacted returns a deep copy of t with the secret key and the admin token
// replaced by RedactedValue, for display on the dashboard, in logs and in
// drill reports.
func (t *Topology) Redacted() *Topology {
	c := t.Clone()
	c.Credentials.SecretKey = RedactedValue
	c.AdminToken = RedactedValue
	return c
}

func cloneDuration(d *time.Duration) *time.Duration {
	if d == nil {
		return nil
	}
	v := *d
	return &v
}
