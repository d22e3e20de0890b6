package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/certs"
	"github.com/gyre-dev/gyre/internal/control"
	"github.com/gyre-dev/gyre/internal/geo"
	"github.com/gyre-dev/gyre/internal/health"
	"github.com/gyre-dev/gyre/internal/repl"
	"github.com/gyre-dev/gyre/internal/store"
	"github.com/gyre-dev/gyre/internal/topology"
	"github.com/gyre-dev/gyre/internal/wan"
)

// Options configure a Node: the regions of a topology that run in this
// process.
type Options struct {
	// Topology is the validated topology. Required.
	Topology *topology.Topology
	// Regions names the regions to run here. Default: every region (gyre
	// up). The others are peers reached at their configured addresses
	// (gyre region --config).
	Regions []string
	// Logger receives every region's logs. Default slog.Default().
	Logger *slog.Logger
	// ShutdownGrace bounds how long each region waits for requests in
	// flight when shutting down. Default 5s.
	ShutdownGrace time.Duration
	// Replication tunes replication intervals (tests shorten them); its
	// DB, Peers, Client, Token, Logger and Registerer are set per region.
	Replication repl.Options
	// Router runs the routing plane (DNS, front door, health monitor) in
	// this process too, as gyre up does.
	Router bool
	// RouterOptions tunes the router; its Topology, WAN, Public, Admin and
	// Logger are set by Start.
	RouterOptions RouterOptions
}

// Node is the regions of a topology running in this process, and the
// simulated WAN their connections go through.
type Node struct {
	topo    *topology.Topology
	wan     *wan.WAN
	regions []*Region
	router  *Router
	log     *slog.Logger
	// mu guards regions, which is replaced, never changed in place, so a
	// reader may keep the slice it read.
	mu sync.Mutex
	// starts holds how each region was started, so Restart can start it
	// again on the same addresses.
	starts map[string]RegionOptions
	// ca is the local certificate authority, nil with TLS disabled.
	ca *certs.Authority
}

// Start starts the regions. Every listener is opened before any region
// starts, so that regions on port 0 in one process can find each other.
func Start(o Options) (_ *Node, err error) {
	if o.Topology == nil {
		return nil, errors.New("node: Options.Topology is required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	t := o.Topology
	run := o.Regions
	if len(run) == 0 {
		run = t.RegionNames()
	}
	for _, name := range run {
		if _, ok := t.Region(name); !ok {
			return nil, fmt.Errorf("node: no region named %q in the topology (regions: %v)", name, t.RegionNames())
		}
	}
	st := &starting{o: o, t: t, procReg: prometheus.NewRegistry(), local: map[string]regionListeners{}}
	if st.wan, err = wan.New(wan.Options{
		Regions:    append(t.RegionNames(), RouterVantage),
		Links:      WANLinks(t),
		Logger:     o.Logger.With("component", "wan"),
		Registerer: st.procReg,
	}); err != nil {
		return nil, err
	}
	n := &Node{topo: t, wan: st.wan, log: o.Logger, starts: map[string]RegionOptions{}}
	defer func() {
		if err != nil {
			for _, ln := range st.listeners {
				ln.Close()
			}
			n.Shutdown(context.Background())
		}
	}()
	for _, name := range run {
		if err := st.listen(name); err != nil {
			return nil, err
		}
	}
	if !t.TLS.Disabled {
		if st.ca, err = certs.Open(certs.Options{Dir: t.CADir(), Logger: o.Logger}); err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
		n.ca = st.ca
	}
	st.resolve()
	for _, name := range run {
		ropts, err := st.regionOptions(name)
		if err != nil {
			return nil, err
		}
		region, err := StartRegion(ropts)
		if err != nil {
			return nil, err
		}
		n.starts[name] = restartOptions(ropts, region)
		n.mu.Lock()
		n.regions = append(slices.Clip(n.regions), region)
		n.mu.Unlock()
	}
	if o.Router {
		ro := o.RouterOptions
		ro.Topology, ro.WAN, ro.Public, ro.PublicHTTPS, ro.Admin, ro.Logger = t, st.wan, st.public, st.https, st.admin, o.Logger
		if ro.CA == nil {
			ro.CA = st.ca
		}
		if ro.Controls == nil {
			ro.Controls = nodeControls{n}
		}
		if n.router, err = StartRouter(ro); err != nil {
			return nil, err
		}
	}
	st.listeners = nil
	return n, nil
}

// starting is the state of a Start under way: the listeners it opened and
// what it learnt of the regions' actual addresses.
type starting struct {
	o         Options
	t         *topology.Topology
	wan       *wan.WAN
	procReg   *prometheus.Registry
	ca        *certs.Authority
	listeners []net.Listener // every listener opened, closed if Start fails
	local     map[string]regionListeners
	// The actual addresses of the regions running here, by region.
	public, https, admin map[string]string
	checks               []health.Check
	controlPeers         []control.Peer
	rules                []control.Rule
}

// regionListeners are the listeners of one region running here.
type regionListeners struct{ api, admin, public, https, control net.Listener }

// listen opens a region's listeners, naming the topology field of any
// address that cannot be had.
func (st *starting) listen(name string) error {
	r, _ := st.t.Region(name)
	i := slices.Index(st.t.RegionNames(), name)
	open := func(what, field, addr string) (net.Listener, error) {
		ln, err := listenFor(fmt.Sprintf("region %s: %s", name, what), fmt.Sprintf("regions[%d].%s", i, field), addr)
		if err != nil {
			return nil, err
		}
		st.listeners = append(st.listeners, ln)
		return ln, nil
	}
	var a regionListeners
	var err error
	if a.api, err = open("DynamoDB endpoint", "dynamodb", r.DynamoDB); err != nil {
		return err
	}
	if a.admin, err = open("admin API", "admin", r.Admin); err != nil {
		return err
	}
	if a.public, err = open("public endpoint", "public", r.Public); err != nil {
		return err
	}
	if !st.t.TLS.Disabled {
		if a.https, err = open("public HTTPS endpoint", "public_https", r.PublicHTTPS); err != nil {
			return err
		}
	}
	if a.control, err = open("routing-control node", "control", r.Control); err != nil {
		return err
	}
	st.local[name] = a
	return nil
}

// resolve works out, once every listener is open, the actual addresses
// the regions reach each other at, and what depends on them: the health
// checks and the routing-control peers.
func (st *starting) resolve() {
	st.public, st.https, st.admin = map[string]string{}, map[string]string{}, map[string]string{}
	for name, a := range st.local {
		st.public[name] = a.public.Addr().String()
		st.admin[name] = "http://" + a.admin.Addr().String()
		if a.https != nil {
			st.https[name] = a.https.Addr().String()
		}
	}
	st.checks = healthChecks(st.t, st.public, st.https)
	for _, r := range st.t.Regions {
		addr := r.Control
		if a, ok := st.local[r.Name]; ok {
			addr = a.control.Addr().String()
		}
		st.controlPeers = append(st.controlPeers, control.Peer{ID: r.Name, RaftAddr: addr})
	}
	st.rules = controlRules(st.t)
}

// adminURL is a region's admin API: the actual one for a region running
// here, else the topology's.
func (st *starting) adminURL(name string) string {
	if u, ok := st.admin[name]; ok {
		return u
	}
	r, _ := st.t.Region(name)
	return "http://" + r.Admin
}

// regionOptions builds how a region running here starts.
func (st *starting) regionOptions(name string) (RegionOptions, error) {
	t, w, local := st.t, st.wan, st.local[name]
	r, _ := t.Region(name)
	var peers []repl.Peer
	for _, p := range t.Peers(name) {
		peers = append(peers, repl.Peer{Name: p.Name, URL: st.adminURL(p.Name)})
	}
	ro := st.o.Replication
	ro.Peers = peers
	ro.Token = t.AdminToken
	clients := map[string]*http.Client{}
	for _, p := range peers {
		clients[p.Name] = w.HTTPClient(name, p.Name)
	}
	ro.Client = func(peer string) *http.Client { return clients[peer] }
	var tables []*store.Table
	for _, tb := range t.TablesIn(name) {
		tables = append(tables, storeTable(tb))
	}
	dial := func(ctx context.Context, to, network, addr string) (net.Conn, error) {
		return w.DialContext(ctx, name, to, network, addr)
	}
	ropts := RegionOptions{
		Name:           name,
		Listener:       local.api,
		AdminListener:  local.admin,
		PublicListener: local.public,
		AdminToken:     t.AdminToken,
		AdminHandlers:  map[string]http.Handler{"/wan": w.Handler(), "/wan/": w.Handler()},
		DataDir:        t.DataDirFor(name),
		Credentials:    map[string]string{t.Credentials.AccessKey: t.Credentials.SecretKey},
		ClockSkew:      r.ClockSkew,
		ShutdownGrace:  st.o.ShutdownGrace,
		Logger:         st.o.Logger,
		Regions:        t.RegionNames(),
		Replication:    &ro,
		Tables:         tables,
		Gatherers:      prometheus.Gatherers{st.procReg},
		HealthChecks:   st.checks,
		Control: &control.Options{
			NodeID: name, Peers: st.controlPeers, Listener: local.control, Dial: dial,
			DataDir: filepath.Join(t.DataDirFor(name), "control"),
			Panel:   t.Routing.Controls.Panel,
			Rules:   st.rules,
		},
		HealthDial: func(ctx context.Context, to, network, addr string) (net.Conn, error) {
			if to == "" {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}
			return dial(ctx, to, network, addr)
		},
	}
	var err error
	if st.ca != nil {
		ropts.PublicHTTPSListener = local.https
		if ropts.TLS, err = serverTLS(st.ca, name, zoneNames(t), local.https.Addr()); err != nil {
			return ropts, fmt.Errorf("node: region %s: %w", name, err)
		}
	}
	if !t.App.Disabled {
		verify, err := appVerifier(t, name)
		if err != nil {
			return ropts, err
		}
		ropts.App = appOptions(t, name, verify)
	}
	if ropts.UserApps, err = userApps(t, name, "http://"+local.api.Addr().String()); err != nil {
		return ropts, err
	}
	return ropts, nil
}

// restartOptions turns how a region was started into how Restart starts it
// again: on the same addresses, with new listeners.
func restartOptions(ropts RegionOptions, region *Region) RegionOptions {
	ropts.ControlListen = ropts.Control.Listener.Addr().String()
	if ropts.PublicHTTPSListener != nil {
		ropts.PublicHTTPSListen = ropts.PublicHTTPSListener.Addr().String()
	}
	ropts.PublicListen = ropts.PublicListener.Addr().String()
	ropts.Listen = region.Addr().String()
	ropts.AdminListen = region.AdminAddr().String()
	ropts.Listener, ropts.AdminListener, ropts.PublicListener, ropts.PublicHTTPSListener = nil, nil, nil, nil
	co := *ropts.Control
	co.Listener = nil
	ropts.Control = &co
	return ropts
}

// WANLinks turns the topology's WAN section into the WAN's link settings.
// Pairs the topology leaves alone take the WAN's built-in values. The
// router's links take half its location's round trip to each region.
func WANLinks(t *topology.Topology) []wan.Link {
	var links []wan.Link
	for _, r := range t.Regions {
		l := wan.Link{From: RouterVantage, To: r.Name}
		if !t.WAN.Disabled {
			rtt, ok := geo.BuiltinRTT(t.Routing.Location, r.Name)
			if !ok {
				rtt = 2 * wan.DefaultFallbackLatency
			}
			l.Latency = rtt / 2
			l.Jitter = min(time.Duration(float64(l.Latency)*wan.DefaultJitterFraction), wan.DefaultMaxJitter)
		}
		links = append(links, l)
	}
	names := t.RegionNames()
	for i, a := range names {
		for _, b := range names[i+1:] {
			lat, jit := t.WAN.Pair(a, b)
			if lat == nil && jit == nil {
				continue
			}
			l := wan.Link{From: a, To: b}
			if lat != nil {
				l.Latency = *lat
			} else if d, ok := wan.DefaultLatency(a, b); ok {
				l.Latency = d
			} else {
				l.Latency = wan.DefaultFallbackLatency
			}
			if jit != nil {
				l.Jitter = *jit
			} else {
				l.Jitter = min(time.Duration(float64(l.Latency)*wan.DefaultJitterFraction), wan.DefaultMaxJitter)
			}
			links = append(links, l)
		}
	}
	return links
}

// controlRules turns the topology's safety rules into the control
// package's. A gating rule's controls are its targets there, and its gating
// controls its controls.
func controlRules(t *topology.Topology) []control.Rule {
	rules := []control.Rule{}
	for _, r := range t.Routing.Controls.Rules {
		cr := control.Rule{Name: r.Name, Type: control.Assertion, Controls: r.Controls, AtLeast: r.MinOn}
		if r.Type == "gating" {
			cr = control.Rule{Name: r.Name, Type: control.Gating, Controls: r.GatingControls, Targets: r.Controls, AtLeast: r.MinOn}
		}
		rules = append(rules, cr)
	}
	return rules
}

// nodeControls reads the routing controls from any region of the node that
// is running; with none running, every control counts as on.
type nodeControls struct{ n *Node }

func (c nodeControls) On(region string) bool {
	c.n.mu.Lock()
	regions := c.n.regions
	c.n.mu.Unlock()
	for _, r := range regions {
		if svc := r.Control(); svc != nil && svc.State().Configured {
			return svc.On(region)
		}
	}
	return true
}

// storeTable turns a topology table into the store's schema.
func storeTable(tb *topology.Table) *store.Table {
	keyAttr := func(k topology.KeyAttribute) store.KeyAttr {
		typ, _ := attr.ParseType(string(k.Type))
		return store.KeyAttr{Name: k.Name, Type: typ}
	}
	t := &store.Table{
		Name:        tb.Name,
		Key:         store.KeySchema{Hash: keyAttr(tb.PartitionKey)},
		BillingMode: "PAY_PER_REQUEST",
	}
	if tb.SortKey.Name != "" {
		t.Key.Range = keyAttr(tb.SortKey)
	}
	addAttr := func(k store.KeyAttr) {
		if !slices.ContainsFunc(t.Attributes, func(a store.KeyAttr) bool { return a.Name == k.Name }) {
			t.Attributes = append(t.Attributes, k)
		}
	}
	addAttr(t.Key.Hash)
	if t.Key.HasRange() {
		addAttr(t.Key.Range)
	}
	for _, ix := range tb.GlobalSecondaryIndexes {
		si := store.Index{Name: ix.Name, Key: store.KeySchema{Hash: keyAttr(ix.PartitionKey)},
			Projection: store.Projection{Type: store.ProjectionType(ix.Projection), NonKeyAttributes: ix.NonKeyAttributes}}
		if ix.SortKey.Name != "" {
			si.Key.Range = keyAttr(ix.SortKey)
		}
		addAttr(si.Key.Hash)
		if si.Key.HasRange() {
			addAttr(si.Key.Range)
		}
		t.Indexes = append(t.Indexes, si)
	}
	if tb.TTLAttribute != "" {
		t.TTL = store.TTLSpec{Enabled: true, Attribute: tb.TTLAttribute}
	}
	for _, r := range tb.Replicas {
		t.Replicas = append(t.Replicas, store.Replica{Region: r, Status: store.StatusActive})
	}
	return t
}

// Regions returns the regions running in this process.
func (n *Node) Regions() []*Region {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.regions
}

// Region returns the named region running here, or nil.
func (n *Node) Region(name string) *Region {
	for _, r := range n.Regions() {
		if r.Name() == name {
			return r
		}
	}
	return nil
}

// WaitReady waits until the reference application of every region here
// has its tables and serves and, with the routing plane here, every region
// and every instance of a user's app here passes its health checks, or ctx
// ends; it then returns the regions that are not ready yet.
func (n *Node) WaitReady(ctx context.Context) []string {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var waiting []string
		var passed map[string]bool
		if n.router != nil {
			passed = map[string]bool{}
			for _, c := range n.router.Monitor().Snapshot().Checks {
				passed[c.Check.ID] = c.Status == health.StatusHealthy
			}
		}
		for _, r := range n.Regions() {
			ready := r.App() == nil || r.App().Ready()
			if passed != nil {
				ready = ready && n.router.RegionHealthy(r.Name())
				for _, a := range n.topo.AppsIn(r.Name()) {
					ready = ready && passed[a.HealthCheckID(r.Name())]
				}
			}
			if !ready {
				waiting = append(waiting, r.Name())
			}
		}
		if len(waiting) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return waiting
		case <-tick.C:
		}
	}
}

// CA returns the local certificate authority, or nil with TLS disabled.
func (n *Node) CA() *certs.Authority { return n.ca }

// Router returns the routing plane running in this process, or nil.
func (n *Node) Router() *Router { return n.router }

// WAN returns the simulated WAN.
func (n *Node) WAN() *wan.WAN { return n.wan }

// Topology returns the topology the node runs.
func (n *Node) Topology() *topology.Topology { return n.topo }

// Stop shuts one region down, as a crash drill or a test does; the others
// keep running and see it as unreachable.
func (n *Node) Stop(ctx context.Context, name string) error {
	regions := n.Regions()
	i := slices.IndexFunc(regions, func(r *Region) bool { return r.Name() == name })
	if i < 0 {
		return fmt.Errorf("node: region %s is not running here", name)
	}
	r := regions[i]
	n.mu.Lock()
	n.regions = slices.DeleteFunc(slices.Clone(n.regions), func(x *Region) bool { return x == r })
	n.mu.Unlock()
	return r.Shutdown(ctx)
}

// Restart starts a stopped region again, on the addresses it had.
func (n *Node) Restart(name string) error {
	if n.Region(name) != nil {
		return fmt.Errorf("node: region %s is already running", name)
	}
	o, ok := n.starts[name]
	if !ok {
		return fmt.Errorf("node: region %s was never started here", name)
	}
	var err error
	if o.AdminListener, err = net.Listen("tcp", o.AdminListen); err != nil {
		return fmt.Errorf("node: restarting %s: %w", name, err)
	}
	if o.PublicListener, err = net.Listen("tcp", o.PublicListen); err != nil {
		o.AdminListener.Close()
		return fmt.Errorf("node: restarting %s: %w", name, err)
	}
	if o.PublicHTTPSListen != "" {
		if o.PublicHTTPSListener, err = net.Listen("tcp", o.PublicHTTPSListen); err != nil {
			o.AdminListener.Close()
			o.PublicListener.Close()
			return fmt.Errorf("node: restarting %s: %w", name, err)
		}
	}
	co := *o.Control
	if co.Listener, err = net.Listen("tcp", o.ControlListen); err != nil {
		o.AdminListener.Close()
		o.PublicListener.Close()
		if o.PublicHTTPSListener != nil {
			o.PublicHTTPSListener.Close()
		}
		return fmt.Errorf("node: restarting %s: %w", name, err)
	}
	o.Control = &co
	r, err := StartRegion(o)
	if err != nil {
		o.AdminListener.Close()
		o.PublicListener.Close()
		if o.PublicHTTPSListener != nil {
			o.PublicHTTPSListener.Close()
		}
		co.Listener.Close()
		return err
	}
	n.mu.Lock()
	n.regions = append(slices.Clip(n.regions), r)
	n.mu.Unlock()
	return nil
}

// Shutdown stops the router, then every region, in reverse order of
// starting.
func (n *Node) Shutdown(ctx context.Context) error {
	var errs []error
	// Every region is stopping: its peers going away is expected.
	for _, r := range n.Regions() {
		if c := r.Control(); c != nil {
			c.Quiet()
		}
	}
	if n.router != nil {
		errs = append(errs, n.router.Shutdown(ctx))
		n.router = nil
	}
	regions := n.Regions()
	for i := len(regions) - 1; i >= 0; i-- {
		errs = append(errs, regions[i].Shutdown(ctx))
	}
	n.mu.Lock()
	n.regions = nil
	n.mu.Unlock()
	return errors.Join(errs...)
}
