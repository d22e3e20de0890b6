package topology

import (
	"slices"
	"strings"
	"testing"
)

func TestAppProblems(t *testing.T) {
	_, err := Parse([]byte(`regions: [{name: a}, {name: b}]
primary_region: c
app:
  auth: iam
  table_prefix: "bad prefix"
tables:
  - {name: notes, partition_key: {name: k}, replicas: [a]}
apps:
  - {name: Notes, command: "x"}
  - {name: notes, command: ""}
  - {name: notes2, command: x, regions: [a, b, z, a], tables: [missing, notes]}
  - {name: shop, command: x, path: /data/shop, port: 70000, health_path: health, env: {"1BAD": x}}
  - {name: cart, command: x, path: /shop/}
  - {name: notes, command: x}
  - {name: cart2, command: x, path: /notes2/sub, host: notes.gyre.test}
`))
	want := []struct{ path, msg string }{
		{"primary_region", `no region named "c"`},
		{"app.auth", `auth "iam" is not none or sigv4`},
		{"app.table_prefix", "may have only"},
		{"apps[0].name", "must be a DNS label"},
		{"apps[1].command", "must not be empty"},
		{"apps[2].regions[2]", `no region named "z"`},
		{"apps[2].regions[3]", "listed twice"},
		{"apps[2].tables[0]", `no table named "missing"`},
		{"apps[2].tables[1]", "has no replica in b"},

		{"apps[3].path", "overlaps the reference app's paths"},
		{"apps[3].port", "0 to 65535"},
		{"apps[3].health_path", "must start with /"},
		{"apps[3].env.1BAD", "not an environment variable name"},
		{"apps[4].path", "must be /name"},
		{"apps[5].name", `app "notes" is already defined at apps[1]`},
		{"apps[6].path", "overlaps"},
		{"apps[6].host", "already"},
	}
	got := problemsOf(t, err)
	for _, w := range want {
		if !slices.ContainsFunc(got, func(p Problem) bool { return p.Path == w.path && strings.Contains(p.Msg, w.msg) }) {
			t.Errorf("want a problem at %s: ...%s..., not among:\n%s", w.path, w.msg, err)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), err)
	}
}

func TestAppTablesAreTheAppsOwn(t *testing.T) {
	_, err := Parse([]byte("tables: [{name: app-orders, partition_key: {name: k}}]\n"))
	if ps := problemsOf(t, err); len(ps) != 1 || ps[0].Path != "tables[0].name" || !strings.Contains(ps[0].Msg, "reference app's") {
		t.Errorf("a table named like the app's: %v", err)
	}
	if _, err := Parse([]byte("tables: [{name: app-orders, partition_key: {name: k}}]\napp: {table_prefix: demo-}\n")); err != nil {
		t.Errorf("with another prefix: %v", err)
	}
	if _, err := Parse([]byte("tables: [{name: app-orders, partition_key: {name: k}}]\napp: {disabled: true}\n")); err != nil {
		t.Errorf("with the app disabled: %v", err)
	}
}

func TestAppDefaults(t *testing.T) {
	top, err := Parse([]byte(`regions: [{name: a}, {name: b}, {name: c, public: "10.0.0.3:80"}]
tables: [{name: notes, partition_key: {name: id}}]
apps:
  - {name: notes, command: python3 app.py, tables: [notes], regions: [a, c]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if top.PrimaryRegion != "a" || top.App.Auth != AppAuthNone || top.App.Tables().Orders != "app-orders" {
		t.Errorf("defaults: primary %q, auth %q, orders table %q", top.PrimaryRegion, top.App.Auth, top.App.Tables().Orders)
	}
	if r, _ := top.Region("c"); r.PublicHTTPS != "10.0.0.3:8443" {
		t.Errorf("public_https of a region on 10.0.0.3:80 = %q, want 10.0.0.3:8443", r.PublicHTTPS)
	}
	a := top.Apps[0]
	if a.Path != "/notes" || a.Host != "notes.gyre.test" || a.HealthPath != "/health" || a.Port != 0 {
		t.Errorf("app defaults: %+v", a)
	}
	var checks []string
	for _, hc := range top.Routing.HealthChecks {
		if strings.HasPrefix(hc.ID, "notes-") {
			checks = append(checks, hc.ID+" "+hc.Target+hc.Path)
		}
	}
	if want := []string{"notes-a 127.0.1.1:8080/notes/health", "notes-c 10.0.0.3:80/notes/health"}; !slices.Equal(checks, want) {
		t.Errorf("the app's health checks are %v, want %v", checks, want)
	}
	i := slices.IndexFunc(top.Routing.RecordSets, func(rs RecordSet) bool { return rs.Name == "notes" })
	if i < 0 {
		t.Fatal("no record set for the app")
	}
	rs := top.Routing.RecordSets[i]
	if rs.Policy != "latency" || len(rs.Records) != 2 || rs.Records[1].Values[0] != "10.0.0.3" || rs.Records[1].HealthCheck != "notes-c" {
		t.Errorf("the app's record set: %+v", rs)
	}
	// The defaults are idempotent: printing and reading again gives the
	// same topology.
	again, err := Parse([]byte(top.YAML()))
	if err != nil {
		t.Fatal(err)
	}
	if again.YAML() != top.YAML() {
		t.Errorf("a printed topology reads back differently:\n%s\nvs\n%s", again.YAML(), top.YAML())
	}
}
