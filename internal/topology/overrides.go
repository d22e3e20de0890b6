package topology

import (
	"maps"
	"slices"
	"time"
)

// Overrides are changes to a loaded topology made from the command line,
// such as gyre up --data-dir. The zero value changes nothing.
type Overrides struct {
	// DataDir replaces data_dir when not empty.
	DataDir string
	// AccessKey replaces credentials.access_key when not empty.
	AccessKey string
	// SecretKey replaces credentials.secret_key when not empty.
	SecretKey string
	// AdminToken replaces admin_token when not empty.
	AdminToken string
	// ClockSkew sets the clock_skew of each region it names (by region
	// name); every name must be a region of the topology.
	ClockSkew map[string]time.Duration
	// DisableWAN sets wan.disabled when true.
	DisableWAN bool
}

// Apply makes the changes o asks for to t and validates the result,
// returning an *Error that lists every problem, the overrides' own (paths
// under "overrides") included. t is changed even when Apply fails.
func (t *Topology) Apply(o Overrides) error {
	var ps problems
	if o.DataDir != "" {
		t.DataDir = o.DataDir
	}
	if o.AccessKey != "" {
		t.Credentials.AccessKey = o.AccessKey
	}
	if o.SecretKey != "" {
		t.Credentials.SecretKey = o.SecretKey
	}
	if o.AdminToken != "" {
		t.AdminToken = o.AdminToken
	}
	for _, name := range slices.Sorted(maps.Keys(o.ClockSkew)) {
		r, ok := t.Region(name)
		if !ok {
			ps.add("overrides.clock_skew."+name, "no region named %q", name)
			continue
		}
		r.ClockSkew = o.ClockSkew[name]
	}
	if o.DisableWAN {
		t.WAN.Disabled = true
	}
	if err := t.Validate(); err != nil {
		ps = append(ps, err.(*Error).Problems...)
	}
	return ps.err()
}
