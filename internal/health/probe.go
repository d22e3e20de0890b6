package health

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// DialFunc opens a connection to addr in region toRegion from the vantage
// point, in the shape of wan.WAN.DialContext with its from argument bound:
//
//	dial := func(ctx context.Context, to, network, addr string) (net.Conn, error) {
//		return w.DialContext(ctx, vantage, to, network, addr)
//	}
//
// toRegion is Check.Region, possibly empty. It must honour ctx: a probe's
// timeout is enforced through it.
type DialFunc func(ctx context.Context, toRegion, network, addr string) (net.Conn, error)

// userAgent is sent with every HTTP(S) probe, so targets can tell probes
// from users (Route 53 sends "Amazon-Route53-Health-Check-Service").
const userAgent = "Gyre-Health-Check/1.0"

// probe runs one check's probes. Each probe opens a new connection, as
// Route 53's do (the question is whether a client can connect and be
// answered now), and owns it from the dial to the close: it does not go
// through http.Transport, whose dials and TLS handshakes carry on in the
// background after a request gives up, so a probe that timed out could
// still be connecting when the next one starts. Here, when a probe
// returns, nothing of it is left running.
type probe struct {
	check Check
	dial  DialFunc
	url   *url.URL    // nil for TCP
	tls   *tls.Config // nil for HTTP and TCP
}

func newProbe(c Check, dial DialFunc) *probe {
	p := &probe{check: c, dial: dial}
	switch c.Type {
	case TypeHTTP:
		p.url, _ = url.Parse("http://" + c.Target + c.Path) // Validate parsed it
	case TypeHTTPS:
		p.url, _ = url.Parse("https://" + c.Target + c.Path)
		// As Route 53: a health check asks whether the endpoint answers,
		// not whether its certificate is valid.
		p.tls = &tls.Config{InsecureSkipVerify: true}
		host := c.Host
		if host == "" {
			host = c.Target
		}
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if net.ParseIP(host) == nil {
			p.tls.ServerName = host
		}
	}
	return p
}

// run probes once, within the check's timeout, and returns the result
// stamped with now(). It returns false, and no result, when ctx ended
// first: a probe cut short by shutdown says nothing about the target.
func (p *probe) run(ctx context.Context, now func() time.Time) (Result, bool) {
	start := time.Now()
	pctx, cancel := context.WithTimeout(ctx, p.check.Timeout)
	defer cancel()
	var r Result
	if p.url == nil {
		r = p.tcp(pctx)
	} else {
		r = p.http(pctx)
	}
	if ctx.Err() != nil {
		return Result{}, false
	}
	if r.Outcome == OutcomeTimeout || r.Outcome != OutcomeOK && pctx.Err() != nil {
		// Whatever failed, it failed because time ran out (the
		// connection's deadline may fire before the context's).
		r.Outcome = OutcomeTimeout
		r.Error = fmt.Sprintf("no answer within %v: %s", p.check.Timeout, r.Error)
	}
	r.Latency = Duration(time.Since(start))
	r.Time = now()
	return r, true
}

func (p *probe) tcp(ctx context.Context) Result {
	conn, err := p.dial(ctx, p.check.Region, "tcp", p.check.Target)
	if err != nil {
		return Result{Outcome: OutcomeConnect, Error: err.Error()}
	}
	conn.Close()
	return Result{Outcome: OutcomeOK}
}

func (p *probe) http(ctx context.Context) Result {
	if p.url == nil {
		return Result{Outcome: OutcomeError, Error: "bad URL"} // Validate prevents it
	}
	conn, err := p.dial(ctx, p.check.Region, "tcp", p.check.Target)
	if err != nil {
		return Result{Outcome: OutcomeConnect, Error: err.Error()}
	}
	defer conn.Close()
	// The deadline bounds every read and write; closing on ctx covers a
	// Dial whose connections ignore deadlines.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if p.tls != nil {
		tc := tls.Client(conn, p.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return Result{Outcome: failure(err), Error: "TLS handshake: " + err.Error()}
		}
		conn = tc
	}
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        p.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{"User-Agent": {userAgent}},
		Host:       p.check.Host,
		Close:      true,
	}
	if err := req.Write(conn); err != nil {
		return Result{Outcome: failure(err), Error: "sending the request: " + err.Error()}
	}
	br := bufio.NewReader(conn)
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(br, req)
		if err != nil {
			return Result{Outcome: failure(err), Error: "reading the response: " + err.Error()}
		}
		// Skip informational answers (103 Early Hints) to the real one.
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	defer resp.Body.Close()
	r := Result{StatusCode: resp.StatusCode}
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		r.Outcome = OutcomeStatus
		r.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
		return r
	}
	if s := p.check.SearchString; s != "" {
		buf := make([]byte, SearchWindow)
		n, err := io.ReadFull(resp.Body, buf)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			r.Outcome = failure(err)
			r.Error = fmt.Sprintf("reading the body: %v", err)
			return r
		}
		if !bytes.Contains(buf[:n], []byte(s)) {
			r.Outcome = OutcomeMismatch
			r.Error = fmt.Sprintf("HTTP %d without %q in the first %d bytes of the body", resp.StatusCode, s, SearchWindow)
			return r
		}
	}
	r.Outcome = OutcomeOK
	return r
}

// failure classifies the error of an exchange on an open connection: a
// timeout, or any other error.
func failure(err error) Outcome {
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return OutcomeTimeout
	}
	return OutcomeError
}
