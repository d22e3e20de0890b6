package repl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gyre-dev/gyre/internal/store"
)

// frame is one unit of a stream: its kind and payload.
type frame struct {
	kind    byte
	payload []byte
}

func jsonFrame(kind byte, v any) frame {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("repl: encoding a %q frame: %v", kind, err)) // plain structs always encode
	}
	return frame{kind: kind, payload: b}
}

// sourceState says what a pull stream's origin does after the frames of one
// step.
type sourceState int

const (
	// sourceMore: step again at once, there may be more entries.
	sourceMore sourceState = iota
	// sourceIdle: the peer has every entry; step again when the log grows,
	// or after HeartbeatInterval at the latest.
	sourceIdle
	// sourceEnded: the stream is over (the last frame was a reset).
	sourceEnded
)

// pullSource is the origin's half of one pull stream, without its socket:
// it turns the log after the peer's position into the frames the stream
// carries. The first frame names the incarnation the entries belong to (a
// heartbeat); a position the log can no longer serve gets a reset instead,
// which ends the stream. A pullSource is not safe for concurrent use.
type pullSource struct {
	db     *store.DB
	rd     *LogReader
	batch  int
	opened bool
}

func newPullSource(l *Log, pr pullRequest, batch int) *pullSource {
	return &pullSource{db: l.db, rd: l.ReaderFrom(store.Cursor{Incarnation: pr.Incarnation, Seq: pr.After}), batch: batch}
}

// encodeError is a log entry the source could not encode.
type encodeError struct {
	seq uint64
	err error
}

func (e *encodeError) Error() string {
	return fmt.Sprintf("repl: encoding log entry %d: %v", e.seq, e.err)
}
func (e *encodeError) Unwrap() error { return e.err }

// step returns the frames to send now, up to BatchSize entries, and what to
// do after sending them. An error (reading the log, or an *encodeError) ends
// the stream without them.
func (s *pullSource) step() ([]frame, sourceState, error) {
	var out []frame
	inc := s.rd.Position().Incarnation
	if !s.opened {
		s.opened = true
		if s.rd.Truncated() {
			return []frame{s.reset()}, sourceEnded, nil
		}
		out = append(out, jsonFrame(frameHeartbeat, heartbeat{Incarnation: inc, Head: s.db.LogHead()}))
	}
	entries, err := s.rd.Next(s.batch)
	if errors.Is(err, store.ErrLogTruncated) {
		return append(out, s.reset()), sourceEnded, nil
	}
	if err != nil {
		return nil, 0, err
	}
	for _, e := range entries {
		enc, err := e.Encode()
		if err != nil {
			return nil, 0, &encodeError{seq: e.Seq, err: err}
		}
		out = append(out, frame{kind: frameEntry, payload: enc})
	}
	if len(entries) > 0 {
		return out, sourceMore, nil
	}
	return append(out, jsonFrame(frameHeartbeat, heartbeat{Incarnation: inc, Head: s.rd.Position().Seq})), sourceIdle, nil
}

// wait blocks until the log grows past what the source has sent, ctx is
// done or the store is closed (store.ErrClosed).
func (s *pullSource) wait(ctx context.Context) error { return s.rd.Wait(ctx) }

func (s *pullSource) reset() frame {
	return jsonFrame(frameReset, reset{Incarnation: s.rd.Position().Incarnation, Head: s.db.LogHead(), Reason: "truncated"})
}
