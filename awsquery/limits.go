package awsquery

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/rdsca/rdsca/rds"
)

// Limit error codes.
const (
	// CodeThrottling is what RDS answers when a caller sends more than it
	// serves: 400, Sender, "Rate exceeded". The AWS SDKs retry it with
	// back-off.
	CodeThrottling = "Throttling"
	// CodeInvalidQueryParameter answers a request with too many
	// parameters: the Query services' code for a query that "does not
	// adhere to AWS standards", 400.
	CodeInvalidQueryParameter = "InvalidQueryParameter"
	// CodeRequestTimeout answers a request whose body did not arrive within
	// the server's read timeout. The AWS SDKs retry it.
	CodeRequestTimeout = "RequestTimeout"
)

// Default limits.
const (
	// DefaultMaxParams bounds the parameters of a request (query string
	// and form body together).
	DefaultMaxParams = 1000
	// DefaultMaxConcurrent bounds the API requests served at once.
	DefaultMaxConcurrent = 256
	// DefaultQueueTimeout is how long a request over the concurrency bound
	// waits for a slot before it is throttled.
	DefaultQueueTimeout = time.Second
)

// goMaxParams is net/url's own cap on the parameters of one query string
// or form body (GODEBUG urlmaxqueryparams); more fail to parse.
const goMaxParams = 10000

var errThrottled = &rds.Error{Code: CodeThrottling, Message: "Rate exceeded", Fault: rds.Sender}

// RequestInfo describes one API request once its response is written.
type RequestInfo struct {
	// RequestID is the id sent in x-amzn-RequestId and <RequestId>.
	RequestID string
	// Action is the Action parameter as sent (truncated to 64 bytes), ""
	// when the request was refused before it was read.
	Action string
	// Operation is Action when it names a registered operation, else "".
	// Unlike Action it takes few values, so it suits metric labels.
	Operation string
	// Caller is who sent the request; zero when the request was refused
	// before or while identifying the caller.
	Caller Caller
	// Status is the HTTP status sent.
	Status int
	// Code is the error code sent, "" on success.
	Code string
	// Start is when the server began the request; Duration how long it
	// took, waiting for a concurrency slot and reading the body included.
	Start    time.Time
	Duration time.Duration
	// Request is the request served.
	Request *http.Request
}

// recorder remembers the status and error code of a response.
type recorder struct {
	http.ResponseWriter
	status int
	code   string
	start  time.Time
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// recordCode notes the error code of the response written to w.
func recordCode(w http.ResponseWriter, code string) {
	if rec, ok := w.(*recorder); ok {
		rec.code = code
	}
}

// observe calls Config.Observe for a finished request.
func (s *Server) observe(rec *recorder, r *http.Request, reqID, action string, c Caller) {
	info := RequestInfo{
		RequestID: reqID,
		Action:    truncate(action),
		Caller:    c,
		Status:    rec.status,
		Code:      rec.code,
		Start:     rec.start,
		Duration:  time.Since(rec.start),
		Request:   r,
	}
	if _, ok := s.ops[action]; ok {
		info.Operation = action
	}
	if info.Status == 0 {
		info.Status = http.StatusOK
	}
	s.cfg.Observe(info)
}

// acquire takes a concurrency slot, waiting up to the queue timeout or
// until ctx is done; false means the request is to be throttled.
func (s *Server) acquire(ctx context.Context) bool {
	if s.slots == nil {
		return true
	}
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	if s.cfg.QueueTimeout <= 0 {
		return false
	}
	t := time.NewTimer(s.cfg.QueueTimeout)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// release gives back the slot of acquire.
func (s *Server) release() {
	if s.slots != nil {
		<-s.slots
	}
}

// InFlight returns how many API requests hold a concurrency slot; 0 when
// concurrency is not bounded.
func (s *Server) InFlight() int { return len(s.slots) }

// MaxConcurrent returns the concurrency bound, 0 for none.
func (s *Server) MaxConcurrent() int { return cap(s.slots) }

// Actions returns the registered operations, sorted.
func (s *Server) Actions() []string {
	out := make([]string, 0, len(s.ops))
	for a := range s.ops {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// countParams counts the parameters of a parsed form.
func countParams(v url.Values) int {
	n := 0
	for _, vs := range v {
		n += len(vs)
	}
	return n
}

// bodyLeftUnread reports whether a request refused with code may have
// body bytes still on the connection: its connection is closed after the
// answer, so they are never read as the next request.
func bodyLeftUnread(code string) bool {
	return code == CodeRequestEntityTooLarge || code == CodeRequestTimeout
}

// tooManyParams is the error of a request with more than max parameters.
func tooManyParams(max int) error {
	return rds.Errorf(CodeInvalidQueryParameter, "The request has more than %d parameters.", max)
}

// parseFormError maps an error of http.Request.ParseForm other than a
// too-large body.
func (s *Server) parseFormError(err error) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return rds.Errorf(CodeRequestTimeout, "The request body did not arrive within the server's read timeout.")
	case strings.Contains(err.Error(), "query parameters exceeded limit"):
		// net/url refuses more than goMaxParams before parsing them.
		return tooManyParams(min(s.cfg.MaxParams, goMaxParams))
	}
	return rds.Errorf(CodeMalformedQueryString, "The request's parameters are not valid URL encoding.")
}
