package store

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/hlc"
)

// BenchmarkApplyRemote measures applying replicated writes (ApplyRemote, and
// so applyWrites): entries of 1, 10 and 100 item writes from another
// region, each later than what this region holds so that every write wins,
// is stored and moves its index entry; and entries whose writes are all
// stale, which read the items and store only the cursor.
func BenchmarkApplyRemote(b *testing.B) {
	base := time.Now().UnixMilli()
	entries := func(n int) []LogEntry {
		es := make([]LogEntry, benchRounds)
		for r := range es {
			for _, item := range benchItems(r, n) {
				es[r].Changes = append(es[r].Changes, Change{Table: "music", Key: keyAttrs(musicTable().Key, item), New: item})
			}
		}
		return es
	}
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("won/changes=%d", n), func(b *testing.B) {
			db := benchDB(b)
			es := entries(n)
			seq := uint64(0)
			b.ReportAllocs()
			for b.Loop() {
				seq++
				e := es[seq%benchRounds]
				e.Seq, e.Version = seq, Version{TS: hlc.Make(base+int64(seq), 0), Origin: "b"}
				if _, err := db.ApplyRemote("b", "inc", []LogEntry{e}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("stale/changes=10", func(b *testing.B) {
		db := benchDB(b)
		es := entries(10)
		// The items are written here first, with versions later than
		// every replicated write below.
		for r := range es {
			for _, c := range es[r].Changes {
				if _, err := db.Write(putOps([]attr.Item{c.New}), WriteOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		}
		old := Version{TS: hlc.Make(base-time.Hour.Milliseconds(), 0), Origin: "b"}
		seq := uint64(0)
		b.ReportAllocs()
		for b.Loop() {
			seq++
			e := es[seq%benchRounds]
			e.Seq, e.Version = seq, old
			if _, err := db.ApplyRemote("b", "inc", []LogEntry{e}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// fieldClass says how a field of Table or Index takes part in replication.
type fieldClass int

const (
	// identity fields travel in schema entries but are fixed when the
	// table (or index) is made: a replica never adopts a change to them.
	identity fieldClass = iota + 1
	// definition fields travel, and a replica adopts them from an entry
	// with a later SchemaVersion: tableDefinition lists them.
	definition
	// replicaState fields travel and are merged otherwise: the replica list
	// entry by entry, SchemaVersion ordering the definition.
	replicaState
	// local fields are each region's own and never travel.
	local
)

// tableFields and indexFields classify every field of Table and Index.
// TestTableFieldsClassified fails when one is added without being
// classified here, and the tests below then check that the code treats it
// as classified: a definition field that tableDefinition forgets, or a
// local one that travels, fails them.
var (
	tableFields = map[string]fieldClass{
		"Name": identity, "Key": identity,
		"Attributes": definition, "Indexes": definition, "BillingMode": definition, "Provisioned": definition,
		"Stream": definition, "TTL": definition, "DeletionProtection": definition, "TableClass": definition,
		"Replicas": replicaState, "SchemaVersion": replicaState,
		"ID": local, "Created": local, "Status": local, "UUID": local, "Tags": local,
	}
	indexFields = map[string]fieldClass{
		"Name": identity, "Local": identity, "Key": identity, "Projection": identity,
		"Provisioned": definition,
		"ID":          local, "Status": local,
	}
)

func TestTableFieldsClassified(t *testing.T) {
	for _, c := range []struct {
		typ     reflect.Type
		classes map[string]fieldClass
	}{{reflect.TypeFor[Table](), tableFields}, {reflect.TypeFor[Index](), indexFields}} {
		seen := map[string]bool{}
		for f := range c.typ.Fields() {
			seen[f.Name] = true
			if _, ok := c.classes[f.Name]; !ok {
				t.Errorf("%s.%s is not classified: say in global_test.go whether every replica of a global table shares it (then add it to tableDefinition or indexDefinition) or each region has its own", c.typ.Name(), f.Name)
			}
		}
		for name := range c.classes {
			if !seen[name] {
				t.Errorf("%s has no field %s, which global_test.go classifies", c.typ.Name(), name)
			}
		}
	}
}

// filledTable returns a Table whose every field, down to those of its one
// index, holds a value that is not zero and follows from seed, with bool
// fields set to truth.
func filledTable(seed string, truth bool) *Table {
	t := &Table{}
	fill(reflect.ValueOf(t).Elem(), seed, truth)
	return t
}

func fill(v reflect.Value, seed string, truth bool) {
	n := uint64(1)
	for _, c := range seed {
		n = n*31 + uint64(c)
	}
	n = n%1000 + 1
	switch v.Kind() {
	case reflect.String:
		v.SetString(seed)
	case reflect.Bool:
		v.SetBool(truth)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(n)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), seed, truth)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), seed+"[0]", truth)
	case reflect.Map:
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, seed+".key", truth)
		fill(e, seed+".value", truth)
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(k, e)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(int64(n), 0).UTC()))
			return
		}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fill(v.Field(i), seed+"."+f.Name, truth)
			}
		}
	default:
		panic("fill: no value for a " + v.Kind().String())
	}
}

// TestSchemaEntryCarriesTheDefinition encodes a table with every field set
// into a schema entry and decodes it: what travels comes out the same, and
// what is local does not come out at all.
func TestSchemaEntryCarriesTheDefinition(t *testing.T) {
	in := filledTable("in", true)
	enc, err := LogEntry{Seq: 1, Version: Version{TS: 1, Origin: "a"}, Schema: in}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	e, err := DecodeLogEntry(enc)
	if err != nil {
		t.Fatal(err)
	}
	out := e.Schema
	check := func(what string, classes map[string]fieldClass, want, got reflect.Value) {
		for name, class := range classes {
			if what == "Table" && name == "Indexes" {
				continue // compared field by field below
			}
			w, g := want.FieldByName(name), got.FieldByName(name)
			switch {
			case class == local && !g.IsZero():
				t.Errorf("%s.%s is local but travels: %v came out of the schema entry", what, name, g)
			case class != local && !reflect.DeepEqual(w.Interface(), g.Interface()):
				t.Errorf("%s.%s is shared by every replica but the schema entry carried %v as %v", what, name, w, g)
			}
		}
	}
	check("Table", tableFields, reflect.ValueOf(*in), reflect.ValueOf(*out))
	if len(out.Indexes) != 1 {
		t.Fatalf("the schema entry carried %d indexes, want 1", len(out.Indexes))
	}
	check("Index", indexFields, reflect.ValueOf(in.Indexes[0]), reflect.ValueOf(out.Indexes[0]))
}

// TestAdoptDefinitionTakesEveryDefinitionField adopts the definition of
// another region's copy of a table, which differs from this region's in
// every field but the identity: every definition field comes from theirs,
// every other from this region's.
func TestAdoptDefinitionTakesEveryDefinitionField(t *testing.T) {
	mine, theirs := filledTable("mine", true), filledTable("theirs", false)
	copyIdentity := func(classes map[string]fieldClass, from, to reflect.Value) {
		for name, class := range classes {
			if class == identity {
				to.FieldByName(name).Set(from.FieldByName(name))
			}
		}
	}
	mine.Indexes[0].Local = false // a global index: a local one never changes
	copyIdentity(tableFields, reflect.ValueOf(mine).Elem(), reflect.ValueOf(theirs).Elem())
	copyIdentity(indexFields, reflect.ValueOf(&mine.Indexes[0]).Elem(), reflect.ValueOf(&theirs.Indexes[0]).Elem())
	c := mine.clone()
	dropped, added := c.adoptDefinition(theirs, func() uint32 { t.Fatal("adopting the same index gave it a new id"); return 0 })
	if dropped != nil || added != nil {
		t.Fatalf("adopting the same index dropped %v and added %v", dropped, added)
	}
	check := func(what string, classes map[string]fieldClass, mine, theirs, got reflect.Value) {
		for name, class := range classes {
			if what == "Table" && name == "Indexes" {
				continue
			}
			want, from := mine.FieldByName(name), "this region's"
			if class == definition {
				want, from = theirs.FieldByName(name), "the adopted"
			}
			if g := got.FieldByName(name); !reflect.DeepEqual(g.Interface(), want.Interface()) {
				t.Errorf("after adopting a definition %s.%s = %v, want %s %v", what, name, g, from, want)
			}
		}
	}
	check("Table", tableFields, reflect.ValueOf(*mine), reflect.ValueOf(*theirs), reflect.ValueOf(*c))
	if len(c.Indexes) != 1 {
		t.Fatalf("after adopting a definition the table has %d indexes, want 1", len(c.Indexes))
	}
	check("Index", indexFields, reflect.ValueOf(mine.Indexes[0]), reflect.ValueOf(theirs.Indexes[0]), reflect.ValueOf(c.Indexes[0]))
}

// TestAdoptDefinitionIndexes adopts definitions that drop, add and remake
// indexes: a global index the definition lacks is dropped, one it adds is
// CREATING with a new id, one remade under its old name with another key is
// dropped and added again, and local indexes stay as they are.
func TestAdoptDefinitionIndexes(t *testing.T) {
	gsi := func(name, key string) Index {
		return Index{Name: name, Key: KeySchema{Hash: KeyAttr{key, attr.String}}, Projection: Projection{Type: ProjectAll}}
	}
	lsi := Index{Name: "lsi", Local: true, Key: KeySchema{Hash: KeyAttr{"artist", attr.String}, Range: KeyAttr{"x", attr.String}}, Projection: Projection{Type: ProjectAll}}
	mine := musicTable()
	mine.Indexes = []Index{lsi, gsi("kept", "k"), gsi("gone", "g"), gsi("remade", "r")}
	for i := range mine.Indexes {
		mine.Indexes[i].ID, mine.Indexes[i].Status = uint32(10+i), StatusActive
	}
	theirs := musicTable()
	theirs.Indexes = []Index{gsi("remade", "r2"), gsi("kept", "k"), gsi("new", "n")}
	theirs.Indexes[1].Provisioned = &Throughput{Read: 3, Write: 4}
	next := uint32(100)
	c := mine.clone()
	dropped, added := c.adoptDefinition(theirs, func() uint32 { next++; return next })
	var names []string
	for _, ix := range dropped {
		names = append(names, ix.Name)
	}
	if got := fmt.Sprint(names, added); got != "[gone remade] [remade new]" {
		t.Errorf("dropped and added %s, want [gone remade] [remade new]", got)
	}
	var got []string
	for _, ix := range c.Indexes {
		got = append(got, fmt.Sprintf("%s:%d:%s:%s:%v", ix.Name, ix.ID, ix.Status, ix.Key.Hash.Name, ix.Provisioned))
	}
	want := "[lsi:10:ACTIVE:artist:<nil> kept:11:ACTIVE:k:&{3 4} remade:101:CREATING:r2:<nil> new:102:CREATING:n:<nil>]"
	if fmt.Sprint(got) != want {
		t.Errorf("indexes after adopting\n%v\nwant\n%s", got, want)
	}
}

// TestCloneIsDeep changes everything a clone of a table reaches, in place:
// the original must not change.
func TestCloneIsDeep(t *testing.T) {
	orig := filledTable("orig", true)
	c := orig.clone()
	if !reflect.DeepEqual(orig, c) {
		t.Fatalf("clone %+v differs from the original %+v", c, orig)
	}
	mutate(reflect.ValueOf(c).Elem())
	if want := filledTable("orig", true); !reflect.DeepEqual(orig, want) {
		t.Errorf("changing a clone changed the original: %+v, was %+v", orig, want)
	}
}

// mutate changes every value reachable from v in place.
func mutate(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "'")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Pointer:
		if !v.IsNil() {
			mutate(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			mutate(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			mutate(e)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Second)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				mutate(v.Field(i))
			}
		}
	}
}

// schemaEntryJSON is the schema entry's form of the table in
// TestSchemaEntryFormat, as regions running earlier versions of Gyre write
// and read it: it must not change.
const schemaEntryJSON = `{"name":"music","key":{"hash":{"name":"artist","type":1},"range":{"name":"n","type":2}},` +
	`"attributes":[{"name":"artist","type":1},{"name":"n","type":2},{"name":"genre","type":1}],` +
	`"indexes":[{"name":"by-genre","key":{"hash":{"name":"genre","type":1},"range":{"name":"n","type":2}},"projection":{"type":"KEYS_ONLY"},"provisioned":{"read":1,"write":2}},` +
	`{"name":"l","local":true,"key":{"hash":{"name":"artist","type":1},"range":{"name":"x","type":3}},"projection":{"type":"INCLUDE","non_key_attributes":["q"]}}],` +
	`"billing_mode":"PAY_PER_REQUEST","provisioned":{"read":3,"write":4},"stream":{"enabled":true,"view_type":"KEYS_ONLY","label":"lbl"},` +
	`"ttl":{"enabled":true,"attribute":"exp"},"deletion_protection":true,"table_class":"STANDARD",` +
	`"replicas":[{"region":"a","status":"ACTIVE","version":{"ts":5,"origin":"a"}},{"region":"b","status":"CREATING","version":{"ts":6,"origin":"b"}}],` +
	`"schema_version":{"ts":9,"origin":"a"}}`

func TestSchemaEntryFormat(t *testing.T) {
	tb := musicTable()
	tb.ID, tb.UUID, tb.Created, tb.Status = 7, "u", time.Unix(5, 0), StatusActive
	tb.Indexes[0].ID, tb.Indexes[0].Status, tb.Indexes[0].Provisioned = 8, StatusActive, &Throughput{Read: 1, Write: 2}
	tb.Indexes = append(tb.Indexes, Index{Name: "l", Local: true, Key: KeySchema{Hash: KeyAttr{"artist", attr.String}, Range: KeyAttr{"x", attr.Binary}},
		Projection: Projection{Type: ProjectInclude, NonKeyAttributes: []string{"q"}}})
	tb.Provisioned = &Throughput{Read: 3, Write: 4}
	tb.Stream, tb.TTL = StreamSpec{Enabled: true, ViewType: "KEYS_ONLY", Label: "lbl"}, TTLSpec{Enabled: true, Attribute: "exp"}
	tb.DeletionProtection, tb.TableClass, tb.Tags = true, "STANDARD", map[string]string{"a": "b"}
	tb.Replicas = []Replica{{Region: "a", Status: StatusActive, Version: Version{TS: 5, Origin: "a"}}, {Region: "b", Status: StatusCreating, Version: Version{TS: 6, Origin: "b"}}}
	tb.SchemaVersion = Version{TS: 9, Origin: "a"}
	js, err := tb.marshalReplicated()
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != schemaEntryJSON {
		t.Errorf("schema entry\n%s\nwant\n%s", js, schemaEntryJSON)
	}
}

// TestAppliedWritesReachTheSeam applies replicated writes and checks what
// DB.applied, where streams will be fed them, is given: each winning write
// with the item it replaced here (also one an earlier write of the same
// batch made), the TTL flag, and nothing for stale writes.
func TestAppliedWritesReachTheSeam(t *testing.T) {
	db := openMem(t, nil)
	if _, err := db.CreateTable(musicTable()); err != nil {
		t.Fatal(err)
	}
	var got []string
	db.applied = func(cs []Change) {
		for _, c := range cs {
			got = append(got, fmt.Sprintf("%s n=%s old=%s new=%s expiry=%v", c.Table, c.Key["n"].Str, c.Old["genre"].Str, c.New["genre"].Str, c.Expiry))
		}
	}
	item := func(n, genre string) attr.Item {
		return attr.Item{"artist": attr.S("a"), "n": attr.N(n), "genre": attr.S(genre)}
	}
	put(t, db, "music", item("1", "rock"))
	now := time.Now().UnixMilli()
	version := func(ms int64) Version { return Version{TS: hlc.Make(ms, 0), Origin: "b"} }
	change := func(it attr.Item, del bool) Change {
		c := Change{Table: "music", Key: keyAttrs(musicTable().Key, it), New: it}
		if del {
			c.New, c.Expiry = nil, true
		}
		return c
	}
	entries := []LogEntry{
		{Seq: 1, Version: version(now + 1000), Changes: []Change{change(item("1", "jazz"), false), change(item("2", "pop"), false)}},
		{Seq: 2, Version: version(now - 60_000), Changes: []Change{change(item("3", "stale"), false)}},
		{Seq: 3, Version: version(now + 2000), Changes: []Change{change(item("2", "pop"), true)}},
	}
	put(t, db, "music", item("3", "newer"))
	if _, err := db.ApplyRemote("b", "inc", entries); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"music n=1 old=rock new=jazz expiry=false",
		"music n=2 old= new=pop expiry=false",
		"music n=2 old=pop new= expiry=true",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the seam was given\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
