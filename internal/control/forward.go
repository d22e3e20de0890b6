package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
)

// Forwarding. Raft appends to the log on the leader only, so a follower
// that takes a change sends it to the leader over a connection to the
// leader's raft listener that opens with protoForward: one JSON
// forwardRequest, one JSON forwardResponse, then the connection closes.
// Changes are rare, so a connection per change costs nothing that matters,
// and it goes through Options.Dial like Raft's own traffic, so a partition
// that cuts a follower off from the leader cuts its forwarding too.

// forwardRequest is a change sent to the leader.
type forwardRequest struct {
	Command command `json:"command"`
	// Timeout is how long the sender will wait for the answer.
	Timeout time.Duration `json:"timeout"`
}

// forwardResponse is the leader's answer.
type forwardResponse struct {
	// Index is the log index the change was applied at.
	Index uint64 `json:"index,omitempty"`
	// Change is the change recorded in the history, if any control's value
	// changed.
	Change    *Change    `json:"change,omitempty"`
	Duplicate bool       `json:"duplicate,omitempty"`
	Error     *wireError `json:"error,omitempty"`
}

// wireError is an error that crosses from the leader to the follower.
type wireError struct {
	Code    string     `json:"code"`
	Message string     `json:"message"`
	Rule    *RuleError `json:"rule,omitempty"`
}

// The codes of wireError, one per error Set distinguishes.
const (
	wireRule          = "rule"
	wireUnknown       = "unknown_control"
	wireInvalid       = "invalid"
	wireNotLeader     = "not_leader"
	wireNotConfigured = "not_configured"
	wireStopped       = "stopped"
	wireNoQuorum      = "no_quorum"
	wireOther         = "error"
)

func toWire(err error) *wireError {
	w := &wireError{Code: wireOther, Message: err.Error()}
	var re *RuleError
	switch {
	case errors.As(err, &re):
		w.Code, w.Rule = wireRule, re
	case errors.Is(err, ErrUnknownControl):
		w.Code = wireUnknown
	case errors.Is(err, ErrInvalidChange):
		w.Code = wireInvalid
	case errors.Is(err, errNotLeader):
		w.Code = wireNotLeader
	case errors.Is(err, errNotConfigured):
		w.Code = wireNotConfigured
	case errors.Is(err, ErrStopped):
		w.Code = wireStopped
	case errors.Is(err, ErrNoQuorum):
		w.Code = wireNoQuorum
	}
	return w
}

func (w *wireError) err() error {
	var sentinel error
	switch w.Code {
	case wireRule:
		if w.Rule != nil {
			return w.Rule
		}
	case wireUnknown:
		sentinel = ErrUnknownControl
	case wireInvalid:
		sentinel = ErrInvalidChange
	case wireNotLeader:
		sentinel = errNotLeader
	case wireNotConfigured:
		sentinel = errNotConfigured
	case wireStopped:
		// The leader is stopping: to this node that is a lost leader, to
		// be retried with the next one.
		sentinel = errNotLeader
	case wireNoQuorum:
		sentinel = ErrNoQuorum
	}
	return &remoteError{msg: w.Message, sentinel: sentinel}
}

// remoteError is an error the leader reported, with its message, and the
// sentinel it matches.
type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }

// linkError marks a failure to reach the leader; Set retries it.
type linkError struct{ err error }

func (e *linkError) Error() string { return "control: forwarding to the leader: " + e.err.Error() }
func (e *linkError) Unwrap() error { return e.err }

// forward sends c to the leader, leader, and returns what applying it
// yielded there.
func (s *Service) forward(ctx context.Context, leader string, c command) (result, uint64, error) {
	addr, ok := s.peers[leader]
	if !ok {
		return result{}, 0, &linkError{fmt.Errorf("leader %q is not a peer", leader)}
	}
	conn, err := s.mux.dialPeer(ctx, leader, addr, protoForward)
	if err != nil {
		return result{}, 0, &linkError{err}
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	req := forwardRequest{Command: c, Timeout: s.opts.SetTimeout}
	if d, ok := ctx.Deadline(); ok {
		req.Timeout = time.Until(d)
	}
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return result{}, 0, &linkError{err}
	}
	var resp forwardResponse
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		if ctx.Err() != nil {
			return result{}, 0, ErrNoQuorum
		}
		return result{}, 0, &linkError{err}
	}
	if resp.Error != nil {
		err := resp.Error.err()
		if errors.Is(err, errNotLeader) || errors.Is(err, errNotConfigured) || errors.Is(err, ErrNoQuorum) {
			return result{}, 0, err
		}
		// The leader applied the command and refused it: that is the
		// command's result, not a failure to deliver it.
		return result{Err: err}, resp.Index, nil
	}
	return result{Change: resp.Change, Duplicate: resp.Duplicate}, resp.Index, nil
}

// serveForward answers one forwarded change on conn.
func (s *Service) serveForward(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	var req forwardRequest
	if err := json.NewDecoder(conn).Decode(&req); err != nil {
		s.log.Debug("reading a forwarded change failed", "err", err, "remote", conn.RemoteAddr().String())
		return
	}
	timeout := min(max(req.Timeout, 0), s.opts.SetTimeout)
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	conn.SetDeadline(time.Now().Add(timeout + handshakeTimeout))
	var resp forwardResponse
	res, idx, err := s.applyLocal(ctx, req.Command)
	switch {
	case err != nil:
		resp.Error = toWire(err)
	case res.Err != nil:
		resp.Error, resp.Index = toWire(res.Err), idx
	default:
		resp.Index, resp.Change, resp.Duplicate = idx, res.Change, res.Duplicate
	}
	if err := json.NewEncoder(conn).Encode(resp); err != nil {
		s.log.Debug("answering a forwarded change failed", "err", err, "remote", conn.RemoteAddr().String())
	}
}
