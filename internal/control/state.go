package control

import (
	"encoding/json"
	"time"
)

// State is a node's view of its control panel: the controls, the rules,
// the recent changes, and what the node knows of the Raft group. It is the
// JSON body of GET /controls.
//
// A State is a snapshot: it does not change after it is returned. Its
// slices are shared with every other holder of the same snapshot and must
// not be modified.
type State struct {
	// Panel is the control panel's name.
	Panel string `json:"panel"`
	// Node is the node (region) whose view this is.
	Node string `json:"node"`
	// Leader is the node the view's node believes leads the Raft group;
	// empty when it knows of none (an election is under way, or the node
	// is cut off from a majority).
	Leader string `json:"leader"`
	// Term is the node's current Raft term.
	Term uint64 `json:"term"`
	// AppliedIndex is the index of the last Raft log entry the node's
	// state machine applied (0 before the first).
	AppliedIndex uint64 `json:"applied_index"`
	// Configured is false until the node has applied the panel's first
	// configuration from the replicated log (on a brand new cluster, until
	// its first leader is elected). Until then the view shows the node's
	// own Options with every control on.
	Configured bool `json:"configured"`
	// Generation counts the node's views: it increases every time the
	// view changes (an applied entry, a new leader or term), which is when
	// the channel Watch returned is closed.
	Generation uint64 `json:"generation"`
	// Controls are the panel's controls, sorted by name.
	Controls []ControlState `json:"controls"`
	// Rules are the panel's safety rules, in the order they are checked.
	Rules []Rule `json:"rules"`
	// History holds the latest changes, oldest first, at most HistoryLimit.
	History []Change `json:"history"`

	// on indexes Controls for On.
	on map[string]bool
}

// UnmarshalJSON decodes a State and indexes its controls, so that On is as
// fast on a State read from a region's admin API as on Service.State's.
func (s *State) UnmarshalJSON(data []byte) error {
	type plain State // without the method
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*s = State(p)
	s.on = make(map[string]bool, len(s.Controls))
	for _, c := range s.Controls {
		s.on[c.Name] = c.On
	}
	return nil
}

// On reports whether control is on. A control the panel does not have is
// off. The State may be a Service's or one decoded from JSON; a State built
// by hand is searched control by control.
func (s *State) On(control string) bool {
	if s.on != nil {
		return s.on[control]
	}
	for _, c := range s.Controls {
		if c.Name == control {
			return c.On
		}
	}
	return false
}

// ControlState is one control of a State.
type ControlState struct {
	// Name is the control's name: a region's name for a region's control.
	Name string `json:"name"`
	// On is the control's value. Controls are on when created.
	On bool `json:"on"`
	// ChangedAt is when the control's value last changed, as the node that
	// took the change saw it; zero if it never has.
	ChangedAt time.Time `json:"changed_at,omitzero"`
}

// HistoryLimit is the most changes a panel's history keeps; older ones are
// dropped.
const HistoryLimit = 100

// Change is one applied change in a panel's history.
type Change struct {
	// Index is the Raft log index of the change.
	Index uint64 `json:"index"`
	// ID identifies the change request; a request retried with another
	// leader is applied once.
	ID string `json:"id"`
	// Time is when the node that took the request received it.
	Time time.Time `json:"time"`
	// Origin says who asked for the change, as the caller of Set put it
	// (for example "alice@laptop (gyre control)").
	Origin string `json:"origin,omitempty"`
	// Node is the node (region) that took the request.
	Node string `json:"node"`
	// Controls are the controls whose value changed, sorted by name.
	// Setting a control to the value it had is not recorded.
	Controls []ControlChange `json:"controls"`
	// Override is true when the request overrode the safety rules.
	Override bool `json:"override,omitempty"`
	// Reason is the override's reason.
	Reason string `json:"reason,omitempty"`
	// Bypassed names the rules the change broke, which the override let it
	// through.
	Bypassed []string `json:"bypassed,omitempty"`
}

// ControlChange is one control's change within a Change.
type ControlChange struct {
	Control string `json:"control"`
	From    bool   `json:"from"`
	To      bool   `json:"to"`
}
