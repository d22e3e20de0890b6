package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/raft"
)

// Recovering the view at restart.
//
// Raft applies committed entries only once it learns the commit index from
// a leader, so a restarted node would otherwise serve its latest snapshot's
// state (or, without one, every control on) until it reaches a majority:
// a region that restarts while cut off could route to a region that was
// turned off. To prevent that, the FSM records in the stable store the
// index of every command it applies (every applied entry is committed), and
// Start rebuilds, from the latest snapshot and the log up to that index,
// the state the node last served. The view shows it until Raft's own
// replay catches up; Raft's state machine is untouched.

// keyApplied is the stable store key of the index of the last command the
// FSM applied.
var keyApplied = []byte("gyre_control_applied_index")

// recoverView publishes the state this node had applied before it
// stopped. It runs in Start before Raft does; failures only cost the
// recovered view, so they are logged, not returned.
func (s *Service) recoverView(logs raft.LogStore, stable raft.StableStore, snaps raft.SnapshotStore) {
	applied, err := stable.GetUint64(keyApplied)
	if err != nil || applied == 0 {
		return
	}
	var m machine
	from := uint64(1)
	if metas, err := snaps.List(); err == nil && len(metas) > 0 {
		_, rc, err := snaps.Open(metas[0].ID)
		if err != nil {
			s.log.Warn("recovering the last state: opening the snapshot failed", "err", err)
			return
		}
		mm, err := readSnapshot(rc)
		if err != nil {
			s.log.Warn("recovering the last state: reading the snapshot failed", "err", err)
			return
		}
		m, from = mm, metas[0].Index+1
	}
	for i := from; i <= applied; i++ {
		var l raft.Log
		if err := logs.GetLog(i, &l); err != nil {
			s.log.Warn("recovering the last state: reading the log failed", "index", i, "err", err)
			break
		}
		if l.Type != raft.LogCommand {
			continue
		}
		var c command
		if err := json.Unmarshal(l.Data, &c); err != nil {
			m.Index = i
			continue
		}
		m.apply(i, c)
	}
	if m.Values == nil || m.Index == 0 {
		return
	}
	s.publishMachine(&m)
	s.mu.Lock()
	s.mu.floor = m.Index
	s.mu.Unlock()
	s.log.Info("recovered the last applied state", "index", m.Index, "configured", m.Configured)
}

// readSnapshot decodes a snapshot fsm wrote, and closes rc.
func readSnapshot(rc io.ReadCloser) (machine, error) {
	defer rc.Close()
	var file snapshotFile
	if err := json.NewDecoder(rc).Decode(&file); err != nil {
		return machine{}, fmt.Errorf("control: decoding a snapshot: %w", err)
	}
	if file.Version != snapshotVersion {
		return machine{}, fmt.Errorf("control: snapshot version %d, want %d", file.Version, snapshotVersion)
	}
	if file.Machine.Values == nil {
		file.Machine.Values = map[string]controlValue{}
	}
	return file.Machine, nil
}

// recordApplied stores the index of the command just applied.
func recordApplied(stable raft.StableStore, index uint64) error {
	if stable == nil {
		return errors.New("control: no stable store")
	}
	return stable.SetUint64(keyApplied, index)
}
