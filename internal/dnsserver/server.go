package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/gyre-dev/gyre/internal/bind"
)

var (
	// ErrStarted is returned by Start when the server was started before.
	ErrStarted = errors.New("dnsserver: already started")
	// ErrStopped is returned by Start after Shutdown.
	ErrStopped = errors.New("dnsserver: stopped")
)

// Server is an authoritative DNS server for one zone. Resolve answers
// without sockets; Start serves UDP and TCP. All methods are safe for
// concurrent use.
type Server struct {
	opts    Options
	env     env
	zone    atomic.Pointer[zone]
	log     *slog.Logger
	metrics *metrics

	// setMu serialises SetRecordSets, so that serials follow the order
	// in which record sets were accepted.
	setMu  sync.Mutex
	serial uint32

	mu struct {
		sync.Mutex
		started, stopped bool
		udp, tcp         *dns.Server
		udpAddr, tcpAddr net.Addr
	}
	wg sync.WaitGroup
}

// New returns a Server for o, which has not started listening. It reports
// every problem with o, its record sets included, at once.
func New(o Options) (*Server, error) {
	o.ensureDefaults()
	errs := o.validate()
	var z *zone
	if _, ok := dns.IsDomainName(o.Zone); ok {
		// Without a zone every name would be wrong: say it only once.
		var err error
		if z, err = compile(&o, o.RecordSets, o.SOA.Serial); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &Server{
		opts:   o,
		env:    env{healthy: o.Healthy, regionOn: o.RegionOn, geo: o.Geo, rand: o.Rand},
		log:    o.Logger.With("component", "dnsserver", "zone", o.Zone),
		serial: o.SOA.Serial,
	}
	if o.Region != "" {
		s.log = s.log.With("region", o.Region)
	}
	s.zone.Store(z)
	s.metrics = newMetrics(o.Registerer, o.Region)
	return s, nil
}

// SetRecordSets replaces the zone's record sets. They are validated as New
// validates Options.RecordSets; on error nothing changes. Queries see the
// old sets or the new ones, never a mix. Each successful call adds one to
// the SOA serial.
func (s *Server) SetRecordSets(sets []RecordSet) error {
	s.setMu.Lock()
	defer s.setMu.Unlock()
	z, err := compile(&s.opts, sets, s.serial+1)
	if err != nil {
		return err
	}
	s.serial++
	s.zone.Store(z)
	return nil
}

// RecordSets returns the record sets being answered, as accepted and
// normalised: names fully qualified and lower case, types upper case,
// policies and TTLs filled in. The caller owns the slice.
func (s *Server) RecordSets() []RecordSet {
	sets := slices.Clone(s.zone.Load().sets)
	for i := range sets {
		sets[i].Records = slices.Clone(sets[i].Records)
	}
	return sets
}

// Resolve answers one question from the current record sets, health and
// routing controls, without sockets: the deterministic core of the server
// (given Options.Rand or q.Rand). It applies no EDNS0 or size limits.
func (s *Server) Resolve(q Question) Response {
	return s.zone.Load().resolve(&s.env, &q)
}

// Start listens on Options.Addr, UDP and TCP on the same port, and serves
// until Shutdown. It returns once both are serving, or with the error that
// kept them from it, or ctx's error. It returns ErrStarted when called
// twice and ErrStopped after Shutdown. When listening fails Start can be
// called again; a failure after that (rare: a socket error, ctx done)
// leaves the server stopped.
func (s *Server) Start(ctx context.Context) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.mu.stopped:
		return ErrStopped
	case s.mu.started:
		return ErrStarted
	}
	pc, ln, err := listen(s.opts.Addr)
	if err != nil {
		return fmt.Errorf("dnsserver: %w", err)
	}
	ready := make(chan struct{}, 2)
	failed := make(chan error, 2)
	notify := func() { ready <- struct{}{} }
	// Queries are small (a question and an OPT): 4 KiB read buffers hold
	// any a resolver sends.
	udp := &dns.Server{PacketConn: pc, Handler: s, UDPSize: 4096, NotifyStartedFunc: notify}
	tcp := &dns.Server{Listener: ln, Handler: s, NotifyStartedFunc: notify}
	for _, srv := range []*dns.Server{udp, tcp} {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.ActivateAndServe(); err != nil {
				failed <- err
			}
		}()
	}
	s.mu.started, s.mu.udp, s.mu.tcp = true, udp, tcp
	s.mu.udpAddr, s.mu.tcpAddr = pc.LocalAddr(), ln.Addr()
	for range 2 {
		select {
		case <-ready:
		case err = <-failed:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			s.mu.Unlock()
			s.Shutdown(context.Background())
			s.mu.Lock()
			return fmt.Errorf("dnsserver: starting: %w", err)
		}
	}
	s.log.Info("serving DNS", "udp", pc.LocalAddr().String(), "tcp", ln.Addr().String())
	return nil
}

// listen opens UDP and TCP on addr, on the same port when addr's port is
// 0 (retrying when the port UDP got is taken for TCP).
func listen(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	for attempt := 0; ; attempt++ {
		pc, err := bind.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		p := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := bind.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if port != "0" || attempt == 20 {
			return nil, nil, err
		}
	}
}

// Addr returns the addresses the server listens on, nil before Start.
func (s *Server) Addr() (udp, tcp net.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.udpAddr, s.mu.tcpAddr
}

// Shutdown stops serving: it closes the sockets, waits for queries being
// answered (bounded by ctx) and returns. It is idempotent, and Resolve
// keeps working after it.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.mu.stopped {
		s.mu.Unlock()
		return nil
	}
	s.mu.stopped = true
	udp, tcp, started := s.mu.udp, s.mu.tcp, s.mu.started
	s.mu.Unlock()
	if !started {
		return nil
	}
	var errs []error
	for _, srv := range []*dns.Server{udp, tcp} {
		// A server that failed to start reports "server not started":
		// nothing to stop.
		if err := srv.ShutdownContext(ctx); err != nil && ctx.Err() != nil {
			errs = append(errs, err)
		}
	}
	// A server that never started holds its socket: close it.
	udp.PacketConn.Close()
	tcp.Listener.Close()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	s.log.Info("stopped serving DNS")
	return errors.Join(errs...)
}

// ServeDNS answers one query; Server is a dns.Handler so that it can also
// be mounted on a caller's own miekg/dns server or ServeMux.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	start := time.Now()
	_, tcp := w.LocalAddr().(*net.TCPAddr)
	var src netip.Addr
	if ap, err := netip.ParseAddrPort(w.RemoteAddr().String()); err == nil {
		src = ap.Addr().Unmap()
	}
	out, o := s.reply(req, src, tcp)
	if out == nil {
		return
	}
	// Counted before the reply is written, so that a client that has its
	// answer also finds it counted.
	s.metrics.observe(o, time.Since(start))
	if _, err := w.Write(out); err != nil {
		s.log.Debug("writing a DNS reply", "err", err)
	}
}
