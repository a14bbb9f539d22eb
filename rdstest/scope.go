package rdstest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/sigv4"
)

// Scope is one account and region of a Server: the state a client signing
// with that account for that region sees. Its helpers act on that state
// only; the Server's own helpers act on its Account and Region.
type Scope struct {
	srv     *Server
	account string
	region  string
}

// Scope returns the server's view of account (a 12-digit account id) and
// region; "" for either means the server's own. Other values fail the test.
func (s *Server) Scope(t testing.TB, account, region string) *Scope {
	t.Helper()
	if account == "" {
		account = s.scope.account
	}
	if region == "" {
		region = s.scope.region
	}
	if err := checkScope(account, region); err != nil {
		t.Fatalf("rdstest: Scope: %v", err)
	}
	return &Scope{srv: s, account: account, region: region}
}

// checkScope rejects what rdsca would not map back to the same scope.
func checkScope(account, region string) error {
	if len(account) != 12 || account != accountOf(account) {
		return fmt.Errorf("account %q is not a 12-digit account id", account)
	}
	if !sigv4.ValidRegion(region) {
		return fmt.Errorf("%q is not a region name", region)
	}
	return nil
}

// accountOf is how the server maps an access key id to an account.
func accountOf(key string) string {
	for _, c := range key {
		if c < '0' || c > '9' {
			return DefaultAccount
		}
	}
	return key
}

// Account returns the scope's account.
func (sc *Scope) Account() string { return sc.account }

// Region returns the scope's region.
func (sc *Scope) Region() string { return sc.region }

func (sc *Scope) rds() rds.Scope { return rds.Scope{Account: sc.account, Region: sc.region} }

// AWSConfig returns an aws-sdk-go-v2 config that signs as the scope's
// account for its region; see Server.AWSConfig.
func (sc *Scope) AWSConfig() aws.Config {
	var hc aws.HTTPClient = sc.srv.client
	if sc.srv.rt == nil {
		hc = ownBodyClient{sc.srv.client}
	}
	account := sc.account
	return aws.Config{
		Region: sc.region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: account, SecretAccessKey: SecretAccessKey, Source: "rdstest"}, nil
		}),
		BaseEndpoint: aws.String(sc.srv.url),
		HTTPClient:   hc,
	}
}

// SetOverride sets the scope's override, as ModifyCertificates with
// CertificateIdentifier does.
func (sc *Scope) SetOverride(t testing.TB, id string) {
	t.Helper()
	sc.setOverride(t, id)
}

// RemoveOverride removes the scope's override, as ModifyCertificates with
// RemoveCustomerOverride=true does.
func (sc *Scope) RemoveOverride(t testing.TB) {
	t.Helper()
	sc.removeOverride(t)
}

// CreateInstance creates a DB instance in the scope; see
// Server.CreateInstance.
func (sc *Scope) CreateInstance(t testing.TB, spec InstanceSpec) Instance {
	t.Helper()
	return sc.createInstance(t, spec)
}

func (sc *Scope) setOverride(t testing.TB, id string) {
	t.Helper()
	if id == "" {
		t.Fatal("rdstest: SetOverride with an empty identifier; use RemoveOverride to remove the override")
	}
	if _, err := sc.srv.service().ModifyCertificates(context.Background(), sc.rds(), rds.ModifyCertificatesInput{CertificateIdentifier: id}); err != nil {
		t.Fatalf("rdstest: SetOverride(%q) in %s %s: %v", id, sc.account, sc.region, err)
	}
}

func (sc *Scope) removeOverride(t testing.TB) {
	t.Helper()
	remove := true
	if _, err := sc.srv.service().ModifyCertificates(context.Background(), sc.rds(), rds.ModifyCertificatesInput{RemoveCustomerOverride: &remove}); err != nil {
		t.Fatalf("rdstest: RemoveOverride in %s %s: %v", sc.account, sc.region, err)
	}
}

// InstanceSpec describes a DB instance for CreateInstance. Only ID is
// required.
type InstanceSpec struct {
	// ID is the DBInstanceIdentifier.
	ID string
	// Engine is postgres (the default), mysql or mariadb.
	Engine string
	// EngineVersion is a version or a major version ("16", "8.0"), which
	// picks its newest minor; "" means the engine's default.
	EngineVersion string
	// Class is the DBInstanceClass; "" means db.t3.micro.
	Class string
	// CA is the CACertificateIdentifier. "" means what CreateDBInstance
	// would pick: the override, else the region's default at the clock's
	// time. Unlike CreateDBInstance, any CA of the region is accepted, an
	// expired rds-ca-2019 included, to set up a rotation that is overdue;
	// except with Status creating, which follows CreateDBInstance's rules.
	CA string
	// Status is available (the default), creating, modifying, rebooting or
	// deleting. A transitional status lasts Options.Delay, and at least
	// an hour (rds.MinSeededPhase) for modifying, rebooting and deleting;
	// creating lasts Options.Delay only, so with the default 0 delay an
	// instance created in it is available when next read.
	Status string
	// MaintenanceWindow is the PreferredMaintenanceWindow
	// (ddd:hh24:mi-ddd:hh24:mi, UTC); "" means one derived from the
	// account, region and identifier, as rdsca derives it.
	MaintenanceWindow string
}

// Instance is a DB instance as CreateInstance stored it.
type Instance struct {
	ID         string // lowercase, as RDS stores it
	ARN        string
	ResourceID string // DbiResourceId
	Status     string
	Engine     string
	// EngineVersion is the full version, as DescribeDBInstances shows it.
	EngineVersion string
	// CA is the instance's CACertificateIdentifier.
	CA                string
	MaintenanceWindow string
	// CertificateValidTill is the expiry of the instance's server
	// certificate.
	CertificateValidTill time.Time
}

// Fixed values of seeded instances that InstanceSpec does not set.
const (
	defaultEngine   = "postgres"
	defaultClass    = "db.t3.micro"
	masterUsername  = "rdstest"
	masterPassword  = "rdstest-password"
	allocatedGiB    = 20
	defaultStatusIn = rds.StatusAvailable
)

func (sc *Scope) createInstance(t testing.TB, spec InstanceSpec) Instance {
	t.Helper()
	if spec.ID == "" {
		t.Fatal("rdstest: CreateInstance needs an InstanceSpec.ID")
	}
	in := rds.CreateInstanceInput{
		Identifier:                 spec.ID,
		Class:                      orDefault(spec.Class, defaultClass),
		Engine:                     orDefault(spec.Engine, defaultEngine),
		EngineVersion:              spec.EngineVersion,
		MasterUsername:             masterUsername,
		MasterUserPassword:         masterPassword,
		AllocatedStorage:           aws.Int(allocatedGiB),
		PreferredMaintenanceWindow: spec.MaintenanceWindow,
		CACertificateIdentifier:    spec.CA,
	}
	status := orDefault(spec.Status, defaultStatusIn)
	v, err := sc.srv.service().SeedInstance(context.Background(), sc.rds(), in, status)
	if err != nil {
		t.Fatalf("rdstest: CreateInstance(%q) in %s %s: %v", spec.ID, sc.account, sc.region, err)
	}
	return Instance{
		ID:                   v.Identifier,
		ARN:                  v.ARN,
		ResourceID:           v.ResourceID,
		Status:               v.Status,
		Engine:               v.Engine,
		EngineVersion:        v.EngineVersion,
		CA:                   v.Instance.CA,
		MaintenanceWindow:    v.MaintenanceWindow,
		CertificateValidTill: v.ServerCertValidTill,
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ensure *http.Client satisfies aws.HTTPClient, as AWSConfig relies on.
var _ aws.HTTPClient = (*http.Client)(nil)
