package dynamo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/store"
)

// Wire shapes of the table operations.

type attributeDefinition struct {
	AttributeName string
	AttributeType string
}

type keySchemaElement struct {
	AttributeName string
	KeyType       string
}

type projection struct {
	ProjectionType   string   `json:",omitempty"`
	NonKeyAttributes []string `json:",omitempty"`
}

type provisionedThroughput struct {
	ReadCapacityUnits  *int64 `json:",omitempty"`
	WriteCapacityUnits *int64 `json:",omitempty"`
}

type indexSpec struct {
	IndexName             string
	KeySchema             []keySchemaElement
	Projection            *projection
	ProvisionedThroughput *provisionedThroughput
}

type streamSpecification struct {
	StreamEnabled  *bool
	StreamViewType string `json:",omitempty"`
}

type tag struct {
	Key   string
	Value string
}

type createTableRequest struct {
	TableName                 string
	AttributeDefinitions      []attributeDefinition
	KeySchema                 []keySchemaElement
	LocalSecondaryIndexes     []indexSpec
	GlobalSecondaryIndexes    []indexSpec
	BillingMode               string
	ProvisionedThroughput     *provisionedThroughput
	StreamSpecification       *streamSpecification
	DeletionProtectionEnabled *bool
	TableClass                string
	Tags                      []tag
}

type throughputDescription struct {
	NumberOfDecreasesToday int64
	ReadCapacityUnits      int64
	WriteCapacityUnits     int64
}

type indexDescription struct {
	IndexName             string
	IndexArn              string
	KeySchema             []keySchemaElement
	Projection            projection
	IndexStatus           string                 `json:",omitempty"`
	Backfilling           *bool                  `json:",omitempty"`
	ProvisionedThroughput *throughputDescription `json:",omitempty"`
	IndexSizeBytes        int64
	ItemCount             int64
}

type billingModeSummary struct {
	BillingMode string
}

type tableClassSummary struct {
	TableClass string
}

type tableDescription struct {
	TableName                 string
	TableArn                  string
	TableId                   string
	TableStatus               string
	CreationDateTime          float64
	AttributeDefinitions      []attributeDefinition
	KeySchema                 []keySchemaElement
	ProvisionedThroughput     throughputDescription
	BillingModeSummary        *billingModeSummary `json:",omitempty"`
	TableSizeBytes            int64
	ItemCount                 int64
	LocalSecondaryIndexes     []indexDescription   `json:",omitempty"`
	GlobalSecondaryIndexes    []indexDescription   `json:",omitempty"`
	StreamSpecification       *streamSpecification `json:",omitempty"`
	LatestStreamLabel         string               `json:",omitempty"`
	LatestStreamArn           string               `json:",omitempty"`
	DeletionProtectionEnabled bool
	TableClassSummary         *tableClassSummary   `json:",omitempty"`
	Replicas                  []replicaDescription `json:",omitempty"`
	GlobalTableVersion        string               `json:",omitempty"`
}

// DynamoDB's limits on table and index definitions.
const (
	maxGSIs = 20
	maxLSIs = 5
)

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// checkName validates a table or index name as DynamoDB does.
func checkName(name, member string) error {
	switch {
	case len(name) < 3:
		return validationErr("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to 3", name, member)
	case len(name) > 255:
		return validationErr("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to 255", name, member)
	case !namePattern.MatchString(name):
		return validationErr("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", name, member)
	}
	return nil
}

// keySchemaOf validates a KeySchema against the attribute definitions.
func keySchemaOf(elems []keySchemaElement, defs map[string]attr.Type, what string) (store.KeySchema, error) {
	var ks store.KeySchema
	if len(elems) == 0 || len(elems) > 2 {
		return ks, validationErr("1 validation error detected: Value '%d elements' at '%s' failed to satisfy constraint: Member must have length less than or equal to 2 and greater than or equal to 1", len(elems), what)
	}
	for i, e := range elems {
		t, ok := defs[e.AttributeName]
		if !ok {
			return ks, validationErr("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]", keyNames(elems), defNames(defs))
		}
		switch {
		case i == 0 && e.KeyType == "HASH":
			ks.Hash = store.KeyAttr{Name: e.AttributeName, Type: t}
		case i == 1 && e.KeyType == "RANGE":
			ks.Range = store.KeyAttr{Name: e.AttributeName, Type: t}
		case e.KeyType != "HASH" && e.KeyType != "RANGE":
			return ks, validationErr("1 validation error detected: Value '%s' at '%s.%d.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]", e.KeyType, what, i+1)
		case i == 0:
			return ks, validationErr("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
		default:
			return ks, validationErr("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
		}
	}
	if ks.Range.Name == ks.Hash.Name {
		return ks, validationErr("Invalid KeySchema: Some index key attribute have no definition")
	}
	return ks, nil
}

func keyNames(elems []keySchemaElement) string {
	names := make([]string, len(elems))
	for i, e := range elems {
		names[i] = e.AttributeName
	}
	return strings.Join(names, ", ")
}

func defNames(defs map[string]attr.Type) string {
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// attributeDefs validates AttributeDefinitions.
func attributeDefs(defs []attributeDefinition) (map[string]attr.Type, []store.KeyAttr, error) {
	m := map[string]attr.Type{}
	var list []store.KeyAttr
	for _, d := range defs {
		t, ok := attr.ParseType(d.AttributeType)
		if !ok || !t.IsScalarKey() {
			return nil, nil, validationErr("1 validation error detected: Value '%s' at 'attributeDefinitions.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]", d.AttributeType)
		}
		if _, dup := m[d.AttributeName]; dup {
			return nil, nil, validationErr("Cannot have two attributes with the same name. AttributeDefinitions: [%s]", d.AttributeName)
		}
		m[d.AttributeName] = t
		list = append(list, store.KeyAttr{Name: d.AttributeName, Type: t})
	}
	return m, list, nil
}

// projectionOf validates an index's Projection.
func projectionOf(p *projection, index string) (store.Projection, error) {
	if p == nil || p.ProjectionType == "" {
		return store.Projection{}, validationErr("One or more parameter values were invalid: Projection type must be specified for index %s", index)
	}
	switch t := store.ProjectionType(p.ProjectionType); t {
	case store.ProjectAll, store.ProjectKeysOnly:
		if len(p.NonKeyAttributes) > 0 {
			return store.Projection{}, validationErr("One or more parameter values were invalid: ProjectionType is %s, but NonKeyAttributes is specified", t)
		}
		return store.Projection{Type: t}, nil
	case store.ProjectInclude:
		if len(p.NonKeyAttributes) == 0 {
			return store.Projection{}, validationErr("One or more parameter values were invalid: NonKeyAttributes must be specified for INCLUDE projection type")
		}
		return store.Projection{Type: t, NonKeyAttributes: p.NonKeyAttributes}, nil
	}
	return store.Projection{}, validationErr("1 validation error detected: Value '%s' at 'projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]", p.ProjectionType)
}

// billing validates BillingMode and ProvisionedThroughput together.
func billing(mode string, pt *provisionedThroughput, what string) (string, *store.Throughput, error) {
	if mode == "" {
		mode = "PROVISIONED"
	}
	switch mode {
	case "PAY_PER_REQUEST":
		if pt != nil && (pt.ReadCapacityUnits != nil || pt.WriteCapacityUnits != nil) {
			return "", nil, validationErr("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
		return mode, nil, nil
	case "PROVISIONED":
		if pt == nil || pt.ReadCapacityUnits == nil || pt.WriteCapacityUnits == nil {
			return "", nil, validationErr("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
		}
		if *pt.ReadCapacityUnits < 1 || *pt.WriteCapacityUnits < 1 {
			return "", nil, validationErr("One or more parameter values were invalid: Provisioned throughput for %s must be at least 1 read and 1 write capacity unit", what)
		}
		return mode, &store.Throughput{Read: *pt.ReadCapacityUnits, Write: *pt.WriteCapacityUnits}, nil
	}
	return "", nil, validationErr("1 validation error detected: Value '%s' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", mode)
}

func streamSpecOf(s *streamSpecification) (store.StreamSpec, error) {
	if s == nil || s.StreamEnabled == nil {
		return store.StreamSpec{}, nil
	}
	if !*s.StreamEnabled {
		if s.StreamViewType != "" {
			return store.StreamSpec{}, validationErr("One or more parameter values were invalid: StreamViewType cannot be specified when StreamEnabled is false")
		}
		return store.StreamSpec{}, nil
	}
	switch s.StreamViewType {
	case "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES":
	case "":
		return store.StreamSpec{}, validationErr("One or more parameter values were invalid: You must specify a StreamViewType when enabling a stream")
	default:
		return store.StreamSpec{}, validationErr("1 validation error detected: Value '%s' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]", s.StreamViewType)
	}
	return store.StreamSpec{Enabled: true, ViewType: s.StreamViewType, Label: streamLabel(time.Now())}, nil
}

// streamLabel is DynamoDB's stream label: the enabling time to the
// millisecond.
func streamLabel(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000")
}

func (s *Server) createTable(_ context.Context, body []byte) (any, error) {
	var req createTableRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if err := checkName(req.TableName, "tableName"); err != nil {
		return nil, err
	}
	defs, defList, err := attributeDefs(req.AttributeDefinitions)
	if err != nil {
		return nil, err
	}
	key, err := keySchemaOf(req.KeySchema, defs, "keySchema")
	if err != nil {
		return nil, err
	}
	mode, pt, err := billing(req.BillingMode, req.ProvisionedThroughput, "table")
	if err != nil {
		return nil, err
	}
	t := &store.Table{
		Name: req.TableName, Key: key, Attributes: defList, BillingMode: mode, Provisioned: pt,
		TableClass: req.TableClass, UUID: newUUID(),
	}
	if t.TableClass == "" {
		t.TableClass = "STANDARD"
	}
	if req.DeletionProtectionEnabled != nil {
		t.DeletionProtection = *req.DeletionProtectionEnabled
	}
	if t.Stream, err = streamSpecOf(req.StreamSpecification); err != nil {
		return nil, err
	}
	if len(req.GlobalSecondaryIndexes) > maxGSIs {
		return nil, limitExceeded("One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of %d", maxGSIs)
	}
	if len(req.LocalSecondaryIndexes) > maxLSIs {
		return nil, validationErr("One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of %d", maxLSIs)
	}
	used := map[string]bool{}
	for _, n := range key.Names() {
		used[n] = true
	}
	for _, spec := range req.LocalSecondaryIndexes {
		ix, err := indexOf(spec, defs, mode, true)
		if err != nil {
			return nil, err
		}
		if !key.HasRange() {
			return nil, validationErr("One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
		}
		if ix.Key.Hash != key.Hash || !ix.Key.HasRange() {
			return nil, validationErr("One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: %s. index hash key: %s, table hash key: %s", ix.Name, ix.Key.Hash.Name, key.Hash.Name)
		}
		t.Indexes = append(t.Indexes, ix)
	}
	for _, spec := range req.GlobalSecondaryIndexes {
		ix, err := indexOf(spec, defs, mode, false)
		if err != nil {
			return nil, err
		}
		t.Indexes = append(t.Indexes, ix)
	}
	for i, ix := range t.Indexes {
		for _, other := range t.Indexes[:i] {
			if other.Name == ix.Name {
				return nil, validationErr("One or more parameter values were invalid: Duplicate index name: %s", ix.Name)
			}
		}
		for _, n := range ix.Key.Names() {
			used[n] = true
		}
	}
	if len(used) != len(defs) {
		var usedNames []string
		for n := range used {
			usedNames = append(usedNames, n)
		}
		slices.Sort(usedNames)
		return nil, validationErr("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	if len(req.Tags) > 0 {
		t.Tags = map[string]string{}
		for _, tg := range req.Tags {
			t.Tags[tg.Key] = tg.Value
		}
	}
	created, err := s.db.CreateTable(t)
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": s.describe(created, store.Stats{}, nil)}, nil
}

// indexOf validates one secondary index specification.
func indexOf(spec indexSpec, defs map[string]attr.Type, mode string, local bool) (store.Index, error) {
	member := "globalSecondaryIndexes"
	if local {
		member = "localSecondaryIndexes"
	}
	if err := checkName(spec.IndexName, member+".member.indexName"); err != nil {
		return store.Index{}, err
	}
	ks, err := keySchemaOf(spec.KeySchema, defs, member+".member.keySchema")
	if err != nil {
		return store.Index{}, err
	}
	proj, err := projectionOf(spec.Projection, spec.IndexName)
	if err != nil {
		return store.Index{}, err
	}
	ix := store.Index{Name: spec.IndexName, Local: local, Key: ks, Projection: proj}
	if !local {
		switch {
		case mode == "PROVISIONED" && spec.ProvisionedThroughput == nil:
			return ix, validationErr("One or more parameter values were invalid: ProvisionedThroughput must be specified for index: %s", spec.IndexName)
		case mode == "PROVISIONED":
			_, pt, err := billing(mode, spec.ProvisionedThroughput, "index "+spec.IndexName)
			if err != nil {
				return ix, err
			}
			ix.Provisioned = pt
		case spec.ProvisionedThroughput != nil && (spec.ProvisionedThroughput.ReadCapacityUnits != nil || spec.ProvisionedThroughput.WriteCapacityUnits != nil):
			return ix, validationErr("One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: %s when BillingMode is PAY_PER_REQUEST", spec.IndexName)
		}
	}
	return ix, nil
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (s *Server) tableArn(name string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", s.opts.Region, s.opts.AccountID, name)
}

// describe builds a TableDescription.
func (s *Server) describe(t *store.Table, stats store.Stats, ixStats map[string]store.Stats) tableDescription {
	d := tableDescription{
		TableName:                 t.Name,
		TableArn:                  s.tableArn(t.Name),
		TableId:                   t.UUID,
		TableStatus:               string(t.Status),
		CreationDateTime:          float64(t.Created.UnixMilli()) / 1000,
		KeySchema:                 keySchemaWire(t.Key),
		TableSizeBytes:            stats.Bytes,
		ItemCount:                 stats.Items,
		DeletionProtectionEnabled: t.DeletionProtection,
		BillingModeSummary:        &billingModeSummary{BillingMode: t.BillingMode},
	}
	if t.TableClass != "" {
		d.TableClassSummary = &tableClassSummary{TableClass: t.TableClass}
	}
	if t.Global() {
		d.GlobalTableVersion = globalTableVersion
		d.Replicas = s.replicaDescriptions(t)
	}
	for _, a := range t.Attributes {
		d.AttributeDefinitions = append(d.AttributeDefinitions, attributeDefinition{AttributeName: a.Name, AttributeType: a.Type.String()})
	}
	if t.Provisioned != nil {
		d.ProvisionedThroughput = throughputDescription{ReadCapacityUnits: t.Provisioned.Read, WriteCapacityUnits: t.Provisioned.Write}
	}
	for _, ix := range t.Indexes {
		id := indexDescription{
			IndexName:      ix.Name,
			IndexArn:       s.tableArn(t.Name) + "/index/" + ix.Name,
			KeySchema:      keySchemaWire(ix.Key),
			Projection:     projection{ProjectionType: string(ix.Projection.Type), NonKeyAttributes: ix.Projection.NonKeyAttributes},
			IndexSizeBytes: ixStats[ix.Name].Bytes,
			ItemCount:      ixStats[ix.Name].Items,
		}
		if ix.Local {
			d.LocalSecondaryIndexes = append(d.LocalSecondaryIndexes, id)
			continue
		}
		id.IndexStatus = string(ix.Status)
		backfilling := ix.Status == store.StatusCreating
		if backfilling {
			id.Backfilling = &backfilling
		}
		id.ProvisionedThroughput = &throughputDescription{}
		if ix.Provisioned != nil {
			id.ProvisionedThroughput.ReadCapacityUnits = ix.Provisioned.Read
			id.ProvisionedThroughput.WriteCapacityUnits = ix.Provisioned.Write
		}
		d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes, id)
	}
	if t.Stream.Enabled {
		enabled := true
		d.StreamSpecification = &streamSpecification{StreamEnabled: &enabled, StreamViewType: t.Stream.ViewType}
	}
	if t.Stream.Label != "" {
		d.LatestStreamLabel = t.Stream.Label
		d.LatestStreamArn = s.tableArn(t.Name) + "/stream/" + t.Stream.Label
	}
	return d
}

func keySchemaWire(ks store.KeySchema) []keySchemaElement {
	out := []keySchemaElement{{AttributeName: ks.Hash.Name, KeyType: "HASH"}}
	if ks.HasRange() {
		out = append(out, keySchemaElement{AttributeName: ks.Range.Name, KeyType: "RANGE"})
	}
	return out
}

type tableNameRequest struct {
	TableName string
}

// tableFor returns the named table, with DynamoDB's message when it does
// not exist.
func (s *Server) tableFor(name string) (*store.Table, error) {
	t, resolved, err := s.lookupTable(name)
	if errors.Is(err, store.ErrTableNotFound) {
		return nil, resourceNotFound("Requested resource not found: Table: %s not found", resolved)
	}
	return t, err
}

// lookupTable returns the table a TableName parameter names, and the name
// it resolved to: DynamoDB also takes a table's ARN where it takes its
// name. A missing table is store's error, for the caller to word.
func (s *Server) lookupTable(name string) (*store.Table, string, error) {
	if name == "" {
		return nil, name, validationErr("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	if strings.HasPrefix(name, "arn:") {
		prefix := s.tableArn("")
		if !strings.HasPrefix(name, prefix) || strings.Contains(name[len(prefix):], "/") {
			return nil, name, validationErr("Invalid TableName: %s is not the ARN of a table in %s", name, s.opts.Region)
		}
		name = name[len(prefix):]
	}
	t, err := s.db.Table(name)
	if err != nil {
		return nil, name, err
	}
	return t, name, nil
}

// itemTable returns the named table for an item operation, which names a
// missing table less specifically than the table operations do.
//
// A replica still being backfilled in this region is not found yet, as in
// DynamoDB: its items are incomplete.
func (s *Server) itemTable(name string) (*store.Table, error) {
	t, _, err := s.lookupTable(name)
	switch {
	case errors.Is(err, store.ErrTableNotFound):
		return nil, resourceNotFound("Requested resource not found")
	case err != nil:
		return nil, err
	case t.Status == store.StatusCreating:
		return nil, resourceNotFound("Requested resource not found: Table: %s is being created in this region", name)
	}
	return t, nil
}

func (s *Server) describeTable(_ context.Context, body []byte) (any, error) {
	var req tableNameRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	t, err := s.tableFor(req.TableName)
	if err != nil {
		return nil, err
	}
	stats, ixStats, err := s.db.Stats(t)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Table": s.describe(t, stats, ixStats)}, nil
}

func (s *Server) deleteTable(_ context.Context, body []byte) (any, error) {
	var req tableNameRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	t, err := s.tableFor(req.TableName)
	if err != nil {
		return nil, err
	}
	if t.DeletionProtection {
		return nil, validationErr("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
	}
	stats, ixStats, err := s.db.Stats(t)
	if err != nil {
		return nil, err
	}
	gone, err := s.db.DeleteTable(req.TableName)
	if err != nil {
		if errors.Is(err, store.ErrTableNotFound) {
			return nil, resourceNotFound("Requested resource not found: Table: %s not found", req.TableName)
		}
		return nil, err
	}
	return map[string]any{"TableDescription": s.describe(gone, stats, ixStats)}, nil
}

type listTablesRequest struct {
	ExclusiveStartTableName string
	Limit                   *int
}

func (s *Server) listTables(_ context.Context, body []byte) (any, error) {
	var req listTablesRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	limit := 100
	if req.Limit != nil {
		if *req.Limit < 1 || *req.Limit > 100 {
			return nil, validationErr("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100 and greater than or equal to 1", *req.Limit)
		}
		limit = *req.Limit
	}
	names := s.db.TableNames()
	start := 0
	if req.ExclusiveStartTableName != "" {
		start, _ = slices.BinarySearch(names, req.ExclusiveStartTableName)
		if start < len(names) && names[start] == req.ExclusiveStartTableName {
			start++
		}
	}
	page := names[start:]
	resp := map[string]any{}
	if len(page) > limit {
		page = page[:limit]
		resp["LastEvaluatedTableName"] = page[limit-1]
	}
	resp["TableNames"] = append([]string{}, page...)
	return resp, nil
}

type globalSecondaryIndexUpdate struct {
	Create *indexSpec
	Delete *struct{ IndexName string }
	Update *struct {
		IndexName             string
		ProvisionedThroughput *provisionedThroughput
	}
}

type updateTableRequest struct {
	TableName                   string
	AttributeDefinitions        []attributeDefinition
	BillingMode                 string
	ProvisionedThroughput       *provisionedThroughput
	GlobalSecondaryIndexUpdates []globalSecondaryIndexUpdate
	StreamSpecification         *streamSpecification
	DeletionProtectionEnabled   *bool
	TableClass                  string
	ReplicaUpdates              []replicaUpdate
}

// updateTable checks the whole request against the table before it applies
// any of it, so that a refused UpdateTable changes nothing.
func (s *Server) updateTable(_ context.Context, body []byte) (any, error) {
	var req updateTableRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	t, err := s.tableFor(req.TableName)
	if err != nil {
		return nil, err
	}
	u, err := s.planTableUpdate(t, &req)
	if err != nil {
		return nil, err
	}
	updated, err := s.applyTableUpdate(t, u)
	if err != nil {
		return nil, err
	}
	stats, ixStats, err := s.db.Stats(updated)
	if err != nil {
		return nil, err
	}
	d := s.describe(updated, stats, ixStats)
	markCreating(&d, u.creates)
	return map[string]any{"TableDescription": d}, nil
}

// tableUpdate is a checked UpdateTable: everything it changes, found valid
// against the table before any of it is applied, so that a refused request
// changes nothing.
type tableUpdate struct {
	replicas []replicaAction
	// mode is the billing mode the table will have, which its indexes'
	// throughput is checked against.
	mode string
	// setBilling is whether the request changes the billing mode or the
	// provisioned throughput; throughput is the table's new one.
	setBilling bool
	throughput *store.Throughput
	// stream is the stream to enable or disable; nil leaves it alone.
	stream             *store.StreamSpec
	deletionProtection *bool
	tableClass         string // "": unchanged
	creates            []indexCreate
	deletes            []string
	// indexThroughput holds the new throughput of global indexes by name.
	indexThroughput map[string]*store.Throughput
}

// indexCreate is a checked global index creation.
type indexCreate struct {
	ix store.Index
	// defs are the definitions of the index's key attributes.
	defs []store.KeyAttr
}

// planTableUpdate checks the whole of an UpdateTable against t, in
// DynamoDB's order, and returns what to do without changing anything.
func (s *Server) planTableUpdate(t *store.Table, req *updateTableRequest) (*tableUpdate, error) {
	u := &tableUpdate{mode: t.BillingMode, deletionProtection: req.DeletionProtectionEnabled, tableClass: req.TableClass}
	var err error
	if len(req.ReplicaUpdates) > 0 {
		if u.replicas, err = s.planReplicaUpdates(t, req.ReplicaUpdates); err != nil {
			return nil, err
		}
	}
	if len(req.GlobalSecondaryIndexUpdates) > 1 {
		return nil, limitExceeded("Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
	}
	if req.BillingMode != "" || req.ProvisionedThroughput != nil {
		mode := req.BillingMode
		if mode == "" {
			mode = t.BillingMode
		}
		if u.mode, u.throughput, err = billing(mode, req.ProvisionedThroughput, "table"); err != nil {
			return nil, err
		}
		u.setBilling = true
	}
	if u.stream, err = s.planStream(t, req.StreamSpecification); err != nil {
		return nil, err
	}
	for _, gu := range req.GlobalSecondaryIndexUpdates {
		if err := u.planIndexUpdate(t, gu, req.AttributeDefinitions); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// planStream checks a StreamSpecification against t's stream and returns
// the stream to set, or nil when the request leaves the stream alone.
func (s *Server) planStream(t *store.Table, spec *streamSpecification) (*store.StreamSpec, error) {
	stream, err := streamSpecOf(spec)
	if err != nil {
		return nil, err
	}
	if spec == nil || spec.StreamEnabled == nil {
		return nil, nil
	}
	switch {
	case stream.Enabled && t.Stream.Enabled:
		return nil, validationErr("Table already has an enabled stream: %s", s.tableArn(t.Name)+"/stream/"+t.Stream.Label)
	case !stream.Enabled && !t.Stream.Enabled:
		return nil, validationErr("Table already has no enabled stream")
	}
	return &stream, nil
}

// planIndexUpdate checks one GlobalSecondaryIndexUpdate against t and adds
// it to u. defs are the request's AttributeDefinitions.
func (u *tableUpdate) planIndexUpdate(t *store.Table, gu globalSecondaryIndexUpdate, defs []attributeDefinition) error {
	switch {
	case gu.Create != nil:
		c, err := planIndexCreate(t, *gu.Create, defs, u.mode)
		if err != nil {
			return err
		}
		u.creates = append(u.creates, c)
	case gu.Delete != nil:
		if err := checkGlobalIndex(t, gu.Delete.IndexName); err != nil {
			return err
		}
		u.deletes = append(u.deletes, gu.Delete.IndexName)
	case gu.Update != nil:
		if err := checkGlobalIndex(t, gu.Update.IndexName); err != nil {
			return err
		}
		if gu.Update.ProvisionedThroughput != nil {
			_, pt, err := billing(u.mode, gu.Update.ProvisionedThroughput, "index "+gu.Update.IndexName)
			if err != nil {
				return err
			}
			if u.indexThroughput == nil {
				u.indexThroughput = map[string]*store.Throughput{}
			}
			u.indexThroughput[gu.Update.IndexName] = pt
		}
	default:
		return validationErr("One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Create, Update or Delete must be specified")
	}
	return nil
}

// checkGlobalIndex refuses to change an index t does not have as a global
// one.
func checkGlobalIndex(t *store.Table, name string) error {
	if ix := t.Index(name); ix == nil || ix.Local {
		return resourceNotFound("Requested resource not found: Requested index: %s not found for table: %s", name, t.Name)
	}
	return nil
}

// planIndexCreate checks the creation of a global index on t, whose
// billing mode will be mode. defs are the request's AttributeDefinitions.
func planIndexCreate(t *store.Table, spec indexSpec, defs []attributeDefinition, mode string) (indexCreate, error) {
	known, err := indexAttributeTypes(t, defs)
	if err != nil {
		return indexCreate{}, err
	}
	ix, err := indexOf(spec, known, mode, false)
	if err != nil {
		return indexCreate{}, err
	}
	if len(t.Indexes) >= maxGSIs+maxLSIs {
		return indexCreate{}, limitExceeded("One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of %d", maxGSIs)
	}
	if t.Index(ix.Name) != nil {
		return indexCreate{}, validationErr("One or more parameter values were invalid: %s", "Index already exists")
	}
	for _, other := range t.Indexes {
		if other.Status != store.StatusActive {
			return indexCreate{}, limitExceeded("Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
		}
	}
	c := indexCreate{ix: ix}
	for _, n := range ix.Key.Names() {
		c.defs = append(c.defs, store.KeyAttr{Name: n, Type: known[n]})
	}
	return c, nil
}

// indexAttributeTypes merges a request's AttributeDefinitions with those of
// t, which the request may repeat but not contradict.
func indexAttributeTypes(t *store.Table, defs []attributeDefinition) (map[string]attr.Type, error) {
	known, _, err := attributeDefs(defs)
	if err != nil {
		return nil, err
	}
	for _, a := range t.Attributes {
		if _, ok := known[a.Name]; !ok {
			known[a.Name] = a.Type
		} else if known[a.Name] != a.Type {
			return nil, validationErr("One or more parameter values were invalid: Attribute %s is defined as %v but the table already defines it as %v", a.Name, known[a.Name], a.Type)
		}
	}
	return known, nil
}

// applyTableUpdate carries out a checked UpdateTable and returns the table
// as updated: the index change first (it is what a concurrent schema change
// can still refuse), then the replicas, then the settings.
func (s *Server) applyTableUpdate(t *store.Table, u *tableUpdate) (*store.Table, error) {
	for _, c := range u.creates {
		if _, err := s.db.CreateIndex(t.Name, c.ix, c.defs); err != nil {
			if errors.Is(err, store.ErrTableNotFound) {
				return nil, resourceNotFound("Requested resource not found: Table: %s not found", t.Name)
			}
			return nil, err
		}
	}
	for _, name := range u.deletes {
		if _, err := s.db.DeleteIndex(t.Name, name); err != nil {
			return nil, err
		}
	}
	if err := s.applyReplicaActions(t, u.replicas); err != nil {
		return nil, err
	}
	return s.db.UpdateTable(t.Name, u.applySettings)
}

// applySettings changes the table's settings as u says; it is
// store.DB.UpdateTable's function.
func (u *tableUpdate) applySettings(c *store.Table) error {
	if u.setBilling {
		c.BillingMode, c.Provisioned = u.mode, u.throughput
	}
	if u.stream != nil {
		if u.stream.Enabled {
			c.Stream = *u.stream
		} else {
			c.Stream.Enabled, c.Stream.ViewType = false, ""
		}
	}
	if u.deletionProtection != nil {
		c.DeletionProtection = *u.deletionProtection
	}
	if u.tableClass != "" {
		c.TableClass = u.tableClass
	}
	for name, pt := range u.indexThroughput {
		for i := range c.Indexes {
			if c.Indexes[i].Name == name {
				c.Indexes[i].Provisioned = pt
			}
		}
	}
	return nil
}

// markCreating shows the indexes an UpdateTable created as CREATING in its
// answer, as DynamoDB does, even if a small table's backfill has already
// finished.
func markCreating(d *tableDescription, creates []indexCreate) {
	for _, c := range creates {
		for i := range d.GlobalSecondaryIndexes {
			if id := &d.GlobalSecondaryIndexes[i]; id.IndexName == c.ix.Name {
				backfilling := true
				id.IndexStatus, id.Backfilling = string(store.StatusCreating), &backfilling
			}
		}
	}
}

type timeToLiveSpecification struct {
	Enabled       *bool
	AttributeName string
}

func (s *Server) updateTimeToLive(_ context.Context, body []byte) (any, error) {
	var req struct {
		TableName               string
		TimeToLiveSpecification *timeToLiveSpecification
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	spec := req.TimeToLiveSpecification
	if spec == nil || spec.Enabled == nil || spec.AttributeName == "" {
		return nil, validationErr("1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null")
	}
	if _, err := s.tableFor(req.TableName); err != nil {
		return nil, err
	}
	_, err := s.db.UpdateTable(req.TableName, func(t *store.Table) error {
		switch {
		case *spec.Enabled && t.TTL.Enabled:
			return validationErr("TimeToLive is already enabled")
		case !*spec.Enabled && !t.TTL.Enabled:
			return validationErr("TimeToLive is already disabled")
		case !*spec.Enabled && t.TTL.Attribute != spec.AttributeName:
			return validationErr("TimeToLive is active on a different AttributeName: current AttributeName is %s", t.TTL.Attribute)
		}
		t.TTL = store.TTLSpec{Enabled: *spec.Enabled, Attribute: spec.AttributeName}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"TimeToLiveSpecification": spec}, nil
}

func (s *Server) describeTimeToLive(_ context.Context, body []byte) (any, error) {
	var req tableNameRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	t, err := s.tableFor(req.TableName)
	if err != nil {
		return nil, err
	}
	desc := map[string]any{"TimeToLiveStatus": "DISABLED"}
	if t.TTL.Enabled {
		desc = map[string]any{"TimeToLiveStatus": "ENABLED", "AttributeName": t.TTL.Attribute}
	}
	return map[string]any{"TimeToLiveDescription": desc}, nil
}

func (s *Server) describeEndpoints(context.Context, []byte) (any, error) {
	return map[string]any{"Endpoints": []map[string]any{{"Address": "dynamodb." + s.opts.Region + ".gyre", "CachePeriodInMinutes": 1440}}}, nil
}

func (s *Server) describeLimits(context.Context, []byte) (any, error) {
	return map[string]any{
		"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
		"TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000,
	}, nil
}

// tableFromArn resolves a table ARN of this region.
func (s *Server) tableFromArn(arn string) (*store.Table, error) {
	prefix := s.tableArn("")
	if !strings.HasPrefix(arn, prefix) || strings.Contains(arn[len(prefix):], "/") {
		return nil, validationErr("Invalid TableArn: Invalid ResourceArn provided as input %s", arn)
	}
	t, err := s.db.Table(arn[len(prefix):])
	if err != nil {
		if errors.Is(err, store.ErrTableNotFound) {
			return nil, resourceNotFound("Requested resource not found: ResourcArn: %s not found", arn)
		}
		return nil, err
	}
	return t, nil
}

func (s *Server) tagResource(_ context.Context, body []byte) (any, error) {
	var req struct {
		ResourceArn string
		Tags        []tag
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	t, err := s.tableFromArn(req.ResourceArn)
	if err != nil {
		return nil, err
	}
	_, err = s.db.UpdateTable(t.Name, func(c *store.Table) error {
		if c.Tags == nil {
			c.Tags = map[string]string{}
		}
		for _, tg := range req.Tags {
			c.Tags[tg.Key] = tg.Value
		}
		return nil
	})
	return struct{}{}, err
}

func (s *Server) untagResource(_ context.Context, body []byte) (any, error) {
	var req struct {
		ResourceArn string
		TagKeys     []string
	}
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	t, err := s.tableFromArn(req.ResourceArn)
	if err != nil {
		return nil, err
	}
	_, err = s.db.UpdateTable(t.Name, func(c *store.Table) error {
		for _, k := range req.TagKeys {
			delete(c.Tags, k)
		}
		return nil
	})
	return struct{}{}, err
}

func (s *Server) listTagsOfResource(_ context.Context, body []byte) (any, error) {
	var req struct{ ResourceArn string }
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	t, err := s.tableFromArn(req.ResourceArn)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(t.Tags))
	for k := range t.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	tags := make([]tag, 0, len(keys))
	for _, k := range keys {
		tags = append(tags, tag{Key: k, Value: t.Tags[k]})
	}
	return map[string]any{"Tags": tags}, nil
}
