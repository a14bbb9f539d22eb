package server

import (
	"log/slog"
	"net/http"
	"time"
)

// Default HTTP server timeouts.
const (
	// DefaultHeaderTimeout bounds reading a request's headers.
	DefaultHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a whole request, headers and body.
	DefaultReadTimeout = 30 * time.Second
	// DefaultIdleTimeout is how long a keep-alive connection may wait for
	// its next request.
	DefaultIdleTimeout = 2 * time.Minute
)

// Timeouts are the HTTP server's timeouts; a zero field means no timeout,
// as in net/http.
type Timeouts struct {
	// Header bounds reading the request line and headers; a client that
	// is slower has its connection closed (there is no request to answer).
	Header time.Duration
	// Read bounds reading the whole request from its first byte; a body
	// that is not in by then gets RequestTimeout 400. A handler still
	// running past it sees its context canceled.
	Read time.Duration
	// Idle bounds the wait for the next request on a keep-alive
	// connection.
	Idle time.Duration
}

// DefaultTimeouts returns the timeouts rdsca serves with unless told
// otherwise.
func DefaultTimeouts() Timeouts {
	return Timeouts{Header: DefaultHeaderTimeout, Read: DefaultReadTimeout, Idle: DefaultIdleTimeout}
}

// HTTPServer returns an http.Server for s with the timeouts; net/http's
// own messages (TLS and accept errors) go to the server's logger.
func (s *Server) HTTPServer(t Timeouts) *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: t.Header,
		ReadTimeout:       t.Read,
		IdleTimeout:       t.Idle,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
}
