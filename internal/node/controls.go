package node

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gyre-dev/gyre/internal/control"
	"github.com/gyre-dev/gyre/internal/topology"
	"github.com/gyre-dev/gyre/internal/wan"
)

// ControlPoller follows the routing controls of a router running apart from
// the regions: it asks the regions' admin APIs for the control panel's
// state, keeping the most advanced view any region gives. Until one
// answers, every control counts as on.
type ControlPoller struct {
	state  atomic.Pointer[control.State]
	cancel context.CancelFunc
	done   chan struct{}
}

// PollControls starts following the controls of t's regions through w,
// every 200ms.
func PollControls(t *topology.Topology, w *wan.WAN, log *slog.Logger) *ControlPoller {
	ctx, cancel := context.WithCancel(context.Background())
	p := &ControlPoller{cancel: cancel, done: make(chan struct{})}
	clients := map[string]*http.Client{}
	for _, r := range t.Regions {
		clients[r.Name] = &http.Client{Transport: w.Transport(RouterVantage, r.Name), Timeout: time.Second}
	}
	go func() {
		defer close(p.done)
		defer func() {
			if v := recover(); v != nil {
				log.Error("the routing-control poller panicked; controls keep their last state", "panic", v, "stack", string(debug.Stack()))
			}
		}()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			var mu sync.Mutex
			var best *control.State
			var wg sync.WaitGroup
			for _, r := range t.Regions {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := fetchControls(ctx, clients[r.Name], "http://"+r.Admin, t.AdminToken)
					if err != nil || !s.Configured {
						return
					}
					mu.Lock()
					if best == nil || s.AppliedIndex > best.AppliedIndex {
						best = s
					}
					mu.Unlock()
				}()
			}
			wg.Wait()
			if best != nil {
				p.state.Store(best)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

func fetchControls(ctx context.Context, c *http.Client, base, token string) (*control.State, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/controls", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var s control.State
	if resp.StatusCode != http.StatusOK {
		return nil, errStatus(resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

type errStatus string

func (e errStatus) Error() string { return "node: " + string(e) }

// On reports whether region's routing control is on.
func (p *ControlPoller) On(region string) bool {
	s := p.state.Load()
	if s == nil {
		return true
	}
	return s.On(region)
}

// Stop stops polling.
func (p *ControlPoller) Stop() {
	p.cancel()
	<-p.done
}
