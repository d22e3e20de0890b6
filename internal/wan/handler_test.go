package wan

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHandler(t *testing.T) {
	// The cases run in order against one WAN: the heals and the reset undo
	// what the cases before them did.
	w := newTestWAN(t)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string // for errors
		check                    func(t *testing.T, s Snapshot)
	}{
		{name: "state", method: "GET", path: "/wan", status: 200, check: func(t *testing.T, s Snapshot) {
			if len(s.Links) != 12 {
				t.Errorf("got %d links, want 12", len(s.Links))
			}
		}},
		{name: "set", method: "POST", path: "/wan/set", body: `{"a":"a","b":"b","latency":"40ms","jitter":"5ms"}`, status: 200,
			check: func(t *testing.T, s Snapshot) {
				for _, d := range [][2]string{{"a", "b"}, {"b", "a"}} {
					if l, _ := s.Link(d[0], d[1]); l.Latency != Duration(40*time.Millisecond) || l.Jitter != Duration(5*time.Millisecond) {
						t.Errorf("%s -> %s = %v/%v, want 40ms/5ms", d[0], d[1], l.Latency, l.Jitter)
					}
				}
			}},
		{name: "set one way, no jitter", method: "POST", path: "/wan/set", body: `{"a":"c","b":"d","latency":"1.5s","one_way":true}`, status: 200,
			check: func(t *testing.T, s Snapshot) {
				if l, _ := s.Link("c", "d"); l.Latency != Duration(1500*time.Millisecond) || l.Jitter != 0 {
					t.Errorf("c -> d = %v/%v, want 1.5s/0s", l.Latency, l.Jitter)
				}
				if l, _ := s.Link("d", "c"); l.Latency != 0 {
					t.Errorf("d -> c = %v, want untouched", l.Latency)
				}
			}},
		{name: "partition", method: "POST", path: "/wan/partition", body: `{"a":"a","b":"c"}`, status: 200,
			check: func(t *testing.T, s Snapshot) {
				if l, _ := s.Link("c", "a"); l.Up || !l.Partitioned {
					t.Errorf("c -> a = %+v, want partitioned", l)
				}
			}},
		{name: "isolate", method: "POST", path: "/wan/isolate", body: `{"region":"d"}`, status: 200,
			check: func(t *testing.T, s Snapshot) {
				if len(s.Isolated) != 1 || s.Isolated[0] != "d" {
					t.Errorf("isolated = %v, want [d]", s.Isolated)
				}
			}},
		{name: "heal link", method: "POST", path: "/wan/heal", body: `{"a":"c","b":"a"}`, status: 200,
			check: func(t *testing.T, s Snapshot) {
				if len(s.Partitions) != 0 || len(s.Isolated) != 1 {
					t.Errorf("partitions %v isolated %v, want [] [d]", s.Partitions, s.Isolated)
				}
			}},
		{name: "rejoin", method: "POST", path: "/wan/heal", body: `{"region":"d"}`, status: 200,
			check: func(t *testing.T, s Snapshot) {
				if len(s.Isolated) != 0 {
					t.Errorf("isolated = %v, want []", s.Isolated)
				}
			}},
		{name: "heal all", method: "POST", path: "/wan/heal", status: 200},
		{name: "reset", method: "POST", path: "/wan/reset", status: 200,
			check: func(t *testing.T, s Snapshot) {
				if l, _ := s.Link("a", "b"); l.Latency != 0 {
					t.Errorf("a -> b = %v after reset, want 0", l.Latency)
				}
			}},

		{name: "unknown region", method: "POST", path: "/wan/partition", body: `{"a":"a","b":"mars-1"}`, status: 400, code: CodeUnknownRegion},
		{name: "unknown isolated region", method: "POST", path: "/wan/isolate", body: `{"region":"mars-1"}`, status: 400, code: CodeUnknownRegion},
		{name: "same region", method: "POST", path: "/wan/set", body: `{"a":"a","b":"a","latency":"1ms"}`, status: 400, code: CodeSameRegion},
		{name: "bad duration", method: "POST", path: "/wan/set", body: `{"a":"a","b":"b","latency":"40 parsecs"}`, status: 400, code: CodeBadDuration},
		{name: "numeric duration", method: "POST", path: "/wan/set", body: `{"a":"a","b":"b","latency":40}`, status: 400, code: CodeBadDuration},
		{name: "negative duration", method: "POST", path: "/wan/set", body: `{"a":"a","b":"b","latency":"-1ms"}`, status: 400, code: CodeBadDuration},
		{name: "missing latency", method: "POST", path: "/wan/set", body: `{"a":"a","b":"b"}`, status: 400, code: CodeBadRequest},
		{name: "unknown field", method: "POST", path: "/wan/set", body: `{"a":"a","b":"b","latancy":"1ms"}`, status: 400, code: CodeBadRequest},
		{name: "malformed JSON", method: "POST", path: "/wan/partition", body: `{"a":`, status: 400, code: CodeBadRequest},
		{name: "trailing data", method: "POST", path: "/wan/partition", body: `{"a":"a","b":"b"} {}`, status: 400, code: CodeBadRequest},
		{name: "empty body", method: "POST", path: "/wan/isolate", status: 400, code: CodeBadRequest},
		{name: "heal half a pair", method: "POST", path: "/wan/heal", body: `{"a":"a"}`, status: 400, code: CodeBadRequest},
		{name: "too large", method: "POST", path: "/wan/isolate", body: `{"region":"` + strings.Repeat("x", 70<<10) + `"}`, status: 413, code: CodeTooLarge},
		{name: "no such endpoint", method: "GET", path: "/wan/nope", status: 404, code: CodeNotFound},
		{name: "GET a change", method: "GET", path: "/wan/partition", status: 405, code: CodeMethodNotAllowed},
		{name: "POST the state", method: "POST", path: "/wan", status: 405, code: CodeMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			w.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("%s %s: status %d, want %d; body %s", tc.method, tc.path, rec.Code, tc.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if tc.status != 200 {
				var eb ErrorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error == "" {
					t.Fatalf("error body %s is not {\"error\", \"code\"}: %v", rec.Body, err)
				}
				if eb.Code != tc.code {
					t.Errorf("code %q, want %q (message %q)", eb.Code, tc.code, eb.Error)
				}
				if tc.status == 405 && rec.Header().Get("Allow") == "" {
					t.Error("405 without an Allow header")
				}
				return
			}
			var s Snapshot
			if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
				t.Fatalf("body %s is not a snapshot: %v", rec.Body, err)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

func TestClient(t *testing.T) {
	w := newTestWAN(t)
	const token = "s3cret"
	var sawAuth []string
	hs := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		sawAuth = append(sawAuth, r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(rw, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Handler().ServeHTTP(rw, r)
	}))
	defer hs.Close()
	c := &Client{BaseURL: hs.URL + "/", Token: token, HTTP: hs.Client()}
	ctx := t.Context()

	s, err := c.Set(ctx, "a", "b", 25*time.Millisecond, 2*time.Millisecond)
	must(t, err)
	if l, _ := s.Link("b", "a"); l.Latency != Duration(25*time.Millisecond) || l.Jitter != Duration(2*time.Millisecond) {
		t.Errorf("after Set b -> a = %v/%v", l.Latency, l.Jitter)
	}
	s, err = c.SetOneWay(ctx, "c", "a", 3*time.Millisecond, 0)
	must(t, err)
	if l, _ := s.Link("a", "c"); l.Latency != 0 {
		t.Errorf("SetOneWay c -> a changed a -> c to %v", l.Latency)
	}
	s, err = c.Partition(ctx, "a", "b")
	must(t, err)
	if l, _ := s.Link("a", "b"); l.Up {
		t.Error("after Partition a -> b is up")
	}
	s, err = c.Isolate(ctx, "c")
	must(t, err)
	if len(s.Isolated) != 1 {
		t.Errorf("after Isolate isolated = %v", s.Isolated)
	}
	s, err = c.HealLink(ctx, "a", "b")
	must(t, err)
	if len(s.Partitions) != 0 {
		t.Errorf("after HealLink partitions = %v", s.Partitions)
	}
	s, err = c.Rejoin(ctx, "c")
	must(t, err)
	if len(s.Isolated) != 0 {
		t.Errorf("after Rejoin isolated = %v", s.Isolated)
	}
	must(t, w.Partition("c", "d"))
	s, err = c.Heal(ctx)
	must(t, err)
	if len(s.Partitions) != 0 {
		t.Errorf("after Heal partitions = %v", s.Partitions)
	}
	s, err = c.Reset(ctx)
	must(t, err)
	if l, _ := s.Link("a", "b"); l.Latency != 0 {
		t.Errorf("after Reset a -> b = %v", l.Latency)
	}
	s, err = c.State(ctx)
	must(t, err)
	if s.Generation != w.Snapshot().Generation {
		t.Errorf("State generation %d, WAN's %d", s.Generation, w.Snapshot().Generation)
	}

	_, err = c.Partition(ctx, "a", "mars-1")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Code != CodeUnknownRegion || !errors.Is(err, ErrUnknownRegion) {
		t.Errorf("Partition with an unknown region: %v, want a 400 APIError matching ErrUnknownRegion", err)
	}
	_, err = c.Set(ctx, "a", "b", -time.Second, 0)
	if !errors.Is(err, ErrInvalidDelay) {
		t.Errorf("Set with a negative latency: %v, want ErrInvalidDelay", err)
	}

	for _, a := range sawAuth {
		if a != "Bearer "+token {
			t.Errorf("a request carried Authorization %q", a)
		}
	}
	bad := &Client{BaseURL: hs.URL, Token: "wrong", HTTP: hs.Client()}
	_, err = bad.State(ctx)
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Code != "" || !strings.Contains(ae.Message, "unauthorized") {
		t.Errorf("State with a wrong token: %v, want a 401 APIError carrying the body", err)
	}
}
