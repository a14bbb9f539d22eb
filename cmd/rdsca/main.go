// Command rdsca serves the RDS certificate API on loopback.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/postgres"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/server"
	"github.com/rdsca/rdsca/sqlite"
)

// DefaultListen is where rdsca listens unless told otherwise.
const DefaultListen = "127.0.0.1:9470"

// DatabaseFile is the SQLite file inside the data dir.
const DatabaseFile = "rdsca.db"

// shutdownTimeout bounds the drain of in-flight requests.
const shutdownTimeout = 10 * time.Second

func main() {
	m := &Main{Stderr: os.Stderr, Getenv: os.Getenv}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "rdsca: "+err.Error())
		os.Exit(1)
	}
}

// Main is the rdsca program, testable without a process.
type Main struct {
	Stderr io.Writer
	Getenv func(string) string
	// Ready, if set, receives the listener's address once serving.
	Ready func(addr string)

	Listen  string
	DataDir string
	Store   string
	Region  string
	Clock   string
	// TransitionDelay is how long each transitional instance status lasts.
	TransitionDelay time.Duration
	// Auth is "open" (any well-formed signature) or "strict" (signatures
	// verified against the Credentials file).
	Auth        string
	Credentials string
	// Operating holds the limit and log flags.
	Operating
}

// DefaultTransitionDelay is --transition-delay's default.
const DefaultTransitionDelay = 3 * time.Second

// ParseFlags reads flags, each defaulting to its RDSCA_<FLAG> environment twin.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("rdsca", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	env := func(name, def string) string {
		if v := m.Getenv("RDSCA_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&m.Listen, "listen", env("listen", DefaultListen), "`host:port` to serve on (RDSCA_LISTEN)")
	fs.StringVar(&m.DataDir, "data-dir", env("data-dir", defaultDataDir(m.Getenv)), "`dir`ectory of the sqlite store (RDSCA_DATA_DIR)")
	fs.StringVar(&m.Store, "store", env("store", "sqlite"), "store: memory, sqlite, or a postgres:// or postgresql:// DSN of a PostgreSQL database several rdsca processes may share (RDSCA_STORE)")
	fs.StringVar(&m.Region, "region", env("region", server.DefaultRegion), "region of unsigned requests (RDSCA_REGION)")
	fs.StringVar(&m.Clock, "clock", env("clock", ""), "start the clock at this RFC 3339 `instant`; it then advances with real time (RDSCA_CLOCK)")
	fs.StringVar(&m.Auth, "auth", env("auth", AuthOpen), "open: accept any well-formed signature, the account is the access key id (loopback only); strict: verify SigV4 signatures against --credentials (RDSCA_AUTH)")
	fs.StringVar(&m.Credentials, "credentials", env("credentials", ""), "`file` of the keys strict mode accepts, one \"ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID\" a line (RDSCA_CREDENTIALS)")
	delay := DefaultTransitionDelay
	if v := env("transition-delay", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("RDSCA_TRANSITION_DELAY %q is not a duration (like 3s or 1m)", v)
		}
		delay = d
	}
	fs.DurationVar(&m.TransitionDelay, "transition-delay", delay, "how long each transitional instance status (creating, modifying, rebooting, deleting) lasts, a Go `duration`; 0 makes changes immediate (RDSCA_TRANSITION_DELAY)")
	if err := m.operatingFlags(fs, env); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := m.checkOperating(); err != nil {
		return err
	}
	if m.TransitionDelay < 0 {
		return fmt.Errorf("--transition-delay %s must not be negative", m.TransitionDelay)
	}
	if err := m.checkAuthFlags(); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// defaultDataDir is $XDG_DATA_HOME/rdsca, else ~/.local/share/rdsca.
func defaultDataDir(getenv func(string) string) string {
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "rdsca")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "rdsca")
	}
	return "rdsca-data"
}

// Run parses args, serves until ctx is done, then drains and closes.
func (m *Main) Run(ctx context.Context, args []string) error {
	if err := m.ParseFlags(args); err != nil {
		return err
	}
	// The clock is always settable, so the admin clock endpoints work.
	start := time.Now()
	if m.Clock != "" {
		t, err := time.Parse(time.RFC3339, m.Clock)
		if err != nil {
			return fmt.Errorf("--clock %q is not an RFC 3339 time (like 2024-01-01T00:00:00Z)", m.Clock)
		}
		start = t
	}
	clk := clock.NewOffset(start)
	auth, err := m.loadAuth()
	if err != nil {
		return err
	}
	store, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	logger := m.newLogger(m.Stderr)
	srv, err := server.New(m.serverLimits(server.Config{Store: store, Clock: clk, Region: m.Region, Logger: logger, Delay: m.TransitionDelay, Auth: auth}))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v", m.Listen, unwrapOpError(err))
	}
	m.warnOpenBeyondLoopback(logger, ln.Addr())
	hs := srv.HTTPServer(m.timeouts())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("rdsca listening", "url", "http://"+ln.Addr().String(), "store", redactDSN(m.Store), "data_dir", m.dataDirIfUsed(), "region", m.Region, "transition_delay", m.TransitionDelay.String(), "auth", m.Auth)
	if m.Ready != nil {
		m.Ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %v", err)
	}
	logger.Info("rdsca stopped")
	return nil
}

func (m *Main) dataDirIfUsed() string {
	if m.Store == "sqlite" {
		return m.DataDir
	}
	return ""
}

func (m *Main) openStore(ctx context.Context) (rds.Store, error) {
	switch {
	case m.Store == "memory":
		return memory.New(), nil
	case m.Store == "sqlite":
		if err := os.MkdirAll(m.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir %s is not usable: %v", m.DataDir, unwrapOpError(err))
		}
		s, err := sqlite.Open(filepath.Join(m.DataDir, DatabaseFile))
		if err != nil {
			return nil, fmt.Errorf("data dir %s is not usable: %v", m.DataDir, err)
		}
		return s, nil
	case isPostgresDSN(m.Store):
		ctx, cancel := context.WithTimeout(ctx, postgresOpenTimeout)
		defer cancel()
		s, err := postgres.Open(ctx, m.Store)
		if err != nil {
			return nil, fmt.Errorf("--store %s is not usable: %v", redactDSN(m.Store), err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("--store %q: want memory, sqlite or a postgres:// DSN", redactDSN(m.Store))
}

// postgresOpenTimeout bounds connecting to PostgreSQL and migrating it.
const postgresOpenTimeout = time.Minute

// isPostgresDSN reports whether store is a PostgreSQL URL.
func isPostgresDSN(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

// redactDSN returns store with any password in it replaced by "xxxxx", for
// logs and errors.
func redactDSN(store string) string {
	if !strings.Contains(store, "://") {
		return store
	}
	u, err := url.Parse(store)
	if err != nil {
		return "(a DSN that is not a valid URL)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// unwrapOpError drops the repeated path or address of os and net errors.
func unwrapOpError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			return se.Err
		}
		return oe.Err
	}
	return err
}
