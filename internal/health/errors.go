package health

import "errors"

var (
	// ErrStopped is returned by Prober.Start, Prober.SetChecks,
	// Monitor.Start, Monitor.Update and Monitor.SetChecks once Shutdown
	// has been called.
	ErrStopped = errors.New("health: stopped")

	// ErrBadReport is returned by FetchReport when the answer is not a
	// report (not JSON, or without a vantage point's name), and by
	// Monitor.Update for a report without a vantage point's name.
	ErrBadReport = errors.New("health: malformed report")
)
