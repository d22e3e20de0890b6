package node

import (
	"fmt"
	"time"

	"github.com/cockroachdb/datadriven"
)

// Scenario commands that drive the simulated WAN, the one a user drives
// with gyre wan: cutting and healing links fails connections at once, so
// what a scenario prints does not depend on timing.

// twoRegions returns the two positional region names of a link command.
func twoRegions(d *datadriven.TestData) (string, string, error) {
	p := positional(d)
	if len(p) != 2 {
		return "", "", fmt.Errorf("want two regions, got %v", p)
	}
	return p[0], p[1], nil
}

func oneRegion(d *datadriven.TestData) (string, error) {
	p := positional(d)
	if len(p) != 1 {
		return "", fmt.Errorf("want one region, got %v", p)
	}
	return p[0], nil
}

// partition a b takes both directions between a and b down.
func (e *scenarioEnv) handlePartition(d *datadriven.TestData) (string, error) {
	a, b, err := twoRegions(d)
	if err != nil {
		return "", err
	}
	return "", e.node.WAN().Partition(a, b)
}

// isolate r takes every link of r down.
func (e *scenarioEnv) handleIsolate(d *datadriven.TestData) (string, error) {
	r, err := oneRegion(d)
	if err != nil {
		return "", err
	}
	return "", e.node.WAN().Isolate(r)
}

// heal-link a b lifts the partition between a and b.
func (e *scenarioEnv) handleHealLink(d *datadriven.TestData) (string, error) {
	a, b, err := twoRegions(d)
	if err != nil {
		return "", err
	}
	return "", e.node.WAN().HealLink(a, b)
}

// rejoin r lifts the isolation of r.
func (e *scenarioEnv) handleRejoin(d *datadriven.TestData) (string, error) {
	r, err := oneRegion(d)
	if err != nil {
		return "", err
	}
	return "", e.node.WAN().Rejoin(r)
}

// heal lifts every partition and isolation.
func (e *scenarioEnv) handleHeal(d *datadriven.TestData) (string, error) {
	e.node.WAN().Heal()
	return "", nil
}

// latency a b 40ms sets the one-way latency between a and b, without
// jitter.
func (e *scenarioEnv) handleLatency(d *datadriven.TestData) (string, error) {
	p := positional(d)
	if len(p) != 3 {
		return "", fmt.Errorf("want two regions and a latency, got %v", p)
	}
	lat, err := time.ParseDuration(p[2])
	if err != nil {
		return "", err
	}
	return "", e.node.WAN().Set(p[0], p[1], lat, 0)
}

// stabilize waits until replication has drained over every link that is up
// between running regions (see awaitDrained). It prints nothing: what
// converged shows in the reads that follow.
func (e *scenarioEnv) handleStabilize(d *datadriven.TestData) (string, error) {
	return "", awaitDrained(e.ctx, e.node, drainTimeout)
}
