package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gyre-dev/gyre/internal/attr"
)

// Global tables. A global table's definition (keys, indexes, settings) and
// its replica list travel between regions as schema entries in the change
// log. The definition is one unit ordered by SchemaVersion; each replica
// entry is ordered by its own Version, so that a region marking its replica
// ACTIVE and another changing an index at the same time both take effect.
// Index ids and index states are local: every region fills its own indexes
// from its own items.

// tableDefinition is a global table's definition: the part of a Table that
// every replica shares. Schema entries carry it, and a replica adopts it
// whole from an entry with a later SchemaVersion. It is the one list of
// those fields: Table.definition reads them and Table.setDefinition writes
// them, and TestTableFieldsClassified fails when a field is added to Table
// or Index without being placed here or declared local.
type tableDefinition struct {
	Attributes         []KeyAttr         `json:"attributes"`
	Indexes            []indexDefinition `json:"indexes,omitempty"`
	BillingMode        string            `json:"billing_mode"`
	Provisioned        *Throughput       `json:"provisioned,omitempty"`
	Stream             StreamSpec        `json:"stream"`
	TTL                TTLSpec           `json:"ttl"`
	DeletionProtection bool              `json:"deletion_protection,omitempty"`
	TableClass         string            `json:"table_class,omitempty"`
}

// indexDefinition is the part of an Index that every replica shares; its id
// and state are each region's own (every region fills its indexes from its
// own items).
type indexDefinition struct {
	Name        string      `json:"name"`
	Local       bool        `json:"local,omitempty"`
	Key         KeySchema   `json:"key"`
	Projection  Projection  `json:"projection"`
	Provisioned *Throughput `json:"provisioned,omitempty"`
}

// replicatedTable is a table as a schema entry carries it: its name and key
// (fixed when the table is made), its definition, and its replica list and
// SchemaVersion.
type replicatedTable struct {
	Name string    `json:"name"`
	Key  KeySchema `json:"key"`
	tableDefinition
	Replicas      []Replica `json:"replicas"`
	SchemaVersion Version   `json:"schema_version"`
}

// definition returns t's definition, sharing t's slices and pointers.
func (t *Table) definition() tableDefinition {
	d := tableDefinition{
		Attributes: t.Attributes, BillingMode: t.BillingMode, Provisioned: t.Provisioned,
		Stream: t.Stream, TTL: t.TTL, DeletionProtection: t.DeletionProtection, TableClass: t.TableClass,
	}
	for _, ix := range t.Indexes {
		d.Indexes = append(d.Indexes, indexDefinition{
			Name: ix.Name, Local: ix.Local, Key: ix.Key, Projection: ix.Projection, Provisioned: ix.Provisioned,
		})
	}
	return d
}

// setDefinition makes d t's definition, sharing d's slices and pointers.
// t's indexes become d's, without their local ids and states.
func (t *Table) setDefinition(d tableDefinition) {
	t.Attributes, t.BillingMode, t.Provisioned = d.Attributes, d.BillingMode, d.Provisioned
	t.Stream, t.TTL, t.DeletionProtection, t.TableClass = d.Stream, d.TTL, d.DeletionProtection, d.TableClass
	t.Indexes = nil
	for _, ix := range d.Indexes {
		t.Indexes = append(t.Indexes, Index{
			Name: ix.Name, Local: ix.Local, Key: ix.Key, Projection: ix.Projection, Provisioned: ix.Provisioned,
		})
	}
}

// withLocalState returns ix, an index of a definition another region sent,
// with the local id and state of mine, this region's index of that name.
func (ix Index) withLocalState(mine Index) Index {
	ix.ID, ix.Status = mine.ID, mine.Status
	return ix
}

// sameIndex reports whether a and b are one index: same name, kind, key and
// projection. An index dropped and made again elsewhere under its old name
// but with another key is another index.
func sameIndex(a, b Index) bool {
	return a.Name == b.Name && a.Local == b.Local && a.Key == b.Key &&
		a.Projection.Type == b.Projection.Type && slices.Equal(a.Projection.NonKeyAttributes, b.Projection.NonKeyAttributes)
}

// adoptDefinition makes in's definition t's, as a schema entry with a later
// SchemaVersion brings it: every setting of the table and of its indexes
// comes from in. An index both have keeps its local id and state; a global
// index in lacks is dropped, and one t lacks is added, CREATING, with an id
// from newID. Local secondary indexes are made with their table and never
// change: t keeps its own, and adds none. It returns the indexes dropped,
// whose entries the caller deletes, and the names of those added, which it
// backfills. Replicas and SchemaVersion are the caller's.
func (t *Table) adoptDefinition(in *Table, newID func() uint32) (dropped []Index, added []string) {
	mine := t.Indexes
	t.setDefinition(in.definition())
	t.Indexes = nil
	for _, ix := range mine {
		theirs := in.Index(ix.Name)
		switch {
		case ix.Local:
			t.Indexes = append(t.Indexes, ix)
		case theirs == nil || !sameIndex(ix, *theirs):
			dropped = append(dropped, ix)
		default:
			t.Indexes = append(t.Indexes, theirs.withLocalState(ix))
		}
	}
	for _, ix := range in.Indexes {
		if ix.Local || t.Index(ix.Name) != nil {
			continue
		}
		ix.ID, ix.Status = newID(), StatusCreating
		t.Indexes = append(t.Indexes, ix)
		added = append(added, ix.Name)
	}
	return dropped, added
}

func (t *Table) marshalReplicated() ([]byte, error) {
	return json.Marshal(replicatedTable{
		Name: t.Name, Key: t.Key, tableDefinition: t.definition(),
		Replicas: t.Replicas, SchemaVersion: t.SchemaVersion,
	})
}

func unmarshalReplicated(b []byte) (*Table, error) {
	var r replicatedTable
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("store: decoding schema entry: %w", err)
	}
	t := &Table{Name: r.Name, Key: r.Key, Replicas: r.Replicas, SchemaVersion: r.SchemaVersion}
	t.setDefinition(r.tableDefinition)
	return t, nil
}

// commitTableLocked stores t as the table's current schema, together with
// whatever b already holds (b may be nil). For a global table it also logs
// the change for the other replicas: when defChanged the definition gets a
// new SchemaVersion, and each region in touched gets a new replica entry
// version. db.mu must be held.
func (db *DB) commitTableLocked(b *pebble.Batch, t *Table, defChanged bool, touched ...string) error {
	if b == nil {
		b = db.pdb.NewBatch()
		defer b.Close()
	}
	var e LogEntry
	if t.Global() {
		seq, v := db.nextLogPosition()
		defer db.logDone(seq)
		if defChanged {
			t.SchemaVersion = v
		}
		for _, r := range touched {
			if rep := t.Replica(r); rep != nil {
				rep.Version = v
			}
		}
		e = LogEntry{Seq: seq, Version: v, Schema: t}
	}
	if err := db.putMeta(b, t); err != nil {
		return err
	}
	if err := db.commit(b, e); err != nil {
		return err
	}
	db.mu.tables[t.Name] = t
	return nil
}

// AddReplica makes the table global, if it was not, and adds a replica in
// region, CREATING until that region has backfilled it.
func (db *DB) AddReplica(table, region string) (*Table, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	t, err := db.tableLocked(table)
	if err != nil {
		return nil, err
	}
	if r := t.Replica(region); r != nil && r.Status != StatusDeleting {
		return nil, fmt.Errorf("%w: %s", ErrReplicaExists, region)
	}
	c := t.clone()
	touched := []string{region}
	defChanged := false
	if !c.Global() {
		c.Replicas = []Replica{{Region: db.opts.Region, Status: StatusActive}}
		touched = append(touched, db.opts.Region)
		defChanged = true
	}
	if r := c.Replica(region); r != nil {
		r.Status = StatusCreating
	} else {
		c.Replicas = append(c.Replicas, Replica{Region: region, Status: StatusCreating})
	}
	if err := db.commitTableLocked(nil, c, defChanged, touched...); err != nil {
		return nil, err
	}
	return c, nil
}

// RemoveReplica marks region's replica DELETING; that region drops its copy
// when it learns of it. Removing this region's own replica is DeleteTable.
func (db *DB) RemoveReplica(table, region string) (*Table, error) {
	if region == db.opts.Region {
		return db.DeleteTable(table)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	t, err := db.tableLocked(table)
	if err != nil {
		return nil, err
	}
	r := t.Replica(region)
	if r == nil || r.Status == StatusDeleting {
		return nil, fmt.Errorf("%w: %s", ErrReplicaNotFound, region)
	}
	c := t.clone()
	c.Replica(region).Status = StatusDeleting
	if err := db.commitTableLocked(nil, c, false, region); err != nil {
		return nil, err
	}
	return c, nil
}

// SetReplicaActive marks this region's replica ACTIVE, once its backfill has
// finished, and tells the other replicas.
func (db *DB) SetReplicaActive(table string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	t, err := db.tableLocked(table)
	if err != nil {
		return err
	}
	r := t.Replica(db.opts.Region)
	if r == nil || r.Status != StatusCreating {
		return nil
	}
	c := t.clone()
	c.Replica(db.opts.Region).Status = StatusActive
	c.Status = StatusActive
	return db.commitTableLocked(nil, c, false, db.opts.Region)
}

// EnsureTable creates a table declared in the topology if this region does
// not have it yet. Declared tables are born ACTIVE in every replica with the
// zero SchemaVersion, so every region creates the same definition and any
// change made through the API afterwards wins over it. It reports whether
// the table was created.
func (db *DB) EnsureTable(t *Table) (bool, error) {
	db.mu.Lock()
	if _, ok := db.mu.tables[t.Name]; ok {
		db.mu.Unlock()
		return false, nil
	}
	db.mu.Unlock()
	t = t.clone()
	t.SchemaVersion = Version{}
	for i := range t.Replicas {
		t.Replicas[i].Status, t.Replicas[i].Version = StatusActive, Version{}
	}
	_, err := db.CreateTable(t)
	if err != nil {
		return false, err
	}
	return true, nil
}

// ApplySchema merges a schema entry from another region into this region's
// copy of the table. It creates the table when this region has just been
// made a replica (the result's first value is then true and the caller must
// backfill it, then call SetReplicaActive), adopts a newer definition
// (starting the backfill of any new index), and drops the local copy when
// this region's replica has been removed.
func (db *DB) ApplySchema(in *Table) (created bool, err error) {
	db.lockAll()
	defer db.unlockAll()
	db.mu.Lock()
	defer db.mu.Unlock()
	local, err := db.tableLocked(in.Name)
	switch {
	case errors.Is(err, ErrTableNotFound):
		return db.createReplicaLocked(in)
	case err != nil:
		return false, err
	}
	c := local.clone()
	c.Replicas = mergeReplicas(local.Replicas, in.Replicas)
	b := db.pdb.NewBatch()
	defer b.Close()
	var backfills []string
	if local.SchemaVersion.Less(in.SchemaVersion) {
		c.SchemaVersion = in.SchemaVersion
		var dropped []Index
		dropped, backfills = c.adoptDefinition(in, db.nextIDLocked)
		for _, ix := range dropped {
			span := spanPrefix(prefixIndex, ix.ID)
			if err := b.DeleteRange(span, prefixEnd(span), nil); err != nil {
				return false, err
			}
			if err := b.Delete(counterKey(ix.ID), nil); err != nil {
				return false, err
			}
		}
	}
	if mine := c.Replica(db.opts.Region); mine != nil && mine.Status == StatusDeleting {
		return false, db.dropLocked(b, c, nil)
	}
	if err := db.commitLocalLocked(b, c); err != nil {
		return false, err
	}
	for _, ix := range backfills {
		db.startBackfill(c.Name, ix)
	}
	return false, nil
}

// createReplicaLocked creates this region's replica of a global table from
// a schema entry naming this region, CREATING until the caller has
// backfilled it; it reports whether it did. db.mu and every item lock must
// be held.
func (db *DB) createReplicaLocked(in *Table) (bool, error) {
	mine := in.Replica(db.opts.Region)
	if mine == nil || mine.Status == StatusDeleting {
		return false, nil
	}
	t := in.clone()
	db.newTableLocked(t, StatusCreating)
	t.UUID = newTableUUID()
	t.Replica(db.opts.Region).Status = StatusCreating
	if err := db.commitLocalLocked(nil, t); err != nil {
		return false, err
	}
	return true, nil
}

// commitLocalLocked stores t as the table's schema without logging it: the
// change came from elsewhere, or concerns only this region.
func (db *DB) commitLocalLocked(b *pebble.Batch, t *Table) error {
	if b == nil {
		b = db.pdb.NewBatch()
		defer b.Close()
	}
	if err := db.putMeta(b, t); err != nil {
		return err
	}
	if err := db.commitBatch(b, pebble.Sync); err != nil {
		return err
	}
	db.mu.tables[t.Name] = t
	return nil
}

// mergeReplicas merges two replica lists entry by entry, the later version
// of each region's entry winning.
func mergeReplicas(a, b []Replica) []Replica {
	out := append([]Replica(nil), a...)
	for _, r := range b {
		i := slices.IndexFunc(out, func(x Replica) bool { return x.Region == r.Region })
		switch {
		case i < 0:
			out = append(out, r)
		case out[i].Version.Less(r.Version):
			out[i] = r
		}
	}
	slices.SortFunc(out, func(x, y Replica) int {
		switch {
		case x.Region < y.Region:
			return -1
		case x.Region > y.Region:
			return 1
		}
		return 0
	})
	return out
}

// ApplyResult counts what applying replicated writes did.
type ApplyResult struct {
	Applied int // item writes that won and were stored
	Stale   int // item writes older than what this region had
	Skipped int // item writes for tables this region does not replicate
	// Created lists tables this region has just been made a replica of:
	// the caller must backfill each, then call SetReplicaActive.
	Created []string
}

// ApplyRemote applies entries from origin's log, in order, and advances this
// region's cursor in origin's log to the last of them in the same batch.
// Each item write is applied only if its version is later than the item's
// current one (last writer wins), so applying an entry twice, or out of
// order with other origins' entries, is harmless. The writes of one entry
// (a transaction) become visible together.
func (db *DB) ApplyRemote(origin, incarnation string, entries []LogEntry) (ApplyResult, error) {
	var res ApplyResult
	for len(entries) > 0 {
		// A run of item entries is applied in one batch; a schema entry
		// on its own.
		if entries[0].Schema != nil {
			e := entries[0]
			db.opts.Clock.Observe(e.Version.TS)
			created, err := db.ApplySchema(e.Schema)
			if err != nil {
				return res, err
			}
			if created {
				res.Created = append(res.Created, e.Schema.Name)
			}
			if err := db.SetCursor(origin, Cursor{Incarnation: incarnation, Seq: e.Seq, TS: e.Version.TS}); err != nil {
				return res, err
			}
			entries = entries[1:]
			continue
		}
		n := 1
		for n < len(entries) && entries[n].Schema == nil {
			n++
		}
		r, err := db.applyItems(origin, incarnation, entries[:n])
		res.Applied += r.Applied
		res.Stale += r.Stale
		res.Skipped += r.Skipped
		if err != nil {
			return res, err
		}
		entries = entries[n:]
	}
	return res, nil
}

// remoteWrite is one replicated item write prepared for applying: the
// write src describes (its key, its item or nil for a delete, whether
// time-to-live expiry made it) at version.
type remoteWrite struct {
	ref     itemRef
	version Version
	src     *Change // as it came; its Table and Version are not used
}

// remoteWriteOf prepares the write src describes to table t at version v.
// It fails when src's key does not fit t's schema.
func remoteWriteOf(t *Table, src *Change, v Version) (remoteWrite, error) {
	ref, err := locate(t, src.Key)
	if err != nil {
		return remoteWrite{}, err
	}
	return remoteWrite{ref: ref, version: v, src: src}, nil
}

func (db *DB) applyItems(origin, incarnation string, entries []LogEntry) (ApplyResult, error) {
	for {
		res, err := db.applyItemsOnce(origin, incarnation, entries)
		if !errors.Is(err, errSchemaChanged) {
			return res, err
		}
	}
}

func (db *DB) applyItemsOnce(origin, incarnation string, entries []LogEntry) (ApplyResult, error) {
	var res ApplyResult
	var writes []remoteWrite
	for _, e := range entries {
		db.opts.Clock.Observe(e.Version.TS)
		for i := range e.Changes {
			c := &e.Changes[i]
			t, err := db.Table(c.Table)
			if err != nil || t.Status == StatusDeleting {
				res.Skipped++
				continue
			}
			w, err := remoteWriteOf(t, c, e.Version)
			if err != nil {
				// The key does not fit this region's schema: a table
				// dropped and recreated differently elsewhere.
				res.Skipped++
				continue
			}
			writes = append(writes, w)
		}
	}
	last := entries[len(entries)-1]
	cursor := Cursor{Incarnation: incarnation, Seq: last.Seq, TS: last.Version.TS}
	applied, stale, err := db.applyWrites(writes, &cursor, origin)
	res.Applied += applied
	res.Stale += stale
	return res, err
}

// applyWrites stores the winning writes among ws in one batch, with the
// cursor when one is given. Replicated writes are not logged: each region
// ships only its own writes. They go through commitBatch alone, not
// DB.commit, and once they are durable their Changes are given to
// db.applied, where a stream of this region's tables will be fed the
// writes made elsewhere.
func (db *DB) applyWrites(ws []remoteWrite, cursor *Cursor, origin string) (applied, stale int, err error) {
	if k := db.knobs.beforeApplyLocks; k != nil {
		k()
	}
	locked := db.lockItems(make([]int, len(ws)), func(i int) []byte { return ws[i].ref.pkey })
	defer db.unlockItems(locked)
	if err := db.checkTables(len(ws), func(i int) *Table { return ws[i].ref.table }); err != nil {
		return 0, 0, err
	}
	b := db.pdb.NewBatch()
	defer b.Close()
	changes, applied, stale, err := db.stageRemote(b, ws)
	if err != nil {
		return applied, stale, err
	}
	if cursor != nil {
		if err := b.Set(cursorKey(origin), cursor.encode(), nil); err != nil {
			return applied, stale, err
		}
	}
	if err := db.commitBatch(b, pebble.Sync); err != nil {
		return applied, stale, err
	}
	if db.applied != nil && len(changes) > 0 {
		db.applied(changes)
	}
	return applied, stale, nil
}

// stageRemote adds to b the writes among ws that win over what this region
// has (last writer wins), with their statistics; a write no later than the
// item's current version is stale and left out. The items' locks must be
// held. It returns the Changes staged when db.applied wants them.
func (db *DB) stageRemote(b *pebble.Batch, ws []remoteWrite) (changes []Change, applied, stale int, err error) {
	deltas := map[uint32]*Stats{}
	// Later writes in ws to the same item see earlier ones through this
	// overlay rather than through the batch.
	pending := map[string]record{}
	for _, w := range ws {
		cur, ok := pending[string(w.ref.pkey)]
		if !ok {
			r, found, err := db.readRecord(w.ref.pkey)
			if err != nil {
				return nil, applied, stale, err
			}
			if found {
				cur, ok = r, true
			}
		}
		if ok && !cur.Version.Less(w.version) {
			stale++
			continue
		}
		c := Change{
			Table: w.ref.table.Name, Key: keyAttrs(w.ref.table.Key, w.src.Key),
			New: w.src.New, Version: w.version, Expiry: w.src.Expiry,
		}
		if ok && !cur.Tombstone {
			c.Old = cur.Item
		}
		// An item that does not fit an index this region has (a type
		// clash) is stored without that index entry rather than lost.
		if err := db.writeItem(b, w.ref, c, deltas, skipMisfits); err != nil {
			return nil, applied, stale, err
		}
		pending[string(w.ref.pkey)] = record{Version: w.version, Tombstone: c.New == nil, Item: c.New}
		applied++
		if db.applied != nil {
			changes = append(changes, c)
		}
	}
	return changes, applied, stale, writeDeltas(b, deltas)
}

// SnapshotRecord is one item or tombstone of a table, as a snapshot carries
// it to a region catching up.
type SnapshotRecord struct {
	Key     attr.Item // the item's key attributes
	Version Version
	Item    attr.Item // nil for a tombstone
}

// ScanSnapshot reads every item and tombstone of a table from one
// consistent snapshot, and returns the position in this region's log that
// the snapshot includes: every entry up to it is reflected in the records.
func (db *DB) ScanSnapshot(table string, fn func(SnapshotRecord) error) (Cursor, error) {
	t, err := db.Table(table)
	if err != nil {
		return Cursor{}, err
	}
	// The watermark is read before the snapshot is taken, so every entry
	// up to it is in the snapshot.
	db.clog.mu.Lock()
	head := db.clog.watermark
	db.clog.mu.Unlock()
	snap := db.pdb.NewSnapshot()
	defer snap.Close()
	span := spanPrefix(prefixItem, t.ID)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: span, UpperBound: prefixEnd(span)})
	if err != nil {
		return Cursor{}, err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return Cursor{}, err
		}
		r, err := decodeRecord(v)
		if err != nil {
			return Cursor{}, err
		}
		rec := SnapshotRecord{Version: r.Version, Item: r.Item, Key: r.Key}
		if !r.Tombstone {
			rec.Key = keyAttrs(t.Key, r.Item)
		}
		if err := fn(rec); err != nil {
			return Cursor{}, err
		}
	}
	return Cursor{Incarnation: db.incarnation, Seq: head}, it.Error()
}

// ApplySnapshot applies records from another region's snapshot of a table,
// last writer wins.
func (db *DB) ApplySnapshot(table string, recs []SnapshotRecord) (applied, stale int, err error) {
	changes := make([]Change, len(recs))
	for i, r := range recs {
		changes[i] = Change{Key: r.Key, New: r.Item}
	}
	for {
		t, err := db.Table(table)
		if err != nil {
			return 0, 0, err
		}
		ws := make([]remoteWrite, 0, len(recs))
		for i := range changes {
			w, err := remoteWriteOf(t, &changes[i], recs[i].Version)
			if err != nil {
				continue
			}
			ws = append(ws, w)
		}
		applied, stale, err = db.applyWrites(ws, nil, "")
		if !errors.Is(err, errSchemaChanged) {
			return applied, stale, err
		}
	}
}
