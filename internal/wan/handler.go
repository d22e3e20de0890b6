package wan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Error codes of the admin API, the "code" of its error bodies.
const (
	CodeBadRequest       = "bad_request"        // malformed JSON, a missing or unknown field
	CodeBadDuration      = "bad_duration"       // a duration that does not parse, or is negative
	CodeUnknownRegion    = "unknown_region"     // a region not in Options.Regions
	CodeSameRegion       = "same_region"        // both ends of a link are one region
	CodeNotFound         = "not_found"          // no such endpoint
	CodeMethodNotAllowed = "method_not_allowed" // the endpoint exists, the method does not
	CodeTooLarge         = "too_large"          // the request body is over 64 KiB
)

// maxRequestBody bounds admin request bodies.
const maxRequestBody = 64 << 10

// Handler returns the WAN's admin API:
//
//	GET  /wan            the Snapshot, as JSON
//	POST /wan/set        {"a": "us-east-1", "b": "eu-west-1", "latency": "40ms", "jitter": "5ms"}
//	                     sets both directions; with "one_way": true only a -> b.
//	                     "jitter" may be left out (none).
//	POST /wan/partition  {"a": "us-east-1", "b": "eu-west-1"}
//	POST /wan/isolate    {"region": "us-east-1"}
//	POST /wan/heal       no body: heal everything; {"a", "b"}: HealLink;
//	                     {"region"}: Rejoin
//	POST /wan/reset      no body
//
// Every successful call answers 200 with the Snapshot after the change.
// Errors answer 4xx with {"error": "<message>", "code": "<Code...>"}. Paths
// are absolute: mount the handler at "/wan" and "/wan/" (or at "/"). The
// handler does no authentication; the caller wraps it.
func (w *WAN) Handler() http.Handler { return &handler{w: w} }

type handler struct{ w *WAN }

// Request bodies of the admin API.
type (
	setRequest struct {
		A       string    `json:"a"`
		B       string    `json:"b"`
		Latency *Duration `json:"latency"`
		Jitter  *Duration `json:"jitter,omitempty"`
		OneWay  bool      `json:"one_way,omitempty"`
	}
	pairRequest struct {
		A string `json:"a"`
		B string `json:"b"`
	}
	regionRequest struct {
		Region string `json:"region"`
	}
	healRequest struct {
		A      string `json:"a,omitempty"`
		B      string `json:"b,omitempty"`
		Region string `json:"region,omitempty"`
	}
)

// ErrorBody is the JSON body of an admin API error.
type ErrorBody struct {
	// Error says what was wrong, for people.
	Error string `json:"error"`
	// Code classifies it, for programs: one of the Code constants.
	Code string `json:"code"`
}

// apiError is an error the handler answers with status and code.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, CodeBadRequest, fmt.Sprintf(format, args...)}
}

func (h *handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var err error
	switch r.URL.Path {
	case "/wan":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(rw, "GET, HEAD")
			return
		}
	case "/wan/set", "/wan/partition", "/wan/isolate", "/wan/heal", "/wan/reset":
		if r.Method != http.MethodPost {
			methodNotAllowed(rw, "POST")
			return
		}
		err = h.change(rw, r)
	default:
		writeError(rw, &apiError{http.StatusNotFound, CodeNotFound, "wan: no endpoint " + r.URL.Path})
		return
	}
	if err != nil {
		writeError(rw, err)
		return
	}
	writeJSON(rw, http.StatusOK, h.w.Snapshot())
}

// change applies a POST request.
func (h *handler) change(rw http.ResponseWriter, r *http.Request) error {
	w := h.w
	switch r.URL.Path {
	case "/wan/set":
		var req setRequest
		if err := decode(rw, r, &req, false); err != nil {
			return err
		}
		if req.A == "" || req.B == "" || req.Latency == nil {
			return badRequest("wan: set needs \"a\", \"b\" and \"latency\"")
		}
		var jitter time.Duration
		if req.Jitter != nil {
			jitter = time.Duration(*req.Jitter)
		}
		if req.OneWay {
			return w.SetOneWay(req.A, req.B, time.Duration(*req.Latency), jitter)
		}
		return w.Set(req.A, req.B, time.Duration(*req.Latency), jitter)
	case "/wan/partition":
		var req pairRequest
		if err := decode(rw, r, &req, false); err != nil {
			return err
		}
		if req.A == "" || req.B == "" {
			return badRequest("wan: partition needs \"a\" and \"b\"")
		}
		return w.Partition(req.A, req.B)
	case "/wan/isolate":
		var req regionRequest
		if err := decode(rw, r, &req, false); err != nil {
			return err
		}
		if req.Region == "" {
			return badRequest("wan: isolate needs \"region\"")
		}
		return w.Isolate(req.Region)
	case "/wan/heal":
		var req healRequest
		if err := decode(rw, r, &req, true); err != nil {
			return err
		}
		switch {
		case req.A == "" && req.B == "" && req.Region == "":
			w.Heal()
			return nil
		case req.Region != "" && req.A == "" && req.B == "":
			return w.Rejoin(req.Region)
		case req.Region == "" && req.A != "" && req.B != "":
			return w.HealLink(req.A, req.B)
		}
		return badRequest("wan: heal takes no body, {\"a\", \"b\"} or {\"region\"}")
	case "/wan/reset":
		if err := decode(rw, r, &struct{}{}, true); err != nil {
			return err
		}
		w.Reset()
		return nil
	}
	panic("wan: change called for " + r.URL.Path)
}

// decode reads r's JSON body into v, refusing unknown fields and trailing
// data. An empty body is allowed when optional.
func decode(rw http.ResponseWriter, r *http.Request, v any, optional bool) error {
	dec := json.NewDecoder(http.MaxBytesReader(rw, r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == io.EOF && optional {
		return nil
	}
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data after the JSON object")
		}
	}
	if err == nil {
		return nil
	}
	var de *durationError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &de):
		return &apiError{http.StatusBadRequest, CodeBadDuration, de.msg}
	case errors.As(err, &tooLarge):
		return &apiError{http.StatusRequestEntityTooLarge, CodeTooLarge, "wan: request body is over 64 KiB"}
	case err == io.EOF:
		return badRequest("wan: request body is empty; want a JSON object")
	}
	return badRequest("wan: bad request body: %v", err)
}

func methodNotAllowed(rw http.ResponseWriter, allow string) {
	rw.Header().Set("Allow", allow)
	writeError(rw, &apiError{http.StatusMethodNotAllowed, CodeMethodNotAllowed, "wan: method not allowed; use " + allow})
}

// writeError answers err: an *apiError as it says, the package's sentinels
// as 400 with their codes, anything else as 500.
func writeError(rw http.ResponseWriter, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, ErrUnknownRegion):
		ae = &apiError{http.StatusBadRequest, CodeUnknownRegion, err.Error()}
	case errors.Is(err, ErrSameRegion):
		ae = &apiError{http.StatusBadRequest, CodeSameRegion, err.Error()}
	case errors.Is(err, ErrInvalidDelay):
		ae = &apiError{http.StatusBadRequest, CodeBadDuration, err.Error()}
	default:
		ae = &apiError{http.StatusInternalServerError, "internal", err.Error()}
	}
	writeJSON(rw, ae.status, ErrorBody{Error: ae.msg, Code: ae.code})
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic("wan: admin response does not marshal: " + err.Error())
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	rw.Write(append(b, '\n'))
}
