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
}

// Server is rdsca as an http.Handler.
type Server struct {
	cfg     Config
	service *rds.Service
	mux     *http.ServeMux
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
	svc, err := rds.New(rds.Config{Store: cfg.Store, Clock: cfg.Clock, Catalog: cfg.Catalog, Generator: cfg.Generator, Delay: cfg.Delay})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, service: svc, mux: http.NewServeMux()}
	api := awsquery.NewServer(awsquery.Config{
		Namespace:    rdsapi.Namespace,
		Version:      rdsapi.Version,
		Identify:     s.identify,
		Statuses:     rdsapi.Statuses,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Logger:       cfg.Logger,
		RequestID:    cfg.RequestID,
	})
	rdsapi.Register(api, svc)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc(AdminPrefix, s.serveAdmin)
	s.mux.HandleFunc(MotoResetPath, s.serveMotoReset)
	s.mux.Handle("/", api)
	return s, nil
}

// Service returns the domain service behind the server.
func (s *Server) Service() *rds.Service { return s.service }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// identify reads the caller from the request's SigV4 credential scope.
// Signatures are not verified.
func (s *Server) identify(r *http.Request) (awsquery.Caller, error) {
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
	if len(accessKeyID) != 12 {
		return DefaultAccount
	}
	for _, c := range accessKeyID {
		if c < '0' || c > '9' {
			return DefaultAccount
		}
	}
	return accessKeyID
}
