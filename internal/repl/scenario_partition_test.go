package repl

import (
	"errors"

	"github.com/cockroachdb/datadriven"
)

// handlePartition cuts both directions between two regions, failing fast as
// the simulated WAN does: streams across it end at once, what was in flight
// is lost, and dials fail until heal.
func (e *simEnv) handlePartition(d *datadriven.TestData) error {
	a, b, err := e.pairArg(d)
	if err != nil {
		return err
	}
	e.cuts[pair(a, b)] = "partition"
	for _, l := range e.sortedLinks(func(l *simLink) bool { return pair(l.origin, l.dest) == pair(a, b) }) {
		l.acks = nil
		if l.open {
			e.ended(l, errors.New("read: network partitioned"))
		}
	}
	return nil
}

// pairArg returns the two regions a command names.
func (e *simEnv) pairArg(d *datadriven.TestData) (string, string, error) {
	p := positional(d)
	if len(p) != 2 || p[0] == p[1] {
		return "", "", errors.New("needs two regions")
	}
	for _, n := range p {
		if _, err := e.regionNamed(n); err != nil {
			return "", "", err
		}
	}
	return p[0], p[1], nil
}
