package wan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a WAN. The zero value of every field but Regions is
// usable.
type Options struct {
	// Regions names every place that dials or is dialed through the WAN:
	// the regions, and any other vantage point (a router, an observer)
	// whose connections must pay latency and honour partitions. Names are
	// free-form; AWS region names get their latency from the built-in
	// table. Required: at least one; names must be non-empty and distinct.
	// Snapshot lists them in this order.
	Regions []string

	// Links sets the latency and jitter of some links, overriding the
	// built-in table and FallbackLatency. Both ends must be in Regions and
	// differ; latency and jitter must not be negative. When two entries
	// name the same direction the later wins. Reset returns to these
	// settings, not to the built-in table. Default none.
	Links []Link

	// FallbackLatency is the one-way latency of a link with an end the
	// built-in table does not know (a name that is not an AWS region).
	// Default 50ms; a negative value means 0.
	FallbackLatency time.Duration

	// JitterFraction sets the jitter of links not listed in Links: that
	// fraction of their latency, at most MaxJitter. Default 0.05; a
	// negative value means no jitter; must be at most 1.
	JitterFraction float64

	// MaxJitter caps the jitter JitterFraction gives. Default 5ms; must not
	// be negative.
	MaxJitter time.Duration

	// BufferSize bounds the bytes in flight in each direction of one
	// connection: written but not yet delivered to the peer, or received
	// but not yet read. A full buffer blocks the writer (or, inbound,
	// stops reading the socket so TCP pushes back on the peer), much as a
	// TCP window does; like one it caps a connection's throughput at
	// BufferSize per latency. Memory is only used while bytes are in
	// flight. Default 4 MiB; must not be negative.
	BufferSize int

	// Dialer makes the real connections the WAN wraps. Default: a
	// net.Dialer with its defaults.
	Dialer Dialer

	// Rand seeds the jitter of every connection. The WAN serializes its
	// calls. Default: a generator seeded at random.
	Rand rand.Source

	// Logger receives changes to the network (partitions, heals, latency
	// settings) at info level and refused dials at debug level. Default
	// slog.Default().
	Logger *slog.Logger

	// Registerer receives the WAN's metrics (see metrics.go). Default:
	// none, the metrics are kept but not exported.
	Registerer prometheus.Registerer
}

// Link is one entry of Options.Links.
type Link struct {
	// From and To name the link's ends.
	From, To string
	// Latency is the one-way delay of every byte. Must not be negative.
	Latency time.Duration
	// Jitter is the most a byte is delayed beyond Latency; each chunk of
	// bytes draws uniformly from [0, Jitter]. Zero means none. Must not be
	// negative.
	Jitter time.Duration
	// OneWay limits the entry to From -> To. By default the entry sets
	// both directions.
	OneWay bool
}

// Dialer makes real network connections. *net.Dialer implements it.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Defaults of Options, applied by New to fields left zero.
const (
	DefaultFallbackLatency = 50 * time.Millisecond // Options.FallbackLatency
	DefaultJitterFraction  = 0.05                  // Options.JitterFraction
	DefaultMaxJitter       = 5 * time.Millisecond  // Options.MaxJitter
	DefaultBufferSize      = 4 << 20               // Options.BufferSize
)

func (o *Options) ensureDefaults() {
	switch {
	case o.FallbackLatency == 0:
		o.FallbackLatency = DefaultFallbackLatency
	case o.FallbackLatency < 0:
		o.FallbackLatency = 0
	}
	switch {
	case o.JitterFraction == 0:
		o.JitterFraction = DefaultJitterFraction
	case o.JitterFraction < 0:
		o.JitterFraction = 0
	}
	if o.MaxJitter == 0 {
		o.MaxJitter = DefaultMaxJitter
	}
	if o.BufferSize == 0 {
		o.BufferSize = DefaultBufferSize
	}
	if o.Dialer == nil {
		o.Dialer = &net.Dialer{}
	}
	if o.Rand == nil {
		o.Rand = rand.NewPCG(rand.Uint64(), rand.Uint64())
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

func (o *Options) validate() error {
	var errs []error
	if len(o.Regions) == 0 {
		errs = append(errs, errors.New("wan: Options.Regions is empty"))
	}
	seen := make(map[string]bool, len(o.Regions))
	for _, r := range o.Regions {
		switch {
		case r == "":
			errs = append(errs, errors.New("wan: Options.Regions has an empty name"))
		case seen[r]:
			errs = append(errs, fmt.Errorf("wan: Options.Regions names %q twice", r))
		}
		seen[r] = true
	}
	for i, l := range o.Links {
		if err := checkLink(seen, l.From, l.To, l.Latency, l.Jitter); err != nil {
			errs = append(errs, fmt.Errorf("Options.Links[%d]: %w", i, err))
		}
	}
	if o.JitterFraction > 1 {
		errs = append(errs, fmt.Errorf("wan: Options.JitterFraction %v is more than 1", o.JitterFraction))
	}
	if o.MaxJitter < 0 {
		errs = append(errs, fmt.Errorf("wan: Options.MaxJitter %v is negative", o.MaxJitter))
	}
	if o.BufferSize < 0 {
		errs = append(errs, fmt.Errorf("wan: Options.BufferSize %d is negative", o.BufferSize))
	}
	return errors.Join(errs...)
}

// checkLink validates the settings of one direction or pair.
func checkLink(known map[string]bool, from, to string, latency, jitter time.Duration) error {
	var errs []error
	for _, r := range []string{from, to} {
		if !known[r] {
			errs = append(errs, fmt.Errorf("%w %q", ErrUnknownRegion, r))
		}
	}
	if from == to {
		errs = append(errs, fmt.Errorf("%w (%s)", ErrSameRegion, from))
	}
	if latency < 0 || jitter < 0 {
		errs = append(errs, fmt.Errorf("%w: latency %v, jitter %v", ErrInvalidDelay, latency, jitter))
	}
	return errors.Join(errs...)
}

// defaultParams returns the settings of the link from -> to when
// Options.Links does not name it.
func (o *Options) defaultParams(from, to string) linkParams {
	latency, ok := DefaultLatency(from, to)
	if !ok {
		latency = o.FallbackLatency
	}
	jitter := time.Duration(float64(latency) * o.JitterFraction).Round(time.Microsecond)
	return linkParams{latency: latency, jitter: min(jitter, o.MaxJitter)}
}
