package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-dev/gyre/internal/app"
	"github.com/gyre-dev/gyre/internal/sigv4"
	"github.com/gyre-dev/gyre/internal/supervisor"
	"github.com/gyre-dev/gyre/internal/topology"
)

// publicHandler is what a region's public endpoint serves: users' apps by
// host name or path prefix, the reference application on its paths, and
// the DynamoDB API for everything else.
func (r *Region) publicHandler(api, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.Handle("GET /metrics", metrics)
	if r.app != nil {
		for _, p := range app.Paths {
			mux.Handle(p, r.app)
		}
	} else {
		mux.HandleFunc("GET /health", r.serveHealth)
	}
	if len(r.opts.UserApps) == 0 {
		return mux
	}
	rt := &appRouter{next: mux, transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     90 * time.Second,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
	}}
	for _, ua := range r.opts.UserApps {
		rt.routes = append(rt.routes, appRoute{
			name: ua.Name, region: r.opts.Name, host: strings.ToLower(strings.TrimSuffix(ua.Host, ".")), path: ua.Path,
			target: &url.URL{Scheme: "http", Host: ua.Addr},
		})
	}
	return rt
}

// appRouter sends the requests of users' apps to them, and the rest on.
type appRouter struct {
	routes    []appRoute
	next      http.Handler
	transport http.RoundTripper
}

type appRoute struct {
	name, region, host, path string
	target                   *url.URL
}

func (a *appRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for i := range a.routes {
		rt := &a.routes[i]
		if rt.host != "" && rt.host == host {
			a.proxy(w, r, rt, "")
			return
		}
		if rt.path != "" && (r.URL.Path == rt.path || strings.HasPrefix(r.URL.Path, rt.path+"/")) {
			a.proxy(w, r, rt, rt.path)
			return
		}
	}
	a.next.ServeHTTP(w, r)
}

// proxy sends r to the app, without the path prefix strip, as API
// Gateway's base path mappings do; X-Forwarded-Prefix tells the app what
// was removed.
func (a *appRouter) proxy(w http.ResponseWriter, r *http.Request, rt *appRoute, strip string) {
	p := &httputil.ReverseProxy{
		Transport: a.transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(rt.target)
			pr.Out.Host = pr.In.Host
			// Keep what the front door said about the client.
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
			if proto := pr.In.Header.Get("X-Forwarded-Proto"); proto != "" {
				pr.Out.Header.Set("X-Forwarded-Proto", proto)
			}
			if strip != "" {
				pr.Out.URL.Path = "/" + strings.TrimPrefix(strings.TrimPrefix(pr.In.URL.Path, strip), "/")
				pr.Out.URL.RawPath = ""
				pr.Out.Header.Set("X-Forwarded-Prefix", strip)
			}
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			json.NewEncoder(w).Encode(map[string]string{
				"code":    "AppUnavailable",
				"message": fmt.Sprintf("app %s in %s is not answering: %v", rt.name, rt.region, err),
			})
		},
	}
	p.ServeHTTP(w, r)
}

// appOptions configures the reference application of a region.
func appOptions(t *topology.Topology, region string, verify func(*http.Request, []byte) error) *app.Options {
	tb := t.App.Tables()
	return &app.Options{
		AccessKey: t.Credentials.AccessKey, SecretKey: t.Credentials.SecretKey,
		Tables:       app.Tables{Items: tb.Items, Customers: tb.Customers, Products: tb.Products, Orders: tb.Orders},
		Primary:      t.PrimaryRegion,
		Replicas:     t.RegionNames(),
		Authenticate: verify,
	}
}

// userApps configures the instances of users' apps that run in region,
// each listening on the region's public IP, on its configured port or a
// free one, and given the region's DynamoDB endpoint.
func userApps(t *topology.Topology, region, endpoint string) ([]UserApp, error) {
	r, _ := t.Region(region)
	host := r.PublicIP()
	var out []UserApp
	for _, a := range t.AppsIn(region) {
		port := a.Port
		if port == 0 {
			ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
			if err != nil {
				return nil, fmt.Errorf("region %s: app %s: finding a free port on %s: %w", region, a.Name, host, err)
			}
			port = ln.Addr().(*net.TCPAddr).Port
			ln.Close()
		}
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		primary := t.PrimaryRegion
		if !a.RunsIn(primary) {
			primary = a.Regions[0]
		}
		env := []string{
			"AWS_REGION=" + region,
			"AWS_DEFAULT_REGION=" + region,
			"AWS_ENDPOINT_URL_DYNAMODB=" + endpoint,
			"AWS_ACCESS_KEY_ID=" + t.Credentials.AccessKey,
			"AWS_SECRET_ACCESS_KEY=" + t.Credentials.SecretKey,
			"HOST=" + host,
			"PORT=" + strconv.Itoa(port),
			"GYRE_APP=" + a.Name,
			"GYRE_REGION=" + region,
			"GYRE_REGIONS=" + strings.Join(a.Regions, ","),
			"GYRE_PRIMARY_REGION=" + primary,
			"GYRE_IS_PRIMARY=" + strconv.FormatBool(primary == region),
		}
		if len(a.Tables) > 0 {
			env = append(env, "TABLE_NAME="+a.Tables[0], "TABLE_NAMES="+strings.Join(a.Tables, ","))
		}
		for _, k := range slices.Sorted(maps.Keys(a.Env)) {
			env = append(env, k+"="+a.Env[k])
		}
		out = append(out, UserApp{
			Name: a.Name,
			Process: supervisor.Options{
				App: a.Name, Command: shellCommand(a.Command), Dir: a.Dir, Env: env,
			},
			Addr: addr, Host: a.Host, Path: a.Path,
		})
	}
	return out, nil
}

// shellCommand turns a topology command into argv. A simple command, words
// with no quoting, lists, pipes, redirections, variables or globs, runs
// directly, so that the app itself is the supervised process (it gets the
// signals, dies with Gyre, and a program that does not exist is reported
// at start); anything else runs with /bin/sh -c.
func shellCommand(cmd string) []string {
	words := strings.Fields(cmd)
	if len(words) > 0 && words[0] != "exec" && !strings.ContainsAny(cmd, ";&|<>()`$\n\\{}*?[]~#!'\"") && !strings.Contains(words[0], "=") {
		return words
	}
	return []string{"/bin/sh", "-c", strings.TrimSpace(cmd)}
}

// appVerifier returns how the reference application of region
// authenticates requests: nil without app.auth, else a check of signatures
// for the service execute-api, as API Gateway's IAM authorization makes:
// SigV4 scoped to region, or SigV4a with a region set that covers it.
func appVerifier(t *topology.Topology, region string) (func(*http.Request, []byte) error, error) {
	if t.App.Auth != topology.AppAuthSigV4 {
		return nil, nil
	}
	ak, sk := t.Credentials.AccessKey, t.Credentials.SecretKey
	v, err := sigv4.New(sigv4.Options{
		Credentials: func(id string) (string, bool) { return sk, id == ak },
		Service:     "execute-api",
		Region:      region,
		AllowSigV4a: true,
	})
	if err != nil {
		return nil, err
	}
	return func(r *http.Request, body []byte) error {
		_, err := v.Verify(r, body)
		if e, ok := errors.AsType[*sigv4.Error](err); ok {
			msg := strings.TrimSpace(e.Message)
			if strings.Contains(msg, "region") {
				msg += fmt.Sprintf(" This is %s: sign for %s, or with SigV4a for a region set that covers it.", region, region)
			}
			return errors.New(msg)
		}
		return err
	}, nil
}
