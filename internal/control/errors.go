package control

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNoQuorum is returned by Service.Set when no leader could take the
	// change before the context's deadline (or Options.SetTimeout): a
	// majority of the regions is down or cut off. The change may still
	// have been written to a minority's log; if that minority's log wins
	// once the majority returns, the change is applied then (and judged by
	// the rules as they stand at that moment). The admin handler answers
	// it with 503 "no_quorum".
	ErrNoQuorum = errors.New("control: no quorum: no leader took the change in time (is a majority of regions down?)")

	// ErrStopped is returned by Service.Set, and by Start, after Shutdown
	// has begun. The admin handler answers it with 503 "stopped".
	ErrStopped = errors.New("control: stopped")

	// ErrUnknownControl is returned by Service.Set and Check, wrapped with
	// the name, when a change names a control the panel does not have. The
	// admin handler answers it with 400 "unknown_control".
	ErrUnknownControl = errors.New("control: unknown control")

	// ErrInvalidChange is returned by Service.Set, wrapped with the reason,
	// for a change that is malformed: no controls, or an override without
	// a reason. The admin handler answers it with 400 "bad_request".
	ErrInvalidChange = errors.New("control: invalid change")

	// errNotLeader is what a node that lost the leadership answers a
	// forwarded change with; Set retries with the new leader.
	errNotLeader = errors.New("control: not the leader")

	// errNotConfigured is what the state machine answers a change with
	// before the panel's first configuration is committed (the moments
	// after a new cluster's first election); Set retries.
	errNotConfigured = errors.New("control: the panel's configuration is not committed yet")
)

// RuleError is the error of a change refused by a safety rule. Service.Set
// returns it (also when the change was forwarded to the leader); the admin
// handler answers it with 409 "rule_violation" and the rule's name. An
// Override with a reason bypasses the rules.
type RuleError struct {
	// Rule is the first rule, in the panel's order, that the change breaks.
	Rule Rule `json:"rule"`
	// On is how many of the rule's controls are on: for an assertion rule,
	// after the change; for a gating rule, how many gating controls are on
	// now.
	On int `json:"on"`
	// Controls are the controls of the change the rule objects to: for an
	// assertion rule those it would turn off, for a gating rule the target
	// controls it would change. Sorted.
	Controls []string `json:"controls"`
}

// Error names the rule and says why the change breaks it.
func (e *RuleError) Error() string {
	r := e.Rule
	switch r.Type {
	case Gating:
		return fmt.Sprintf("control: change refused by gating rule %q: %s may change only while at least %d of %s %s on, and %d %s (override with a reason to force it)",
			r.Name, strings.Join(e.Controls, ", "), r.AtLeast, strings.Join(r.Controls, ", "), isAre(r.AtLeast), e.On, isAre(e.On))
	default:
		return fmt.Sprintf("control: change refused by assertion rule %q: turning off %s would leave %d of %s on, and the rule needs at least %d (override with a reason to force it)",
			r.Name, strings.Join(e.Controls, ", "), e.On, strings.Join(r.Controls, ", "), r.AtLeast)
	}
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
