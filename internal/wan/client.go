package wan

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client calls a WAN's admin API (see Handler), for the gyre CLI and for
// tests and drills driving a WAN in another process. Its methods mirror the
// WAN's and return the Snapshot after the change. A Client is safe for
// concurrent use once its fields are set.
type Client struct {
	// BaseURL is the root the handler is mounted under, such as
	// "http://127.0.0.1:8080"; requests go to BaseURL + "/wan...".
	// Required.
	BaseURL string
	// Token, when not empty, is sent as "Authorization: Bearer <Token>".
	Token string
	// HTTP sends the requests. Default http.DefaultClient.
	HTTP *http.Client
}

// APIError is an error answer of the admin API. It unwraps to the
// package's sentinel for its code (ErrUnknownRegion for "unknown_region",
// and so on), so errors.Is works across the wire.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the body's code, one of the Code constants; empty when the
	// body was not the API's JSON (a proxy's error page, say).
	Code string
	// Message is the body's error message, or the start of a body that
	// was not JSON.
	Message string
}

// Error returns the server's message with the status and code.
func (e *APIError) Error() string {
	return fmt.Sprintf("wan admin API: %s (HTTP %d %s)", e.Message, e.StatusCode, e.Code)
}

// Unwrap returns the sentinel matching e.Code, or nil.
func (e *APIError) Unwrap() error {
	switch e.Code {
	case CodeUnknownRegion:
		return ErrUnknownRegion
	case CodeSameRegion:
		return ErrSameRegion
	case CodeBadDuration:
		return ErrInvalidDelay
	}
	return nil
}

// State returns the network's Snapshot.
func (c *Client) State(ctx context.Context) (Snapshot, error) {
	return c.do(ctx, http.MethodGet, "/wan", nil)
}

// Set sets the one-way latency and jitter of both directions between a and
// b, as WAN.Set does.
func (c *Client) Set(ctx context.Context, a, b string, latency, jitter time.Duration) (Snapshot, error) {
	l, j := Duration(latency), Duration(jitter)
	return c.do(ctx, http.MethodPost, "/wan/set", setRequest{A: a, B: b, Latency: &l, Jitter: &j})
}

// SetOneWay sets the direction from -> to alone, as WAN.SetOneWay does.
func (c *Client) SetOneWay(ctx context.Context, from, to string, latency, jitter time.Duration) (Snapshot, error) {
	l, j := Duration(latency), Duration(jitter)
	return c.do(ctx, http.MethodPost, "/wan/set", setRequest{A: from, B: to, Latency: &l, Jitter: &j, OneWay: true})
}

// Partition takes the link between a and b down, as WAN.Partition does.
func (c *Client) Partition(ctx context.Context, a, b string) (Snapshot, error) {
	return c.do(ctx, http.MethodPost, "/wan/partition", pairRequest{A: a, B: b})
}

// Isolate takes every link of region down, as WAN.Isolate does.
func (c *Client) Isolate(ctx context.Context, region string) (Snapshot, error) {
	return c.do(ctx, http.MethodPost, "/wan/isolate", regionRequest{Region: region})
}

// Heal lifts every partition and isolation, as WAN.Heal does.
func (c *Client) Heal(ctx context.Context) (Snapshot, error) {
	return c.do(ctx, http.MethodPost, "/wan/heal", nil)
}

// HealLink lifts the partition between a and b, as WAN.HealLink does.
func (c *Client) HealLink(ctx context.Context, a, b string) (Snapshot, error) {
	return c.do(ctx, http.MethodPost, "/wan/heal", healRequest{A: a, B: b})
}

// Rejoin lifts the isolation of region, as WAN.Rejoin does.
func (c *Client) Rejoin(ctx context.Context, region string) (Snapshot, error) {
	return c.do(ctx, http.MethodPost, "/wan/heal", healRequest{Region: region})
}

// Reset heals the network and restores every link's settings, as
// WAN.Reset does.
func (c *Client) Reset(ctx context.Context) (Snapshot, error) {
	return c.do(ctx, http.MethodPost, "/wan/reset", nil)
}

func (c *Client) do(ctx context.Context, method, path string, body any) (Snapshot, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Snapshot{}, fmt.Errorf("wan admin API: encoding the request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return Snapshot{}, fmt.Errorf("wan admin API: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Snapshot{}, fmt.Errorf("wan admin API: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return Snapshot{}, fmt.Errorf("wan admin API: reading the response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var eb ErrorBody
		if json.Unmarshal(data, &eb) != nil || eb.Error == "" {
			msg := strings.TrimSpace(string(data))
			if len(msg) > 200 {
				msg = msg[:200] + "..."
			}
			return Snapshot{}, &APIError{StatusCode: resp.StatusCode, Message: msg}
		}
		return Snapshot{}, &APIError{StatusCode: resp.StatusCode, Code: eb.Code, Message: eb.Error}
	}
	var s Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return Snapshot{}, fmt.Errorf("wan admin API: decoding the snapshot: %w", err)
	}
	return s, nil
}
