package control

import (
	"errors"
	"fmt"
	"slices"
	"sort"
)

// RuleType is the kind of a safety rule.
type RuleType string

// The kinds of safety rule, after Route 53 Application Recovery
// Controller's.
const (
	// Assertion rules keep at least AtLeast of their Controls on: a change
	// that turns one of them off is refused if it would leave fewer on.
	// "At least one region on" and "at least two of three" are assertion
	// rules.
	Assertion RuleType = "assertion"
	// Gating rules let their Targets change only while at least AtLeast
	// of their (gating) Controls are on, so that an operator must first
	// open the gate, a deliberate and separate act.
	Gating RuleType = "gating"
)

// Rule is a safety rule of a control panel. Rules are plain data; the
// panel's rules are replicated with its controls.
type Rule struct {
	// Name identifies the rule in errors, metrics and history. Required,
	// unique within the panel.
	Name string `json:"name"`
	// Type is Assertion or Gating. Required.
	Type RuleType `json:"type"`
	// Controls are the asserted controls of an assertion rule, or the
	// gating controls of a gating rule. Required: at least one, each a
	// control of the panel, none twice.
	Controls []string `json:"controls"`
	// Targets are the controls a gating rule guards. Required for a gating
	// rule (at least one, each a control of the panel, none twice), absent
	// for an assertion rule.
	Targets []string `json:"targets,omitempty"`
	// AtLeast is the rule's threshold: how many of Controls must be on.
	// Must be between 1 and len(Controls).
	AtLeast int `json:"at_least"`
}

// DefaultRuleName is the name of the rule Options.Rules defaults to.
const DefaultRuleName = "at-least-one-region"

// DefaultRules returns the rules a panel has when Options.Rules is nil: one
// assertion rule, DefaultRuleName, keeping at least one of the regions'
// controls on, so that no single change can send traffic nowhere.
func DefaultRules(regions []string) []Rule {
	return []Rule{{Name: DefaultRuleName, Type: Assertion, Controls: slices.Clone(regions), AtLeast: 1}}
}

// validateRules reports every problem with rules over the panel's controls.
func validateRules(controls map[string]bool, rules []Rule) error {
	var errs []error
	names := make(map[string]bool, len(rules))
	for i, r := range rules {
		where := fmt.Sprintf("rule %d (%q)", i, r.Name)
		switch {
		case r.Name == "":
			errs = append(errs, fmt.Errorf("control: rule %d has no name", i))
		case names[r.Name]:
			errs = append(errs, fmt.Errorf("control: rule name %q is used twice", r.Name))
		}
		names[r.Name] = true
		switch r.Type {
		case Assertion:
			if len(r.Targets) > 0 {
				errs = append(errs, fmt.Errorf("control: %s: an assertion rule has no targets", where))
			}
		case Gating:
			if len(r.Targets) == 0 {
				errs = append(errs, fmt.Errorf("control: %s: a gating rule needs targets", where))
			}
			errs = append(errs, checkNames(controls, where+" targets", r.Targets)...)
		default:
			errs = append(errs, fmt.Errorf("control: %s: type %q is neither %q nor %q", where, r.Type, Assertion, Gating))
		}
		if len(r.Controls) == 0 {
			errs = append(errs, fmt.Errorf("control: %s has no controls", where))
		}
		errs = append(errs, checkNames(controls, where+" controls", r.Controls)...)
		if r.AtLeast < 1 || r.AtLeast > len(r.Controls) {
			errs = append(errs, fmt.Errorf("control: %s: at_least %d must be between 1 and its number of controls, %d", where, r.AtLeast, len(r.Controls)))
		}
	}
	return errors.Join(errs...)
}

// checkNames reports names that are not controls, or are listed twice.
func checkNames(controls map[string]bool, where string, names []string) []error {
	var errs []error
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !controls[n] {
			errs = append(errs, fmt.Errorf("control: %s: %w %q", where, ErrUnknownControl, n))
		}
		if seen[n] {
			errs = append(errs, fmt.Errorf("control: %s: %q is listed twice", where, n))
		}
		seen[n] = true
	}
	return errs
}

// Check decides whether a change may be made. state holds every control of
// the panel and whether it is on; changes holds the controls to set and
// the value each is to take (setting a control to the value it has is
// allowed and changes nothing). Check returns nil when the change is
// allowed, an error wrapping ErrUnknownControl when it names a control
// state lacks, and otherwise a *RuleError for the first rule, in order,
// that it breaks:
//
//   - An assertion rule is broken by a change that turns at least one of
//     its controls off and leaves fewer than AtLeast of them on. A change
//     that turns none of them off never breaks it, even while too few are
//     on (after an override), so that turning controls back on is always
//     allowed.
//   - A gating rule is broken by a change that changes the value of at
//     least one of its targets while fewer than AtLeast of its gating
//     controls are on. The gate is judged on the state before the change:
//     opening the gate and changing a target in one change is refused, as
//     the gate exists to demand a separate, deliberate act.
//
// Check is a pure function: it does not modify its arguments, and its
// answer depends on them alone.
func Check(state, changes map[string]bool, rules []Rule) error {
	if err := checkKnown(state, changes); err != nil {
		return err
	}
	for _, r := range rules {
		if e := checkRule(state, changes, r); e != nil {
			return e
		}
	}
	return nil
}

// violations returns a *RuleError for every rule the change breaks, in the
// rules' order. The change's controls must all be in state.
func violations(state, changes map[string]bool, rules []Rule) []*RuleError {
	var out []*RuleError
	for _, r := range rules {
		if e := checkRule(state, changes, r); e != nil {
			out = append(out, e)
		}
	}
	return out
}

// checkKnown returns an error naming the first (in sorted order) control of
// changes that state lacks.
func checkKnown(state, changes map[string]bool) error {
	var unknown []string
	for name := range changes {
		if _, ok := state[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("%w %q", ErrUnknownControl, unknown[0])
}

// checkRule returns the *RuleError of r for the change, or nil.
func checkRule(state, changes map[string]bool, r Rule) *RuleError {
	value := func(name string) bool {
		if v, ok := changes[name]; ok {
			return v
		}
		return state[name]
	}
	switch r.Type {
	case Assertion:
		var turnedOff []string
		on := 0
		for _, c := range r.Controls {
			after := value(c)
			if after {
				on++
			} else if state[c] {
				turnedOff = append(turnedOff, c)
			}
		}
		if len(turnedOff) == 0 || on >= r.AtLeast {
			return nil
		}
		sort.Strings(turnedOff)
		return &RuleError{Rule: r, On: on, Controls: turnedOff}
	case Gating:
		var changed []string
		for _, t := range r.Targets {
			if v, ok := changes[t]; ok && v != state[t] {
				changed = append(changed, t)
			}
		}
		if len(changed) == 0 {
			return nil
		}
		on := 0
		for _, c := range r.Controls {
			if state[c] {
				on++
			}
		}
		if on >= r.AtLeast {
			return nil
		}
		sort.Strings(changed)
		return &RuleError{Rule: r, On: on, Controls: changed}
	}
	return nil
}
