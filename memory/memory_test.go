package memory_test

import (
	"errors"
	"testing"
	"time"

	"github.com/rdsca/rdsca/ca"
	"github.com/rdsca/rdsca/catalog"
	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) rds.Store { return memory.New() })
}

// TestInstanceTimesUTC checks that times come back in UTC without a
// monotonic reading, as the SQLite store returns them.
func TestInstanceTimesUTC(t *testing.T) {
	st := memory.New()
	sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
	at := time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("IST", 5*3600+1800))
	in := rds.Instance{
		Identifier:          "db-1",
		CreateTime:          at,
		Phases:              []rds.Phase{{Status: rds.StatusModifying, Until: at}},
		ServerCertValidTill: time.Now(),
		Pending:             &rds.PendingCA{Since: at},
		MaintenanceOptIn:    &rds.OptIn{ApplyDate: at},
	}
	if err := st.CreateInstance(t.Context(), sc, in); err != nil {
		t.Fatal(err)
	}
	got, err := st.Instance(t.Context(), sc, "db-1")
	if err != nil {
		t.Fatal(err)
	}
	for name, tm := range map[string]time.Time{
		"CreateTime":                 got.CreateTime,
		"Phases[0].Until":            got.Phases[0].Until,
		"ServerCertValidTill":        got.ServerCertValidTill,
		"Pending.Since":              got.Pending.Since,
		"MaintenanceOptIn.ApplyDate": got.MaintenanceOptIn.ApplyDate,
	} {
		if tm.Location() != time.UTC || tm != tm.Round(0) {
			t.Errorf("%s = %#v, want UTC without a monotonic reading", name, tm)
		}
	}
}

// TestResetThroughService checks Reset as the domain uses it: overrides and
// instances go, CA material and so thumbprints stay.
func TestResetThroughService(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	svc, err := rds.New(rds.Config{Store: st, Clock: clock.NewFixed(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)), Generator: keys})
	if err != nil {
		t.Fatal(err)
	}
	sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
	thumbprints := func() map[string]string {
		out, err := svc.DescribeCertificates(ctx, sc, rds.DescribeCertificatesInput{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, c := range out.Certificates {
			m[c.Identifier] = c.Thumbprint
		}
		return m
	}
	before := thumbprints()
	if _, err := svc.ModifyCertificates(ctx, sc, rds.ModifyCertificatesInput{CertificateIdentifier: "rds-ca-ecc384-g1"}); err != nil {
		t.Fatal(err)
	}
	storage := 20
	if _, err := svc.SeedInstance(ctx, sc, rds.CreateInstanceInput{
		Identifier: "db-1", Class: "db.t3.micro", Engine: "postgres", MasterUsername: "u",
		MasterUserPassword: "password", AllocatedStorage: &storage,
	}, rds.StatusAvailable); err != nil {
		t.Fatal(err)
	}
	if err := svc.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if def, _ := svc.DefaultCertificate(ctx, sc); def != rds.DefaultIdentifier {
		t.Errorf("default after Reset = %s, want %s", def, rds.DefaultIdentifier)
	}
	out, err := svc.DescribeInstances(ctx, sc, rds.DescribeInstancesInput{})
	if err != nil || len(out.Instances) != 0 {
		t.Errorf("instances after Reset: %v, %v", out, err)
	}
	after := thumbprints()
	if len(after) != len(before) {
		t.Fatalf("%d certificates after Reset, %d before", len(after), len(before))
	}
	for id, tp := range before {
		if after[id] != tp {
			t.Errorf("%s thumbprint %s after Reset, %s before", id, after[id], tp)
		}
	}
	// A new service on the same store (a restart) sees the same material.
	svc2, err := rds.New(rds.Config{Store: st, Clock: clock.Real{}, Generator: failingGenerator{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc2.DescribeCertificates(ctx, sc, rds.DescribeCertificatesInput{}); err != nil {
		t.Errorf("material was lost: %v", err)
	}
}

var keys = &ca.Shared{}

// failingGenerator fails: the store must already hold the material.
type failingGenerator struct{}

func (failingGenerator) Generate(spec catalog.Spec) (rds.CA, error) {
	return rds.CA{}, errors.New("generated " + spec.Identifier + " again")
}
