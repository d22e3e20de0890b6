package control

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/hashicorp/raft"
)

// fsm is the machine as Raft's FSM: it decodes log entries, applies them
// and publishes the result to the Service's view. Raft calls Apply,
// Snapshot and Restore from one goroutine.
type fsm struct {
	s *Service
	m machine
	// stable records the index of each applied command (recover.go).
	stable raft.StableStore
}

var _ raft.FSM = (*fsm)(nil)

// Apply applies one command entry and returns its result (a result), which
// raft hands to the ApplyFuture of the leader that appended it.
func (f *fsm) Apply(l *raft.Log) any {
	var c command
	var r result
	if err := json.Unmarshal(l.Data, &c); err != nil {
		// Every replica fails alike on the same bytes, so refusing the
		// entry keeps them equal.
		f.m.Index = l.Index
		r = result{Err: fmt.Errorf("%w: undecodable log entry %d: %v", ErrInvalidChange, l.Index, err)}
	} else {
		r = f.m.apply(l.Index, c)
	}
	if err := recordApplied(f.stable, l.Index); err != nil {
		f.s.log.Warn("recording the applied index failed", "index", l.Index, "err", err)
	}
	f.s.metrics.applied(r)
	if r.Err != nil {
		f.s.log.Debug("change refused", "index", l.Index, "err", r.Err)
	}
	f.s.publishMachine(&f.m)
	return r
}

// snapshotVersion is the format of the snapshots fsm writes.
const snapshotVersion = 1

type snapshotFile struct {
	Version int     `json:"version"`
	Machine machine `json:"machine"`
}

// Snapshot encodes the machine; Raft persists it while Apply goes on.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	data, err := json.Marshal(snapshotFile{Version: snapshotVersion, Machine: f.m})
	if err != nil {
		return nil, fmt.Errorf("control: encoding a snapshot: %w", err)
	}
	return fsmSnapshot(data), nil
}

// Restore replaces the machine with a snapshot's.
func (f *fsm) Restore(rc io.ReadCloser) error {
	m, err := readSnapshot(rc)
	if err != nil {
		return err
	}
	f.m = m
	f.s.publishMachine(&f.m)
	return nil
}

// fsmSnapshot is an encoded machine.
type fsmSnapshot []byte

func (s fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s fsmSnapshot) Release() {}
