package main

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/rdsca/rdsca/server"
)

// Authentication modes (--auth).
const (
	AuthOpen   = "open"
	AuthStrict = "strict"
)

// checkAuthFlags refuses an unknown --auth, strict mode without
// credentials and credentials that open mode would silently ignore.
func (m *Main) checkAuthFlags() error {
	switch m.Auth {
	case AuthOpen:
		if m.Credentials != "" {
			return fmt.Errorf("--credentials %s is only read with --auth strict; add --auth strict (open mode accepts any caller)", m.Credentials)
		}
	case AuthStrict:
		if m.Credentials == "" {
			return fmt.Errorf("--auth strict needs --credentials FILE (lines of ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID)")
		}
	default:
		return fmt.Errorf("--auth %q: want open or strict", m.Auth)
	}
	return nil
}

// loadAuth reads the credentials file in strict mode; nil means open mode.
func (m *Main) loadAuth() (*server.Auth, error) {
	if m.Auth != AuthStrict {
		return nil, nil
	}
	creds, err := server.LoadCredentials(m.Credentials)
	if err != nil {
		return nil, err
	}
	// Request times are checked against the real clock, never the one
	// --clock and the admin endpoints move.
	return &server.Auth{Credentials: creds, Now: time.Now}, nil
}

// warnOpenBeyondLoopback logs a warning when open mode listens on an
// address other hosts can reach.
func (m *Main) warnOpenBeyondLoopback(logger *slog.Logger, addr net.Addr) {
	if m.Auth != AuthOpen {
		return
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		return
	}
	logger.Warn("open mode accepts any caller, and rdsca listens beyond loopback: anyone who can reach it can act as any account; use --auth strict, or bind to loopback (--listen 127.0.0.1:PORT)",
		"addr", addr.String(), "auth", m.Auth)
}
