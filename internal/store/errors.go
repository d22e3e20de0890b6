package store

import (
	"errors"
	"fmt"

	"github.com/gyre-dev/gyre/internal/attr"
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
	// ErrIndexNotFound is returned by NewIter and DeleteIndex for an index
	// the table does not have.
	ErrIndexNotFound = errors.New("store: index not found")
	// ErrIndexExists is returned by CreateIndex for an index whose name is
	// taken.
	ErrIndexExists = errors.New("store: index already exists")
	// ErrIndexNotReady is returned by NewIter for a global secondary index
	// that is still being backfilled.
	ErrIndexNotReady = errors.New("store: index is backfilling")
	// ErrTableBusy is returned by CreateIndex while an earlier index
	// change on the table is still in progress.
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

	// ErrDuplicateItem is returned by Write when two of its Ops name the
	// same item.
	ErrDuplicateItem = errors.New("store: more than one operation on one item")
	// ErrItemTooLarge is returned by Write when an Op's Apply returns an
	// item larger than MaxItemSize.
	ErrItemTooLarge = errors.New("store: item too large")
	// ErrBadStartKey is returned by NewIter when IterOptions.After, in an
	// iteration over an index, lacks the index's key attributes.
	ErrBadStartKey = errors.New("store: start key does not name an index entry")
)

// The sentinels a *KeyError wraps, one for each way a key can be wrong.
var (
	// ErrKeyMissing: a key lacks one of the table's key attributes.
	ErrKeyMissing = errors.New("store: key attribute missing")
	// ErrKeyType: a key attribute's value has another type than the key
	// schema says.
	ErrKeyType = errors.New("store: key attribute of the wrong type")
	// ErrKeyEmpty: a key attribute is an empty string or binary value.
	ErrKeyEmpty = errors.New("store: key attribute empty")
	// ErrKeyTooLarge: a key attribute's value is over its size limit
	// (2048 bytes for a partition key, 1024 for a sort key).
	ErrKeyTooLarge = errors.New("store: key attribute too large")
)

// KeyError is returned by Write, Get, Snapshot.Get and NewIter when a key,
// or the key attributes of an item, do not fit the key schema of the table
// or of one of its indexes. It wraps the sentinel that says what is wrong
// (ErrKeyMissing, ErrKeyType, ErrKeyEmpty or ErrKeyTooLarge); its fields
// say where, and by how much.
type KeyError struct {
	Err error
	// Attr names the key attribute.
	Attr string
	// Index names the index whose key Attr belongs to; it is empty for the
	// table's own key.
	Index string
	// Sort is set when Attr is the sort key, not the partition key.
	Sort bool
	// Want is the key schema's type for Attr and Got the type of the value
	// given (ErrKeyType, ErrKeyEmpty).
	Want, Got attr.Type
	// Size is the value's size in bytes and Limit the most it may have
	// (ErrKeyTooLarge).
	Size, Limit int
}

func (e *KeyError) Error() string {
	where := fmt.Sprintf("%q of table key", e.Attr)
	if e.Index != "" {
		where = fmt.Sprintf("%q of index %q", e.Attr, e.Index)
	}
	switch e.Err {
	case ErrKeyType:
		return fmt.Sprintf("%v: %s is %v, want %v", e.Err, where, e.Got, e.Want)
	case ErrKeyTooLarge:
		return fmt.Sprintf("%v: %s has %d bytes, limit %d", e.Err, where, e.Size, e.Limit)
	}
	return fmt.Sprintf("%v: %s", e.Err, where)
}

func (e *KeyError) Unwrap() error { return e.Err }

// ExistsError wraps ErrTableExists with the name of the table; CreateTable
// returns it.
type ExistsError struct{ Name string }

func (e *ExistsError) Error() string { return fmt.Sprintf("%v: %s", ErrTableExists, e.Name) }
func (e *ExistsError) Unwrap() error { return ErrTableExists }

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
