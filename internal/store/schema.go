package store

import (
	"maps"
	"slices"
	"time"

	"github.com/gyre-dev/gyre/internal/attr"
)

// KeyAttr is one key attribute: its name and scalar type (S, N or B).
type KeyAttr struct {
	Name string    `json:"name"`
	Type attr.Type `json:"type"`
}

// KeySchema is a primary key: a partition (hash) key and an optional sort
// (range) key. Range.Name is empty when there is no sort key.
type KeySchema struct {
	Hash  KeyAttr `json:"hash"`
	Range KeyAttr `json:"range,omitzero"`
}

// HasRange reports whether the key has a sort key.
func (k KeySchema) HasRange() bool { return k.Range.Name != "" }

// Names returns the key's attribute names, partition key first.
func (k KeySchema) Names() []string {
	if k.HasRange() {
		return []string{k.Hash.Name, k.Range.Name}
	}
	return []string{k.Hash.Name}
}

// ProjectionType says which attributes an index stores.
type ProjectionType string

// The projection types of DynamoDB.
const (
	ProjectAll      ProjectionType = "ALL"
	ProjectKeysOnly ProjectionType = "KEYS_ONLY"
	ProjectInclude  ProjectionType = "INCLUDE"
)

// Projection is the set of attributes an index stores besides its keys and
// the table's keys.
type Projection struct {
	Type             ProjectionType `json:"type"`
	NonKeyAttributes []string       `json:"non_key_attributes,omitempty"`
}

// Throughput is provisioned capacity. Gyre does not throttle; the numbers
// are kept and reported.
type Throughput struct {
	Read  int64 `json:"read"`
	Write int64 `json:"write"`
}

// Status is the lifecycle state of a table or index, as DynamoDB names it.
type Status string

// Table and index states.
const (
	StatusCreating Status = "CREATING"
	StatusActive   Status = "ACTIVE"
	StatusUpdating Status = "UPDATING"
	StatusDeleting Status = "DELETING"
)

// Index is a secondary index of a table.
type Index struct {
	Name       string     `json:"name"`
	ID         uint32     `json:"id"`
	Local      bool       `json:"local,omitempty"`
	Key        KeySchema  `json:"key"`
	Projection Projection `json:"projection"`
	// Status is CREATING while a global index is backfilled, then ACTIVE.
	Status      Status      `json:"status"`
	Provisioned *Throughput `json:"provisioned,omitempty"`
}

// StreamSpec is a table's StreamSpecification. Gyre stores it; the
// streams service reads it.
type StreamSpec struct {
	Enabled  bool   `json:"enabled"`
	ViewType string `json:"view_type,omitempty"`
	// Label is the stream's label (the ARN suffix), set when enabled.
	Label string `json:"label,omitempty"`
}

// TTLSpec is a table's time-to-live setting.
type TTLSpec struct {
	Enabled   bool   `json:"enabled"`
	Attribute string `json:"attribute,omitempty"`
}

// Table is a table's schema and settings. Tables returned by the store are
// snapshots shared with other readers: never modify one.
type Table struct {
	Name string    `json:"name"`
	ID   uint32    `json:"id"`
	Key  KeySchema `json:"key"`
	// Attributes are the AttributeDefinitions: every attribute used in a
	// key of the table or one of its indexes.
	Attributes  []KeyAttr   `json:"attributes"`
	Indexes     []Index     `json:"indexes,omitempty"`
	Created     time.Time   `json:"created"`
	Status      Status      `json:"status"`
	BillingMode string      `json:"billing_mode"`
	Provisioned *Throughput `json:"provisioned,omitempty"`
	Stream      StreamSpec  `json:"stream"`
	TTL         TTLSpec     `json:"ttl"`
	// DeletionProtection refuses DeleteTable while set.
	DeletionProtection bool `json:"deletion_protection,omitempty"`
	// TableClass is STANDARD or STANDARD_INFREQUENT_ACCESS; reported only.
	TableClass string `json:"table_class,omitempty"`
	// UUID is the table's TableId, unique across re-creations of the name.
	UUID string `json:"uuid,omitempty"`
	// Tags are the table's resource tags.
	Tags map[string]string `json:"tags,omitempty"`
	// Replicas are the regions holding a replica of a global table, each
	// with its state; empty for a regional table.
	Replicas []Replica `json:"replicas,omitempty"`
	// SchemaVersion orders changes to a global table's definition made in
	// different regions: the latest wins.
	SchemaVersion Version `json:"schema_version,omitzero"`
}

// Replica is one region's replica of a global table.
type Replica struct {
	Region string `json:"region"`
	// Status is CREATING while the replica is backfilled, ACTIVE, or
	// DELETING once it has been removed (kept so that the removal wins
	// over older news of the replica).
	Status Status `json:"status"`
	// Version orders changes to this entry made in different regions.
	Version Version `json:"version"`
}

// Global reports whether the table is replicated to other regions.
func (t *Table) Global() bool { return len(t.Replicas) > 0 }

// Replica returns the entry for region, or nil.
func (t *Table) Replica(region string) *Replica {
	for i := range t.Replicas {
		if t.Replicas[i].Region == region {
			return &t.Replicas[i]
		}
	}
	return nil
}

// LiveReplicas returns the regions whose replica is not being deleted.
func (t *Table) LiveReplicas() []string {
	var out []string
	for _, r := range t.Replicas {
		if r.Status != StatusDeleting {
			out = append(out, r.Region)
		}
	}
	return out
}

// Index returns the index with the given name, or nil.
func (t *Table) Index(name string) *Index {
	for i := range t.Indexes {
		if t.Indexes[i].Name == name {
			return &t.Indexes[i]
		}
	}
	return nil
}

// clone returns a copy of t that can be modified without affecting t: it
// shares nothing with t (TestCloneIsDeep).
func (t *Table) clone() *Table {
	c := *t
	c.Attributes = append([]KeyAttr(nil), t.Attributes...)
	c.Indexes = append([]Index(nil), t.Indexes...)
	for i := range c.Indexes {
		ix := &c.Indexes[i]
		ix.Projection.NonKeyAttributes = slices.Clone(ix.Projection.NonKeyAttributes)
		ix.Provisioned = cloneThroughput(ix.Provisioned)
	}
	c.Provisioned = cloneThroughput(t.Provisioned)
	c.Tags = maps.Clone(t.Tags)
	c.Replicas = append([]Replica(nil), t.Replicas...)
	return &c
}

func cloneThroughput(p *Throughput) *Throughput {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// isKeyAttr reports whether name is a key attribute of the table or of any
// of its indexes.
func (t *Table) isKeyAttr(name string) bool {
	for _, a := range t.Attributes {
		if a.Name == name {
			return true
		}
	}
	return false
}
