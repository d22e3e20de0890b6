package topology

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// App configures the reference application: the REST API of items and
// orders that Gyre serves in every region on the region's public endpoint,
// beside the DynamoDB API. It reaches its region's data only through the
// DynamoDB API, signed like any SDK client.
type App struct {
	// Disabled turns the reference application off: the public endpoints
	// then serve the DynamoDB API and a /health that reports only whether
	// the region is serving. Default false.
	Disabled bool `yaml:"disabled"`

	// Auth is how requests to the application are authenticated: none, or
	// sigv4, which requires a SigV4 signature for the service execute-api
	// scoped to the region that serves the request, or a SigV4a signature
	// whose region set covers it (one signature good in every region), as
	// API Gateway's IAM authorization does. GET /health is never
	// authenticated, so health checks keep working. Default none.
	Auth string `yaml:"auth"`

	// TablePrefix is put before the names of the application's tables
	// (items, customers, products and orders), to keep them apart from
	// tables of your own. Default app- (app-items, app-customers...).
	TablePrefix string `yaml:"table_prefix"`
}

// DefaultAppTablePrefix is the default of App.TablePrefix.
const DefaultAppTablePrefix = "app-"

// The values of App.Auth.
const (
	AppAuthNone  = "none"
	AppAuthSigV4 = "sigv4"
)

// AppTables are the names of the reference application's tables.
type AppTables struct {
	Items, Customers, Products, Orders string
}

// Tables returns the names of the reference application's tables, with the
// prefix.
func (a *App) Tables() AppTables {
	return AppTables{
		Items:     a.TablePrefix + "items",
		Customers: a.TablePrefix + "customers",
		Products:  a.TablePrefix + "products",
		Orders:    a.TablePrefix + "orders",
	}
}

// Names returns the table names of t in a fixed order.
func (t AppTables) Names() []string {
	return []string{t.Items, t.Customers, t.Products, t.Orders}
}

// appPaths are the paths the reference application serves; a user's app
// may not be routed under them.
var appPaths = []string{"/data", "/orders", "/fill", "/health"}

// UserApp is an application of your own, in any language, that Gyre runs
// in every region (or the regions listed), the way the reference
// application runs: it is started with its region's DynamoDB endpoint and
// credentials in its environment, restarted with backoff when it exits,
// health-checked, and reached through DNS (NAME.zone) and the front door
// (Host NAME.zone, or the path /NAME/...).
//
// Its environment: AWS_REGION and AWS_DEFAULT_REGION (the region),
// AWS_ENDPOINT_URL_DYNAMODB (the region's DynamoDB endpoint),
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the credentials), TABLE_NAME
// (its first table) and TABLE_NAMES (all of them, comma-separated), HOST and
// PORT (where it must listen), GYRE_APP, GYRE_REGION, GYRE_REGIONS (the
// regions it runs in), GYRE_PRIMARY_REGION and GYRE_IS_PRIMARY (true in the
// primary region only, where seeding and migrations should run), then Env.
type UserApp struct {
	// Name names the app: a DNS label (lowercase letters, digits and
	// hyphens, at most 63), unique. It is the app's DNS name under the zone
	// and its default path. Required.
	Name string `yaml:"name"`

	// Command starts one instance of the app; it is run by /bin/sh -c in
	// Dir, once per region. Required.
	Command string `yaml:"command"`

	// Dir is the working directory of the command; a relative path is
	// relative to the directory gyre runs in. Default: that directory.
	Dir string `yaml:"dir,omitempty"`

	// Regions are the regions the app runs in. Default (absent or empty):
	// every region.
	Regions []string `yaml:"regions,flow"`

	// Tables name tables of the tables section the app uses: TABLE_NAME is
	// the first, TABLE_NAMES all of them. Each must have a replica in every
	// region the app runs in. Optional.
	Tables []string `yaml:"tables,flow,omitempty"`

	// Env adds variables to the app's environment, over Gyre's. Optional.
	Env map[string]string `yaml:"env,omitempty"`

	// Port is the port the app listens on, on its region's public IP
	// (HOST). Default 0: a free port, chosen at each start.
	Port int `yaml:"port"`

	// HealthPath is the app's health endpoint, checked from every vantage
	// point like a region's: 200 to 399 is healthy. Default /health.
	HealthPath string `yaml:"health_path"`

	// Path is the path prefix under which each region's public endpoint
	// and the front door route to the app, removed before the request
	// reaches it: with the default, GET /NAME/notes/1 reaches the app as
	// GET /notes/1. Default /NAME.
	Path string `yaml:"path"`

	// Host is the host name under which each region's public endpoint and
	// the front door route to the app, with the path unchanged; DNS
	// answers for it with a latency record per region the app runs in.
	// Default NAME.zone.
	Host string `yaml:"host"`
}

// HealthCheckID returns the id of the health check of the app's instance
// in region.
func (a *UserApp) HealthCheckID(region string) string { return a.Name + "-" + region }

// RunsIn reports whether the app runs in region.
func (a *UserApp) RunsIn(region string) bool { return slices.Contains(a.Regions, region) }

// AppsIn returns the user apps that run in region, pointing into t.
func (t *Topology) AppsIn(region string) []*UserApp {
	var out []*UserApp
	for i := range t.Apps {
		if t.Apps[i].RunsIn(region) {
			out = append(out, &t.Apps[i])
		}
	}
	return out
}

// IsPrimary reports whether region is the primary region.
func (t *Topology) IsPrimary(region string) bool { return t.PrimaryRegion == region }

// Defaults of the TLS addresses.
const (
	DefaultPublicHTTPSPort = 8443
	DefaultFrontDoorHTTPS  = "127.0.0.1:8443"
)

// TLS configures the HTTPS side of the public endpoints and the front
// door. On first start Gyre creates a local certificate authority under
// data_dir/tls (gyre ca prints its certificate's path, for curl --cacert
// and SDKs) and issues each endpoint a certificate for its address and the
// zone's names. Plain HTTP is always served too.
type TLS struct {
	// Disabled turns HTTPS off. Default false.
	Disabled bool `yaml:"disabled"`
}

// CADir returns the directory of the local certificate authority.
func (t *Topology) CADir() string { return t.DataDir + "/tls" }

var appNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ensureAppDefaults fills the app sections; regions and routing are filled
// first.
func (t *Topology) ensureAppDefaults() {
	if t.PrimaryRegion == "" && len(t.Regions) > 0 {
		t.PrimaryRegion = t.Regions[0].Name
	}
	if t.App.Auth == "" {
		t.App.Auth = AppAuthNone
	}
	if t.App.TablePrefix == "" {
		t.App.TablePrefix = DefaultAppTablePrefix
	}
	if len(t.Apps) == 0 {
		t.Apps = nil
	}
	for i := range t.Apps {
		a := &t.Apps[i]
		if len(a.Regions) == 0 {
			a.Regions = t.RegionNames()
		}
		if len(a.Tables) == 0 {
			a.Tables = nil
		}
		if len(a.Env) == 0 {
			a.Env = nil
		}
		if a.HealthPath == "" {
			a.HealthPath = "/health"
		}
		if a.Path == "" && a.Name != "" {
			a.Path = "/" + a.Name
		}
		if a.Host == "" && a.Name != "" {
			a.Host = a.Name + "." + t.Routing.Zone
		}
	}
}

// ensureAppRouting adds, for each user app, a health check per region it
// runs in (through the region's public endpoint, on the app's path) and a
// latency record set named after it, unless the routing section already
// has a check or set of that name.
func (t *Topology) ensureAppRouting() {
	rt := &t.Routing
	for i := range t.Apps {
		a := &t.Apps[i]
		if a.Name == "" {
			continue
		}
		for _, region := range distinctNames(a.Regions) {
			r, ok := t.Region(region)
			if !ok {
				continue
			}
			id := a.HealthCheckID(region)
			if slices.ContainsFunc(rt.HealthChecks, func(hc HealthCheck) bool { return hc.ID == id }) {
				continue
			}
			rt.HealthChecks = append(rt.HealthChecks, HealthCheck{
				ID: id, Type: "HTTP", Region: region, Target: r.Public, Path: a.Path + a.HealthPath,
				Interval: DefaultCheckInterval, FailureThreshold: DefaultCheckThreshold, HealthyFraction: DefaultHealthyFraction,
			})
		}
		name := strings.TrimSuffix(strings.TrimSuffix(a.Host, "."), "."+rt.Zone)
		if name == a.Host || slices.ContainsFunc(rt.RecordSets, func(rs RecordSet) bool {
			return strings.EqualFold(rs.Name, name) || strings.EqualFold(rs.Name, a.Host) // DNS names match in any case
		}) {
			continue
		}
		rs := RecordSet{Name: name, Type: "A", TTL: DefaultRecordTTL, Policy: "latency"}
		for _, region := range distinctNames(a.Regions) {
			r, ok := t.Region(region)
			if !ok || r.PublicIP() == "" {
				continue
			}
			rs.Records = append(rs.Records, Record{ID: region, Region: region, Values: []string{r.PublicIP()}, HealthCheck: a.HealthCheckID(region)})
		}
		if len(rs.Records) > 0 {
			rt.RecordSets = append(rt.RecordSets, rs)
		}
	}
}

// apps checks the primary region and the app sections.
func (v *validator) apps() {
	t := v.t
	if len(t.Regions) > 0 {
		v.known("primary_region", t.PrimaryRegion)
	}
	switch t.App.Auth {
	case AppAuthNone, AppAuthSigV4:
	default:
		v.add("app.auth", "auth %q is not none or sigv4", t.App.Auth)
	}
	if t.App.TablePrefix != "" && !tableNameRE.MatchString(t.App.TablePrefix) {
		v.add("app.table_prefix", "table prefix %q may have only letters, digits, '_', '-' and '.'", t.App.TablePrefix)
	}
	if !t.App.Disabled {
		appTables := t.App.Tables().Names()
		for i, tb := range t.Tables {
			if slices.Contains(appTables, tb.Name) {
				v.add(fmt.Sprintf("tables[%d].name", i), "table %q is the reference app's; rename it, set app.table_prefix, or set app.disabled: true", tb.Name)
			}
		}
	}
	names := map[string]int{}
	paths := map[string]string{}
	hosts := map[string]string{}
	for i := range t.Apps {
		a := &t.Apps[i]
		p := fmt.Sprintf("apps[%d]", i)
		named := false // its path and host, which derive from the name, are worth checking
		switch j, dup := names[a.Name]; {
		case a.Name == "":
			v.add(p+".name", "must not be empty")
		case !appNameRE.MatchString(a.Name):
			v.add(p+".name", "app name %q must be a DNS label: lowercase letters, digits and hyphens, at most 63", a.Name)
		case dup:
			v.add(p+".name", "app %q is already defined at apps[%d]", a.Name, j)
		default:
			names[a.Name] = i
			named = true
		}
		if strings.TrimSpace(a.Command) == "" {
			v.add(p+".command", "must not be empty: the command that starts the app, e.g. python3 app.py")
		}
		seen := map[string]bool{}
		for j, r := range a.Regions {
			rp := fmt.Sprintf("%s.regions[%d]", p, j)
			if v.known(rp, r) && seen[r] {
				v.add(rp, "region %q is listed twice", r)
			}
			seen[r] = true
		}
		for j, name := range a.Tables {
			tp := fmt.Sprintf("%s.tables[%d]", p, j)
			k := slices.IndexFunc(t.Tables, func(tb Table) bool { return tb.Name == name })
			if k < 0 {
				v.add(tp, "no table named %q in tables (declare it there so that Gyre creates it)", name)
				continue
			}
			for _, r := range a.Regions {
				if _, ok := t.Region(r); ok && !slices.Contains(t.Tables[k].Replicas, r) {
					v.add(tp, "table %q has no replica in %s, where the app runs; add %s to tables[%d].replicas", name, r, r, k)
				}
			}
		}
		for k := range a.Env {
			if !envNameRE.MatchString(k) {
				v.add(p+".env."+k, "%q is not an environment variable name", k)
			}
		}
		if a.Port < 0 || a.Port > 65535 {
			v.add(p+".port", "port must be 0 to 65535, not %d", a.Port)
		}
		if !strings.HasPrefix(a.HealthPath, "/") {
			v.add(p+".health_path", "path %q must start with /", a.HealthPath)
		}
		if !named {
			continue
		}
		switch {
		case !strings.HasPrefix(a.Path, "/") || len(a.Path) < 2 || strings.HasSuffix(a.Path, "/") || strings.ContainsAny(a.Path, "?#% "):
			v.add(p+".path", "path %q must be /name: start with /, not end with /, no ?, #, %% or spaces", a.Path)
		case !t.App.Disabled && slices.ContainsFunc(appPaths, func(ap string) bool { return pathWithin(a.Path, ap) || pathWithin(ap, a.Path) }):
			v.add(p+".path", "path %q overlaps the reference app's paths (%s); choose another, or set app.disabled: true", a.Path, strings.Join(appPaths, ", "))
		default:
			for other, q := range paths {
				if pathWithin(a.Path, other) || pathWithin(other, a.Path) {
					v.add(p+".path", "path %q overlaps %s's %q", a.Path, q, other)
				}
			}
			paths[a.Path] = p
		}
		host := strings.ToLower(strings.TrimSuffix(a.Host, "."))
		switch {
		case !hostnameRE.MatchString(host):
			v.add(p+".host", "host %q is not a DNS name", a.Host)
		case hosts[host] != "":
			v.add(p+".host", "host %q is already %s's", a.Host, hosts[host])
		default:
			hosts[host] = p
		}
	}
}

// pathWithin reports whether path p is prefix or under it.
func pathWithin(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// ensureTLSDefaults fills the region's HTTPS address: its public host, on
// DefaultPublicHTTPSPort, or on a free port when the public endpoint's port
// is 0.
func (r *Region) ensureTLSDefaults() {
	if r.PublicHTTPS != "" {
		return
	}
	host, port, err := net.SplitHostPort(r.Public)
	if err != nil {
		return // reported on regions[i].public
	}
	if port != "0" {
		port = strconv.Itoa(DefaultPublicHTTPSPort)
	}
	r.PublicHTTPS = net.JoinHostPort(host, port)
}
