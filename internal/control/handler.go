package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Error codes of the admin API, the "code" of its error bodies.
const (
	CodeBadRequest       = "bad_request"        // malformed JSON, unknown fields, no changes, an override without a reason
	CodeUnknownControl   = "unknown_control"    // a change names a control the panel lacks
	CodeRuleViolation    = "rule_violation"     // a safety rule refused the change; "rule" names it
	CodeNoQuorum         = "no_quorum"          // no leader took the change in time
	CodeStopped          = "stopped"            // the node is shutting down
	CodeMethodNotAllowed = "method_not_allowed" // neither GET nor POST
	CodeTooLarge         = "too_large"          // the request body is over 64 KiB
	CodeInternal         = "internal"           // anything else
)

// maxRequestBody bounds admin request bodies.
const maxRequestBody = 64 << 10

// SetRequest is the body of POST /controls.
type SetRequest struct {
	// Changes are the controls to set and their new values. Required.
	Changes map[string]bool `json:"changes"`
	// Override bypasses the safety rules; Reason is then required.
	Override bool `json:"override,omitempty"`
	// Reason says why the rules are overridden; it is kept in the history.
	// Only with Override.
	Reason string `json:"reason,omitempty"`
	// Origin says who asks, for the history. Default: "http " and the
	// client's address.
	Origin string `json:"origin,omitempty"`
}

// ErrorBody is the JSON body of an admin API error.
type ErrorBody struct {
	// Error says what was wrong, for people.
	Error string `json:"error"`
	// Code classifies it, for programs: one of the Code constants.
	Code string `json:"code"`
	// Rule names the rule that refused the change (CodeRuleViolation).
	Rule string `json:"rule,omitempty"`
	// Violation is the refusal in full (CodeRuleViolation).
	Violation *RuleError `json:"violation,omitempty"`
}

// Handler returns the node's admin API:
//
//	GET  /controls   the State, as JSON
//	POST /controls   a SetRequest, e.g.
//	                 {"changes": {"us-east-1": false}}
//	                 {"changes": {"us-east-1": false}, "override": true, "reason": "drill"}
//	                 answers the State after the change
//
// Any node takes changes (see Set). Errors answer with an ErrorBody: 400
// for a bad request or an unknown control, 409 for a change a safety rule
// refused (with the rule's name), 503 when no leader took the change in
// time or the node is stopping. Mount the handler at "/controls"; it does
// no authentication, the caller wraps it.
func (s *Service) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		writeJSON(w, http.StatusOK, s.State())
	case http.MethodPost:
		s.servePost(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeJSON(w, http.StatusMethodNotAllowed, ErrorBody{Error: fmt.Sprintf("method %s not allowed: GET or POST", r.Method), Code: CodeMethodNotAllowed})
	}
}

func (s *Service) servePost(w http.ResponseWriter, r *http.Request) {
	var req SetRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeJSON(w, http.StatusRequestEntityTooLarge, ErrorBody{Error: "request body over 64 KiB", Code: CodeTooLarge})
			return
		}
		writeJSON(w, http.StatusBadRequest, ErrorBody{Error: "bad request body: " + err.Error(), Code: CodeBadRequest})
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		writeJSON(w, http.StatusBadRequest, ErrorBody{Error: "bad request body: more than one JSON value", Code: CodeBadRequest})
		return
	}
	var override *Override
	switch {
	case req.Override:
		override = &Override{Reason: strings.TrimSpace(req.Reason)}
	case req.Reason != "":
		writeJSON(w, http.StatusBadRequest, ErrorBody{Error: "a reason goes with an override", Code: CodeBadRequest})
		return
	}
	origin := req.Origin
	if origin == "" {
		origin = "http " + r.RemoteAddr
	}
	st, err := s.Set(r.Context(), req.Changes, override, origin)
	if err != nil {
		status, body := errorBody(err)
		writeJSON(w, status, body)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// errorBody maps an error of Set to a status and an ErrorBody.
func errorBody(err error) (int, ErrorBody) {
	var re *RuleError
	switch {
	case errors.As(err, &re):
		return http.StatusConflict, ErrorBody{Error: err.Error(), Code: CodeRuleViolation, Rule: re.Rule.Name, Violation: re}
	case errors.Is(err, ErrUnknownControl):
		return http.StatusBadRequest, ErrorBody{Error: err.Error(), Code: CodeUnknownControl}
	case errors.Is(err, ErrInvalidChange):
		return http.StatusBadRequest, ErrorBody{Error: err.Error(), Code: CodeBadRequest}
	case errors.Is(err, ErrNoQuorum):
		return http.StatusServiceUnavailable, ErrorBody{Error: err.Error(), Code: CodeNoQuorum}
	case errors.Is(err, ErrStopped):
		return http.StatusServiceUnavailable, ErrorBody{Error: err.Error(), Code: CodeStopped}
	default:
		return http.StatusInternalServerError, ErrorBody{Error: err.Error(), Code: CodeInternal}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
