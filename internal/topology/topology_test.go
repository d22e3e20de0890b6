package topology

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const exampleFile = "../../examples/gyre.yaml"

func TestDefault(t *testing.T) {
	top := Default()
	if err := top.Validate(); err != nil {
		t.Fatalf("Default() does not validate: %v", err)
	}
	wantRegions := []Region{
		{Name: "us-east-1", DynamoDB: "127.0.0.1:8001", Admin: "127.0.0.1:9001", Public: "127.0.1.1:8080", PublicHTTPS: "127.0.1.1:8443", Control: "127.0.0.1:7001", Location: "virginia"},
		{Name: "us-west-2", DynamoDB: "127.0.0.1:8002", Admin: "127.0.0.1:9002", Public: "127.0.2.1:8080", PublicHTTPS: "127.0.2.1:8443", Control: "127.0.0.1:7002", Location: "oregon"},
		{Name: "eu-west-1", DynamoDB: "127.0.0.1:8003", Admin: "127.0.0.1:9003", Public: "127.0.3.1:8080", PublicHTTPS: "127.0.3.1:8443", Control: "127.0.0.1:7003", Location: "dublin"},
	}
	if top.DataDir != "./gyre-data" || top.Credentials != (Credentials{AccessKey: "gyre", SecretKey: "gyregyregyre"}) ||
		top.AdminToken != "gyre-admin" || !reflect.DeepEqual(top.Regions, wantRegions) || top.Tables != nil {
		t.Errorf("Default() =\n%s", top.YAML())
	}
	rt := top.Routing
	if rt.Zone != "gyre.test" || rt.DNS != "127.0.0.1:8053" || rt.FrontDoor != "127.0.0.1:8080" || rt.FrontDoorHTTPS != "127.0.0.1:8443" || rt.Location != "virginia" {
		t.Errorf("routing defaults: %+v", rt)
	}
	if len(rt.HealthChecks) != 3 || !reflect.DeepEqual(rt.HealthChecks[1], HealthCheck{ID: "us-west-2", Type: "HTTP", Region: "us-west-2", Target: "127.0.2.1:8080", Path: "/health", Interval: time.Second, FailureThreshold: 3, HealthyFraction: 0.18}) {
		t.Errorf("default health checks: %+v", rt.HealthChecks)
	}
	if len(rt.RecordSets) != 1 || rt.RecordSets[0].Name != "api" || rt.RecordSets[0].Policy != "latency" ||
		!reflect.DeepEqual(rt.RecordSets[0].Records[2], Record{ID: "eu-west-1", Region: "eu-west-1", Values: []string{"127.0.3.1"}, HealthCheck: "eu-west-1"}) {
		t.Errorf("default record sets: %+v", rt.RecordSets)
	}
	if len(rt.Controls.Rules) != 1 || rt.Controls.Rules[0].MinOn != 1 || len(rt.Controls.Rules[0].Controls) != 3 {
		t.Errorf("default control rules: %+v", rt.Controls.Rules)
	}
	// Each call returns a topology of its own.
	top.Regions[0].Name = "changed"
	if Default().Regions[0].Name != "us-east-1" {
		t.Error("changing one Default() changed the next")
	}
}

func TestParseEmptyIsDefault(t *testing.T) {
	for _, in := range []string{"", "\n", "# only a comment\n", "---\n"} {
		top, err := Parse([]byte(in))
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if !reflect.DeepEqual(top, Default()) {
			t.Errorf("Parse(%q) =\n%s\nwant Default()", in, top.YAML())
		}
	}
}

func TestDefaultsFillUnsetFields(t *testing.T) {
	top, err := Parse([]byte(`
regions:
  - name: ap-south-1
  - name: sa-east-1
    dynamodb: 127.0.0.1:0
tables:
  - name: things
    partition_key: {name: id}
    global_secondary_indexes:
      - name: by-owner
        partition_key: {name: owner}
wan:
  default_jitter: 3ms
  links:
    - between: [ap-south-1, sa-east-1]
`))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"data_dir", top.DataDir, DefaultDataDir},
		{"access_key", top.Credentials.AccessKey, DevAccessKey},
		{"secret_key", top.Credentials.SecretKey, DevSecretKey},
		{"admin_token", top.AdminToken, DevAdminToken},
		{"regions[0].dynamodb", top.Regions[0].DynamoDB, "127.0.0.1:8001"},
		{"regions[0].admin", top.Regions[0].Admin, "127.0.0.1:9001"},
		{"regions[1].dynamodb", top.Regions[1].DynamoDB, "127.0.0.1:0"},
		{"regions[1].admin", top.Regions[1].Admin, "127.0.0.1:9002"},
		{"partition_key.type", top.Tables[0].PartitionKey.Type, KeyString},
		{"sort_key", top.Tables[0].SortKey, KeyAttribute{}},
		{"replicas", top.Tables[0].Replicas, []string{"ap-south-1", "sa-east-1"}},
		{"gsi partition_key.type", top.Tables[0].GlobalSecondaryIndexes[0].PartitionKey.Type, KeyString},
		{"gsi projection", top.Tables[0].GlobalSecondaryIndexes[0].Projection, ProjectionAll},
		{"link latency", top.WAN.Links[0].Latency, (*time.Duration)(nil)},
		{"link jitter", top.WAN.Links[0].Jitter, (*time.Duration)(nil)},
		{"default_jitter", *top.WAN.DefaultJitter, 3 * time.Millisecond},
		{"wan.disabled", top.WAN.Disabled, false},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
		}
	}
}

// TestEveryProblemReported feeds files with many problems each and expects
// every one of them reported, at its path and line.
func TestEveryProblemReported(t *testing.T) {
	type want struct {
		line int
		path string
		msg  string // a part of the message
	}
	tests := []struct {
		name string
		yaml string
		want []want
	}{{
		name: "regions",
		yaml: `
regions:
  - name: us-east-1
    dynamodb: 127.0.0.1:8001
    admin: 127.0.0.1:9001
  - name: us-east-1
    dynamodb: 127.0.0.1:8001
    admin: localhost
  - name: US_West
    dynamodb: "127.0.0.1:99999"
    admin: 127.0.0.1:9001
  - name: ""
    dynamodb: "bad host:80"
    admin: 127.0.0.1:0
    clock_skew: -2s
  - name: eu-west-1
    dynamodb: 127.0.0.1:0
    admin: 127.0.0.1:http
`,
		want: []want{
			{6, "regions[1].name", `region "us-east-1" is already defined at regions[0]`},
			{7, "regions[1].dynamodb", "address 127.0.0.1:8001 is already used by regions[0].dynamodb"},
			{8, "regions[1].admin", `address "localhost" is not host:port`},
			{9, "regions[2].name", `region name "US_West" may have only lowercase letters, digits and hyphens`},
			{10, "regions[2].dynamodb", `port "99999" is not a number from 0 to 65535`},
			{11, "regions[2].admin", "address 127.0.0.1:9001 is already used by regions[0].admin"},
			{12, "regions[3].name", "must not be empty"},
			{13, "regions[3].dynamodb", `"bad host" is neither an IP address nor a host name`},
			{18, "regions[4].admin", `port "http" is not a number`},
		},
	}, {
		name: "tables",
		yaml: `
regions:
  - name: a
  - name: b
tables:
  - name: ok-table
    partition_key: {name: pk, type: S}
    sort_key: {name: pk, type: S}
    replicas: [a, c, a]
  - name: ok-table
    partition_key: {name: id, type: X}
  - name: "no spaces"
    partition_key: {name: id, type: N}
    sort_key: {type: N}
  - name: ab
    partition_key: {type: S}
    replicas: ["", b]
    global_secondary_indexes:
      - name: idx
        partition_key: {name: g, type: B}
        projection: INCLUDE
      - name: idx
        partition_key: {name: g, type: S}
        projection: KEYS_ONLY
        non_key_attributes: [x]
      - name: ix3
        partition_key: {name: h, type: S}
        sort_key: {name: h, type: S}
        projection: INCLUDE
        non_key_attributes: [x, x]
      - name: ix4
        partition_key: {name: k, type: S}
        projection: SOME
`,
		want: []want{
			{8, "tables[0].sort_key.name", `the sort key must differ from the partition key, both are "pk"`},
			{9, "tables[0].replicas[1]", `no region named "c" (the regions are a, b)`},
			{9, "tables[0].replicas[2]", `region "a" is listed twice`},
			{10, "tables[1].name", `table "ok-table" is already defined at tables[0]`},
			{11, "tables[1].partition_key.type", `key type "X" is not S, N or B`},
			{12, "tables[2].name", `table name "no spaces" may have only letters, digits, '_', '-' and '.'`},
			{14, "tables[2].sort_key.name", "must not be empty"},
			{15, "tables[3].name", `table name "ab" must be 3 to 255 characters long`},
			{16, "tables[3].partition_key.name", "must not be empty"},
			{17, "tables[3].replicas[0]", "must not be empty"},
			{19, "tables[3].global_secondary_indexes[0].non_key_attributes", "an INCLUDE projection needs at least one attribute"},
			{22, "tables[3].global_secondary_indexes[1].name", `index "idx" is already defined at tables[3].global_secondary_indexes[0]`},
			{23, "tables[3].global_secondary_indexes[1].partition_key.type", `attribute "g" is S here but B in tables[3].global_secondary_indexes[0].partition_key`},
			{25, "tables[3].global_secondary_indexes[1].non_key_attributes", "only an INCLUDE projection lists non-key attributes; this one is KEYS_ONLY"},
			{28, "tables[3].global_secondary_indexes[2].sort_key.name", "the sort key must differ from the partition key"},
			{30, "tables[3].global_secondary_indexes[2].non_key_attributes[1]", `attribute "x" is listed twice`},
			{33, "tables[3].global_secondary_indexes[3].projection", `projection "SOME" is not ALL, KEYS_ONLY or INCLUDE`},
		},
	}, {
		name: "duplicate index names",
		yaml: `
tables:
  - name: orders
    partition_key: {name: pk}
    global_secondary_indexes:
      - name: by-x
        partition_key: {name: x}
      - name: by-x
        partition_key: {name: y}
`,
		want: []want{
			{8, "tables[0].global_secondary_indexes[1].name", `index "by-x" is already defined at tables[0].global_secondary_indexes[0]`},
		},
	}, {
		name: "wan",
		yaml: `
regions:
  - name: a
  - name: b
  - name: c
wan:
  default_jitter: -1ms
  links:
    - between: [a, a]
    - between: [a, b]
      latency: -40ms
      jitter: -1s
    - between: [b, a]
      latency: 1s
    - between: [a, z]
    - between: [a, b, c]
    - between: [c]
`,
		want: []want{
			{7, "wan.default_jitter", "-1ms must not be negative"},
			{9, "wan.links[0].between", `a link joins two different regions; both are "a"`},
			{11, "wan.links[1].latency", "-40ms must not be negative"},
			{12, "wan.links[1].jitter", "-1s must not be negative"},
			{13, "wan.links[2].between", "b and a are already joined by wan.links[1]"},
			{15, "wan.links[3].between[1]", `no region named "z"`},
			{16, "wan.links[4].between", "a link joins exactly two regions, not 3"},
			{17, "wan.links[5].between", "a link joins exactly two regions, not 1"},
		},
	}, {
		name: "credentials",
		yaml: `
data_dir: ""
credentials:
  access_key: "my/key"
admin_token: "two words"
`,
		want: []want{
			{4, "credentials.access_key", `access key "my/key" must not contain "/" or whitespace`},
			{5, "admin_token", "the admin token must not contain whitespace"},
		},
	}, {
		name: "decoding",
		yaml: `
data_dir: ./d
credentail:
  access_key: x
regions:
  - name: a
    dynamo_db: 127.0.0.1:1
    clock_skew: 5
  - name: b
    clock_skew: 1 minute
  - name: c
    admin: [127.0.0.1:1]
  - just-a-name
tables:
  - name: t1t
    partition_key: pk
    replicas: a
    replicas: [a]
wan:
  disabled: maybe
  links: {between: [a, b]}
`,
		want: []want{
			{3, "credentail", `unknown key "credentail" (did you mean "credentials"?)`},
			{7, "regions[0].dynamo_db", `unknown key "dynamo_db" (did you mean "dynamodb"?)`},
			{8, "regions[0].clock_skew", "duration 5 needs a unit, e.g. 5ms or 5s"},
			{10, "regions[1].clock_skew", `"1 minute" is not a duration`},
			{12, "regions[2].admin", "want a single value, not a list"},
			{13, "regions[3]", `want keys and values (a mapping), not "just-a-name"`},
			{16, "tables[0].partition_key", `want keys and values (a mapping), not "pk"`},
			{17, "tables[0].replicas", `want a list, not "a"`},
			{18, "tables[0].replicas", `key "replicas" is repeated (first at line 17)`},
			{20, "wan.disabled", `want true or false, not "maybe"`},
			{21, "wan.links", "want a list, not a mapping"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			got := problemsOf(t, err)
			for _, w := range tt.want {
				found := false
				for _, p := range got {
					if p.Path == w.path && p.Line == w.line && strings.Contains(p.Msg, w.msg) {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("want problem line %d: %s: ...%s..., not among:\n%s", w.line, w.path, w.msg, err)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%s", len(got), len(tt.want), err)
			}
		})
	}
}

func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want problems")
	}
	e, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("got %T (%v), want *Error", err, err)
	}
	return e.Problems
}

func TestUnknownKeyHasLine(t *testing.T) {
	_, err := Parse([]byte("data_dir: ./x\nregions:\n  - name: a\n    dynamodbb: 127.0.0.1:1\n"))
	ps := problemsOf(t, err)
	want := Problem{Path: "regions[0].dynamodbb", Line: 4, Msg: `unknown key "dynamodbb" (did you mean "dynamodb"?)`}
	if len(ps) != 1 || ps[0] != want {
		t.Fatalf("got %v, want [%v]", ps, want)
	}
	if got, want := err.Error(), `topology: line 4: regions[0].dynamodbb: unknown key "dynamodbb" (did you mean "dynamodb"?)`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}

	// Far from every key, the known ones are listed.
	_, err = Parse([]byte("wan:\n  frobnicate: true\n"))
	if ps := problemsOf(t, err); !strings.Contains(ps[0].Msg, "(known keys: default_jitter, disabled, links)") || ps[0].Line != 2 {
		t.Errorf("got %v, want the known keys listed at line 2", ps)
	}
}

func TestUnreadableYAML(t *testing.T) {
	tests := []struct {
		yaml string
		line int
		msg  string
	}{
		{"regions:\n  - name: a\n   dynamodb: x\n", 1, "did not find expected '-' indicator"},
		{"data_dir: a\n---\ndata_dir: b\n", 2, "one YAML document"},
		{"- a\n- b\n", 1, "want keys and values (a mapping), not a list"},
	}
	for _, tt := range tests {
		ps := problemsOf(t, func() error { _, err := Parse([]byte(tt.yaml)); return err }())
		if len(ps) != 1 || ps[0].Line != tt.line || !strings.Contains(ps[0].Msg, tt.msg) {
			t.Errorf("Parse(%q): got %v, want one problem at line %d containing %q", tt.yaml, ps, tt.line, tt.msg)
		}
	}
}

func TestAnchorsAndMerges(t *testing.T) {
	top, err := Parse([]byte(`
regions: [{name: a}, {name: b}]
tables:
  - &base
    name: one
    partition_key: {name: pk, type: S}
    replicas: [a]
  - <<: *base
    name: two
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := top.Tables[1]; got.Name != "two" || got.PartitionKey.Name != "pk" || !reflect.DeepEqual(got.Replicas, []string{"a"}) {
		t.Errorf("merged table = %+v", got)
	}

	_, err = Parse([]byte("base: &b {bogus: 1}\n"))
	if ps := problemsOf(t, err); ps[0].Path != "base" {
		t.Errorf("got %v, want unknown key base", ps)
	}
	_, err = Parse([]byte("regions:\n  - &r {name: a, bogus: 1}\n  - <<: *r\n    name: b\n"))
	if ps := problemsOf(t, err); len(ps) == 0 || ps[0].Path != "regions[0].bogus" || ps[0].Line != 2 {
		t.Errorf("got %v, want unknown key regions[0].bogus at line 2", ps)
	}
}

func TestEphemeralPortsMayRepeat(t *testing.T) {
	_, err := Parse([]byte(`
regions:
  - {name: a, dynamodb: "127.0.0.1:0", admin: "127.0.0.1:0"}
  - {name: b, dynamodb: "127.0.0.1:0", admin: "[::1]:0"}
  - {name: c, dynamodb: "[::1]:8001", admin: "gyre-c.internal:9001"}
  - {name: d, dynamodb: ":8002", admin: "GYRE-C.internal:9001"}
`))
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Path != "regions[3].admin" {
		t.Errorf("got %v, want only regions[3].admin, a host name in other case", ps)
	}
}

func TestExampleLoads(t *testing.T) {
	top, err := Load(exampleFile)
	if err != nil {
		t.Fatalf("Load(%s): %v", exampleFile, err)
	}
	if got, want := top.RegionNames(), []string{"us-east-1", "us-west-2", "eu-west-1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("regions = %v, want %v", got, want)
	}
	if len(top.Tables) != 3 {
		t.Fatalf("%d tables, want 3", len(top.Tables))
	}
	if len(top.Apps) != 1 || top.Apps[0].Name != "notes" || top.App.Auth != AppAuthNone {
		t.Errorf("apps = %+v, app = %+v", top.Apps, top.App)
	}
	if got, want := top.Tables[0].Replicas, top.RegionNames(); !reflect.DeepEqual(got, want) {
		t.Errorf("orders replicas = %v, want every region %v", got, want)
	}
	if got := top.Tables[1].Replicas; len(got) != 2 {
		t.Errorf("sessions replicas = %v, want two regions", got)
	}
	l, ok := top.WAN.LinkBetween("eu-west-1", "us-east-1")
	if !ok || l.Latency == nil || *l.Latency != 30*time.Millisecond || *l.Jitter != 5*time.Millisecond {
		t.Errorf("link us-east-1 eu-west-1 = %+v, %v", l, ok)
	}
	if l, ok := top.WAN.LinkBetween("us-west-2", "eu-west-1"); !ok || l.Latency != nil || *l.Jitter != 10*time.Millisecond {
		t.Errorf("link us-west-2 eu-west-1 = %+v, %v; want built-in latency and 10ms jitter", l, ok)
	}
	if r, _ := top.Region("us-west-2"); r.ClockSkew != 150*time.Millisecond {
		t.Errorf("us-west-2 clock skew = %v", r.ClockSkew)
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gyre.yaml")
	if err := os.WriteFile(path, []byte("regions:\n  - name: A\n  - name: b\n    admin: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := "topology: 2 problems in " + path + ":\n\t" +
		path + `:2: regions[0].name: region name "A" may have only lowercase letters, digits and hyphens` + "\n\t" +
		path + `:4: regions[1].admin: address "x" is not host:port (e.g. 127.0.0.1:8001)`
	if err == nil || err.Error() != want {
		t.Errorf("Load: got\n%v\nwant\n%s", err, want)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want os.ErrNotExist", err)
	}
}

func TestRoundTrip(t *testing.T) {
	example, err := Load(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	zero, skew := time.Duration(0), -1500*time.Millisecond
	odd := &Topology{
		DataDir:     "/var/lib/gyre data",
		Credentials: Credentials{AccessKey: "123", SecretKey: "yes: no # not a comment"},
		AdminToken:  "true",
		Regions: []Region{
			{Name: "r1", DynamoDB: "[::1]:8001", Admin: "127.0.0.1:0", ClockSkew: skew},
			{Name: "2", DynamoDB: "localhost:8002", Admin: "127.0.0.1:0"},
		},
		Tables: []Table{{
			Name:         "t.1_x-y",
			PartitionKey: KeyAttribute{Name: "null", Type: KeyBinary},
			SortKey:      KeyAttribute{Name: "~", Type: KeyNumber},
			Replicas:     []string{"2"},
			GlobalSecondaryIndexes: []Index{{
				Name: "ix1", PartitionKey: KeyAttribute{Name: "a b", Type: KeyString},
				Projection: ProjectionInclude, NonKeyAttributes: []string{"#c", "- d"},
			}},
			TTLAttribute: "ttl",
		}},
		WAN: WAN{Disabled: true, DefaultJitter: &zero, Links: []Link{
			{Between: []string{"r1", "2"}, Latency: &zero, Jitter: &zero},
		}},
	}
	odd.EnsureDefaults()
	for name, top := range map[string]*Topology{"default": Default(), "example": example, "odd": odd} {
		t.Run(name, func(t *testing.T) {
			if err := top.Validate(); err != nil {
				t.Fatalf("the topology is not valid: %v", err)
			}
			out, err := Marshal(top)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(out)
			if err != nil {
				t.Fatalf("Parse(Marshal(t)): %v\n%s", err, out)
			}
			if !reflect.DeepEqual(back, top) {
				t.Errorf("Parse(Marshal(t)) != t; printed:\n%s\nread back:\n%s", out, back.YAML())
			}
		})
	}
}

func TestMarshalShape(t *testing.T) {
	top, err := Parse([]byte(`
regions: [{name: a}, {name: b}]
tables:
  - name: orders
    partition_key: {name: pk, type: S}
apps:
  - {name: notes, command: python3 app.py, tables: [orders], env: {DEBUG: "1"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := `data_dir: ./gyre-data
credentials:
  access_key: gyre
  secret_key: gyregyregyre
admin_token: gyre-admin
regions:
  - name: a
    dynamodb: 127.0.0.1:8001
    admin: 127.0.0.1:9001
    clock_skew: 0s
    public: 127.0.1.1:8080
    public_https: 127.0.1.1:8443
    control: 127.0.0.1:7001
  - name: b
    dynamodb: 127.0.0.1:8002
    admin: 127.0.0.1:9002
    clock_skew: 0s
    public: 127.0.2.1:8080
    public_https: 127.0.2.1:8443
    control: 127.0.0.1:7002
tables:
  - name: orders
    partition_key: {name: pk, type: S}
    replicas: [a, b]
wan:
  disabled: false
  links: []
routing:
  zone: gyre.test
  dns: 127.0.0.1:8053
  front_door: 127.0.0.1:8080
  front_door_https: 127.0.0.1:8443
  admin: 127.0.0.1:9000
  location: virginia
  latency_mode: table
  health_checks:
    - id: a
      type: HTTP
      region: a
      target: 127.0.1.1:8080
      path: /health
      interval: 1s
      failure_threshold: 3
      healthy_fraction: 0.18
    - id: b
      type: HTTP
      region: b
      target: 127.0.2.1:8080
      path: /health
      interval: 1s
      failure_threshold: 3
      healthy_fraction: 0.18
    - id: notes-a
      type: HTTP
      region: a
      target: 127.0.1.1:8080
      path: /notes/health
      interval: 1s
      failure_threshold: 3
      healthy_fraction: 0.18
    - id: notes-b
      type: HTTP
      region: b
      target: 127.0.2.1:8080
      path: /notes/health
      interval: 1s
      failure_threshold: 3
      healthy_fraction: 0.18
  record_sets:
    - name: api
      type: A
      ttl: 5s
      policy: latency
      records:
        - id: a
          region: a
          values: [127.0.1.1]
          health_check: a
        - id: b
          region: b
          values: [127.0.2.1]
          health_check: b
    - name: notes
      type: A
      ttl: 5s
      policy: latency
      records:
        - id: a
          region: a
          values: [127.0.1.1]
          health_check: notes-a
        - id: b
          region: b
          values: [127.0.2.1]
          health_check: notes-b
  locations: []
  networks: []
  controls:
    panel: default
    rules:
      - name: at-least-one-region
        type: assertion
        controls: [a, b]
        min_on: 1
primary_region: a
app:
  disabled: false
  auth: none
  table_prefix: app-
apps:
  - name: notes
    command: python3 app.py
    regions: [a, b]
    tables: [orders]
    env:
      DEBUG: "1"
    port: 0
    health_path: /health
    path: /notes
    host: notes.gyre.test
tls:
  disabled: false
`
	if got := top.YAML(); got != want {
		t.Errorf("YAML() =\n%s\nwant\n%s", got, want)
	}
}

func TestRedacted(t *testing.T) {
	top := Default()
	r := top.Redacted()
	if r.Credentials.SecretKey != RedactedValue || r.AdminToken != RedactedValue {
		t.Errorf("Redacted() kept secrets: %q, %q", r.Credentials.SecretKey, r.AdminToken)
	}
	if r.Credentials.AccessKey != DevAccessKey {
		t.Errorf("Redacted() access key = %q, want it kept", r.Credentials.AccessKey)
	}
	if top.Credentials.SecretKey != DevSecretKey || top.AdminToken != DevAdminToken {
		t.Error("Redacted() changed the original")
	}
	if strings.Contains(r.YAML(), DevSecretKey) {
		t.Errorf("redacted YAML shows the secret key:\n%s", r.YAML())
	}
}

func TestCloneIsDeep(t *testing.T) {
	top, err := Load(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	c := top.Clone()
	if !reflect.DeepEqual(c, top) {
		t.Fatal("Clone() differs from the original")
	}
	c.Regions[0].Name = "x"
	c.Tables[0].Replicas[0] = "x"
	c.Tables[1].GlobalSecondaryIndexes[0].NonKeyAttributes[0] = "x"
	c.WAN.Links[0].Between[0] = "x"
	*c.WAN.Links[0].Latency = time.Hour
	c.Apps[0].Regions[0] = "x"
	c.Apps[0].Tables[0] = "x"
	c.Apps[0].Env["NOTES_GREETING"] = "x"
	again, _ := Load(exampleFile)
	if !reflect.DeepEqual(top, again) {
		t.Error("changing a clone changed the original")
	}
}

func TestHelpers(t *testing.T) {
	top := Default()
	top.DataDir = "/data"

	r, ok := top.Region("us-west-2")
	if !ok || r.DynamoDB != "127.0.0.1:8002" {
		t.Errorf("Region(us-west-2) = %+v, %v", r, ok)
	}
	r.ClockSkew = time.Second
	if top.Regions[1].ClockSkew != time.Second {
		t.Error("Region does not point into the topology")
	}
	if _, ok := top.Region("mars-1"); ok {
		t.Error("Region(mars-1) found a region")
	}
	if got := top.DataDirFor("eu-west-1"); got != filepath.Join("/data", "eu-west-1") {
		t.Errorf("DataDirFor = %q", got)
	}
	var peers []string
	for _, p := range top.Peers("us-west-2") {
		peers = append(peers, p.Name)
	}
	if want := []string{"us-east-1", "eu-west-1"}; !reflect.DeepEqual(peers, want) {
		t.Errorf("Peers(us-west-2) = %v, want %v", peers, want)
	}

	example, _ := Load(exampleFile)
	var names []string
	for _, tb := range example.TablesIn("eu-west-1") {
		names = append(names, tb.Name)
	}
	if want := []string{"orders", "notes"}; !reflect.DeepEqual(names, want) {
		t.Errorf("TablesIn(eu-west-1) = %v, want %v", names, want)
	}
	if _, ok := example.WAN.LinkBetween("us-east-1", "us-west-2"); ok {
		t.Error("LinkBetween found a link the file does not have")
	}
}

func TestWANPair(t *testing.T) {
	ms := func(n int) *time.Duration { d := time.Duration(n) * time.Millisecond; return &d }
	w := WAN{
		DefaultJitter: ms(2),
		Links: []Link{
			{Between: []string{"a", "b"}, Latency: ms(40), Jitter: ms(5)},
			{Between: []string{"a", "c"}, Latency: ms(0)},
			{Between: []string{"b", "c"}, Jitter: ms(9)},
		},
	}
	tests := []struct {
		a, b            string
		latency, jitter *time.Duration
	}{
		{"b", "a", ms(40), ms(5)},
		{"a", "c", ms(0), ms(2)},
		{"c", "b", nil, ms(9)},
		{"a", "d", nil, ms(2)},
	}
	for _, tt := range tests {
		l, j := w.Pair(tt.a, tt.b)
		if !reflect.DeepEqual(l, tt.latency) || !reflect.DeepEqual(j, tt.jitter) {
			t.Errorf("Pair(%s, %s) = %v, %v; want %v, %v", tt.a, tt.b, l, j, tt.latency, tt.jitter)
		}
	}
	w.DefaultJitter = nil
	if l, j := w.Pair("a", "d"); l != nil || j != nil {
		t.Errorf("Pair of an unlisted pair, no default jitter = %v, %v; want built-in (nil, nil)", l, j)
	}
	*w.Links[0].Latency = 40 * time.Millisecond
	l, _ := w.Pair("a", "b")
	*l = 0
	if *w.Links[0].Latency != 40*time.Millisecond {
		t.Error("changing what Pair returned changed the link")
	}
	w.Disabled = true
	if l, j := w.Pair("a", "b"); *l != 0 || *j != 0 {
		t.Errorf("Pair on a disabled WAN = %v, %v; want 0, 0", *l, *j)
	}
}

func TestApply(t *testing.T) {
	top := Default()
	err := top.Apply(Overrides{
		DataDir:    "/tmp/g",
		AccessKey:  "AKID",
		SecretKey:  "s3cret",
		AdminToken: "tok",
		ClockSkew:  map[string]time.Duration{"eu-west-1": -time.Second},
		DisableWAN: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := top.Region("eu-west-1")
	if top.DataDir != "/tmp/g" || top.Credentials != (Credentials{"AKID", "s3cret"}) || top.AdminToken != "tok" ||
		r.ClockSkew != -time.Second || !top.WAN.Disabled {
		t.Errorf("Apply left %s", top.YAML())
	}

	top = Default()
	err = top.Apply(Overrides{AccessKey: "a/b", ClockSkew: map[string]time.Duration{"mars-1": 0, "venus-1": 0}})
	ps := problemsOf(t, err)
	var paths []string
	for _, p := range ps {
		paths = append(paths, p.Path)
	}
	if want := []string{"overrides.clock_skew.mars-1", "overrides.clock_skew.venus-1", "credentials.access_key"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("Apply problems at %v, want %v", paths, want)
	}
}

func TestValidateWithoutDefaults(t *testing.T) {
	ps := problemsOf(t, (&Topology{Tables: []Table{{Name: "abc", PartitionKey: KeyAttribute{Name: "pk"}}}}).Validate())
	var paths []string
	for _, p := range ps {
		if p.Line != 0 {
			t.Errorf("%v has a line though no file was read", p)
		}
		paths = append(paths, p.Path)
	}
	want := []string{"data_dir", "credentials.access_key", "credentials.secret_key", "admin_token", "regions",
		"tables[0].partition_key.type", "tables[0].replicas",
		"routing.zone", "routing.dns", "routing.front_door", "routing.front_door_https", "routing.admin", "routing.latency_mode", "routing.location",
		"app.auth"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("problems at %v, want %v", paths, want)
	}
}

func TestAliasBombIsBounded(t *testing.T) {
	// Each use of an alias is checked again: 200 tables of 200 indexes of
	// 200 attributes would be 8 million values from a file of 3 kB.
	const k = 200
	refs := func(name string) string { return "[" + strings.Repeat("*"+name+", ", k-1) + "*" + name + "]" }
	doc := "x-s: &s a\n" +
		"x-g: &g {name: idx, partition_key: {name: g}, projection: INCLUDE, non_key_attributes: " + refs("s") + "}\n" +
		"x-t: &t {name: tbl, partition_key: {name: pk}, global_secondary_indexes: " + refs("g") + "}\n" +
		"tables: " + refs("t") + "\n"
	start := time.Now()
	_, err := Parse([]byte(doc))
	ps := problemsOf(t, err)
	if !strings.Contains(ps[len(ps)-1].Msg, "too many values") {
		t.Errorf("got %v, want too many values", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Parse of an alias bomb took %v", d)
	}
}
