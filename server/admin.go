package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/rdsca/rdsca/rds"
)

// AdminPrefix is the path prefix of rdsca's own endpoints, outside the AWS
// API: JSON in and out. In strict mode (Config.Auth set) they, and
// MotoResetPath, take only requests SigV4-signed (service "rds") by a key of
// the credentials file, any key: they act on the whole server, not on the
// key's account. In open mode they take any request, as the API does.
const AdminPrefix = "/_rdsca/"

// Admin endpoint paths.
const (
	ClockPath   = AdminPrefix + "clock"
	AdvancePath = AdminPrefix + "clock/advance"
	// ResetPath forgets every override and instance (POST).
	ResetPath = AdminPrefix + "reset"
)

// MotoResetPath is moto's reset endpoint in server mode, so suites written
// for moto can reset rdsca unchanged. It does what ResetPath does and
// answers as moto does.
const MotoResetPath = "/moto-api/reset"

// SettableClock is a clock the admin endpoints can move; clock.Offset and
// clock.Fixed are.
type SettableClock interface {
	Set(time.Time)
	Advance(time.Duration)
}

// maxAdminBody bounds an admin request body.
const maxAdminBody = 64 << 10

// clockBody is the JSON of the clock endpoints.
type clockBody struct {
	Now string `json:"now"`
}

// advanceBody is POST /_rdsca/clock/advance's request: a Go duration, a
// number of days, or both (added).
type advanceBody struct {
	Duration *string `json:"duration"`
	Days     *int    `json:"days"`
}

// maxAdvance bounds one move, so durations cannot overflow.
const maxAdvance = 100 * 365 * 24 * time.Hour

// serveAdmin routes the admin endpoints.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	r, ok := s.authorizeAdmin(w, r)
	if !ok {
		return
	}
	switch r.URL.Path {
	case ClockPath:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			s.writeNow(w)
		case http.MethodPut:
			s.setClock(w, r)
		default:
			methodNotAllowed(w, "GET, HEAD, PUT")
		}
	case AdvancePath:
		if r.Method != http.MethodPost {
			methodNotAllowed(w, "POST")
			return
		}
		s.advanceClock(w, r)
	case ResetPath:
		if r.Method != http.MethodPost {
			methodNotAllowed(w, "POST")
			return
		}
		s.reset(w, r)
	default:
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("no admin endpoint %s; there are GET and PUT %s, POST %s and POST %s", r.URL.Path, ClockPath, AdvancePath, ResetPath))
	}
}

// adminKey is the context key of the access key id that signed an admin
// request in strict mode.
type adminKey struct{}

// authorizeAdmin lets an admin request through in open mode. In strict mode
// it verifies the request's SigV4 signature as the API does (same verifier,
// same order of checks, service "rds") and answers the refusal itself, as
// JSON {"error": message, "code": AWS code} with the API's status: 403, or
// 400 for signing information that cannot be read. The body is read
// (within maxAdminBody) for the payload hash, and replayed to the handler.
func (s *Server) authorizeAdmin(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	if s.cfg.Auth == nil {
		return r, true
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d bytes", maxAdminBody))
		} else {
			writeJSONError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		}
		return r, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	caller, err := s.cfg.Auth.identify(r, body, s.cfg.Logger)
	if err != nil {
		var e *rds.Error
		if !errors.As(err, &e) {
			s.cfg.Logger.Error("admin request: verifying the signature failed", "path", r.URL.Path, "err", err)
			writeJSONError(w, http.StatusInternalServerError, "verifying the signature failed")
			return r, false
		}
		msg := e.Message
		if e.Code == CodeMissingAuthenticationToken {
			msg += " (in strict mode the admin endpoints take only requests signed with SigV4, service rds, by a key of the credentials file)"
		}
		s.cfg.Logger.Info("admin request refused", "method", r.Method, "path", r.URL.Path, "code", e.Code, "remote", r.RemoteAddr)
		writeJSON(w, authStatus(e.Code), struct {
			Error string `json:"error"`
			Code  string `json:"code"`
		}{msg, e.Code})
		return r, false
	}
	return r.WithContext(context.WithValue(r.Context(), adminKey{}, caller.AccessKeyID)), true
}

// adminLog is the logger of an admin request's changes: in strict mode it
// names the access key that signed the request.
func (s *Server) adminLog(r *http.Request) *slog.Logger {
	if key, ok := r.Context().Value(adminKey{}).(string); ok && key != "" {
		return s.cfg.Logger.With("access_key_id", key)
	}
	return s.cfg.Logger
}

// resetOK is the answer of a reset, moto's words.
const resetOK = `{"status": "ok"}`

// reset answers POST /_rdsca/reset. The body may be empty or an empty JSON
// object.
func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	if !emptyBody(w, r) {
		return
	}
	if !s.resetState(w, r) {
		return
	}
	writeRaw(w, http.StatusOK, resetOK)
}

// serveMotoReset answers POST /moto-api/reset as moto's server mode does:
// 200 {"status": "ok"}, and for other methods 400 {"Error": "Need to POST
// to reset Moto"}. The body is ignored, as moto ignores it (in strict mode
// it is only hashed, for the signature).
func (s *Server) serveMotoReset(w http.ResponseWriter, r *http.Request) {
	r, ok := s.authorizeAdmin(w, r)
	if !ok {
		return
	}
	if r.Method != http.MethodPost {
		writeRaw(w, http.StatusBadRequest, `{"Error": "Need to POST to reset Moto"}`)
		return
	}
	if !s.resetState(w, r) {
		return
	}
	writeRaw(w, http.StatusOK, resetOK)
}

// resetState forgets every override and instance, answering the error if it
// cannot.
func (s *Server) resetState(w http.ResponseWriter, r *http.Request) bool {
	err := s.service.Reset(r.Context())
	switch {
	case errors.Is(err, rds.ErrResetUnsupported):
		writeJSONError(w, http.StatusNotImplemented, "this server's store cannot be reset")
		return false
	case err != nil:
		s.cfg.Logger.Error("reset failed", "err", err)
		writeJSONError(w, http.StatusInternalServerError, "reset failed: "+err.Error())
		return false
	}
	s.adminLog(r).Info("state reset", "path", r.URL.Path)
	return true
}

// emptyBody accepts an empty body (blank) or an empty JSON object,
// answering 400 for anything else.
func emptyBody(w http.ResponseWriter, r *http.Request) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return false
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return true
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return decodeJSON(w, r, &struct{}{})
}

func (s *Server) setClock(w http.ResponseWriter, r *http.Request) {
	c, ok := s.settable(w)
	if !ok {
		return
	}
	var body clockBody
	if !decodeJSON(w, r, &body) {
		return
	}
	t, err := time.Parse(time.RFC3339Nano, body.Now)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("now %q is not an RFC 3339 time (like 2024-01-01T00:00:00Z)", body.Now))
		return
	}
	c.Set(t)
	s.adminLog(r).Info("clock set", "now", t.UTC().Format(time.RFC3339Nano))
	s.writeNow(w)
}

func (s *Server) advanceClock(w http.ResponseWriter, r *http.Request) {
	c, ok := s.settable(w)
	if !ok {
		return
	}
	var body advanceBody
	if !decodeJSON(w, r, &body) {
		return
	}
	if body.Duration == nil && body.Days == nil {
		writeJSONError(w, http.StatusBadRequest, `give "duration" (a Go duration like "72h" or "90m") or "days" (an integer)`)
		return
	}
	var d time.Duration
	if body.Duration != nil {
		var err error
		if d, err = time.ParseDuration(*body.Duration); err != nil {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("duration %q is not a Go duration (like \"72h\" or \"90m\")", *body.Duration))
			return
		}
		if d > maxAdvance || d < -maxAdvance {
			writeJSONError(w, http.StatusBadRequest, "the clock moves at most 100 years at a time")
			return
		}
	}
	if body.Days != nil {
		days := *body.Days
		if days > int(maxAdvance/(24*time.Hour)) || days < -int(maxAdvance/(24*time.Hour)) {
			writeJSONError(w, http.StatusBadRequest, "the clock moves at most 100 years at a time")
			return
		}
		d += time.Duration(days) * 24 * time.Hour
	}
	if d > maxAdvance || d < -maxAdvance {
		writeJSONError(w, http.StatusBadRequest, "the clock moves at most 100 years at a time")
		return
	}
	c.Advance(d)
	s.adminLog(r).Info("clock advanced", "by", d.String(), "now", s.cfg.Clock.Now().UTC().Format(time.RFC3339Nano))
	s.writeNow(w)
}

// settable returns the clock if it can be moved, else answers 409.
func (s *Server) settable(w http.ResponseWriter) (SettableClock, bool) {
	c, ok := s.cfg.Clock.(SettableClock)
	if !ok {
		writeJSONError(w, http.StatusConflict, "this server's clock cannot be set or advanced")
	}
	return c, ok
}

func (s *Server) writeNow(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, clockBody{Now: s.cfg.Clock.Now().UTC().Format(time.RFC3339Nano)})
}

// decodeJSON reads one JSON object into v, answering 400 if it cannot.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data after the JSON object")
	}
	if err != nil {
		msg := "the body must be one JSON object: " + err.Error()
		if errors.Is(err, io.EOF) {
			msg = "the body must be one JSON object; it is empty"
		}
		writeJSONError(w, http.StatusBadRequest, msg)
		return false
	}
	return true
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSONError(w, http.StatusMethodNotAllowed, "method not allowed; use "+strings.ReplaceAll(allow, ", ", " or "))
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		Error string `json:"error"`
	}{msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	writeRaw(w, status, string(b))
}

// writeRaw answers body, a JSON text, and a newline.
func writeRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body+"\n")
}
