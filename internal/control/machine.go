package control

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"
)

// The operations of the replicated log.
const (
	opSet       = "set"       // set some controls (command.Changes)
	opConfigure = "configure" // replace the panel's configuration (command.Config)
)

// command is one entry of the replicated log, encoded as JSON. Everything
// apply depends on is in it: the time of a change is stamped by the node
// that took the request, not read from the clock of each replica, so that
// every replica computes the same state.
type command struct {
	Op       string          `json:"op"`
	ID       string          `json:"id,omitempty"`
	Time     time.Time       `json:"time"`
	Origin   string          `json:"origin,omitempty"`
	Node     string          `json:"node"`
	Changes  map[string]bool `json:"changes,omitempty"`
	Override bool            `json:"override,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	Config   *config         `json:"config,omitempty"`
}

// config is a panel's configuration: its name, its controls and its rules.
type config struct {
	Panel    string   `json:"panel"`
	Controls []string `json:"controls"` // sorted, distinct
	Rules    []Rule   `json:"rules"`
}

// equal reports whether c and o configure the same panel.
func (c *config) equal(o *config) bool {
	return c.Panel == o.Panel && slices.Equal(c.Controls, o.Controls) &&
		slices.EqualFunc(c.Rules, o.Rules, func(a, b Rule) bool {
			return a.Name == b.Name && a.Type == b.Type && a.AtLeast == b.AtLeast &&
				slices.Equal(a.Controls, b.Controls) && slices.Equal(a.Targets, b.Targets)
		})
}

// validate reports every problem with c.
func (c *config) validate() error {
	var errs []error
	if c.Panel == "" {
		errs = append(errs, errors.New("control: the panel has no name"))
	}
	if len(c.Controls) == 0 {
		errs = append(errs, errors.New("control: the panel has no controls"))
	}
	known := make(map[string]bool, len(c.Controls))
	for _, n := range c.Controls {
		switch {
		case n == "":
			errs = append(errs, errors.New("control: a control has an empty name"))
		case known[n]:
			errs = append(errs, fmt.Errorf("control: control %q is named twice", n))
		}
		known[n] = true
	}
	if err := validateRules(known, c.Rules); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// controlValue is a control's replicated value.
type controlValue struct {
	On        bool      `json:"on"`
	ChangedAt time.Time `json:"changed_at,omitzero"`
}

// machine is the panel's replicated state machine: the deterministic core
// the Raft FSM wraps. Its state is a function of the commands applied to it
// and nothing else (no clock, no randomness, no I/O), so every replica that
// applies the same log holds the same state. It is not safe for concurrent
// use; Raft applies commands from one goroutine.
//
// Its fields are exported for the JSON encoding of snapshots.
type machine struct {
	// Index is the log index of the last command applied.
	Index uint64 `json:"index"`
	// Configured is set by the first configure command.
	Configured bool                    `json:"configured"`
	Config     config                  `json:"config"`
	Values     map[string]controlValue `json:"values"`
	// History holds the latest changes, oldest first, at most
	// HistoryLimit.
	History []Change `json:"history"`
}

// result is what applying a command yields; the FSM hands it to the
// caller of raft.Apply.
type result struct {
	// Change is the change recorded in the history, or nil when the
	// command changed no control's value.
	Change *Change
	// Duplicate is set when the command's ID was already in the history:
	// a retried request, applied once.
	Duplicate bool
	// Bypassed are the rules an override let the change break.
	Bypassed []*RuleError
	// Err is why the command was refused (a *RuleError, ErrUnknownControl,
	// ErrInvalidChange, errNotConfigured); the state is then unchanged.
	Err error
}

// apply applies the command at log index i.
func (m *machine) apply(i uint64, c command) result {
	m.Index = i
	switch c.Op {
	case opConfigure:
		return m.configure(c)
	case opSet:
		return m.set(i, c)
	default:
		// A newer version's command: refuse it rather than guess, and say
		// so; every replica of this version refuses it alike.
		return result{Err: fmt.Errorf("%w: unknown operation %q", ErrInvalidChange, c.Op)}
	}
}

func (m *machine) configure(c command) result {
	if c.Config == nil {
		return result{Err: fmt.Errorf("%w: configure without a configuration", ErrInvalidChange)}
	}
	if err := c.Config.validate(); err != nil {
		return result{Err: err}
	}
	values := make(map[string]controlValue, len(c.Config.Controls))
	for _, n := range c.Config.Controls {
		v, ok := m.Values[n]
		if !ok {
			v = controlValue{On: true}
		}
		values[n] = v
	}
	m.Values = values
	m.Config = *c.Config
	m.Configured = true
	return result{}
}

func (m *machine) set(i uint64, c command) result {
	if !m.Configured {
		return result{Err: errNotConfigured}
	}
	if c.ID != "" {
		for k := range m.History {
			if h := m.History[k]; h.ID == c.ID {
				return result{Change: &h, Duplicate: true}
			}
		}
	}
	if len(c.Changes) == 0 {
		return result{Err: fmt.Errorf("%w: no controls to set", ErrInvalidChange)}
	}
	if c.Override && c.Reason == "" {
		return result{Err: fmt.Errorf("%w: an override needs a reason", ErrInvalidChange)}
	}
	state := m.values()
	if err := checkKnown(state, c.Changes); err != nil {
		return result{Err: err}
	}
	broken := violations(state, c.Changes, m.Config.Rules)
	if len(broken) > 0 && !c.Override {
		return result{Err: broken[0]}
	}
	ch := Change{Index: i, ID: c.ID, Time: c.Time, Origin: c.Origin, Node: c.Node, Override: c.Override, Reason: c.Reason}
	for _, b := range broken {
		ch.Bypassed = append(ch.Bypassed, b.Rule.Name)
	}
	for _, n := range slices.Sorted(maps.Keys(c.Changes)) {
		to := c.Changes[n]
		if from := state[n]; from != to {
			ch.Controls = append(ch.Controls, ControlChange{Control: n, From: from, To: to})
			m.Values[n] = controlValue{On: to, ChangedAt: c.Time}
		}
	}
	if len(ch.Controls) == 0 {
		return result{}
	}
	if len(m.History) >= HistoryLimit {
		m.History = slices.Delete(m.History, 0, len(m.History)-HistoryLimit+1)
	}
	m.History = append(m.History, ch)
	// The caller gets its own copy: the history's array is shifted as it
	// is trimmed. The slices within a Change are never modified.
	return result{Change: &ch, Bypassed: broken}
}

// values returns every control's value.
func (m *machine) values() map[string]bool {
	out := make(map[string]bool, len(m.Values))
	for n, v := range m.Values {
		out[n] = v.On
	}
	return out
}

// view returns the machine's part of a State, sharing nothing with m.
func (m *machine) view(s *State) {
	s.Panel = m.Config.Panel
	s.AppliedIndex = m.Index
	s.Configured = m.Configured
	s.Controls = make([]ControlState, 0, len(m.Values))
	s.on = make(map[string]bool, len(m.Values))
	for n, v := range m.Values {
		s.Controls = append(s.Controls, ControlState{Name: n, On: v.On, ChangedAt: v.ChangedAt})
		s.on[n] = v.On
	}
	sort.Slice(s.Controls, func(i, j int) bool { return s.Controls[i].Name < s.Controls[j].Name })
	s.Rules = cloneRules(m.Config.Rules)
	s.History = make([]Change, len(m.History))
	for i, h := range m.History {
		h.Controls = slices.Clone(h.Controls)
		h.Bypassed = slices.Clone(h.Bypassed)
		s.History[i] = h
	}
}

func cloneRules(rules []Rule) []Rule {
	out := make([]Rule, len(rules))
	for i, r := range rules {
		r.Controls = slices.Clone(r.Controls)
		r.Targets = slices.Clone(r.Targets)
		out[i] = r
	}
	return out
}
