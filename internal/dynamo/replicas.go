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

// applyReplicaUpdates carries out ReplicaUpdates.
func (s *Server) applyReplicaUpdates(t *store.Table, updates []replicaUpdate) error {
	if len(s.opts.Regions) == 0 {
		return validationErr("One or more parameter values were invalid: ReplicaUpdates need a region that runs with peers; this region runs alone")
	}
	for _, u := range updates {
		var region string
		switch {
		case u.Create != nil && u.Update == nil && u.Delete == nil:
			region = u.Create.RegionName
		case u.Delete != nil && u.Create == nil && u.Update == nil:
			region = u.Delete.RegionName
		case u.Update != nil && u.Create == nil && u.Delete == nil:
			region = u.Update.RegionName
		default:
			return validationErr("One or more parameter values were invalid: A ReplicationGroupUpdate must contain exactly one of Create, Update or Delete")
		}
		if !slices.Contains(s.opts.Regions, region) {
			return validationErr("One or more parameter values were invalid: Region %s is not one of the regions this deployment runs: %v", region, s.opts.Regions)
		}
		var err error
		switch {
		case u.Create != nil:
			if region == s.opts.Region {
				return validationErr("One or more parameter values were invalid: Cannot add a replica of table %s in its own region %s", t.Name, region)
			}
			_, err = s.db.AddReplica(t.Name, region)
			if errors.Is(err, store.ErrReplicaExists) {
				return validationErr("Failed to create a the new replica of table with name: '%s' because one or more replicas already existed as tables.", t.Name)
			}
		case u.Delete != nil:
			_, err = s.db.RemoveReplica(t.Name, region)
			if errors.Is(err, store.ErrReplicaNotFound) {
				return validationErr("Cannot delete the replica in region %s: table %s has no replica there", region, t.Name)
			}
		case u.Update != nil:
			if r := t.Replica(region); r == nil || r.Status == store.StatusDeleting {
				return validationErr("Cannot update the replica in region %s: table %s has no replica there", region, t.Name)
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
