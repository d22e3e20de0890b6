package store

import (
	"errors"
	"fmt"
)

var (
	// ErrStorageFailing is returned by every write (Write, table and
	// index changes, replicated applies) while the store cannot make writes
	// durable: the disk is nearly full, a flush or compaction is failing,
	// or the write-ahead log failed. Nothing of the write is applied. See
	// DB.Healthy.
	ErrStorageFailing = errors.New("store: storage is failing, writes are refused")

	// ErrNotWritable is returned by Open when the data directory cannot be
	// created, or a file in it written and synced.
	ErrNotWritable = errors.New("store: the data directory is not writable")

	// ErrInUse is returned by Open when another process holds the data
	// directory.
	ErrInUse = errors.New("store: data directory in use")

	// ErrTableNotFound is returned by every operation that names a table
	// that does not exist.
	ErrTableNotFound = errors.New("store: table not found")
	// ErrTableExists is returned by CreateTable for a name already in use.
	ErrTableExists = errors.New("store: table already exists")
	// ErrIndexNotFound is returned by NewIter and UpdateTable for an index
	// the table does not have.
	ErrIndexNotFound = errors.New("store: index not found")
	// ErrIndexExists is returned by UpdateTable when creating an index
	// whose name is taken.
	ErrIndexExists = errors.New("store: index already exists")
	// ErrIndexNotReady is returned by NewIter for a global secondary index
	// that is still being backfilled.
	ErrIndexNotReady = errors.New("store: index is backfilling")
	// ErrTableBusy is returned by UpdateTable while an earlier index change
	// on the table is still in progress.
	ErrTableBusy = errors.New("store: table is being updated")
	// ErrIdempotentMismatch is returned by Write when a transaction token
	// was used in the last ten minutes for a different request.
	ErrIdempotentMismatch = errors.New("store: idempotency token reused with different parameters")
	// ErrReplicaExists is returned by AddReplica for a region that already
	// holds a replica of the table.
	ErrReplicaExists = errors.New("store: replica already exists")
	// ErrReplicaNotFound is returned by RemoveReplica for a region that
	// holds no replica of the table.
	ErrReplicaNotFound = errors.New("store: replica not found")
	// ErrClosed is returned by every operation after Close.
	ErrClosed = errors.New("store: closed")
)

// NotFoundError wraps ErrTableNotFound or ErrIndexNotFound with the name
// that was not found.
type NotFoundError struct {
	Kind string // "table" or "index"
	Name string
	err  error
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("store: %s %q not found", e.Kind, e.Name) }
func (e *NotFoundError) Unwrap() error { return e.err }

func tableNotFound(name string) error {
	return &NotFoundError{Kind: "table", Name: name, err: ErrTableNotFound}
}

func indexNotFound(name string) error {
	return &NotFoundError{Kind: "index", Name: name, err: ErrIndexNotFound}
}

// CanceledError is returned by Write when the Apply function of one or more
// Ops failed, so that nothing was written. Reasons has one entry per Op, in
// order: nil for an Op that would have succeeded, else its error.
type CanceledError struct {
	Reasons []error
}

func (e *CanceledError) Error() string {
	n := 0
	for _, r := range e.Reasons {
		if r != nil {
			n++
		}
	}
	return fmt.Sprintf("store: write canceled: %d of %d operations failed", n, len(e.Reasons))
}
