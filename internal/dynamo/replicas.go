package dynamo

import (
	"errors"
	"slices"

	"github.com/gyre-dev/gyre/internal/store"
)

// Global tables (version 2019.11.21): replicas are added and removed with
// UpdateTable's ReplicaUpdates from any region that holds the table, and
// DescribeTable lists the other regions' replicas.

// globalTableVersion is the version of global tables Gyre implements.
const globalTableVersion = "2019.11.21"

type replicaUpdate struct {
	Create *struct{ RegionName string }
	Update *struct{ RegionName string }
	Delete *struct{ RegionName string }
}

type replicaDescription struct {
	RegionName    string
	ReplicaStatus string
}

// replicaAction is one checked replica update.
type replicaAction struct {
	region string
	create bool // else delete; an Update changes nothing Gyre keeps
	delete bool
}

// planReplicaUpdates checks ReplicaUpdates against the table without
// changing anything, and returns what to do.
func (s *Server) planReplicaUpdates(t *store.Table, updates []replicaUpdate) ([]replicaAction, error) {
	if len(s.opts.Regions) == 0 {
		return nil, validationErr("One or more parameter values were invalid: ReplicaUpdates need a region that runs with peers; this region runs alone")
	}
	var out []replicaAction
	seen := map[string]bool{}
	for _, u := range updates {
		var a replicaAction
		switch {
		case u.Create != nil && u.Update == nil && u.Delete == nil:
			a = replicaAction{region: u.Create.RegionName, create: true}
		case u.Delete != nil && u.Create == nil && u.Update == nil:
			a = replicaAction{region: u.Delete.RegionName, delete: true}
		case u.Update != nil && u.Create == nil && u.Delete == nil:
			a = replicaAction{region: u.Update.RegionName}
		default:
			return nil, validationErr("One or more parameter values were invalid: A ReplicationGroupUpdate must contain exactly one of Create, Update or Delete")
		}
		if !slices.Contains(s.opts.Regions, a.region) {
			return nil, validationErr("One or more parameter values were invalid: Region %s is not one of the regions this deployment runs: %v", a.region, s.opts.Regions)
		}
		if seen[a.region] {
			return nil, validationErr("One or more parameter values were invalid: Only one replica update per region is allowed; %s appears more than once", a.region)
		}
		seen[a.region] = true
		live := t.Replica(a.region) != nil && t.Replica(a.region).Status != store.StatusDeleting
		switch {
		case a.create && a.region == s.opts.Region:
			return nil, validationErr("One or more parameter values were invalid: Cannot add a replica of table %s in its own region %s", t.Name, a.region)
		case a.create && live:
			return nil, validationErr("Failed to create a the new replica of table with name: '%s' because one or more replicas already existed as tables.", t.Name)
		case a.delete && !live:
			return nil, validationErr("Cannot delete the replica in region %s: table %s has no replica there", a.region, t.Name)
		case !a.create && !a.delete && !live:
			return nil, validationErr("Cannot update the replica in region %s: table %s has no replica there", a.region, t.Name)
		}
		out = append(out, a)
	}
	return out, nil
}

// applyReplicaActions carries out checked replica updates.
func (s *Server) applyReplicaActions(t *store.Table, actions []replicaAction) error {
	for _, a := range actions {
		var err error
		switch {
		case a.create:
			_, err = s.db.AddReplica(t.Name, a.region)
			if errors.Is(err, store.ErrReplicaExists) {
				return validationErr("Failed to create a the new replica of table with name: '%s' because one or more replicas already existed as tables.", t.Name)
			}
		case a.delete:
			_, err = s.db.RemoveReplica(t.Name, a.region)
			if errors.Is(err, store.ErrReplicaNotFound) {
				return validationErr("Cannot delete the replica in region %s: table %s has no replica there", a.region, t.Name)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// replicaDescriptions lists the other regions' live replicas, as DynamoDB's
// DescribeTable does.
func (s *Server) replicaDescriptions(t *store.Table) []replicaDescription {
	var out []replicaDescription
	for _, r := range t.Replicas {
		if r.Region == s.opts.Region || r.Status == store.StatusDeleting {
			continue
		}
		out = append(out, replicaDescription{RegionName: r.Region, ReplicaStatus: string(r.Status)})
	}
	return out
}
