package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/rdsca/rdsca/awsquery"
)

// Health endpoint paths.
const (
	// HealthPath answers 200 while the process serves (liveness).
	HealthPath = "/healthz"
	// ReadyPath answers 200 when the store answers a ping within
	// Config.ReadyTimeout, else 503 (readiness).
	ReadyPath = "/readyz"
)

// DefaultReadyTimeout bounds the store ping of ReadyPath.
const DefaultReadyTimeout = time.Second

// Pinger is a store that can tell whether it is reachable; sqlite.Store is
// one. A store that is not a Pinger is always ready.
type Pinger interface {
	Ping(ctx context.Context) error
}

// observe logs and counts one API request; awsquery calls it once the
// response is written.
func (s *Server) observe(info awsquery.RequestInfo) {
	s.metrics.observe(info)
	level := slog.LevelInfo
	if info.Status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	ctx := info.Request.Context()
	if !s.cfg.Logger.Enabled(ctx, level) {
		return
	}
	s.cfg.Logger.LogAttrs(ctx, level, "request",
		slog.String("request_id", info.RequestID),
		slog.String("action", info.Action),
		slog.String("account", info.Caller.Account),
		slog.String("region", info.Caller.Region),
		slog.Int("status", info.Status),
		slog.String("code", info.Code),
		slog.Duration("latency", info.Duration),
		slog.String("remote", info.Request.RemoteAddr),
	)
}

func serveHealth(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

// serveReady answers ReadyPath: 200 when the store answers a ping in time,
// else 503 saying why. A ping that outlives the timeout is left to finish
// on its own.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	p, ok := s.cfg.Store.(Pinger)
	if !ok {
		writeText(w, http.StatusOK, "ok\n")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadyTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Ping(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		s.cfg.Logger.Warn("not ready: the store did not answer a ping", "err", err)
		writeText(w, http.StatusServiceUnavailable, "not ready: store unreachable: "+err.Error()+"\n")
		return
	}
	writeText(w, http.StatusOK, "ok\n")
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
