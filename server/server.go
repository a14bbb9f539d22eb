// Package server builds rdsca's HTTP handler from a Config: the RDS Query
// API, health and admin (clock) endpoints and the caller identity policy.
package server

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/ca"
	"github.com/rdsca/rdsca/catalog"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/rdsapi"
	"github.com/rdsca/rdsca/sigv4"
)

// DefaultAccount is the account of unsigned requests and of access keys
// that are not 12-digit account ids.
const DefaultAccount = "000000000000"

// DefaultRegion is the region of unsigned requests when Config.Region is "".
const DefaultRegion = "us-east-1"

// Config configures a Server. Store and Clock are required.
type Config struct {
	Store rds.Store
	Clock rds.Clock
	// Region is the region of unsigned requests.
	Region string
	// Catalog defaults to the embedded catalog.
	Catalog *catalog.Catalog
	// Generator creates CA material; nil means fresh keys from crypto/rand.
	Generator rds.Generator
	// Logger defaults to discarding.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; 0 means the protocol default.
	MaxBodyBytes int64
	// RequestID makes request ids; nil means random UUIDs.
	RequestID func() string
	// Delay is how long each transitional instance status (creating,
	// modifying, rebooting, deleting) lasts on the clock; 0 makes changes
	// immediate.
	Delay time.Duration
	// Auth, if set, verifies the SigV4 signature of every API and admin
	// request against its credentials (strict mode); nil accepts any
	// well-formed signature and takes the account from the access key id
	// (open mode), and leaves the admin endpoints unsigned.
	Auth *Auth
	// MaxParams bounds the parameters of an API request; 0 means the
	// protocol default (awsquery.DefaultMaxParams).
	MaxParams int
	// MaxConcurrent bounds the API requests served at once; 0 means
	// awsquery.DefaultMaxConcurrent, a negative value no bound. Health,
	// metrics and admin endpoints are not counted.
	MaxConcurrent int
	// QueueTimeout is how long an API request over MaxConcurrent waits for
	// a slot before it gets Throttling; 0 means awsquery.DefaultQueueTimeout.
	QueueTimeout time.Duration
	// ReadyTimeout bounds the store ping of ReadyPath; 0 means
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration
}

// Server is rdsca as an http.Handler.
type Server struct {
	cfg     Config
	service *rds.Service
	mux     *http.ServeMux
	metrics *metrics
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if !sigv4.ValidRegion(cfg.Region) {
		return nil, errors.New("server: invalid default region " + cfg.Region)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Generator == nil {
		cfg.Generator = ca.Generator{}
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	m := newMetrics()
	store := cfg.Store
	if store != nil {
		store = newTimedStore(store, m.store)
	}
	svc, err := rds.New(rds.Config{Store: store, Clock: cfg.Clock, Catalog: cfg.Catalog, Generator: cfg.Generator, Delay: cfg.Delay})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, service: svc, mux: http.NewServeMux(), metrics: m}
	api := awsquery.NewServer(awsquery.Config{
		Namespace:     rdsapi.Namespace,
		Version:       rdsapi.Version,
		Identify:      s.identify,
		Statuses:      rdsapi.Statuses,
		MaxBodyBytes:  cfg.MaxBodyBytes,
		Logger:        cfg.Logger,
		RequestID:     cfg.RequestID,
		MaxParams:     cfg.MaxParams,
		MaxConcurrent: cfg.MaxConcurrent,
		QueueTimeout:  cfg.QueueTimeout,
		Observe:       s.observe,
	})
	rdsapi.Register(api, svc)
	for _, a := range api.Actions() {
		m.addAction(a)
	}
	m.addInFlight(api)
	s.mux.HandleFunc("GET "+HealthPath, serveHealth)
	s.mux.HandleFunc("GET "+ReadyPath, s.serveReady)
	s.mux.Handle("GET "+MetricsPath, m.handler())
	s.mux.HandleFunc(AdminPrefix, s.serveAdmin)
	s.mux.HandleFunc(MotoResetPath, s.serveMotoReset)
	s.mux.Handle("/", api)
	return s, nil
}

// Service returns the domain service behind the server.
func (s *Server) Service() *rds.Service { return s.service }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// identify reads the caller from the request's SigV4 credential scope. In
// strict mode (Config.Auth set) the signature is verified against the
// credentials file and the account is the key's; in open mode signatures are
// not verified and the account comes from the access key id.
func (s *Server) identify(r *http.Request, body []byte) (awsquery.Caller, error) {
	if s.cfg.Auth != nil {
		return s.cfg.Auth.identify(r, body, s.cfg.Logger)
	}
	sig, err := sigv4.FromRequest(r, rdsapi.SigningName)
	var malformed *sigv4.MalformedError
	var scope *sigv4.ScopeError
	switch {
	case errors.Is(err, sigv4.ErrUnsigned):
		return awsquery.Caller{Account: DefaultAccount, Region: s.cfg.Region}, nil
	case errors.As(err, &malformed):
		return awsquery.Caller{}, rds.Errorf("IncompleteSignature", "%s", malformed.Msg)
	case errors.As(err, &scope):
		return awsquery.Caller{}, &rds.Error{Code: "SignatureDoesNotMatch", Message: scope.Msg, Fault: rds.Sender}
	case err != nil:
		return awsquery.Caller{}, err
	}
	key := sig.Credential.AccessKeyID
	return awsquery.Caller{AccessKeyID: key, Account: AccountOf(key), Region: sig.Credential.Region}, nil
}

// AccountOf maps an access key id to an account: a 12-digit key is the
// account id itself, anything else is DefaultAccount.
func AccountOf(accessKeyID string) string {
	if !isAccount(accessKeyID) {
		return DefaultAccount
	}
	return accessKeyID
}
