package repl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gyre-dev/gyre/internal/store"
)

// httpError answers a request the replication endpoints cannot serve.
func httpError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "error": msg})
}

// servePull streams this region's log entries after the peer's position,
// then follows the log as it grows, with heartbeats while it is idle.
func (r *Replicator) servePull(w http.ResponseWriter, req *http.Request) {
	var pr pullRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&pr); err != nil {
		httpError(w, http.StatusBadRequest, "BadRequest", "decoding the pull request: "+err.Error())
		return
	}
	if _, ok := r.peer(pr.Peer); !ok {
		httpError(w, http.StatusForbidden, "UnknownPeer", "region "+pr.Peer+" is not a peer of "+r.region)
		return
	}
	w.Header().Set("Content-Type", "application/x-gyre-repl")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	bw := bufio.NewWriterSize(w, 64<<10)
	flush := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	inc := r.db.Incarnation()
	after := pr.After
	if pr.Incarnation != inc {
		// A position in another incarnation of this region means nothing
		// now: start from the beginning, if the log still has it.
		after = 0
	}
	if after < r.db.LogFloor() {
		writeJSONFrame(bw, frameReset, reset{Incarnation: inc, Head: r.db.LogHead(), Reason: "truncated"})
		flush()
		return
	}
	// The first frame names the incarnation the entries belong to.
	if err := writeJSONFrame(bw, frameHeartbeat, heartbeat{Incarnation: inc, Head: r.db.LogHead()}); err != nil {
		return
	}
	// The stream ends when the client goes or this replicator shuts down.
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	stop := context.AfterFunc(r.ctx, cancel)
	defer stop()
	for {
		entries, err := r.db.ReadLog(after, r.opts.BatchSize)
		if errors.Is(err, store.ErrLogTruncated) {
			writeJSONFrame(bw, frameReset, reset{Incarnation: inc, Head: r.db.LogHead(), Reason: "truncated"})
			flush()
			return
		}
		if err != nil {
			r.log.Error("reading the change log", "err", err)
			return
		}
		for _, e := range entries {
			enc, err := e.Encode()
			if err != nil {
				r.log.Error("encoding a log entry", "seq", e.Seq, "err", err)
				return
			}
			if err := writeFrame(bw, frameEntry, enc); err != nil {
				return
			}
			after = e.Seq
		}
		if len(entries) > 0 {
			if err := flush(); err != nil {
				return
			}
			continue
		}
		if err := writeJSONFrame(bw, frameHeartbeat, heartbeat{Incarnation: inc, Head: after}); err != nil {
			return
		}
		if err := flush(); err != nil {
			return
		}
		wctx, cancel := context.WithTimeout(ctx, r.opts.HeartbeatInterval)
		_, err = r.db.WaitLog(wctx, after)
		cancel()
		if ctx.Err() != nil || errors.Is(err, store.ErrClosed) {
			return
		}
	}
}

// serveAck records a peer's progress.
func (r *Replicator) serveAck(w http.ResponseWriter, req *http.Request) {
	var ar ackRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&ar); err != nil {
		httpError(w, http.StatusBadRequest, "BadRequest", "decoding the ack: "+err.Error())
		return
	}
	if _, ok := r.peer(ar.Peer); !ok {
		httpError(w, http.StatusForbidden, "UnknownPeer", "region "+ar.Peer+" is not a peer of "+r.region)
		return
	}
	r.mu.Lock()
	r.mu.acks[ar.Peer] = store.Cursor{Incarnation: ar.Incarnation, Seq: ar.Seq}
	r.mu.applied[ar.Peer] = ar.Applied
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// serveSnapshot streams every item and tombstone of a table, then the log
// position the snapshot reflects, then the end.
func (r *Replicator) serveSnapshot(w http.ResponseWriter, req *http.Request) {
	table := req.URL.Query().Get("table")
	w.Header().Set("Content-Type", "application/x-gyre-repl")
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	if _, err := r.db.Table(table); err != nil {
		writeJSONFrame(bw, frameSnapshot, snapshotHeader{Incarnation: r.db.Incarnation(), Seq: r.db.LogHead(), Found: false})
		writeFrame(bw, frameDone, nil)
		return
	}
	// The log position is known once the snapshot is taken, so it trails
	// the records.
	cursor, err := r.db.ScanSnapshot(table, func(rec store.SnapshotRecord) error {
		return writeFrame(bw, frameRecord, encodeRecord(rec))
	})
	if err != nil {
		r.log.Error("serving a snapshot", "table", table, "err", err)
		return
	}
	writeJSONFrame(bw, frameSnapshot, snapshotHeader{Incarnation: cursor.Incarnation, Seq: cursor.Seq, Found: true})
	writeFrame(bw, frameDone, nil)
}
