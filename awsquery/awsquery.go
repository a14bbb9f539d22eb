// Package awsquery serves the AWS Query protocol: form-encoded requests in,
// XML responses and ErrorResponse envelopes out. Every protocol rule lives
// here; operations register typed functions with Handle.
package awsquery

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rdsca/rdsca/rds"
)

// Caller is who sent a request, as far as the protocol can tell.
type Caller struct {
	AccessKeyID string
	Account     string
	Region      string
}

// Scope is the caller's (account, region).
func (c Caller) Scope() rds.Scope { return rds.Scope{Account: c.Account, Region: c.Region} }

// Protocol error codes.
const (
	CodeMissingAction         = "MissingAction"
	CodeInvalidAction         = "InvalidAction"
	CodeMalformedQueryString  = "MalformedQueryString"
	CodeInternalFailure       = "InternalFailure"
	CodeRequestEntityTooLarge = "RequestEntityTooLarge"
	CodeMethodNotAllowed      = "MethodNotAllowed"
)

// Statuses maps error codes to HTTP statuses. Codes not listed get 400 for
// sender faults and 500 for receiver faults.
type Statuses map[string]int

var baseStatuses = Statuses{
	CodeMissingAction:                   http.StatusBadRequest,
	CodeInvalidAction:                   http.StatusBadRequest,
	CodeMalformedQueryString:            http.StatusBadRequest,
	CodeInternalFailure:                 http.StatusInternalServerError,
	CodeRequestEntityTooLarge:           http.StatusRequestEntityTooLarge,
	CodeMethodNotAllowed:                http.StatusMethodNotAllowed,
	rds.CodeInvalidParameterValue:       http.StatusBadRequest,
	rds.CodeInvalidParameterCombination: http.StatusBadRequest,
	"IncompleteSignature":               http.StatusBadRequest,
	"SignatureDoesNotMatch":             http.StatusForbidden,
	"MissingAuthenticationToken":        http.StatusForbidden,
	"InvalidClientTokenId":              http.StatusForbidden,
	"AccessDenied":                      http.StatusForbidden,
	"ServiceUnavailable":                http.StatusServiceUnavailable,
	CodeThrottling:                      http.StatusBadRequest,
	CodeInvalidQueryParameter:           http.StatusBadRequest,
	CodeRequestTimeout:                  http.StatusBadRequest,
}

// DefaultMaxBodyBytes bounds a request body.
const DefaultMaxBodyBytes = 1 << 20

// Config configures a Server.
type Config struct {
	// Namespace is the XML namespace of responses.
	Namespace string
	// Version is the API version, used in messages.
	Version string
	// Identify returns the caller of a request, or an error to send back.
	// body is the request body as received (already read; r.Body replays
	// it), bounded by MaxBodyBytes.
	Identify func(r *http.Request, body []byte) (Caller, error)
	// Statuses adds service error codes to the status table.
	Statuses Statuses
	// MaxBodyBytes bounds the body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives one line per failed request; nil discards.
	Logger *slog.Logger
	// RequestID returns a new request id; nil means a random UUID.
	RequestID func() string
	// MaxParams bounds the parameters of a request; 0 means
	// DefaultMaxParams. More get InvalidQueryParameter 400.
	MaxParams int
	// MaxConcurrent bounds the requests served at once; 0 means
	// DefaultMaxConcurrent, a negative value no bound. A request over it
	// waits up to QueueTimeout for a slot, then gets Throttling 400.
	MaxConcurrent int
	// QueueTimeout is how long a request over MaxConcurrent waits; 0 means
	// DefaultQueueTimeout, a negative value not at all.
	QueueTimeout time.Duration
	// Observe, if set, is called once per request after its response is
	// written, protocol errors included.
	Observe func(RequestInfo)
}

type operation func(ctx context.Context, c Caller, p Params) (any, error)

// Server is an http.Handler for one Query API.
type Server struct {
	cfg      Config
	statuses Statuses
	ops      map[string]operation
	writers  sync.Pool     // *writer
	slots    chan struct{} // concurrency slots; nil when unbounded
}

// NewServer returns a Server with no operations.
func NewServer(cfg Config) *Server {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RequestID == nil {
		cfg.RequestID = newRequestID
	}
	if cfg.MaxParams <= 0 {
		cfg.MaxParams = DefaultMaxParams
	}
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.QueueTimeout == 0 {
		cfg.QueueTimeout = DefaultQueueTimeout
	}
	st := Statuses{}
	for k, v := range baseStatuses {
		st[k] = v
	}
	for k, v := range cfg.Statuses {
		st[k] = v
	}
	s := &Server{cfg: cfg, statuses: st, ops: map[string]operation{},
		writers: sync.Pool{New: func() any { return newWriter() }}}
	if cfg.MaxConcurrent > 0 {
		s.slots = make(chan struct{}, cfg.MaxConcurrent)
	}
	return s
}

// Handle registers an operation: decode turns parameters into In, call does
// the work and returns the wire result, written inside <{action}Result>.
func Handle[In, Out any](s *Server, action string, decode func(Params) (In, error), call func(context.Context, Caller, In) (Out, error)) {
	s.ops[action] = func(ctx context.Context, c Caller, p Params) (any, error) {
		in, err := decode(p)
		if err != nil {
			return nil, err
		}
		return call(ctx, c, in)
	}
}

type callerKey struct{}

// CallerFrom returns the caller stored in ctx by the server.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := s.cfg.RequestID()
	action := ""
	var caller Caller
	if s.cfg.Observe != nil {
		rec := &recorder{ResponseWriter: w, start: time.Now()}
		w = rec
		defer func() { s.observe(rec, r, reqID, action, caller) }()
	}
	defer func() {
		if v := recover(); v != nil {
			s.cfg.Logger.Error("panic", "request_id", reqID, "action", action, "panic", fmt.Sprint(v))
			s.writeError(w, reqID, &rds.Error{Code: CodeInternalFailure, Message: "We encountered an internal error. Please try again.", Fault: rds.Receiver})
		}
	}()
	if !s.acquire(r.Context()) {
		s.writeError(w, reqID, errThrottled)
		return
	}
	defer s.release()
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		s.writeError(w, reqID, rds.Errorf(CodeMethodNotAllowed, "The HTTP method %s is not allowed; use GET or POST.", r.Method))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	// The body is read once and kept: Identify may hash it (SigV4).
	body, err := readBody(r)
	if err == nil {
		err = r.ParseForm()
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeError(w, reqID, rds.Errorf(CodeRequestEntityTooLarge, "Request body must be no larger than %d bytes.", s.cfg.MaxBodyBytes))
			return
		}
		s.writeError(w, reqID, s.parseFormError(err))
		return
	}
	p := Params{values: r.Form}
	action = p.String("Action")
	if countParams(r.Form) > s.cfg.MaxParams {
		s.writeError(w, reqID, tooManyParams(s.cfg.MaxParams))
		return
	}
	if action == "" {
		s.writeError(w, reqID, rds.Errorf(CodeMissingAction, "The request must contain the parameter Action."))
		return
	}
	caller, err = s.cfg.Identify(r, body)
	if err != nil {
		s.writeError(w, reqID, err)
		return
	}
	op, ok := s.ops[action]
	if !ok {
		s.writeError(w, reqID, rds.Errorf(CodeInvalidAction, "Could not find operation %s for version %s", truncate(action), s.cfg.Version))
		return
	}
	ctx := context.WithValue(r.Context(), callerKey{}, caller)
	out, err := op(ctx, caller, p)
	if err != nil {
		s.writeError(w, reqID, err)
		return
	}
	wr := s.writers.Get().(*writer)
	if err := wr.encodeSuccess(s.cfg.Namespace, action, out, reqID); err != nil {
		// The encoder may be mid-element: drop this writer.
		s.writeError(w, reqID, fmt.Errorf("encoding %s: %w", action, err))
		return
	}
	s.write(w, http.StatusOK, reqID, wr.buf.Bytes())
	s.putWriter(wr)
}

// maxPooledBuffer keeps a rare huge response from pinning memory.
const maxPooledBuffer = 64 << 10

func (s *Server) putWriter(wr *writer) {
	if wr.buf.Cap() > maxPooledBuffer {
		return
	}
	wr.buf.Reset()
	s.writers.Put(wr)
}

func (s *Server) write(w http.ResponseWriter, status int, reqID string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("x-amzn-RequestId", reqID)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError maps err once to the wire: *rds.Error keeps its code and fault;
// anything else is an internal failure, logged and not shown.
func (s *Server) writeError(w http.ResponseWriter, reqID string, err error) {
	var e *rds.Error
	if !errors.As(err, &e) {
		s.cfg.Logger.Error("internal error", "request_id", reqID, "err", err)
		e = &rds.Error{Code: CodeInternalFailure, Message: "We encountered an internal error. Please try again.", Fault: rds.Receiver}
	}
	recordCode(w, e.Code)
	if bodyLeftUnread(e.Code) {
		w.Header().Set("Connection", "close")
	}
	status, ok := s.statuses[e.Code]
	if !ok {
		status = http.StatusBadRequest
		if e.Fault == rds.Receiver {
			status = http.StatusInternalServerError
		}
	}
	typ := "Sender"
	if e.Fault == rds.Receiver {
		typ = "Receiver"
	}
	wr := s.writers.Get().(*writer)
	wr.encodeError(s.cfg.Namespace, errorBody{Type: typ, Code: e.Code, Message: e.Message}, reqID)
	s.write(w, status, reqID, wr.buf.Bytes())
	s.putWriter(wr)
}

// StatusOf returns the HTTP status the server sends for an error code.
func (s *Server) StatusOf(code string) int { return s.statuses[code] }

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 36)
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hex[c>>4], hex[c&0xf]
		j += 2
	}
	return string(out)
}
