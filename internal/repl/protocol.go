package repl

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gyre-dev/gyre/internal/attr"
	"github.com/gyre-dev/gyre/internal/hlc"
	"github.com/gyre-dev/gyre/internal/store"
)

// The wire protocol between regions. A stream is a sequence of frames:
// a kind byte, a uvarint length and the payload.
const (
	frameEntry     = 'E' // a store.LogEntry, encoded
	frameHeartbeat = 'H' // heartbeat JSON
	frameReset     = 'X' // reset JSON: the puller must catch up from snapshots
	frameSnapshot  = 'S' // snapshot trailer JSON, after the records
	frameRecord    = 'R' // a snapshot record, encoded
	frameDone      = 'D' // end of a snapshot
)

// maxFrame bounds a frame's payload: a log entry holds at most a 100-item
// transaction of 400 KB items, plus overhead.
const maxFrame = 64 << 20

// pullRequest opens a stream of an origin's log entries.
type pullRequest struct {
	// Peer is the region asking.
	Peer string `json:"peer"`
	// Incarnation and After are the peer's position in the origin's log.
	Incarnation string `json:"incarnation"`
	After       uint64 `json:"after"`
}

// ackRequest reports a peer's progress, so the origin can truncate its log
// and collect tombstones.
type ackRequest struct {
	Peer        string `json:"peer"`
	Incarnation string `json:"incarnation"`
	// Seq is how far the peer has durably applied the origin's log.
	Seq uint64 `json:"seq"`
	// Applied maps every origin (the receiver included) to the timestamp up
	// to which the peer has applied that origin's writes.
	Applied map[string]hlc.Timestamp `json:"applied"`
}

// heartbeat tells a puller the origin's log head while no entries flow.
type heartbeat struct {
	Incarnation string `json:"incarnation"`
	Head        uint64 `json:"head"`
}

// reset tells a puller its position cannot be served from the log.
type reset struct {
	Incarnation string `json:"incarnation"`
	Head        uint64 `json:"head"`
	Reason      string `json:"reason"`
}

// snapshotHeader ends a snapshot's records: they reflect every entry of the
// origin's log up to Seq. Found is false when the origin has no such table.
type snapshotHeader struct {
	Incarnation string `json:"incarnation"`
	Seq         uint64 `json:"seq"`
	Found       bool   `json:"found"`
}

func writeFrame(w *bufio.Writer, kind byte, payload []byte) error {
	var hdr [binary.MaxVarintLen64 + 1]byte
	hdr[0] = kind
	n := binary.PutUvarint(hdr[1:], uint64(len(payload)))
	if _, err := w.Write(hdr[:1+n]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

func writeJSONFrame(w *bufio.Writer, kind byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeFrame(w, kind, b)
}

// readFrame reads one frame. The payload is valid until the next call.
func readFrame(r *bufio.Reader, buf []byte) (byte, []byte, error) {
	kind, err := r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, nil, unexpected(err)
	}
	if n > maxFrame {
		return 0, nil, fmt.Errorf("repl: frame of %d bytes exceeds the limit", n)
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, unexpected(err)
	}
	return kind, buf, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Snapshot record encoding: uint64 ts | origin | flags (1: tombstone) |
// key item | [item].
func encodeRecord(r store.SnapshotRecord) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(r.Version.TS))
	b = appendBytes(b, []byte(r.Version.Origin))
	if r.Item == nil {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendBytes(b, attr.AppendItem(nil, r.Key))
	if r.Item != nil {
		b = appendBytes(b, attr.AppendItem(nil, r.Item))
	}
	return b
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func decodeRecord(b []byte) (store.SnapshotRecord, error) {
	var r store.SnapshotRecord
	bad := errors.New("repl: corrupt snapshot record")
	if len(b) < 9 {
		return r, bad
	}
	r.Version.TS = hlc.Timestamp(binary.BigEndian.Uint64(b))
	b = b[8:]
	next := func() ([]byte, bool) {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return nil, false
		}
		s := b[w : w+int(n)]
		b = b[w+int(n):]
		return s, true
	}
	origin, ok := next()
	if !ok || len(b) < 1 {
		return r, bad
	}
	r.Version.Origin = string(origin)
	tomb := b[0] == 1
	b = b[1:]
	key, ok := next()
	if !ok {
		return r, bad
	}
	var err error
	if r.Key, err = attr.DecodeItem(key); err != nil {
		return r, bad
	}
	if !tomb {
		item, ok := next()
		if !ok {
			return r, bad
		}
		if r.Item, err = attr.DecodeItem(item); err != nil {
			return r, bad
		}
	}
	return r, nil
}
