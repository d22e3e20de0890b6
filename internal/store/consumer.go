package store

import (
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// Local consumers of the change log (streams, triggers, point-in-time
// recovery) keep their positions in this region's own log durably here,
// one key each, so that a consumer resumes where it was after a restart and
// the log keeps what it has not handled yet. Replication peers are not
// local consumers: each keeps its position in this log in its own region
// (see Cursor).

// metaConsumerPrefix keys the local consumers' positions:
// prefixMeta "c/" name -> Cursor.
var metaConsumerPrefix = []byte{prefixMeta, 'c', '/'}

func consumerKey(name string) []byte {
	return append(append([]byte(nil), metaConsumerPrefix...), name...)
}

// LogConsumer returns the durable position of the named local consumer in
// this region's change log, and whether it has one.
func (db *DB) LogConsumer(name string) (Cursor, bool, error) {
	v, closer, err := db.pdb.Get(consumerKey(name))
	if errors.Is(err, pebble.ErrNotFound) {
		return Cursor{}, false, nil
	}
	if err != nil {
		return Cursor{}, false, err
	}
	defer closer.Close()
	c, err := decodeCursor(v)
	return c, err == nil, err
}

// SetLogConsumer durably stores the named local consumer's position in this
// region's change log.
func (db *DB) SetLogConsumer(name string, c Cursor) error {
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := b.Set(consumerKey(name), c.encode(), nil); err != nil {
		return err
	}
	return db.commitBatch(b, pebble.Sync)
}

// DeleteLogConsumer forgets the named local consumer's position. It is not
// an error if there is none.
func (db *DB) DeleteLogConsumer(name string) error {
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := b.Delete(consumerKey(name), nil); err != nil {
		return err
	}
	return db.commitBatch(b, pebble.Sync)
}

// LogConsumers returns every local consumer's durable position, by name.
func (db *DB) LogConsumers() (map[string]Cursor, error) {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: metaConsumerPrefix, UpperBound: prefixEnd(metaConsumerPrefix)})
	if err != nil {
		return nil, err
	}
	out := map[string]Cursor{}
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return nil, err
		}
		c, err := decodeCursor(v)
		if err != nil {
			it.Close()
			return nil, err
		}
		out[string(it.Key()[len(metaConsumerPrefix):])] = c
	}
	return out, it.Close()
}
