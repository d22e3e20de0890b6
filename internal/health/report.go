package health

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ReportPath is where Prober.Handler serves the report.
const ReportPath = "/health/report"

// maxReport bounds the report FetchReport reads.
const maxReport = 8 << 20

// Handler returns the Prober's admin endpoint:
//
//	GET /health/report   the vantage point's Report, as JSON
//
// Other paths answer 404 and other methods 405, with {"error", "code"}.
// The handler does no authentication: mount it on the node's
// authenticated admin listener (FetchReport sends a bearer token).
func (p *Prober) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ReportPath {
			writeError(w, http.StatusNotFound, "not_found", "health: no endpoint "+r.URL.Path)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "health: "+r.Method+" is not allowed on "+ReportPath)
			return
		}
		writeJSON(w, http.StatusOK, p.Report())
	})
}

// FetchReport fetches a vantage point's Report from url (its admin
// listener's ReportPath), sending "Authorization: Bearer <token>" when
// token is not empty. client nil means http.DefaultClient; give it the
// WAN's transport from the collecting process to the vantage point, and
// bound the call with ctx. Answers other than 200 are errors; so is a body
// that is not a report (ErrBadReport).
//
// Feed the result to Monitor.Update. Fetch each vantage point at least once
// per check interval: reports are judged stale by the age of their results
// when they arrive.
func FetchReport(ctx context.Context, client *http.Client, url, token string) (Report, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Report{}, fmt.Errorf("health: fetching report: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Report{}, fmt.Errorf("health: fetching report: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReport))
	if err != nil {
		return Report{}, fmt.Errorf("health: reading report from %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(data))
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		return Report{}, fmt.Errorf("health: fetching report from %s: HTTP %d: %s", url, resp.StatusCode, msg)
	}
	var rep Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return Report{}, fmt.Errorf("%w from %s: %v", ErrBadReport, url, err)
	}
	if rep.Vantage == "" {
		return Report{}, fmt.Errorf("%w from %s: no vantage point", ErrBadReport, url)
	}
	return rep, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "health: encoding the answer: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	data, _ := json.Marshal(struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}{msg, code})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}
