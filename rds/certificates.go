package rds

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rdsca/rdsca/catalog"
)

// Certificate is a CA certificate as DescribeCertificates shows it.
type Certificate struct {
	Identifier       string
	Type             string
	Thumbprint       string
	ValidFrom        time.Time
	ValidTill        time.Time
	ARN              string
	CustomerOverride bool
	// CustomerOverrideValidTill is set only on the overridden certificate.
	CustomerOverrideValidTill *time.Time
	// DER is the certificate itself, for trust bundles.
	DER []byte
}

// DescribeCertificatesInput is the input of DescribeCertificates.
type DescribeCertificatesInput struct {
	CertificateIdentifier string
	MaxRecords            *int
	Marker                string
}

// DescribeCertificatesOutput is the output of DescribeCertificates.
type DescribeCertificatesOutput struct {
	Certificates                     []Certificate
	Marker                           string
	DefaultCertificateForNewLaunches string
}

// ModifyCertificatesInput is the input of ModifyCertificates.
type ModifyCertificatesInput struct {
	CertificateIdentifier  string
	RemoveCustomerOverride *bool
}

// MaxRecords bounds.
const (
	DefaultMaxRecords = 100
	MinMaxRecords     = 20
	MaxMaxRecords     = 100
)

// Config holds the dependencies of a Service.
type Config struct {
	Store     Store
	Clock     Clock
	Catalog   *catalog.Catalog
	Generator Generator
	// Delay is how long each transitional status (creating, modifying,
	// rebooting, deleting) lasts on the clock; 0 makes changes immediate.
	Delay time.Duration
	// RotationNotice is how long before a CA's expiry its instances get a
	// pending ca-certificate-rotation action; 0 means DefaultRotationNotice.
	RotationNotice time.Duration
}

// DefaultRotationNotice mirrors RDS's "at least three months" notice.
const DefaultRotationNotice = 90 * 24 * time.Hour

// Service implements the RDS certificate API.
type Service struct {
	cfg Config

	mu      sync.Mutex
	regions map[string]*regionCAs
}

type regionCAs struct {
	once  sync.Once
	certs []Certificate // sorted by identifier, no override flags
	err   error
}

// New returns a Service. Store, Clock and Generator are required; a nil
// Catalog means the embedded one.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Clock == nil || cfg.Generator == nil {
		return nil, fmt.Errorf("rds: Store, Clock and Generator are required")
	}
	if cfg.Catalog == nil {
		cfg.Catalog = catalog.Default()
	}
	if cfg.RotationNotice == 0 {
		cfg.RotationNotice = DefaultRotationNotice
	}
	if cfg.Delay < 0 {
		return nil, fmt.Errorf("rds: negative Delay")
	}
	return &Service{cfg: cfg, regions: map[string]*regionCAs{}}, nil
}

// Now returns the service clock's time.
func (s *Service) Now() time.Time { return s.cfg.Clock.Now() }

// regionCertificates returns every CA certificate of the region, listed or
// not, creating and storing missing material on first use.
func (s *Service) regionCertificates(ctx context.Context, region string) ([]Certificate, error) {
	s.mu.Lock()
	r, ok := s.regions[region]
	if !ok {
		r = &regionCAs{}
		s.regions[region] = r
	}
	s.mu.Unlock()
	r.once.Do(func() { r.certs, r.err = s.loadRegion(ctx, region) })
	if r.err != nil {
		// Let a later request try again (a store may come back).
		s.mu.Lock()
		if s.regions[region] == r {
			delete(s.regions, region)
		}
		s.mu.Unlock()
		return nil, r.err
	}
	return r.certs, nil
}

func (s *Service) loadRegion(ctx context.Context, region string) ([]Certificate, error) {
	specs := s.cfg.Catalog.Region(region)
	stored, err := s.cfg.Store.CAs(ctx, region)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, ca := range stored {
		have[ca.Identifier] = true
	}
	var missing []catalog.Spec
	for _, sp := range specs {
		if !have[sp.Identifier] {
			missing = append(missing, sp)
		}
	}
	if len(missing) > 0 {
		created := make([]CA, len(missing))
		errs := make([]error, len(missing))
		var wg sync.WaitGroup
		for i, sp := range missing {
			wg.Add(1)
			go func() {
				defer wg.Done()
				created[i], errs[i] = s.cfg.Generator.Generate(sp)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return nil, fmt.Errorf("creating CA material for %s: %w", region, err)
			}
		}
		if err := s.cfg.Store.AddCAs(ctx, region, created); err != nil {
			return nil, err
		}
		// Read back: another replica may have stored its material first.
		if stored, err = s.cfg.Store.CAs(ctx, region); err != nil {
			return nil, err
		}
	}
	byID := map[string]CA{}
	for _, ca := range stored {
		byID[ca.Identifier] = ca
	}
	partition := Partition(region)
	certs := make([]Certificate, 0, len(specs))
	for _, sp := range specs {
		ca, ok := byID[sp.Identifier]
		if !ok {
			return nil, fmt.Errorf("CA material for %s %s missing after creation", region, sp.Identifier)
		}
		x, err := x509.ParseCertificate(ca.CertDER)
		if err != nil {
			return nil, fmt.Errorf("stored CA %s %s: %w", region, sp.Identifier, err)
		}
		sum := sha1.Sum(ca.CertDER)
		certs = append(certs, Certificate{
			Identifier: sp.Identifier,
			Type:       "CA",
			Thumbprint: hex.EncodeToString(sum[:]),
			ValidFrom:  x.NotBefore.UTC(),
			ValidTill:  x.NotAfter.UTC(),
			ARN:        "arn:" + partition + ":rds:" + region + "::cert:" + sp.Identifier,
			DER:        ca.CertDER,
		})
	}
	sort.Slice(certs, func(i, j int) bool { return certs[i].Identifier < certs[j].Identifier })
	return certs, nil
}

// listed returns the region's certificates valid at now.
func listed(all []Certificate, now time.Time) []Certificate {
	out := make([]Certificate, 0, len(all))
	for _, c := range all {
		if now.Before(c.ValidTill) {
			out = append(out, c)
		}
	}
	return out
}

func find(certs []Certificate, id string) (Certificate, bool) {
	for _, c := range certs {
		if c.Identifier == id {
			return c, true
		}
	}
	return Certificate{}, false
}

// systemDefault is what new instances get without an override.
func systemDefault(certs []Certificate, now time.Time) string {
	if now.Before(NewDefaultFrom) {
		for _, c := range certs {
			if Is2019(c.Identifier) {
				return c.Identifier
			}
		}
	}
	return DefaultIdentifier
}

// certificateState is the listing and defaults of a scope at one instant.
type certificateState struct {
	listed   []Certificate
	override string // "" when none is set or the overridden CA is gone
	def      string
}

func (s *Service) state(ctx context.Context, sc Scope) (certificateState, error) {
	all, err := s.regionCertificates(ctx, sc.Region)
	if err != nil {
		return certificateState{}, err
	}
	now := s.cfg.Clock.Now()
	st := certificateState{listed: listed(all, now)}
	st.def = systemDefault(st.listed, now)
	ov, err := s.cfg.Store.Override(ctx, sc)
	if err != nil {
		return certificateState{}, err
	}
	if _, ok := find(st.listed, ov); ok {
		st.override, st.def = ov, ov
	}
	return st, nil
}

func (st certificateState) decorate(c Certificate) Certificate {
	c.CustomerOverride = c.Identifier == st.override
	if c.CustomerOverride {
		t := c.ValidTill
		c.CustomerOverrideValidTill = &t
	}
	return c
}

// DefaultCertificate returns the identifier a new DB instance of the scope
// gets now: the override if set and listed, else the system default.
func (s *Service) DefaultCertificate(ctx context.Context, sc Scope) (string, error) {
	st, err := s.state(ctx, sc)
	return st.def, err
}

// Certificate returns the listed certificate id names (case-insensitive).
func (s *Service) Certificate(ctx context.Context, sc Scope, id string) (Certificate, error) {
	st, err := s.state(ctx, sc)
	if err != nil {
		return Certificate{}, err
	}
	c, ok := find(st.listed, strings.ToLower(id))
	if !ok {
		return Certificate{}, Errorf(CodeCertificateNotFound, "Certificate %s not found", id)
	}
	return st.decorate(c), nil
}

const markerPrefix = "cert:"

// EncodeMarker returns the pagination token that resumes after id.
func EncodeMarker(id string) string { return encodeMarker(markerPrefix, id) }

func encodeMarker(prefix, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + key))
}

// decodeMarker returns the key of a marker made by encodeMarker(prefix, ...).
func decodeMarker(prefix, m string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || !strings.HasPrefix(string(b), prefix) || len(b) == len(prefix) {
		return "", Errorf(CodeInvalidParameterValue, "The parameter Marker is not valid: %s", m)
	}
	return string(b[len(prefix):]), nil
}

// ValidateMaxRecords checks MaxRecords against the RDS bounds.
func ValidateMaxRecords(n *int) (int, error) {
	if n == nil {
		return DefaultMaxRecords, nil
	}
	if *n < MinMaxRecords || *n > MaxMaxRecords {
		return 0, Errorf(CodeInvalidParameterValue, "Invalid value %d for MaxRecords. Must be between %d and %d.", *n, MinMaxRecords, MaxMaxRecords)
	}
	return *n, nil
}

// DescribeCertificates lists the certificates valid now in the scope's region.
func (s *Service) DescribeCertificates(ctx context.Context, sc Scope, in DescribeCertificatesInput) (*DescribeCertificatesOutput, error) {
	max, err := ValidateMaxRecords(in.MaxRecords)
	if err != nil {
		return nil, err
	}
	after := ""
	if in.Marker != "" {
		if after, err = decodeMarker(markerPrefix, in.Marker); err != nil {
			return nil, err
		}
	}
	st, err := s.state(ctx, sc)
	if err != nil {
		return nil, err
	}
	certs := st.listed
	if in.CertificateIdentifier != "" {
		c, ok := find(certs, strings.ToLower(in.CertificateIdentifier))
		if !ok {
			return nil, Errorf(CodeCertificateNotFound, "Certificate %s not found", in.CertificateIdentifier)
		}
		certs = []Certificate{c}
	}
	start := sort.Search(len(certs), func(i int) bool { return certs[i].Identifier > after })
	certs = certs[start:]
	out := &DescribeCertificatesOutput{DefaultCertificateForNewLaunches: st.def}
	if len(certs) > max {
		certs = certs[:max]
		out.Marker = EncodeMarker(certs[max-1].Identifier)
	}
	out.Certificates = make([]Certificate, len(certs))
	for i, c := range certs {
		out.Certificates[i] = st.decorate(c)
	}
	return out, nil
}

// ModifyCertificates sets or removes the scope's override.
func (s *Service) ModifyCertificates(ctx context.Context, sc Scope, in ModifyCertificatesInput) (*Certificate, error) {
	remove := in.RemoveCustomerOverride != nil && *in.RemoveCustomerOverride
	switch {
	case in.CertificateIdentifier != "" && in.RemoveCustomerOverride != nil:
		return nil, Errorf(CodeInvalidParameterCombination, "You can't specify both CertificateIdentifier and RemoveCustomerOverride. Specify CertificateIdentifier to set an override, or RemoveCustomerOverride=true to remove it.")
	case in.CertificateIdentifier == "" && !remove:
		return nil, Errorf(CodeInvalidParameterCombination, "You must specify either CertificateIdentifier or RemoveCustomerOverride=true.")
	}
	all, err := s.regionCertificates(ctx, sc.Region)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock.Now()
	certs := listed(all, now)
	if remove {
		if err := s.cfg.Store.RemoveOverride(ctx, sc); err != nil {
			return nil, err
		}
		c, _ := find(certs, systemDefault(certs, now))
		return &c, nil
	}
	id := strings.ToLower(in.CertificateIdentifier)
	c, ok := find(certs, id)
	if !ok {
		return nil, Errorf(CodeCertificateNotFound, "Certificate %s not found", in.CertificateIdentifier)
	}
	if err := s.cfg.Store.SetOverride(ctx, sc, id); err != nil {
		return nil, err
	}
	c = certificateState{override: id}.decorate(c)
	return &c, nil
}
