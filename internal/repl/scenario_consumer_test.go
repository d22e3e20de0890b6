package repl

import (
	"errors"
	"strconv"

	"github.com/cockroachdb/datadriven"

	"github.com/gyre-dev/gyre/internal/store"
)

// handleConsumer drives a local consumer of a region's log, as streams or
// point-in-time recovery will: register, read (the entries after its
// position), ack=seq, unregister.
func (e *simEnv) handleConsumer(d *datadriven.TestData) error {
	r, err := e.region(d)
	if err != nil {
		return err
	}
	name, err := mustArg(d, "name")
	if err != nil {
		return err
	}
	verbs := positional(d)
	switch {
	case len(verbs) == 1 && verbs[0] == "register":
		c, err := r.log.Register(name)
		if err != nil {
			return err
		}
		pos, _, err := c.Position()
		if err != nil {
			return err
		}
		e.printf("%s: %s registered at %s", r.name, name, e.cursorString(pos))
	case len(verbs) == 1 && verbs[0] == "read":
		c, err := r.log.Register(name)
		if err != nil {
			return err
		}
		rd, err := c.Reader()
		if err != nil {
			return err
		}
		entries, err := rd.Next(100)
		if errors.Is(err, store.ErrLogTruncated) {
			e.printf("%s: %s cannot read after %s: %v", r.name, name, e.cursorString(rd.Position()), err)
			return nil
		}
		if err != nil {
			return err
		}
		for _, en := range entries {
			e.printf("%s: %s reads entry %d %s", r.name, name, en.Seq, entryString(en))
		}
	case len(verbs) == 1 && verbs[0] == "unregister":
		if err := r.log.Unregister(name); err != nil {
			return err
		}
	case optArg(d, "ack", "") != "":
		seq, err := strconv.ParseUint(optArg(d, "ack", ""), 10, 64)
		if err != nil {
			return err
		}
		c, err := r.log.Register(name)
		if err != nil {
			return err
		}
		if err := c.Acknowledge(store.Cursor{Incarnation: r.db.Incarnation(), Seq: seq}); err != nil {
			return err
		}
	default:
		return errors.New("consumer needs register, read, ack=seq or unregister")
	}
	return nil
}
