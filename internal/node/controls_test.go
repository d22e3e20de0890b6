package node

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/gyre-dev/gyre/internal/control"
	"github.com/gyre-dev/gyre/internal/frontdoor"
)

// setControls posts a change to a region's admin API and returns the
// status code and body.
func setControls(t *testing.T, n *Node, via string, changes map[string]bool) (int, string) {
	t.Helper()
	body, _ := json.Marshal(control.SetRequest{Changes: changes})
	req, _ := http.NewRequest(http.MethodPost, "http://"+n.Region(via).AdminAddr().String()+"/controls", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+n.Topology().AdminToken)
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func servedBy(t *testing.T, n *Node, location string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+n.Router().FrontDoorAddr().String()+"/health", nil)
	req.Header.Set(frontdoor.LocationHeader, location)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get(frontdoor.RegionHeader)
}

// TestControlOffWithARegionDown turns a region's control off while another
// region is down, and checks DNS and the front door follow at once; then
// checks the safety rule refuses to turn the last region off.
func TestControlOffWithARegionDown(t *testing.T) {
	n := routedNode(t, 200*time.Millisecond)
	eventually(t, "the control panel configured", func() bool {
		svc := n.Region("us-east-1").Control()
		return svc.State().Configured && svc.State().Leader != ""
	})
	if got := servedBy(t, n, "dublin"); got != "eu-west-1" {
		t.Fatalf("precondition: dublin served by %s", got)
	}
	if err := n.Stop(context.Background(), "us-west-2"); err != nil {
		t.Fatal(err)
	}
	// With us-west-2 down, two of three voters remain: a majority.
	code, body := setControls(t, n, "us-east-1", map[string]bool{"eu-west-1": false})
	if code != http.StatusOK {
		t.Fatalf("turning eu-west-1 off with us-west-2 down: %d %s", code, body)
	}
	eventually(t, "the front door to stop sending dublin to eu-west-1", func() bool { return servedBy(t, n, "dublin") == "us-east-1" })
	if _, err := exec.LookPath("dig"); err == nil {
		if got := dig(t, n, "api.gyre.test", "10.3.0.0/24"); len(got) != 1 || got[0] == "127.0.3.1" {
			t.Errorf("DNS still answers dublin with eu-west-1 (its control off): %v", got)
		}
	}
	// us-east-1 is now the only region on (us-west-2's control is on but
	// it is down: controls are not health). Turning it off too would leave
	// none on, which the default rule refuses.
	code, body = setControls(t, n, "eu-west-1", map[string]bool{"us-east-1": false, "us-west-2": false})
	if code != http.StatusConflict {
		t.Fatalf("turning the last regions off: %d %s, want 409", code, body)
	}
	var e control.ErrorBody
	json.Unmarshal([]byte(body), &e)
	if e.Rule != "at-least-one-region" {
		t.Errorf("refusal names rule %q: %s", e.Rule, body)
	}
}
