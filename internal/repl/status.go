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
		pl := r.pullers[p.Name]
		pl.mu.Lock()
		ls := LinkStatus{
			Origin: p.Name, Destination: r.region, State: pl.mu.state, LastError: pl.mu.lastErr,
			Cursor: pl.mu.cursor.Seq, Head: pl.mu.head, LastApplied: pl.mu.lastApply,
		}
		pl.mu.Unlock()
		if ls.Head > ls.Cursor {
			ls.Backlog = ls.Head - ls.Cursor
		}
		ls.Lag = pl.lag.summary(now)
		s.Links = append(s.Links, ls)
	}
	r.mu.Lock()
	for t := range r.mu.backfills {
		s.Backfilling = append(s.Backfilling, t)
	}
	for _, p := range r.opts.Peers {
		o := OutboundStatus{Destination: p.Name}
		if c, ok := r.mu.acks[p.Name]; ok && c.Incarnation == s.Incarnation {
			o.Known, o.Acked = true, c.Seq
			if s.LogHead > c.Seq {
				o.Backlog = s.LogHead - c.Seq
			}
		}
		s.Outbound = append(s.Outbound, o)
	}
	r.mu.Unlock()
	return s
}
