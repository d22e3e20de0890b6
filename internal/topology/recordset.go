package topology

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/gyre-dev/gyre/internal/dnsserver"
)

// recordSets checks the record sets. The DNS server owns the rules of a
// record set (types, policies, names, values, aliases, weights, failover
// roles...): dnsserver.CheckRecordSets applies them, and its problems are
// reported here at their YAML paths. What only the topology knows is
// checked here: a record set has a name, and the regions and health checks
// its records name exist. checks are the health checks' ids.
func (v *validator) recordSets(checks map[string]bool) {
	rt := &v.t.Routing
	bySet := map[int][]dnsserver.Problem{}
	if isZoneName(rt.Zone) { // else the zone is reported already, and no name could be checked
		ps, err := dnsserver.CheckRecordSets(rt.Zone, v.t.DNSRecordSets(nil))
		if err != nil {
			v.add("routing.zone", "zone %q is not a DNS name", rt.Zone)
		}
		for _, p := range ps {
			bySet[p.Set] = append(bySet[p.Set], p)
		}
	}
	for i, rs := range rt.RecordSets {
		p := fmt.Sprintf("routing.record_sets[%d]", i)
		if rs.Name == "" {
			v.add(p+".name", "must not be empty")
		}
		for j, rec := range rs.Records {
			rp := fmt.Sprintf("%s.records[%d]", p, j)
			if rec.Region != "" {
				v.known(rp+".region", rec.Region)
			}
			if rec.HealthCheck != "" && !checks[rec.HealthCheck] {
				v.add(rp+".health_check", "no health check %q", rec.HealthCheck)
			}
		}
		for _, dp := range bySet[i] {
			v.add(recordSetPath(dp), "%s", dp.Msg)
		}
	}
}

// DNSRecordSets returns the zone's record sets as the DNS server takes
// them. A simple record is not health checked, so its region and health
// check stay behind. host, when not nil, gives the address a region
// actually serves on (a region on port 0, say): a record whose value is
// its region's public IP from the topology gets that address instead.
func (t *Topology) DNSRecordSets(host func(region string) (string, bool)) []dnsserver.RecordSet {
	sets := t.Routing.RecordSets
	out := make([]dnsserver.RecordSet, 0, len(sets))
	for _, rs := range sets {
		policy := dnsserver.CanonicalPolicy(rs.Policy)
		simple := policy == "" || policy == dnsserver.PolicySimple
		set := dnsserver.RecordSet{Name: rs.Name, Type: rs.Type, TTL: rs.TTL, Policy: rs.Policy}
		for _, rec := range rs.Records {
			d := dnsserver.Record{
				ID: rec.ID, Values: rec.Values, Alias: rec.Alias, EvaluateTargetHealth: rec.EvaluateTargetHealth,
				HealthCheck: rec.HealthCheck, Region: rec.Region, Weight: rec.Weight, Failover: rec.Failover,
			}
			if reg, ok := t.Region(rec.Region); ok && host != nil && len(rec.Values) == 1 && rec.Values[0] == reg.PublicIP() {
				if h, ok := host(rec.Region); ok {
					d.Values = []string{h}
				}
			}
			if simple {
				d.HealthCheck, d.Region = "", ""
			}
			set.Records = append(set.Records, d)
		}
		out = append(out, set)
	}
	return out
}

// recordSetPath returns the YAML path of a problem the DNS server found in
// routing.record_sets. RecordSet and Record have the fields of
// dnsserver's RecordSet and Record, by the same names.
func recordSetPath(p dnsserver.Problem) string {
	path := fmt.Sprintf("routing.record_sets[%d]", p.Set)
	typ := reflect.TypeFor[RecordSet]()
	if p.Record >= 0 {
		path += fmt.Sprintf(".records[%d]", p.Record)
		typ = reflect.TypeFor[Record]()
	}
	name, index, indexed := strings.Cut(p.Field, "[")
	f, ok := typ.FieldByName(name)
	if p.Field == "" || !ok {
		return path // the set or record is the nearest place there is
	}
	key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if indexed {
		key += "[" + index
	}
	return path + "." + key
}
