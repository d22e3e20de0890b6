package control

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHandler(t *testing.T) {
	c := newCluster(t, regions, func(o *Options) { o.SetTimeout = 3 * time.Second })
	leader := c.waitLeader(regions...)
	f := c.follower(leader)
	srv := httptest.NewServer(c.nodes[f].Handler())
	defer srv.Close()

	do := func(method, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+"/controls", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	status, body := do("GET", "")
	var st State
	if status != 200 || json.Unmarshal(body, &st) != nil || st.Node != f || !st.On("us-east-1") {
		t.Fatalf("GET /controls = %d %s, want 200 and %s's state", status, body, f)
	}

	tests := []struct {
		name, method, body string
		status             int
		code, rule         string
		// on is the value us-east-1 must have in a 200 answer.
		on bool
	}{
		{name: "change", method: "POST", body: `{"changes": {"us-east-1": false}, "origin": "alice"}`, status: 200},
		{name: "bad json", method: "POST", body: `{"changes": `, status: 400, code: CodeBadRequest},
		{name: "unknown field", method: "POST", body: `{"changes": {"us-east-1": true}, "force": true}`, status: 400, code: CodeBadRequest},
		{name: "two values", method: "POST", body: `{"changes": {"us-east-1": true}} {}`, status: 400, code: CodeBadRequest},
		{name: "no changes", method: "POST", body: `{"changes": {}}`, status: 400, code: CodeBadRequest},
		{name: "unknown control", method: "POST", body: `{"changes": {"mars-1": true}}`, status: 400, code: CodeUnknownControl},
		{name: "override without reason", method: "POST", body: `{"changes": {"us-east-1": true}, "override": true}`, status: 400, code: CodeBadRequest},
		{name: "reason without override", method: "POST", body: `{"changes": {"us-east-1": true}, "reason": "why not"}`, status: 400, code: CodeBadRequest},
		{name: "second region off", method: "POST", body: `{"changes": {"us-west-2": false}}`, status: 200},
		{name: "last region off", method: "POST", body: `{"changes": {"eu-west-1": false}}`, status: 409, code: CodeRuleViolation, rule: DefaultRuleName},
		{name: "override", method: "POST", body: `{"changes": {"eu-west-1": false}, "override": true, "reason": "drill"}`, status: 200},
		{name: "back on", method: "POST", body: `{"changes": {"us-east-1": true}}`, status: 200, on: true},
		{name: "method", method: "PUT", body: `{}`, status: 405, code: CodeMethodNotAllowed},
		{name: "too large", method: "POST", body: `{"origin": "` + strings.Repeat("x", maxRequestBody) + `"}`, status: 413, code: CodeTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := do(tc.method, tc.body)
			if status != tc.status {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.body, status, body, tc.status)
			}
			if status == 200 {
				var st State
				if err := json.Unmarshal(body, &st); err != nil {
					t.Fatalf("answer %s: %v", body, err)
				}
				if st.On("us-east-1") != tc.on {
					t.Errorf("us-east-1 on=%v in %s, want %v", st.On("us-east-1"), body, tc.on)
				}
				return
			}
			var eb ErrorBody
			if err := json.Unmarshal(body, &eb); err != nil || eb.Code != tc.code || eb.Rule != tc.rule || eb.Error == "" {
				t.Errorf("error body %s, want code %q rule %q", body, tc.code, tc.rule)
			}
		})
	}

	hist := c.nodes[f].State().History
	var sawOverride bool
	for _, h := range hist {
		if h.Override && h.Reason == "drill" && h.Node == f {
			sawOverride = true
		}
		if h.Origin == "" {
			t.Errorf("history entry %+v has no origin", h)
		}
	}
	if !sawOverride || hist[0].Origin != "alice" {
		t.Errorf("history %+v, want alice's change first and the drill override", hist)
	}

	// With the other two down, no quorum: 503.
	for _, r := range regions {
		if r != f {
			c.stop(r)
		}
	}
	status, body = do("POST", `{"changes": {"us-west-2": true}}`)
	var eb ErrorBody
	if status != 503 || json.Unmarshal(body, &eb) != nil || eb.Code != CodeNoQuorum {
		t.Errorf("POST without quorum = %d %s, want 503 %s", status, body, CodeNoQuorum)
	}
	if status, _ := do("GET", ""); status != 200 {
		t.Errorf("GET without quorum = %d, want 200 (reads are local)", status)
	}
}
