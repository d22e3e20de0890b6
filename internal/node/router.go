package node

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gyre-dev/gyre/internal/certs"
	"github.com/gyre-dev/gyre/internal/dnsserver"
	"github.com/gyre-dev/gyre/internal/frontdoor"
	"github.com/gyre-dev/gyre/internal/geo"
	"github.com/gyre-dev/gyre/internal/health"
	"github.com/gyre-dev/gyre/internal/topology"
	"github.com/gyre-dev/gyre/internal/wan"
)

// RouterVantage is the router's name on the WAN and as a health check
// vantage point.
const RouterVantage = "router"

// ControlView tells the router whether a region's routing control is on.
type ControlView interface {
	On(region string) bool
}

// RouterOptions configure the routing plane.
type RouterOptions struct {
	// Topology is the validated topology. Required.
	Topology *topology.Topology
	// WAN carries the router's connections to regions; RouterVantage must
	// be one of its regions. Required.
	WAN *wan.WAN
	// Public, PublicHTTPS and Admin give each region's actual public
	// addresses (host:port) and admin base URL, for regions on port 0 in
	// this process. Regions left out use the topology's addresses.
	Public, PublicHTTPS, Admin map[string]string
	// Controls reports routing controls. Default: every control on.
	Controls ControlView
	// DNSListen, FrontDoorListen, FrontDoorHTTPSListen and AdminListen
	// override the topology's addresses (tests use port 0).
	DNSListen, FrontDoorListen, FrontDoorHTTPSListen, AdminListen string
	// CA issues the front door's HTTPS certificate. Default: the
	// topology's local certificate authority, opened (and created if need
	// be) under its data directory; none with tls.disabled.
	CA *certs.Authority
	// ReportInterval is how often regions' health reports are collected.
	// Default 500ms.
	ReportInterval time.Duration
	// Logger receives the router's logs. Default slog.Default().
	Logger *slog.Logger
}

// Router is the routing plane: health monitoring from every vantage point,
// the authoritative DNS server, the HTTP front door, and its admin API.
type Router struct {
	opts     RouterOptions
	log      *slog.Logger
	sub      *slog.Logger // for the router's services, which name their own component
	geo      *geo.Table
	monitor  *health.Monitor
	prober   *health.Prober
	dns      *dnsserver.Server
	front    *frontdoor.Server
	admin    *server
	registry *prometheus.Registry
	// regionChecks maps each region to the checks of its public endpoint.
	regionChecks map[string][]string

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// StartRouter starts the routing plane.
func StartRouter(o RouterOptions) (_ *Router, err error) {
	if o.Topology == nil || o.WAN == nil {
		return nil, errors.New("node: RouterOptions.Topology and WAN are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ReportInterval == 0 {
		o.ReportInterval = 500 * time.Millisecond
	}
	t := o.Topology
	rt := &t.Routing
	log := o.Logger.With("component", "router")
	r := &Router{opts: o, log: log, sub: o.Logger.With("region", RouterVantage), registry: prometheus.NewRegistry(), regionChecks: map[string][]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	defer func() {
		if err != nil {
			r.Shutdown(context.Background())
		}
	}()
	if r.geo, err = geoTable(t); err != nil {
		return nil, err
	}
	if err := r.startHealth(ctx); err != nil {
		return nil, err
	}
	on := func(region string) bool { return true }
	if o.Controls != nil {
		on = o.Controls.On
	}
	if err := r.startDNS(ctx, on); err != nil {
		return nil, err
	}
	if err := r.startFrontDoor(ctx, on); err != nil {
		return nil, err
	}
	if rt.LatencyMode == "active" {
		r.loop("measuring latency", func() { r.measureLatency(ctx) })
	}
	ln, err := listenFor("router admin API", "routing.admin", or(o.AdminListen, rt.Admin))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(health.StatusPath, r.monitor.Handler())
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /locations", r.serveLocations)
	mux.HandleFunc("GET /status", r.serveStatus)
	r.admin = startServer(ln, requireToken(t.AdminToken, mux), log)
	udp, _ := r.dns.Addr()
	log.Info("router serving", "dns", udp.String(), "front_door", "http://"+r.front.Addr().String(), "admin", "http://"+ln.Addr().String(), "zone", rt.Zone)
	return r, nil
}

// loop runs fn, one of the router's background loops, in a goroutine of
// its own that Shutdown waits for; a panic is logged, not fatal.
func (r *Router) loop(what string, fn func()) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			if p := recover(); p != nil {
				r.log.Error("router loop panicked", "loop", what, "panic", p, "stack", string(debug.Stack()))
			}
		}()
		fn()
	}()
}

// startHealth starts health checking from the router's vantage point and
// the collection of every region's reports, and notes which checks are
// each region's own (its public endpoint's, not its apps').
func (r *Router) startHealth(ctx context.Context) error {
	o, t := &r.opts, r.opts.Topology
	checks := healthChecks(t, o.Public, o.PublicHTTPS)
	appChecks := map[string]bool{}
	for _, a := range t.Apps {
		for _, region := range a.Regions {
			appChecks[a.HealthCheckID(region)] = true
		}
	}
	for _, c := range checks {
		if c.Type == health.TypeCalculated || c.Region == "" || appChecks[c.ID] {
			continue
		}
		if pub := publicAddr(t, o.Public, c.Region); pub == c.Target {
			r.regionChecks[c.Region] = append(r.regionChecks[c.Region], c.ID)
		}
	}
	// A vantage point silent for two intervals (plus a probe's timeout) no
	// longer counts: a killed region's last word, that it is healthy, must
	// not outlive the interval x threshold + one interval that failover
	// promises.
	var err error
	if r.monitor, err = health.NewMonitor(health.MonitorOptions{Checks: checks, StaleIntervals: 2, Region: RouterVantage, Logger: r.sub, Registerer: r.registry}); err != nil {
		return err
	}
	if err := r.monitor.Start(ctx); err != nil {
		return err
	}
	dial := func(ctx context.Context, to, network, addr string) (net.Conn, error) {
		if to == "" {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
		return o.WAN.DialContext(ctx, RouterVantage, to, network, addr)
	}
	if r.prober, err = health.NewProber(health.ProberOptions{
		Vantage: RouterVantage, Checks: checks, Dial: dial,
		Publish: func(rep health.Report) { r.monitor.Update(rep) },
		Logger:  r.sub, Registerer: r.registry,
	}); err != nil {
		return err
	}
	if err := r.prober.Start(ctx); err != nil {
		return err
	}
	r.loop("collecting health reports", func() { r.collectReports(ctx) })
	return nil
}

// startDNS starts the authoritative DNS server.
func (r *Router) startDNS(ctx context.Context, on func(string) bool) error {
	o, rt := &r.opts, &r.opts.Topology.Routing
	var err error
	r.dns, err = dnsserver.New(dnsserver.Options{
		Zone:       rt.Zone,
		Addr:       or(o.DNSListen, rt.DNS),
		RecordSets: recordSets(o.Topology, o.Public),
		Healthy:    r.monitor.Healthy,
		RegionOn:   on,
		Geo:        r.geo,
		Region:     RouterVantage,
		Logger:     o.Logger, // it adds the region itself
		Registerer: r.registry,
	})
	if err != nil {
		return err
	}
	if err := r.dns.Start(ctx); err != nil {
		return listenError("DNS server", "routing.dns", err)
	}
	return nil
}

// startFrontDoor starts the front door, on HTTP and (with TLS) HTTPS,
// routing users' apps as services of their own.
func (r *Router) startFrontDoor(ctx context.Context, on func(string) bool) (err error) {
	o, t := &r.opts, r.opts.Topology
	rt := &t.Routing
	var regions []frontdoor.Region
	for _, reg := range t.Regions {
		regions = append(regions, frontdoor.Region{Name: reg.Name, URL: "http://" + publicAddr(t, o.Public, reg.Name)})
	}
	var services []frontdoor.Service
	for _, a := range t.Apps {
		services = append(services, frontdoor.Service{
			Name: a.Name, Hosts: []string{a.Host}, PathPrefix: a.Path, Regions: a.Regions,
			Healthy: func(region string) bool { return r.monitor.Healthy(a.HealthCheckID(region)) },
		})
	}
	var lns []net.Listener
	defer func() {
		if err != nil {
			for _, ln := range lns {
				ln.Close()
			}
		}
	}()
	var tlsConf *tls.Config
	var tlsLn net.Listener
	if !t.TLS.Disabled {
		if o.CA == nil {
			if o.CA, err = certs.Open(certs.Options{Dir: t.CADir(), Logger: o.Logger}); err != nil {
				return fmt.Errorf("node: %w", err)
			}
		}
		if tlsLn, err = listenFor("front door (HTTPS)", "routing.front_door_https", or(o.FrontDoorHTTPSListen, rt.FrontDoorHTTPS)); err != nil {
			return err
		}
		lns = append(lns, tlsLn)
		if tlsConf, err = serverTLS(o.CA, "front-door", zoneNames(t), tlsLn.Addr()); err != nil {
			return fmt.Errorf("node: front door: %w", err)
		}
	}
	fdLn, err := listenFor("front door", "routing.front_door", or(o.FrontDoorListen, rt.FrontDoor))
	if err != nil {
		return err
	}
	lns = append(lns, fdLn)
	if r.front, err = frontdoor.New(frontdoor.Options{
		Listener:    fdLn,
		TLSConfig:   tlsConf,
		TLSListener: tlsLn,
		Services:    services,
		Regions:     regions,
		Geo:         r.geo,
		Healthy:     r.RegionHealthy,
		On:          on,
		Transport: func(region string) http.RoundTripper {
			return o.WAN.Transport(RouterVantage, region)
		},
		Logger:     r.sub,
		Registerer: r.registry,
	}); err != nil {
		return err
	}
	return r.front.Start(ctx)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// publicAddr is a region's public host:port: the actual one when given,
// else the topology's.
func publicAddr(t *topology.Topology, actual map[string]string, region string) string {
	if a, ok := actual[region]; ok {
		return a
	}
	if r, ok := t.Region(region); ok {
		return r.Public
	}
	return ""
}

// geoTable builds the client location table from the topology.
func geoTable(t *topology.Topology) (*geo.Table, error) {
	rt := &t.Routing
	o := geo.Options{Regions: t.RegionNames(), Default: rt.Location}
	if len(rt.Locations) > 0 {
		o.Locations = map[string]map[string]time.Duration{}
		for _, l := range rt.Locations {
			o.Locations[l.Name] = l.RTT
		}
	}
	if len(rt.Networks) > 0 {
		for _, n := range rt.Networks {
			p, err := netip.ParsePrefix(n.CIDR)
			if err != nil {
				return nil, err
			}
			o.Networks = append(o.Networks, geo.Network{Prefix: p, Location: n.Location})
		}
	}
	return geo.New(o)
}

// healthChecks turns the topology's checks into the health package's, with
// each region's public endpoint (HTTP and HTTPS) at its actual address.
func healthChecks(t *topology.Topology, actual, actualHTTPS map[string]string) []health.Check {
	var out []health.Check
	for _, hc := range t.Routing.HealthChecks {
		c := health.Check{
			ID: hc.ID, Type: health.Type(hc.Type), Target: hc.Target, Region: hc.Region, Path: hc.Path,
			SearchString: hc.SearchString, Inverted: hc.Inverted, Interval: hc.Interval, Timeout: hc.Timeout,
			FailureThreshold: hc.FailureThreshold, HealthyFraction: hc.HealthyFraction,
			Children: hc.Children, HealthThreshold: hc.HealthThreshold,
		}
		if c.Type == health.TypeCalculated {
			c.Target, c.Region, c.Path, c.Interval, c.FailureThreshold, c.HealthyFraction = "", "", "", 0, 0, 0
		}
		if r, ok := t.Region(hc.Region); ok && c.Type != health.TypeCalculated {
			switch {
			case c.Type == health.TypeHTTPS && hc.Target == r.PublicHTTPS:
				if a, ok := actualHTTPS[hc.Region]; ok {
					c.Target = a
				}
			case hc.Target == r.Public:
				c.Target = publicAddr(t, actual, hc.Region)
			}
		}
		out = append(out, c)
	}
	return out
}

// recordSets turns the topology's record sets into the DNS server's, with
// each region's actual public IP as its records' value.
func recordSets(t *topology.Topology, actual map[string]string) []dnsserver.RecordSet {
	return t.DNSRecordSets(func(region string) (string, bool) {
		host, _, err := net.SplitHostPort(publicAddr(t, actual, region))
		return host, err == nil
	})
}

// RegionHealthy reports whether every health check of a region's public
// endpoint finds it healthy (a region without one is healthy).
func (r *Router) RegionHealthy(region string) bool {
	for _, id := range r.regionChecks[region] {
		if !r.monitor.Healthy(id) {
			return false
		}
	}
	return true
}

// collectReports fetches every region's health report, so that each region
// counts as a vantage point.
func (r *Router) collectReports(ctx context.Context) {
	t := r.opts.Topology
	clients := map[string]*http.Client{}
	for _, reg := range t.Regions {
		clients[reg.Name] = &http.Client{Transport: r.opts.WAN.Transport(RouterVantage, reg.Name), Timeout: r.opts.ReportInterval * 2}
	}
	tick := time.NewTicker(r.opts.ReportInterval)
	defer tick.Stop()
	for {
		var wg sync.WaitGroup
		for _, reg := range t.Regions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				url := r.adminURL(reg.Name) + health.ReportPath
				rep, err := health.FetchReport(ctx, clients[reg.Name], url, t.AdminToken)
				if err != nil {
					return // the region's reports go stale, and it stops counting
				}
				r.monitor.Update(rep)
			}()
		}
		wg.Wait()
		select {
		case <-ctx.Done():
			for _, c := range clients {
				c.CloseIdleConnections()
			}
			return
		case <-tick.C:
		}
	}
}

func (r *Router) adminURL(region string) string {
	if u, ok := r.opts.Admin[region]; ok {
		return u
	}
	reg, _ := r.opts.Topology.Region(region)
	return "http://" + reg.Admin
}

// measureLatency measures the router's round trip to each region (a TCP
// connect through the WAN) and ranks regions for the router's own location
// by it: the active latency mode, for deployments across real hosts.
func (r *Router) measureLatency(ctx context.Context) {
	t := r.opts.Topology
	samples := map[string][]time.Duration{}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		for _, reg := range t.Regions {
			start := time.Now()
			dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			c, err := r.opts.WAN.DialContext(dctx, RouterVantage, reg.Name, "tcp", publicAddr(t, r.opts.Public, reg.Name))
			cancel()
			if err != nil {
				continue
			}
			c.Close()
			s := append(samples[reg.Name], time.Since(start))
			if len(s) > 5 {
				s = s[1:]
			}
			samples[reg.Name] = s
			r.geo.SetMeasured(t.Routing.Location, reg.Name, median(s))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// RouterStatus is what GET /status on the router's admin API answers.
type RouterStatus struct {
	Zone      string          `json:"zone"`
	DNS       string          `json:"dns"`
	FrontDoor string          `json:"front_door"`
	Location  string          `json:"location"`
	Regions   map[string]bool `json:"regions_healthy"`
	Health    health.Snapshot `json:"health"`
	Controls  map[string]bool `json:"controls,omitempty"`
}

// Status reports the routing plane's view.
func (r *Router) Status() RouterStatus {
	udp, _ := r.dns.Addr()
	s := RouterStatus{
		Zone: r.opts.Topology.Routing.Zone, DNS: udp.String(), FrontDoor: r.front.Addr().String(),
		Location: r.geo.Default(), Regions: map[string]bool{}, Health: r.monitor.Snapshot(), Controls: map[string]bool{},
	}
	for _, reg := range r.opts.Topology.Regions {
		s.Regions[reg.Name] = r.RegionHealthy(reg.Name)
		if r.opts.Controls != nil {
			s.Controls[reg.Name] = r.opts.Controls.On(reg.Name)
		}
	}
	return s
}

func (r *Router) serveStatus(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	writeJSONBody(w, r.Status())
}

func (r *Router) serveLocations(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	writeJSONBody(w, r.geo.Snapshot())
}

// DNSAddr returns the DNS server's UDP address.
func (r *Router) DNSAddr() net.Addr { udp, _ := r.dns.Addr(); return udp }

// FrontDoorAddr returns the front door's address.
func (r *Router) FrontDoorAddr() net.Addr { return r.front.Addr() }

// FrontDoorHTTPSAddr returns the front door's HTTPS address, or nil.
func (r *Router) FrontDoorHTTPSAddr() net.Addr { return r.front.TLSAddr() }

// AdminAddr returns the router's admin API address.
func (r *Router) AdminAddr() net.Addr { return r.admin.listener.Addr() }

// Monitor returns the health monitor.
func (r *Router) Monitor() *health.Monitor { return r.monitor }

// Shutdown stops the routing plane: the front door and DNS first, then
// health checking, then the admin API. It is idempotent.
func (r *Router) Shutdown(ctx context.Context) error {
	var errs []error
	r.once.Do(func() {
		if r.front != nil {
			errs = append(errs, r.front.Shutdown(ctx))
		}
		if r.dns != nil {
			errs = append(errs, r.dns.Shutdown(ctx))
		}
		r.cancel()
		if r.prober != nil {
			errs = append(errs, r.prober.Shutdown(ctx))
		}
		if r.monitor != nil {
			errs = append(errs, r.monitor.Shutdown(ctx))
		}
		r.wg.Wait()
		if r.admin != nil {
			errs = append(errs, r.admin.shutdown(ctx))
		}
	})
	return errors.Join(errs...)
}

func writeJSONBody(w http.ResponseWriter, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
