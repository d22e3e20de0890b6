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
	src := newPullSource(r.changes, pr, r.opts.BatchSize)
	// The stream ends when the client goes or this replicator shuts down.
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	stop := context.AfterFunc(r.ctx, cancel)
	defer stop()
	for {
		frames, state, err := src.step()
		if err != nil {
			if e := (*encodeError)(nil); errors.As(err, &e) {
				r.log.Error("encoding a log entry", "seq", e.seq, "err", e.err)
			} else {
				r.log.Error("reading the change log", "err", err)
			}
			return
		}
		for _, f := range frames {
			if err := writeFrame(bw, f.kind, f.payload); err != nil {
				return
			}
		}
		if err := flush(); err != nil || state == sourceEnded {
			return
		}
		if state == sourceMore {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, r.opts.HeartbeatInterval)
		err = src.wait(wctx)
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
	r.outbound[ar.Peer].Acknowledge(store.Cursor{Incarnation: ar.Incarnation, Seq: ar.Seq})
	r.mu.Lock()
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
	// The log position is known once the snapshot is taken, so it trails
	// the records.
	hdr, err := snapshotOf(r.db, table, func(rec store.SnapshotRecord) error {
		return writeFrame(bw, frameRecord, encodeRecord(rec))
	})
	if err != nil {
		r.log.Error("serving a snapshot", "table", table, "err", err)
		return
	}
	writeJSONFrame(bw, frameSnapshot, hdr)
	writeFrame(bw, frameDone, nil)
}
