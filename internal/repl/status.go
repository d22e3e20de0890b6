package repl

import (
	"time"
)

// LinkStatus describes the replication of one origin's writes into this
// region.
type LinkStatus struct {
	Origin      string `json:"origin"`
	Destination string `json:"destination"`
	// State is connecting, connected, catching-up or down.
	State     string `json:"state"`
	LastError string `json:"last_error,omitempty"`
	// Cursor is how far this region has applied the origin's log; Head is
	// the origin's log head as last heard; Backlog is the difference.
	Cursor  uint64 `json:"cursor"`
	Head    uint64 `json:"head"`
	Backlog uint64 `json:"backlog"`
	// Lag summarises replication lag over the last minute.
	Lag         Summary   `json:"lag"`
	LastApplied time.Time `json:"last_applied,omitzero"`
}

// OutboundStatus describes how far a peer has applied this region's log,
// as the peer last acknowledged.
type OutboundStatus struct {
	Destination string `json:"destination"`
	Acked       uint64 `json:"acked"`
	// Backlog is this region's log head minus the acknowledged position:
	// entries the destination has not applied yet.
	Backlog uint64 `json:"backlog"`
	// Known is false until the destination has acknowledged anything in
	// this incarnation.
	Known bool `json:"known"`
}

// Status is this region's replication state.
type Status struct {
	Region      string           `json:"region"`
	Incarnation string           `json:"incarnation"`
	LogHead     uint64           `json:"log_head"`
	LogFloor    uint64           `json:"log_floor"`
	Links       []LinkStatus     `json:"links"`
	Outbound    []OutboundStatus `json:"outbound"`
	Backfilling []string         `json:"backfilling,omitempty"`
}

// Status reports the state of every inbound link.
func (r *Replicator) Status() Status {
	now := r.opts.Now()
	s := Status{Region: r.region, Incarnation: r.db.Incarnation(), LogHead: r.db.LogHead(), LogFloor: r.db.LogFloor(), Links: []LinkStatus{}}
	for _, p := range r.opts.Peers {
		var ls LinkStatus
		r.pullers[p.Name].locked(func(c *pullCore) { ls = c.status(now) })
		s.Links = append(s.Links, ls)
	}
	r.mu.Lock()
	for t := range r.mu.backfills {
		s.Backfilling = append(s.Backfilling, t)
	}
	r.mu.Unlock()
	for _, p := range r.opts.Peers {
		o := OutboundStatus{Destination: p.Name}
		if c, ok, _ := r.outbound[p.Name].Position(); ok && c.Incarnation == s.Incarnation {
			o.Known, o.Acked = true, c.Seq
			if s.LogHead > c.Seq {
				o.Backlog = s.LogHead - c.Seq
			}
		}
		s.Outbound = append(s.Outbound, o)
	}
	return s
}

// status describes the link the core follows.
func (c *pullCore) status(now time.Time) LinkStatus {
	ls := LinkStatus{
		Origin: c.cfg.origin, Destination: c.cfg.region, State: c.state, LastError: c.lastErr,
		Cursor: c.cursor.Seq, Head: c.head, LastApplied: c.lastApply, Lag: c.lag.summary(now),
	}
	if ls.Head > ls.Cursor {
		ls.Backlog = ls.Head - ls.Cursor
	}
	return ls
}
