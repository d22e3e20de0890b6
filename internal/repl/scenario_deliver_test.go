package repl

import (
	"errors"
	"strconv"

	"github.com/cockroachdb/datadriven"
)

// handleDeliver hands over what is in flight: on every link, or on the one
// from= to= names, the frames to the destination (as one burst read off the
// socket; then the destination has nothing more buffered) and the acks back
// to the origin. order=(3,1,1) delivers only the frames at those positions,
// in that order, repeats included: what a stream could never do, to show
// that replication would not mind.
func (e *simEnv) handleDeliver(d *datadriven.TestData) error {
	from, to := optArg(d, "from", ""), optArg(d, "to", "")
	var order []int
	for _, s := range listArg(d, "order") {
		i, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		order = append(order, i)
	}
	if order != nil && (from == "" || to == "") {
		return errors.New("order= needs from= and to=")
	}
	for _, l := range e.sortedLinks(func(l *simLink) bool {
		return (from == "" || l.origin == from) && (to == "" || l.dest == to)
	}) {
		if err := e.deliverFrames(l, order); err != nil {
			return err
		}
		e.deliverAcks(l)
	}
	return nil
}
