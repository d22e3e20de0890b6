package wan

import (
	"errors"
	"strings"
)

var (
	// ErrPartitioned is the error every dial and every connection read or
	// write fails with once the link it crosses is down, whether a
	// partition or the isolation of one end took it down. It always comes
	// wrapped in a *LinkError, itself wrapped in a *net.OpError, so HTTP
	// clients and other callers treat it as a network error; test for it
	// with errors.Is.
	ErrPartitioned = errors.New("wan: link down")

	// ErrUnknownRegion is returned by every WAN method, and by New for
	// Options.Links, when given a region name that is not in
	// Options.Regions. The admin handler answers it with 400
	// "unknown_region".
	ErrUnknownRegion = errors.New("wan: unknown region")

	// ErrSameRegion is returned by Set, SetOneWay, Partition and HealLink,
	// and by New for Options.Links, when both ends name the same region: a
	// region has no WAN link to itself. The admin handler answers it with
	// 400 "same_region".
	ErrSameRegion = errors.New("wan: a region has no link to itself")

	// ErrInvalidDelay is returned by Set and SetOneWay, and by New for
	// Options.Links, for a negative latency or jitter. The admin handler
	// answers it with 400 "bad_duration".
	ErrInvalidDelay = errors.New("wan: latency and jitter must not be negative")
)

// LinkError says which link was down when a dial, read or write failed.
// It unwraps to ErrPartitioned. Callers receive it inside a *net.OpError.
type LinkError struct {
	// From and To are the dialing region and the dialed one.
	From, To string
	// Partitioned is true when Partition took the link down.
	Partitioned bool
	// Isolated is true when Isolate took one of the link's ends off the
	// network.
	Isolated bool
}

// Error names the link and why it is down.
func (e *LinkError) Error() string {
	var why []string
	if e.Partitioned {
		why = append(why, "partitioned")
	}
	if e.Isolated {
		why = append(why, "isolated")
	}
	return "wan: link " + e.From + " -> " + e.To + " is down (" + strings.Join(why, ", ") + ")"
}

// Unwrap returns ErrPartitioned.
func (e *LinkError) Unwrap() error { return ErrPartitioned }

// reason is the metrics label for a dial refused by a down link.
func (e *LinkError) reason() string {
	if e.Partitioned {
		return "partition"
	}
	return "isolation"
}
