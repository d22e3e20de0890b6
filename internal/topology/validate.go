package topology

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	regionNameRE = regexp.MustCompile(`^[a-z0-9-]+$`)
	// tableNameRE is DynamoDB's rule for table and index names, less the
	// length, which is checked apart for a better message.
	tableNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	hostnameRE  = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$`)
)

// Validate checks t and returns an *Error listing every problem, or nil. It
// does not fill defaults (call EnsureDefaults first) and does not change t,
// so it can be called again after flags have changed fields.
func (t *Topology) Validate() error {
	v := validator{t: t, addrs: map[string]string{}}
	v.topology()
	return v.ps.err()
}

type validator struct {
	t     *Topology
	ps    problems
	addrs map[string]string // canonical address -> path of its first use
}

func (v *validator) add(path, format string, args ...any) { v.ps.add(path, format, args...) }

func (v *validator) topology() {
	t := v.t
	if t.DataDir == "" {
		v.add("data_dir", "must not be empty")
	}
	switch ak := t.Credentials.AccessKey; {
	case ak == "":
		v.add("credentials.access_key", "must not be empty")
	case strings.ContainsAny(ak, "/ \t\r\n"):
		v.add("credentials.access_key", `access key %q must not contain "/" or whitespace`, ak)
	}
	if t.Credentials.SecretKey == "" {
		v.add("credentials.secret_key", "must not be empty")
	}
	switch tok := t.AdminToken; {
	case tok == "":
		v.add("admin_token", "must not be empty")
	case strings.ContainsAny(tok, " \t\r\n"):
		v.add("admin_token", "the admin token must not contain whitespace")
	}
	v.regions()
	v.tables()
	v.wan()
	v.routing()
	v.apps()
}

func (v *validator) regions() {
	if len(v.t.Regions) == 0 {
		v.add("regions", "at least one region is required")
	}
	first := map[string]int{}
	for i, r := range v.t.Regions {
		p := fmt.Sprintf("regions[%d]", i)
		switch j, dup := first[r.Name]; {
		case r.Name == "":
			v.add(p+".name", "must not be empty")
		case !regionNameRE.MatchString(r.Name):
			v.add(p+".name", "region name %q may have only lowercase letters, digits and hyphens", r.Name)
		case dup:
			v.add(p+".name", "region %q is already defined at regions[%d]", r.Name, j)
		default:
			first[r.Name] = i
		}
		v.address(p+".dynamodb", r.DynamoDB)
		v.address(p+".admin", r.Admin)
		v.address(p+".public", r.Public)
		if !v.t.TLS.Disabled {
			v.address(p+".public_https", r.PublicHTTPS)
		}
		v.address(p+".control", r.Control)
	}
}

// address checks that addr is host:port with a numeric port, and that no
// other field uses it. Port 0 (a free port picked at start) may repeat.
func (v *validator) address(path, addr string) {
	if addr == "" {
		v.add(path, "must not be empty; write host:port, e.g. 127.0.0.1:8001")
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.add(path, "address %q is not host:port (e.g. 127.0.0.1:8001)", addr)
		return
	}
	if _, err := netip.ParseAddr(host); err != nil && host != "" && !hostnameRE.MatchString(host) {
		v.add(path, "address %q: %q is neither an IP address nor a host name", addr, host)
		return
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		v.add(path, "address %q: port %q is not a number from 0 to 65535", addr, port)
		return
	}
	if n == 0 {
		return
	}
	key := net.JoinHostPort(strings.ToLower(host), strconv.FormatUint(n, 10))
	if prev, ok := v.addrs[key]; ok {
		v.add(path, "address %s is already used by %s", addr, prev)
		return
	}
	v.addrs[key] = path
}

// keyDef is where a key attribute was first given a type, to find an
// attribute that a table and its indexes type differently.
type keyDef struct {
	typ  KeyType
	path string
}

func (v *validator) tables() {
	first := map[string]int{}
	for i := range v.t.Tables {
		tb := &v.t.Tables[i]
		p := fmt.Sprintf("tables[%d]", i)
		if v.name(p+".name", tb.Name, "table") {
			if j, dup := first[tb.Name]; dup {
				v.add(p+".name", "table %q is already defined at tables[%d]", tb.Name, j)
			} else {
				first[tb.Name] = i
			}
		}

		defs := map[string]keyDef{}
		v.keys(p, tb.PartitionKey, tb.SortKey, defs)
		v.replicas(p+".replicas", tb.Replicas)

		indexes := map[string]int{}
		for j := range tb.GlobalSecondaryIndexes {
			ix := &tb.GlobalSecondaryIndexes[j]
			ip := fmt.Sprintf("%s.global_secondary_indexes[%d]", p, j)
			if v.name(ip+".name", ix.Name, "index") {
				if k, dup := indexes[ix.Name]; dup {
					v.add(ip+".name", "index %q is already defined at %s.global_secondary_indexes[%d]", ix.Name, p, k)
				} else {
					indexes[ix.Name] = j
				}
			}
			v.keys(ip, ix.PartitionKey, ix.SortKey, defs)
			v.projection(ip, ix)
		}

		if len(tb.TTLAttribute) > 255 {
			v.add(p+".ttl_attribute", "attribute name is longer than 255 bytes")
		}
	}
}

// name checks a table or index name against DynamoDB's rules and reports
// whether it passed.
func (v *validator) name(path, name, what string) bool {
	switch {
	case name == "":
		v.add(path, "must not be empty")
	case len(name) < 3 || len(name) > 255:
		v.add(path, "%s name %q must be 3 to 255 characters long", what, name)
	case !tableNameRE.MatchString(name):
		v.add(path, "%s name %q may have only letters, digits, '_', '-' and '.'", what, name)
	default:
		return true
	}
	return false
}

// keys checks the partition and sort key of a table or an index at path.
func (v *validator) keys(path string, pk, sk KeyAttribute, defs map[string]keyDef) {
	v.key(path+".partition_key", pk, defs)
	if sk == (KeyAttribute{}) {
		return
	}
	if sk.Name != "" && sk.Name == pk.Name {
		v.add(path+".sort_key.name", "the sort key must differ from the partition key, both are %q", sk.Name)
		return
	}
	v.key(path+".sort_key", sk, defs)
}

func (v *validator) key(path string, k KeyAttribute, defs map[string]keyDef) {
	switch {
	case k.Name == "":
		v.add(path+".name", "must not be empty")
	case len(k.Name) > 255:
		v.add(path+".name", "attribute name is longer than 255 bytes")
	}
	switch k.Type {
	case KeyString, KeyNumber, KeyBinary:
	case "":
		if k.Name != "" {
			v.add(path+".type", "must not be empty; write S, N or B")
		}
		return
	default:
		v.add(path+".type", "key type %q is not S, N or B", k.Type)
		return
	}
	if k.Name == "" {
		return
	}
	if d, ok := defs[k.Name]; ok && d.typ != k.Type {
		v.add(path+".type", "attribute %q is %s here but %s in %s", k.Name, k.Type, d.typ, d.path)
	} else if !ok {
		defs[k.Name] = keyDef{k.Type, path}
	}
}

func (v *validator) replicas(path string, replicas []string) {
	if len(replicas) == 0 {
		v.add(path, "at least one replica region is required")
	}
	seen := map[string]bool{}
	for i, name := range replicas {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case !v.known(p, name):
		case seen[name]:
			v.add(p, "region %q is listed twice", name)
		}
		seen[name] = true
	}
}

func (v *validator) projection(path string, ix *Index) {
	switch ix.Projection {
	case ProjectionAll, ProjectionKeysOnly:
		if len(ix.NonKeyAttributes) > 0 {
			v.add(path+".non_key_attributes", "only an INCLUDE projection lists non-key attributes; this one is %s", ix.Projection)
		}
	case ProjectionInclude:
		if len(ix.NonKeyAttributes) == 0 {
			v.add(path+".non_key_attributes", "an INCLUDE projection needs at least one attribute")
		}
		seen := map[string]bool{}
		for i, a := range ix.NonKeyAttributes {
			p := fmt.Sprintf("%s.non_key_attributes[%d]", path, i)
			switch {
			case a == "":
				v.add(p, "must not be empty")
			case seen[a]:
				v.add(p, "attribute %q is listed twice", a)
			}
			seen[a] = true
		}
	case "":
		v.add(path+".projection", "must not be empty; write ALL, KEYS_ONLY or INCLUDE")
	default:
		v.add(path+".projection", "projection %q is not ALL, KEYS_ONLY or INCLUDE", ix.Projection)
	}
}

func (v *validator) wan() {
	w := &v.t.WAN
	if w.DefaultJitter != nil {
		v.nonNegative("wan.default_jitter", *w.DefaultJitter)
	}
	pairs := map[[2]string]int{}
	for i, l := range w.Links {
		p := fmt.Sprintf("wan.links[%d]", i)
		if l.Latency != nil {
			v.nonNegative(p+".latency", *l.Latency)
		}
		if l.Jitter != nil {
			v.nonNegative(p+".jitter", *l.Jitter)
		}
		if len(l.Between) != 2 {
			v.add(p+".between", "a link joins exactly two regions, not %d", len(l.Between))
			continue
		}
		a, b := l.Between[0], l.Between[1]
		okA := v.known(p+".between[0]", a)
		okB := v.known(p+".between[1]", b)
		if !okA || !okB {
			continue
		}
		if a == b {
			v.add(p+".between", "a link joins two different regions; both are %q", a)
			continue
		}
		pair := [2]string{min(a, b), max(a, b)}
		if j, dup := pairs[pair]; dup {
			v.add(p+".between", "%s and %s are already joined by wan.links[%d]", a, b, j)
			continue
		}
		pairs[pair] = i
	}
}

// known reports whether a region is named name, and if not reports that at
// path.
func (v *validator) known(path, name string) bool {
	if name == "" {
		v.add(path, "must not be empty")
		return false
	}
	if _, ok := v.t.Region(name); !ok {
		v.add(path, "no region named %q (the regions are %s)", name, strings.Join(v.t.RegionNames(), ", "))
		return false
	}
	return true
}

func (v *validator) nonNegative(path string, d time.Duration) {
	if d < 0 {
		v.add(path, "%v must not be negative", d)
	}
}
