// Package rdstest runs rdsca inside a Go test, one server per test, the way
// net/http/httptest runs an HTTP server:
//
//	func TestRotation(t *testing.T) {
//		srv := rdstest.NewServer(t, nil)
//		client := rds.NewFromConfig(srv.AWSConfig()) // aws-sdk-go-v2/service/rds
//		srv.SetOverride(t, "rds-ca-ecc384-g1")
//		// ... the code under test calls client ...
//	}
//
// A Server is the rdsca binary's own handler (server.New), domain
// (rds.Service) and in-memory store (memory.New): nothing is reimplemented
// for tests, so what a test sees is what the binary answers. The seeding
// and control helpers (SetOverride, CreateInstance, SetClock, Reset, ...)
// are typed Go calls into the same domain code the API calls.
//
// # Isolation and speed
//
// Every Server has its own store and clock: parallel tests never see each
// other's overrides, instances or time. What servers share is CA material:
// every Server of a process (any Options) gets its keys and certificates
// from one package-level cache, so only the first server to serve a region
// pays for the RSA 4096 key generation (a second or so, more under the race
// detector); after it, NewServer plus a first DescribeCertificates takes
// well under a millisecond. The consequence: within one test binary, every
// server serves the same thumbprints for a region; across runs they differ.
//
// # Listener or not
//
// By default a Server listens on a loopback port (httptest.NewServer), so
// URL is a real address that any HTTP client, or another process, can use.
// With Options.NoListener it opens no socket at all: requests made with
// AWSConfig or Client go through an in-process http.RoundTripper that calls
// the handler directly, and URL is the placeholder http://rdstest.invalid.
//
// # Who is calling
//
// rdsca reads the account from the access key id of a request's SigV4
// credential scope, and the region from the scope (see the README). The
// config AWSConfig returns signs as Options.Account in Options.Region, which
// is also the scope the helpers act on; Scope gives the same for any other
// account and region.
//
// # Time
//
// A Server runs on a clock that starts at Options.Now (default: the real
// time) and then moves on with real time, unless Options.Frozen stops it.
// SetClock and AdvanceClock move it either way. Every instance transition is
// computed from that clock when the instance is read, so moving the clock
// is how a test makes a maintenance window or a certificate's expiry
// arrive. Options.Delay (default 0) is how long the transitional statuses
// (creating, modifying, rebooting, deleting) last on it.
//
// The examples are in the package's documentation as go doc -http shows it;
// in them, t stands for the test's *testing.T.
package rdstest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rdsca/rdsca/ca"
	"github.com/rdsca/rdsca/catalog"
	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/server"
)

// DefaultAccount is the account of a Server whose Options name none. It is
// also the account rdsca gives unsigned requests and access keys that are
// not 12-digit account ids, so plain HTTP requests to URL see the same
// state as the SDK.
const DefaultAccount = server.DefaultAccount

// DefaultRegion is the region of a Server whose Options name none.
const DefaultRegion = server.DefaultRegion

// NoListenerURL is what URL returns for a server without a listener.
const NoListenerURL = "http://rdstest.invalid"

// SecretAccessKey is the secret key of AWSConfig's credentials. rdsca does
// not verify signatures, so any secret works.
const SecretAccessKey = "rdstest"

// keys is the CA material every Server of the process shares: ca.Shared
// generates each (region, identifier) once and hands the same keys and
// certificates to every server's store.
var keys = &ca.Shared{}

// Options configures a Server. The zero value, like a nil *Options, means
// every default.
type Options struct {
	// Account is the 12-digit account id that AWSConfig signs as and the
	// helpers act on; "" means DefaultAccount.
	Account string
	// Region is the region AWSConfig signs for, that the helpers act on and
	// that unsigned requests get; "" means DefaultRegion.
	Region string
	// Now is the instant the clock starts at; zero means the real time.
	Now time.Time
	// Frozen stops the clock: it reads Now (or the time NewServer ran)
	// until SetClock or AdvanceClock moves it. Without it, the clock
	// advances with real time from wherever it was last put.
	Frozen bool
	// Delay is how long each transitional instance status (creating,
	// modifying, rebooting, deleting) lasts on the clock. The default 0
	// makes changes complete at once: the response to CreateDBInstance
	// still says creating, the next DescribeDBInstances says available.
	Delay time.Duration
	// NoListener serves requests in-process through an http.RoundTripper,
	// with no socket; URL is then NoListenerURL.
	NoListener bool
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
}

// settableClock is a clock the helpers can move: clock.Offset or
// clock.Fixed.
type settableClock interface {
	rds.Clock
	server.SettableClock
}

// Server is an rdsca server for one test.
type Server struct {
	srv    *server.Server
	store  *memory.Store
	clock  settableClock
	hs     *httptest.Server // nil without a listener
	rt     *inProcess       // nil with a listener
	client *http.Client
	url    string
	scope  *Scope

	closeOnce sync.Once
}

// NewServer starts a Server configured by opts (nil means every default)
// and registers its Close with t.Cleanup. Bad options fail the test with
// t.Fatal.
func NewServer(t testing.TB, opts *Options) *Server {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Account == "" {
		o.Account = DefaultAccount
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if err := checkScope(o.Account, o.Region); err != nil {
		t.Fatalf("rdstest.NewServer: %v", err)
	}
	if o.Delay < 0 {
		t.Fatalf("rdstest.NewServer: negative Delay %s", o.Delay)
	}
	start := o.Now
	if start.IsZero() {
		start = time.Now()
	}
	var clk settableClock
	if o.Frozen {
		clk = clock.NewFixed(start)
	} else {
		clk = clock.NewOffset(start)
	}
	store := memory.New()
	srv, err := server.New(server.Config{
		Store:     store,
		Clock:     clk,
		Region:    o.Region,
		Catalog:   catalog.Default(),
		Generator: keys,
		Logger:    o.Logger,
		Delay:     o.Delay,
	})
	if err != nil {
		t.Fatalf("rdstest.NewServer: %v", err)
	}
	s := &Server{srv: srv, store: store, clock: clk}
	s.scope = &Scope{srv: s, account: o.Account, region: o.Region}
	if o.NoListener {
		s.rt = &inProcess{handler: srv}
		s.client = &http.Client{Transport: s.rt}
		s.url = NoListenerURL
	} else {
		s.hs = httptest.NewServer(srv)
		s.client = s.hs.Client()
		s.url = s.hs.URL
	}
	t.Cleanup(s.Close)
	return s
}

// URL returns the server's base URL, like http://127.0.0.1:41234, with no
// trailing slash; without a listener, NoListenerURL, which only Client and
// AWSConfig can reach.
func (s *Server) URL() string { return s.url }

// Client returns an HTTP client that reaches the server in either mode,
// for requests outside the SDK (raw Query API calls, the admin endpoints).
// Its idle connections are closed when the server closes.
func (s *Server) Client() *http.Client { return s.client }

// Account returns the account AWSConfig signs as and the helpers act on.
func (s *Server) Account() string { return s.scope.account }

// Region returns the region AWSConfig signs for and the helpers act on.
func (s *Server) Region() string { return s.scope.region }

// AWSConfig returns an aws-sdk-go-v2 config for the server: its region,
// static credentials whose access key id is the server's account (so rdsca
// maps requests to that account), BaseEndpoint set to URL and an HTTP
// client that reaches the server in either mode. Retries are the SDK's
// defaults. It reads no environment variable or shared config file, so
// AWS_* settings of the machine running the tests do not leak in.
//
//	client := rds.NewFromConfig(srv.AWSConfig())
func (s *Server) AWSConfig() aws.Config { return s.scope.AWSConfig() }

// Close shuts the server down, waiting for requests in flight, and
// releases its store. It is safe to call more than once; NewServer
// registers it with t.Cleanup. Requests after Close fail.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		if s.hs != nil {
			s.hs.Close()
		} else {
			s.rt.close()
		}
		_ = s.store.Close()
	})
}

// service is the domain behind the server, the one the API calls.
func (s *Server) service() *rds.Service { return s.srv.Service() }

// SetOverride sets the override of the CA new DB instances get, for the
// server's account and region, as ModifyCertificates with
// CertificateIdentifier does; an id that is not a listed CA fails the
// test.
func (s *Server) SetOverride(t testing.TB, id string) {
	t.Helper()
	s.scope.setOverride(t, id)
}

// RemoveOverride removes the server's account and region override, as
// ModifyCertificates with RemoveCustomerOverride=true does; removing none
// is no error.
func (s *Server) RemoveOverride(t testing.TB) {
	t.Helper()
	s.scope.removeOverride(t)
}

// CreateInstance creates a DB instance in the server's account and region,
// directly in spec.Status (available by default). See InstanceSpec for the
// defaults; a spec the domain refuses fails the test.
func (s *Server) CreateInstance(t testing.TB, spec InstanceSpec) Instance {
	t.Helper()
	return s.scope.createInstance(t, spec)
}

// Now returns the server's clock.
func (s *Server) Now() time.Time { return s.clock.Now() }

// SetClock makes the server's clock read tm. Without Options.Frozen it
// then moves on with real time.
func (s *Server) SetClock(t testing.TB, tm time.Time) {
	t.Helper()
	if tm.IsZero() {
		t.Fatal("rdstest: SetClock with the zero time")
	}
	s.clock.Set(tm)
}

// AdvanceClock moves the server's clock by d (back if d is negative).
// Instances catch up on every transition and maintenance window it passes
// the next time they are read.
func (s *Server) AdvanceClock(t testing.TB, d time.Duration) {
	t.Helper()
	s.clock.Advance(d)
}

// Reset forgets every override and instance of every account and region,
// as POST /_rdsca/reset does. CA material stays, so thumbprints do not
// change; the clock stays where it is.
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	if err := s.service().Reset(context.Background()); err != nil {
		t.Fatalf("rdstest: Reset: %v", err)
	}
}
