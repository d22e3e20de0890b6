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
	"runtime/debug"
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
		r.runBackfill(table)
	}()
}

// runBackfill backfills a table and logs the outcome. A panic is logged;
// the backfill resumes when the region next starts.
func (r *Replicator) runBackfill(table string) {
	defer func() {
		if v := recover(); v != nil {
			r.log.Error("backfilling replica panicked", "table", table, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	start := r.opts.Now()
	if err := r.backfill(r.ctx, table); err != nil {
		if r.ctx.Err() == nil {
			r.log.Error("backfilling replica", "table", table, "err", err)
		}
		return
	}
	r.log.Info("replica backfilled", "table", table, "took", r.opts.Now().Sub(start))
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
	b := backoff{min: r.opts.RetryMin, max: r.opts.RetryMax}
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
		wait := b.next()
		r.log.Log(ctx, level, "retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
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
	sink := snapshotSink{db: r.db, table: table}
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
			if err := sink.add(rec); err != nil {
				return hdr, err
			}
		case frameSnapshot:
			if err := json.Unmarshal(payload, &hdr); err != nil {
				return hdr, err
			}
		case frameDone:
			return hdr, sink.flush()
		default:
			return hdr, fmt.Errorf("repl: unexpected frame %q in a snapshot from %s", kind, p.Name)
		}
	}
}

// snapshotSink applies a snapshot's records to a table, in batches.
type snapshotSink struct {
	db    *store.DB
	table string
	recs  []store.SnapshotRecord
}

func (s *snapshotSink) add(rec store.SnapshotRecord) error {
	s.recs = append(s.recs, rec)
	if len(s.recs) >= 512 {
		return s.flush()
	}
	return nil
}

func (s *snapshotSink) flush() error {
	if len(s.recs) == 0 {
		return nil
	}
	_, _, err := s.db.ApplySnapshot(s.table, s.recs)
	s.recs = s.recs[:0]
	return err
}

// snapshotOf hands every item and tombstone of a table to fn and returns the
// log position the snapshot reflects; Found is false when db has no such
// table.
func snapshotOf(db *store.DB, table string, fn func(store.SnapshotRecord) error) (snapshotHeader, error) {
	if _, err := db.Table(table); err != nil {
		return snapshotHeader{Incarnation: db.Incarnation(), Seq: db.LogHead(), Found: false}, nil
	}
	cursor, err := db.ScanSnapshot(table, fn)
	if err != nil {
		return snapshotHeader{}, err
	}
	return snapshotHeader{Incarnation: cursor.Incarnation, Seq: cursor.Seq, Found: true}, nil
}

// catchUp replaces a position in a peer's log that the peer can no longer
// serve (truncated, or from a lost incarnation) by snapshots of every table
// both regions replicate (see catchUpFrom).
func (r *Replicator) catchUp(ctx context.Context, p Peer, rs reset) error {
	r.log.Info("catching up from snapshots", "peer", p.Name, "reason", rs.Reason)
	return catchUpFrom(r.db, p.Name, rs, func(table string) (snapshotHeader, error) {
		return r.fetchSnapshot(ctx, p, table)
	})
}

// catchUpFrom applies origin's snapshot (fetched and applied by snapshot) of
// every table db and origin both replicate, then moves db's cursor in
// origin's log to the oldest position those snapshots reflect: entries
// after it may be applied twice, harmlessly.
func catchUpFrom(db *store.DB, origin string, rs reset, snapshot func(table string) (snapshotHeader, error)) error {
	cursor := store.Cursor{Incarnation: rs.Incarnation, Seq: rs.Head}
	for _, name := range db.TableNames() {
		t, err := db.Table(name)
		if err != nil || !t.Global() || t.Replica(origin) == nil {
			continue
		}
		hdr, err := snapshot(name)
		if err != nil {
			return err
		}
		if hdr.Found && hdr.Incarnation == rs.Incarnation && hdr.Seq < cursor.Seq {
			cursor.Seq = hdr.Seq
		}
	}
	return db.SetCursor(origin, cursor)
}
