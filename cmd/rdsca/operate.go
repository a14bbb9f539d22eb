package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/server"
)

// Operating are the flags for limits and logs.
type Operating struct {
	MaxBodyBytes  int64
	MaxParams     int
	MaxConcurrent int
	// QueueTimeout is how long a request over MaxConcurrent waits; 0
	// throttles it at once.
	QueueTimeout  time.Duration
	HeaderTimeout time.Duration
	ReadTimeout   time.Duration
	IdleTimeout   time.Duration
	// LogFormat is text or json; LogLevel debug, info, warn or error.
	LogFormat string
	LogLevel  string
}

// maxParamsCeiling is net/url's own bound on the parameters of a query
// string or form body; rdsca cannot count past it.
const maxParamsCeiling = 10000

// operatingFlags declares the limit and log flags on fs; env reads a
// flag's RDSCA_ twin. Numbers and durations in the environment are checked
// here, since flag defaults cannot fail.
func (m *Main) operatingFlags(fs *flag.FlagSet, env func(name, def string) string) error {
	var err error
	envInt := func(name string, def int64) int64 {
		v := env(name, "")
		if v == "" || err != nil {
			return def
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil {
			err = fmt.Errorf("%s %q is not an integer", envName(name), v)
			return def
		}
		return n
	}
	envDur := func(name string, def time.Duration) time.Duration {
		v := env(name, "")
		if v == "" || err != nil {
			return def
		}
		d, perr := time.ParseDuration(v)
		if perr != nil {
			err = fmt.Errorf("%s %q is not a duration (like 10s or 2m)", envName(name), v)
			return def
		}
		return d
	}
	to := server.DefaultTimeouts()
	fs.Int64Var(&m.MaxBodyBytes, "max-body-bytes", envInt("max-body-bytes", awsquery.DefaultMaxBodyBytes), "largest API request body in `bytes`; more get RequestEntityTooLarge 413 (RDSCA_MAX_BODY_BYTES)")
	fs.IntVar(&m.MaxParams, "max-params", int(envInt("max-params", awsquery.DefaultMaxParams)), "most parameters of an API request (query string and body), at most 10000; more get InvalidQueryParameter 400 (RDSCA_MAX_PARAMS)")
	fs.IntVar(&m.MaxConcurrent, "max-concurrent", int(envInt("max-concurrent", awsquery.DefaultMaxConcurrent)), "most API requests served at once; more wait up to --queue-timeout, then get Throttling 400 (RDSCA_MAX_CONCURRENT)")
	fs.DurationVar(&m.QueueTimeout, "queue-timeout", envDur("queue-timeout", awsquery.DefaultQueueTimeout), "how long an API request over --max-concurrent waits for a slot; 0 throttles at once (RDSCA_QUEUE_TIMEOUT)")
	fs.DurationVar(&m.HeaderTimeout, "header-timeout", envDur("header-timeout", to.Header), "time to read a request's headers; slower connections are closed (RDSCA_HEADER_TIMEOUT)")
	fs.DurationVar(&m.ReadTimeout, "read-timeout", envDur("read-timeout", to.Read), "time to read a whole request, body included; a slower body gets RequestTimeout 400 (RDSCA_READ_TIMEOUT)")
	fs.DurationVar(&m.IdleTimeout, "idle-timeout", envDur("idle-timeout", to.Idle), "how long a keep-alive connection may wait for its next request (RDSCA_IDLE_TIMEOUT)")
	fs.StringVar(&m.LogFormat, "log-format", env("log-format", "text"), "log format: text or json (RDSCA_LOG_FORMAT)")
	fs.StringVar(&m.LogLevel, "log-level", env("log-level", "info"), "least log level: debug, info, warn or error; info logs one line per API request (RDSCA_LOG_LEVEL)")
	return err
}

func envName(flagName string) string {
	return "RDSCA_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// checkOperating validates the parsed limit and log flags.
func (m *Main) checkOperating() error {
	switch {
	case m.MaxBodyBytes < 1:
		return fmt.Errorf("--max-body-bytes %d must be at least 1", m.MaxBodyBytes)
	case m.MaxParams < 1 || m.MaxParams > maxParamsCeiling:
		return fmt.Errorf("--max-params %d must be between 1 and %d", m.MaxParams, maxParamsCeiling)
	case m.MaxConcurrent < 1:
		return fmt.Errorf("--max-concurrent %d must be at least 1", m.MaxConcurrent)
	case m.QueueTimeout < 0:
		return fmt.Errorf("--queue-timeout %s must not be negative", m.QueueTimeout)
	case m.HeaderTimeout <= 0:
		return fmt.Errorf("--header-timeout %s must be positive", m.HeaderTimeout)
	case m.ReadTimeout <= 0:
		return fmt.Errorf("--read-timeout %s must be positive", m.ReadTimeout)
	case m.IdleTimeout <= 0:
		return fmt.Errorf("--idle-timeout %s must be positive", m.IdleTimeout)
	}
	if m.LogFormat != "text" && m.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: want text or json", m.LogFormat)
	}
	if _, err := parseLevel(m.LogLevel); err != nil {
		return err
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
}

// newLogger returns the logger of --log-format and --log-level on w.
func (m *Main) newLogger(w io.Writer) *slog.Logger {
	level, _ := parseLevel(m.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if m.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serverLimits are the server.Config limits of the flags.
func (m *Main) serverLimits(cfg server.Config) server.Config {
	cfg.MaxBodyBytes = m.MaxBodyBytes
	cfg.MaxParams = m.MaxParams
	cfg.MaxConcurrent = m.MaxConcurrent
	cfg.QueueTimeout = m.QueueTimeout
	if cfg.QueueTimeout == 0 {
		cfg.QueueTimeout = -1 // server.Config's 0 is the default
	}
	return cfg
}

// timeouts are the HTTP server timeouts of the flags.
func (m *Main) timeouts() server.Timeouts {
	return server.Timeouts{Header: m.HeaderTimeout, Read: m.ReadTimeout, Idle: m.IdleTimeout}
}
