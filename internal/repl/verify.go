package repl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/store"
)

// Consistency checking: every replica of a table digests its items in key
// order; equal digests mean equal contents. When digests differ, the
// replicas list each item's key and hash and the differences are reported
// key by key.

// TableDigest is one replica's digest of a table.
type TableDigest struct {
	Region string `json:"region"`
	Table  string `json:"table"`
	Found  bool   `json:"found"`
	Status string `json:"status,omitempty"`
	Items  int    `json:"items"`
	Digest string `json:"digest"`
	// Keys maps each item's key (as DynamoDB JSON) to its hash; only when
	// asked for.
	Keys map[string]string `json:"keys,omitempty"`
	// Replicas lists the table's live replica regions as this region knows
	// them.
	Replicas []string `json:"replicas,omitempty"`
}

// canonicalHash hashes an item so that equal items hash equally whatever
// the order of their set members.
func canonicalHash(it attr.Item) []byte {
	h := sha256.Sum256(attr.AppendItem(nil, canonical(attr.MapValue(it)).M))
	return h[:]
}

func canonical(v attr.Value) attr.Value {
	switch v.Type {
	case attr.StringSet, attr.NumberSet:
		v.Strs = slices.Clone(v.Strs)
		slices.Sort(v.Strs)
	case attr.BinarySet:
		v.Bins = slices.Clone(v.Bins)
		slices.SortFunc(v.Bins, func(a, b []byte) int { return slices.Compare(a, b) })
	case attr.Map:
		m := make(map[string]attr.Value, len(v.M))
		for k, e := range v.M {
			m[k] = canonical(e)
		}
		v.M = m
	case attr.List:
		l := make([]attr.Value, len(v.L))
		for i, e := range v.L {
			l[i] = canonical(e)
		}
		v.L = l
	}
	return v
}

// Digest computes this region's digest of a table.
func Digest(db *store.DB, table string, withKeys bool) (TableDigest, error) {
	d := TableDigest{Region: db.Region(), Table: table}
	t, err := db.Table(table)
	if err != nil {
		return d, nil
	}
	d.Found, d.Status, d.Replicas = true, string(t.Status), t.LiveReplicas()
	if withKeys {
		d.Keys = map[string]string{}
	}
	it, err := db.NewIter(table, store.IterOptions{})
	if err != nil {
		return d, err
	}
	defer it.Close()
	sum := sha256.New()
	for it.Next() {
		item := it.Item()
		h := canonicalHash(item)
		key, _ := json.Marshal(keyOf(t, item))
		sum.Write(key)
		sum.Write(h)
		d.Items++
		if withKeys {
			d.Keys[string(key)] = hex.EncodeToString(h)
		}
	}
	if err := it.Err(); err != nil {
		return d, err
	}
	d.Digest = hex.EncodeToString(sum.Sum(nil))
	return d, nil
}

func keyOf(t *store.Table, item attr.Item) attr.Item {
	k := attr.Item{}
	for _, n := range t.Key.Names() {
		k[n] = item[n]
	}
	return k
}

// serveDigest answers GET /repl/digest?table=T[&keys=1], or without a table
// the list of this region's global tables.
func (r *Replicator) serveDigest(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	table := req.URL.Query().Get("table")
	if table == "" {
		var tables []TableDigest
		for _, name := range r.db.TableNames() {
			t, err := r.db.Table(name)
			if err != nil || !t.Global() {
				continue
			}
			tables = append(tables, TableDigest{Region: r.region, Table: name, Found: true, Status: string(t.Status), Replicas: t.LiveReplicas()})
		}
		json.NewEncoder(w).Encode(tables)
		return
	}
	d, err := Digest(r.db, table, req.URL.Query().Get("keys") == "1")
	if err != nil {
		httpError(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	json.NewEncoder(w).Encode(d)
}

// Target is a region whose admin API a consistency check asks.
type Target struct {
	Region string
	URL    string
}

// TableCheck is the verdict on one table.
type TableCheck struct {
	Table      string        `json:"table"`
	Consistent bool          `json:"consistent"`
	Replicas   []TableDigest `json:"replicas"`
	// Differences lists the keys whose items differ between replicas
	// (missing in some, or different), with each replica's hash ("" when
	// missing).
	Differences []KeyDifference `json:"differences,omitempty"`
	// Unreachable lists replica regions that could not be asked.
	Unreachable []string `json:"unreachable,omitempty"`
}

// KeyDifference is one key on which replicas disagree.
type KeyDifference struct {
	Key    json.RawMessage   `json:"key"`
	Hashes map[string]string `json:"hashes"`
}

// Check compares every replica of every global table known to the targets.
// client carries the bearer token.
func Check(ctx context.Context, client *http.Client, token string, targets []Target) ([]TableCheck, error) {
	get := func(t Target, query string, v any) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL+"/repl/digest"+query, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			return fmt.Errorf("%s: %s: %s", t.Region, resp.Status, msg)
		}
		return json.NewDecoder(resp.Body).Decode(v)
	}
	byRegion := map[string]Target{}
	replicas := map[string][]string{}
	for _, t := range targets {
		byRegion[t.Region] = t
		var tables []TableDigest
		if err := get(t, "", &tables); err != nil {
			continue
		}
		for _, d := range tables {
			for _, r := range d.Replicas {
				if !slices.Contains(replicas[d.Table], r) {
					replicas[d.Table] = append(replicas[d.Table], r)
				}
			}
		}
	}
	var out []TableCheck
	names := make([]string, 0, len(replicas))
	for n := range replicas {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		c := TableCheck{Table: name, Consistent: true}
		regions := replicas[name]
		slices.Sort(regions)
		for _, region := range regions {
			t, ok := byRegion[region]
			var d TableDigest
			if !ok || get(t, "?table="+url.QueryEscape(name), &d) != nil {
				c.Unreachable = append(c.Unreachable, region)
				c.Consistent = false
				continue
			}
			c.Replicas = append(c.Replicas, d)
		}
		for _, d := range c.Replicas {
			if !d.Found || d.Digest != c.Replicas[0].Digest {
				c.Consistent = false
			}
		}
		if !c.Consistent && len(c.Replicas) > 1 {
			c.Differences = diffKeys(c.Replicas, func(region string) (map[string]string, error) {
				var d TableDigest
				err := get(byRegion[region], "?keys=1&table="+url.QueryEscape(name), &d)
				return d.Keys, err
			})
		}
		out = append(out, c)
	}
	return out, nil
}

// diffKeys lists the keys on which replicas' item hashes differ.
func diffKeys(replicas []TableDigest, keys func(region string) (map[string]string, error)) []KeyDifference {
	all := map[string]map[string]string{}
	var regions []string
	for _, d := range replicas {
		ks, err := keys(d.Region)
		if err != nil {
			continue
		}
		regions = append(regions, d.Region)
		for k, h := range ks {
			if all[k] == nil {
				all[k] = map[string]string{}
			}
			all[k][d.Region] = h
		}
	}
	var diffs []KeyDifference
	keysSorted := make([]string, 0, len(all))
	for k := range all {
		keysSorted = append(keysSorted, k)
	}
	slices.Sort(keysSorted)
	for _, k := range keysSorted {
		hashes := all[k]
		same := len(hashes) == len(regions)
		var first string
		for _, r := range regions {
			if first == "" {
				first = hashes[r]
			}
			if hashes[r] != first {
				same = false
			}
		}
		if same {
			continue
		}
		full := map[string]string{}
		for _, r := range regions {
			full[r] = hashes[r]
		}
		diffs = append(diffs, KeyDifference{Key: json.RawMessage(k), Hashes: full})
	}
	return diffs
}
