package wan

import (
	"encoding/json"
	"fmt"
	"time"
)

// Snapshot is the state of the network at one moment: what GET /wan
// returns and what a dashboard shows. It is plain data; the caller owns
// it.
type Snapshot struct {
	// Generation counts the changes since New: every Set, SetOneWay, Heal
	// and Reset, and every Partition, Isolate, HealLink and Rejoin that
	// changed something.
	Generation uint64 `json:"generation"`
	// Regions names the regions in Options order.
	Regions []string `json:"regions"`
	// Partitions lists the pairs Partition took down, in region order.
	Partitions [][2]string `json:"partitions"`
	// Isolated lists the regions Isolate took off the network.
	Isolated []string `json:"isolated"`
	// Links holds every direction between two distinct regions, ordered by
	// From then To in region order.
	Links []LinkState `json:"links"`
}

// LinkState is the state of one direction between two regions.
type LinkState struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Latency is the one-way delay of every byte sent from From to To.
	Latency Duration `json:"latency"`
	// Jitter is the most a chunk of bytes is delayed beyond Latency.
	Jitter Duration `json:"jitter"`
	// Up is false when the link is down, for either of the reasons below.
	Up bool `json:"up"`
	// Partitioned is true when Partition took the pair down.
	Partitioned bool `json:"partitioned"`
	// Isolated is true when From or To is isolated.
	Isolated bool `json:"isolated"`
}

// Link returns the state of the direction from -> to, and false when the
// snapshot has no such link.
func (s *Snapshot) Link(from, to string) (LinkState, bool) {
	for _, l := range s.Links {
		if l.From == from && l.To == to {
			return l, true
		}
	}
	return LinkState{}, false
}

// Duration is a time.Duration that JSON writes and reads as a Go duration
// string, such as "31ms" or "1.5ms".
type Duration time.Duration

// String formats d as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string such as "40ms". Numbers are
// refused: a bare 40 is too easily meant as milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &durationError{fmt.Sprintf("wan: duration %s is not a string such as \"40ms\"", b)}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return &durationError{fmt.Sprintf("wan: bad duration %q: want a string such as \"40ms\"", s)}
	}
	*d = Duration(v)
	return nil
}

// durationError is a malformed duration in a request; the admin handler
// answers it with "bad_duration".
type durationError struct{ msg string }

func (e *durationError) Error() string { return e.msg }
