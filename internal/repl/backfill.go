package repl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gyre-dev/gyre/internal/store"
)

// startBackfill fills this region's new replica of a table from every other
// replica, then marks it ACTIVE. One backfill per table runs at a time.
func (r *Replicator) startBackfill(table string) {
	r.mu.Lock()
	if r.mu.backfills[table] {
		r.mu.Unlock()
		return
	}
	r.mu.backfills[table] = true
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			r.mu.Lock()
			delete(r.mu.backfills, table)
			r.mu.Unlock()
		}()
		start := r.opts.Now()
		if err := r.backfill(r.ctx, table); err != nil {
			if r.ctx.Err() == nil {
				r.log.Error("backfilling replica", "table", table, "err", err)
			}
			return
		}
		r.log.Info("replica backfilled", "table", table, "took", r.opts.Now().Sub(start))
	}()
}

// backfill reads the table from every other replica. A write committed at a
// replica before this region created its copy may have been passed over in
// that replica's log, but it is in the replica's snapshot, taken after; one
// committed after is in the log. So the union is complete — provided the
// snapshots still hold the tombstones of deletes this region passed over: a
// replica snapshotted early may still hold the item a later-snapshotted
// replica deleted. So before the first snapshot, every peer is told that
// this region holds its tombstones, and only then are snapshots taken.
func (r *Replicator) backfill(ctx context.Context, table string) error {
	t, err := r.db.Table(table)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.mu.holds++
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.mu.holds--
		r.mu.Unlock()
	}()
	for _, p := range r.opts.Peers {
		if err := r.retry(ctx, func() error { return r.sendAck(ctx, p) }); err != nil {
			return err
		}
	}
	for _, region := range t.LiveReplicas() {
		if region == r.region {
			continue
		}
		p, ok := r.peer(region)
		if !ok {
			return fmt.Errorf("repl: replica region %s of table %s is not a peer", region, table)
		}
		if err := r.retry(ctx, func() error {
			_, err := r.fetchSnapshot(ctx, p, table)
			return err
		}); err != nil {
			return err
		}
	}
	return r.db.SetReplicaActive(table)
}

// retry calls fn until it succeeds or ctx is done, with backoff.
func (r *Replicator) retry(ctx context.Context, fn func() error) error {
	backoff := r.opts.RetryMin
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: the failure says nothing new
		}
		level := slog.LevelWarn
		if errors.Is(err, store.ErrStorageFailing) {
			level = slog.LevelDebug // the store logs that itself
		}
		r.log.Log(ctx, level, "retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, r.opts.RetryMax)
	}
}

// fetchSnapshot applies a peer's snapshot of a table and returns the log
// position it reflects.
func (r *Replicator) fetchSnapshot(ctx context.Context, p Peer, table string) (snapshotHeader, error) {
	var hdr snapshotHeader
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/repl/snapshot?table="+url.QueryEscape(table), nil)
	if err != nil {
		return hdr, err
	}
	req.Header.Set("Authorization", "Bearer "+r.opts.Token)
	resp, err := r.opts.Client(p.Name).Do(req)
	if err != nil {
		return hdr, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return hdr, fmt.Errorf("repl: snapshot of %s from %s: %s: %s", table, p.Name, resp.Status, msg)
	}
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	var recs []store.SnapshotRecord
	flush := func() error {
		if len(recs) == 0 {
			return nil
		}
		_, _, err := r.db.ApplySnapshot(table, recs)
		recs = recs[:0]
		return err
	}
	var buf []byte
	for {
		kind, payload, err := readFrame(br, buf)
		if err != nil {
			return hdr, err
		}
		buf = payload[:0]
		switch kind {
		case frameRecord:
			rec, err := decodeRecord(payload)
			if err != nil {
				return hdr, err
			}
			recs = append(recs, rec)
			if len(recs) >= 512 {
				if err := flush(); err != nil {
					return hdr, err
				}
			}
		case frameSnapshot:
			if err := json.Unmarshal(payload, &hdr); err != nil {
				return hdr, err
			}
		case frameDone:
			return hdr, flush()
		default:
			return hdr, fmt.Errorf("repl: unexpected frame %q in a snapshot from %s", kind, p.Name)
		}
	}
}

// catchUp replaces a position in a peer's log that the peer can no longer
// serve (truncated, or from a lost incarnation) by snapshots of every table
// both regions replicate, then moves the cursor to the oldest position those
// snapshots reflect: entries after it may be applied twice, harmlessly.
func (r *Replicator) catchUp(ctx context.Context, p Peer, rs reset) error {
	r.log.Info("catching up from snapshots", "peer", p.Name, "reason", rs.Reason)
	cursor := store.Cursor{Incarnation: rs.Incarnation, Seq: rs.Head}
	for _, name := range r.db.TableNames() {
		t, err := r.db.Table(name)
		if err != nil || !t.Global() || t.Replica(p.Name) == nil {
			continue
		}
		hdr, err := r.fetchSnapshot(ctx, p, name)
		if err != nil {
			return err
		}
		if hdr.Found && hdr.Incarnation == rs.Incarnation && hdr.Seq < cursor.Seq {
			cursor.Seq = hdr.Seq
		}
	}
	return r.db.SetCursor(p.Name, cursor)
}
