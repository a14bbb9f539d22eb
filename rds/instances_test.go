package rds_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/rds"
)

const delay = 5 * time.Second

func newInstanceFixture(t *testing.T, now string) *fixture {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, now)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{clock: clock.NewFixed(ts), store: memory.New()}
	f.svc, err = rds.New(rds.Config{Store: f.store, Clock: f.clock, Generator: keys, Delay: delay})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func ptr[T any](v T) *T { return &v }

func createInput(id, engine, version string) rds.CreateInstanceInput {
	return rds.CreateInstanceInput{
		Identifier: id, Class: "db.t3.micro", Engine: engine, EngineVersion: version,
		MasterUsername: "admin", MasterUserPassword: "secret123", AllocatedStorage: ptr(20),
	}
}

func create(t *testing.T, f *fixture, sc rds.Scope, in rds.CreateInstanceInput) *rds.InstanceView {
	t.Helper()
	v, err := f.svc.CreateInstance(context.Background(), sc, in)
	if err != nil {
		t.Fatalf("CreateInstance %s: %v", in.Identifier, err)
	}
	return v
}

func get(t *testing.T, f *fixture, sc rds.Scope, id string) rds.InstanceView {
	t.Helper()
	out, err := f.svc.DescribeInstances(context.Background(), sc, rds.DescribeInstancesInput{Identifier: id})
	if err != nil {
		t.Fatalf("DescribeInstances %s: %v", id, err)
	}
	if len(out.Instances) != 1 {
		t.Fatalf("DescribeInstances %s: %d instances", id, len(out.Instances))
	}
	return out.Instances[0]
}

func wantState(t *testing.T, v rds.InstanceView, status, ca, pending string) {
	t.Helper()
	if v.Status != status || v.CACertificateIdentifier != ca || v.PendingCA != pending {
		t.Fatalf("%s: status %q CA %q pending %q, want %q %q %q", v.Identifier, v.Status, v.CACertificateIdentifier, v.PendingCA, status, ca, pending)
	}
}

func TestCreateValidation(t *testing.T) {
	f := newInstanceFixture(t, "2026-12-04T00:00:00Z")
	ctx := context.Background()
	long := strings.Repeat("a", 64)
	cases := []struct {
		name string
		mod  func(*rds.CreateInstanceInput)
		code string
		msg  string
	}{
		{"no identifier", func(in *rds.CreateInstanceInput) { in.Identifier = "" }, rds.CodeMissingParameter, "DBInstanceIdentifier"},
		{"digit first", func(in *rds.CreateInstanceInput) { in.Identifier = "1db" }, rds.CodeInvalidParameterValue, "must begin with a letter"},
		{"double hyphen", func(in *rds.CreateInstanceInput) { in.Identifier = "a--b" }, rds.CodeInvalidParameterValue, "two consecutive hyphens"},
		{"trailing hyphen", func(in *rds.CreateInstanceInput) { in.Identifier = "ab-" }, rds.CodeInvalidParameterValue, "not a valid identifier"},
		{"underscore", func(in *rds.CreateInstanceInput) { in.Identifier = "a_b" }, rds.CodeInvalidParameterValue, "not a valid identifier"},
		{"too long", func(in *rds.CreateInstanceInput) { in.Identifier = long }, rds.CodeInvalidParameterValue, "longer than 63 characters"},
		{"no class", func(in *rds.CreateInstanceInput) { in.Class = "" }, rds.CodeMissingParameter, "DBInstanceClass"},
		{"bad class", func(in *rds.CreateInstanceInput) { in.Class = "t3.micro" }, rds.CodeInvalidParameterValue, "Invalid DB Instance class"},
		{"no engine", func(in *rds.CreateInstanceInput) { in.Engine = "" }, rds.CodeMissingParameter, "Engine"},
		{"bad engine", func(in *rds.CreateInstanceInput) { in.Engine = "oracle-se" }, rds.CodeInvalidParameterValue, "Invalid DB engine: oracle-se"},
		{"bad version", func(in *rds.CreateInstanceInput) { in.EngineVersion = "9.6" }, rds.CodeInvalidParameterCombination, "Cannot find version 9.6 for postgres"},
		{"no user", func(in *rds.CreateInstanceInput) { in.MasterUsername = "" }, rds.CodeInvalidParameterValue, "MasterUsername"},
		{"no password", func(in *rds.CreateInstanceInput) { in.MasterUserPassword = "" }, rds.CodeInvalidParameterValue, "MasterUserPassword must be provided"},
		{"short password", func(in *rds.CreateInstanceInput) { in.MasterUserPassword = "short" }, rds.CodeInvalidParameterValue, "shorter than 8 characters"},
		{"managed and password", func(in *rds.CreateInstanceInput) { in.ManageMasterUserPassword = ptr(true) }, rds.CodeInvalidParameterCombination, "ManageMasterUserPassword"},
		{"no storage", func(in *rds.CreateInstanceInput) { in.AllocatedStorage = nil }, rds.CodeInvalidParameterValue, "Invalid storage size for engine name postgres and storage type gp2: 0"},
		{"small storage", func(in *rds.CreateInstanceInput) { in.AllocatedStorage = ptr(5) }, rds.CodeInvalidParameterValue, "storage type gp2: 5"},
		{"bad port", func(in *rds.CreateInstanceInput) { in.Port = ptr(80) }, rds.CodeInvalidParameterValue, "port"},
		{"bad window", func(in *rds.CreateInstanceInput) { in.PreferredMaintenanceWindow = "sun:05:00-sun:05:10" }, rds.CodeInvalidParameterValue, "PreferredMaintenanceWindow"},
		{"unknown CA", func(in *rds.CreateInstanceInput) { in.CACertificateIdentifier = "rds-ca-nope" }, rds.CodeCertificateNotFound, "Certificate not found: rds-ca-nope"},
		{"expired CA", func(in *rds.CreateInstanceInput) { in.CACertificateIdentifier = "rds-ca-2019" }, rds.CodeCertificateNotFound, "Certificate not found: rds-ca-2019"},
		{"bad zone", func(in *rds.CreateInstanceInput) { in.AvailabilityZone = "eu-west-1a" }, rds.CodeInvalidParameterValue, "availability zone"},
	}
	for _, c := range cases {
		in := createInput("db1", "postgres", "")
		c.mod(&in)
		_, err := f.svc.CreateInstance(ctx, east, in)
		if e, ok := err.(*rds.Error); !ok || e.Code != c.code || !strings.Contains(e.Message, c.msg) {
			t.Errorf("%s: err = %v, want %s containing %q", c.name, err, c.code, c.msg)
		}
	}
	create(t, f, east, createInput("DB1", "postgres", ""))
	_, err := f.svc.CreateInstance(ctx, east, createInput("db1", "mysql", ""))
	wantCode(t, err, rds.ErrDBInstanceAlreadyExists)
	if err.Error() != "DBInstanceAlreadyExists: DB instance already exists" {
		t.Errorf("message %q", err)
	}
	// Same identifier, other account: independent.
	create(t, f, rds.Scope{Account: "222222222222", Region: "us-east-1"}, createInput("db1", "mysql", ""))
}

func TestCreateDefaultsAndMembersByState(t *testing.T) {
	f := newInstanceFixture(t, "2026-12-04T10:00:00Z")
	v := create(t, f, east, createInput("Orders-DB", "postgres", "16"))
	if v.Identifier != "orders-db" || v.EngineVersion != "16.8" || v.Port != 5432 || v.Engine != "postgres" {
		t.Fatalf("created %+v", v.Instance)
	}
	wantState(t, *v, rds.StatusCreating, "rds-ca-rsa2048-g1", "")
	if v.Endpoint != nil || v.CreateTime != nil || v.CertificateValidTill != nil || v.CertificateCA != "rds-ca-rsa2048-g1" || !v.PendingMasterUserPassword {
		t.Errorf("creating shows %+v", v)
	}
	if v.ARN != "arn:aws:rds:us-east-1:111111111111:db:orders-db" || !strings.HasPrefix(v.ResourceID, "db-") || len(v.ResourceID) != 29 {
		t.Errorf("ARN %s resource %s", v.ARN, v.ResourceID)
	}
	if _, _, err := parseWindowForTest(v.MaintenanceWindow); err != nil {
		t.Errorf("default window %q: %v", v.MaintenanceWindow, err)
	}
	f.clock.Advance(delay)
	got := get(t, f, east, "ORDERS-DB")
	wantState(t, got, rds.StatusAvailable, "rds-ca-rsa2048-g1", "")
	if got.Endpoint == nil || !strings.HasPrefix(got.Endpoint.Address, "orders-db.c") || !strings.HasSuffix(got.Endpoint.Address, ".us-east-1.rds.amazonaws.com") || got.Endpoint.HostedZoneID != "Z2R2ITUGPM61AM" || got.Endpoint.Port != 5432 {
		t.Errorf("endpoint %+v", got.Endpoint)
	}
	// Postgres rotates without restart: a one-year server certificate.
	if want := time.Date(2027, 12, 4, 10, 0, 0, 0, time.UTC); got.CertificateValidTill == nil || !got.CertificateValidTill.Equal(want) {
		t.Errorf("server certificate valid till %v, want %v", got.CertificateValidTill, want)
	}
	if got.CreateTime == nil || !got.CreateTime.Equal(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("create time %v", got.CreateTime)
	}
	// MySQL 5.7 restarts to rotate: three years.
	create(t, f, east, createInput("legacy", "mysql", "5.7"))
	f.clock.Advance(delay)
	if l := get(t, f, east, "legacy"); !l.CertificateValidTill.Equal(time.Date(2029, 12, 4, 10, 0, 5, 0, time.UTC)) {
		t.Errorf("mysql 5.7 server certificate valid till %v", l.CertificateValidTill)
	}
	// By ARN, and not from another account.
	if got := get(t, f, east, "arn:aws:rds:us-east-1:111111111111:db:orders-db"); got.Identifier != "orders-db" {
		t.Errorf("by ARN: %s", got.Identifier)
	}
	_, err := f.svc.DescribeInstances(context.Background(), rds.Scope{Account: "222222222222", Region: "us-east-1"}, rds.DescribeInstancesInput{Identifier: "orders-db"})
	wantCode(t, err, rds.ErrDBInstanceNotFound)
	if err.Error() != "DBInstanceNotFound: DBInstance orders-db not found." {
		t.Errorf("message %q", err)
	}
}

// parseWindowForTest checks a window's shape without the package internals.
func parseWindowForTest(w string) (string, string, error) {
	a, b, ok := strings.Cut(w, "-")
	if !ok || len(a) != 9 || len(b) != 9 {
		return "", "", fmt.Errorf("bad window %q", w)
	}
	return a, b, nil
}

func TestWhichCAAtCreation(t *testing.T) {
	f := newInstanceFixture(t, "2024-01-01T00:00:00Z")
	ctx := context.Background()
	if v := create(t, f, east, createInput("a", "postgres", "")); v.CA != "rds-ca-2019" {
		t.Errorf("system default in 2024-01: %s", v.CA)
	}
	if _, err := f.svc.ModifyCertificates(ctx, east, rds.ModifyCertificatesInput{CertificateIdentifier: "rds-ca-ecc384-g1"}); err != nil {
		t.Fatal(err)
	}
	if v := create(t, f, east, createInput("b", "postgres", "")); v.CA != "rds-ca-ecc384-g1" {
		t.Errorf("override: %s", v.CA)
	}
	in := createInput("c", "postgres", "")
	in.CACertificateIdentifier = "RDS-CA-RSA4096-G1"
	if v := create(t, f, east, in); v.CA != "rds-ca-rsa4096-g1" {
		t.Errorf("explicit: %s", v.CA)
	}
	// The 2019 CA caps the server certificate.
	f.clock.Advance(delay)
	if a := get(t, f, east, "a"); !a.CertificateValidTill.Equal(time.Date(2024, 8, 22, 17, 8, 50, 0, time.UTC)) {
		t.Errorf("server certificate on rds-ca-2019 valid till %v", a.CertificateValidTill)
	}
	out, err := f.svc.DescribeCertificates(ctx, east, rds.DescribeCertificatesInput{})
	if err != nil || out.DefaultCertificateForNewLaunches != "rds-ca-ecc384-g1" {
		t.Errorf("DefaultCertificateForNewLaunches %v %v", out, err)
	}
}

func TestImmediateRotation(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		engine, version string
		phases          []string
		years           int
	}{
		{"postgres", "", []string{rds.StatusModifying}, 1},
		{"mysql", "5.7", []string{rds.StatusModifying, rds.StatusRebooting}, 3},
	} {
		t.Run(c.engine, func(t *testing.T) {
			f := newInstanceFixture(t, "2026-12-04T00:00:00Z")
			create(t, f, east, createInput("db", c.engine, c.version))
			f.clock.Advance(delay)
			v, err := f.svc.ModifyInstance(ctx, east, rds.ModifyInstanceInput{Identifier: "db", CACertificateIdentifier: "rds-ca-ecc384-g1", ApplyImmediately: ptr(true)})
			if err != nil {
				t.Fatal(err)
			}
			wantState(t, *v, rds.StatusAvailable, "rds-ca-rsa2048-g1", "rds-ca-ecc384-g1")
			for _, p := range c.phases {
				wantState(t, get(t, f, east, "db"), p, "rds-ca-rsa2048-g1", "rds-ca-ecc384-g1")
				f.clock.Advance(delay)
			}
			got := get(t, f, east, "db")
			wantState(t, got, rds.StatusAvailable, "rds-ca-ecc384-g1", "")
			applied := time.Date(2026, 12, 4, 0, 0, 5, 0, time.UTC).Add(time.Duration(len(c.phases)) * delay)
			if want := applied.AddDate(c.years, 0, 0); !got.CertificateValidTill.Equal(want) {
				t.Errorf("server certificate valid till %v, want %v", got.CertificateValidTill, want)
			}
		})
	}
}

func TestRotationHeldForRestart(t *testing.T) {
	ctx := context.Background()
	f := newInstanceFixture(t, "2026-12-04T00:00:00Z")
	create(t, f, east, createInput("db", "mysql", "5.7"))
	f.clock.Advance(delay)
	_, err := f.svc.ModifyInstance(ctx, east, rds.ModifyInstanceInput{Identifier: "db", CertificateRotationRestart: ptr(false)})
	wantCode(t, err, rds.ErrInvalidParameterCombination)
	if !strings.Contains(err.Error(), "CACertificateIdentifier is required to use the NoCertificateRotationRestart option.") {
		t.Errorf("message %q", err)
	}
	if _, err := f.svc.ModifyInstance(ctx, east, rds.ModifyInstanceInput{Identifier: "db", CACertificateIdentifier: "rds-ca-rsa4096-g1", ApplyImmediately: ptr(true), CertificateRotationRestart: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	wantState(t, get(t, f, east, "db"), rds.StatusAvailable, "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1")
	v, err := f.svc.RebootInstance(ctx, east, rds.RebootInstanceInput{Identifier: "db"})
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, *v, rds.StatusRebooting, "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1")
	f.clock.Advance(delay)
	wantState(t, get(t, f, east, "db"), rds.StatusAvailable, "rds-ca-rsa4096-g1", "")
}

func TestDeferredRotationWaitsForWindowNotReboot(t *testing.T) {
	ctx := context.Background()
	f := newInstanceFixture(t, "2026-12-02T12:00:00Z") // a Wednesday
	in := createInput("db", "postgres", "")
	in.PreferredMaintenanceWindow = "Sun:05:00-Sun:05:30"
	create(t, f, east, in)
	f.clock.Advance(delay)
	v, err := f.svc.ModifyInstance(ctx, east, rds.ModifyInstanceInput{Identifier: "db", CACertificateIdentifier: "rds-ca-ecc384-g1"})
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, *v, rds.StatusAvailable, "rds-ca-rsa2048-g1", "rds-ca-ecc384-g1")
	if v.MaintenanceWindow != "sun:05:00-sun:05:30" {
		t.Errorf("window %s", v.MaintenanceWindow)
	}
	// A reboot does not apply it: "applied but not reflected".
	if _, err := f.svc.RebootInstance(ctx, east, rds.RebootInstanceInput{Identifier: "db"}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(delay)
	wantState(t, get(t, f, east, "db"), rds.StatusAvailable, "rds-ca-rsa2048-g1", "rds-ca-ecc384-g1")
	if acts, _ := f.svc.DescribePendingMaintenance(ctx, east, rds.DescribePendingMaintenanceInput{}); len(acts.Resources) != 0 {
		t.Errorf("a deferred change listed as maintenance: %+v", acts.Resources)
	}
	// Just before the window: still pending. The window starts Sunday 05:00.
	f.clock.Set(time.Date(2026, 12, 6, 4, 59, 59, 0, time.UTC))
	wantState(t, get(t, f, east, "db"), rds.StatusAvailable, "rds-ca-rsa2048-g1", "rds-ca-ecc384-g1")
	f.clock.Set(time.Date(2026, 12, 6, 5, 0, 1, 0, time.UTC))
	wantState(t, get(t, f, east, "db"), rds.StatusModifying, "rds-ca-rsa2048-g1", "rds-ca-ecc384-g1")
	// Far later: applied, with the server certificate issued at the window.
	f.clock.Set(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	got := get(t, f, east, "db")
	wantState(t, got, rds.StatusAvailable, "rds-ca-ecc384-g1", "")
	if want := time.Date(2027, 12, 6, 5, 0, 5, 0, time.UTC); !got.CertificateValidTill.Equal(want) {
		t.Errorf("valid till %v, want %v", got.CertificateValidTill, want)
	}
}

func TestStateErrors(t *testing.T) {
	ctx := context.Background()
	f := newInstanceFixture(t, "2026-12-04T00:00:00Z")
	create(t, f, east, createInput("db", "postgres", ""))
	_, err := f.svc.ModifyInstance(ctx, east, rds.ModifyInstanceInput{Identifier: "db", CACertificateIdentifier: "rds-ca-ecc384-g1", ApplyImmediately: ptr(true)})
	wantCode(t, err, rds.ErrInvalidDBInstanceState)
	_, err = f.svc.RebootInstance(ctx, east, rds.RebootInstanceInput{Identifier: "db"})
	wantCode(t, err, rds.ErrInvalidDBInstanceState)
	_, err = f.svc.ModifyInstance(ctx, east, rds.ModifyInstanceInput{Identifier: "nope", CACertificateIdentifier: "rds-ca-ecc384-g1"})
	wantCode(t, err, rds.ErrDBInstanceNotFound)
	if err.Error() != "DBInstanceNotFound: DBInstance not found: nope" {
		t.Errorf("modify's message %q", err)
	}
	f.clock.Advance(delay)
	_, err = f.svc.ModifyInstance(ctx, east, rds.ModifyInstanceInput{Identifier: "db", CACertificateIdentifier: "rds-ca-nope"})
	wantCode(t, err, rds.ErrCertificateNotFound)
	_, err = f.svc.DeleteInstance(ctx, east, rds.DeleteInstanceInput{Identifier: "db"})
	wantCode(t, err, rds.ErrInvalidParameterCombination)
}

func TestDeleteThenGone(t *testing.T) {
	ctx := context.Background()
	f := newInstanceFixture(t, "2026-12-04T00:00:00Z")
	create(t, f, east, createInput("db", "postgres", ""))
	f.clock.Advance(delay)
	v, err := f.svc.DeleteInstance(ctx, east, rds.DeleteInstanceInput{Identifier: "db", SkipFinalSnapshot: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, *v, rds.StatusDeleting, "", "")
	if v.CertificateCA != "" || v.CertificateValidTill != nil || v.Endpoint == nil {
		t.Errorf("deleting shows %+v", v)
	}
	_, err = f.svc.DeleteInstance(ctx, east, rds.DeleteInstanceInput{Identifier: "db", SkipFinalSnapshot: ptr(true)})
	wantCode(t, err, rds.ErrInvalidDBInstanceState)
	f.clock.Advance(delay)
	_, err = f.svc.DescribeInstances(ctx, east, rds.DescribeInstancesInput{Identifier: "db"})
	wantCode(t, err, rds.ErrDBInstanceNotFound)
	out, err := f.svc.DescribeInstances(ctx, east, rds.DescribeInstancesInput{})
	if err != nil || len(out.Instances) != 0 {
		t.Fatalf("list after deletion: %v %v", out, err)
	}
	// The identifier is free again.
	create(t, f, east, createInput("db", "mysql", ""))
}

func TestDescribeInstancesPagesAndFilters(t *testing.T) {
	ctx := context.Background()
	f := newInstanceFixture(t, "2026-12-04T00:00:00Z")
	for i := range 250 {
		engine := "postgres"
		if i%2 == 1 {
			engine = "mysql"
		}
		create(t, f, east, createInput(fmt.Sprintf("db-%03d", i), engine, ""))
	}
	var all []string
	marker := ""
	for {
		out, err := f.svc.DescribeInstances(ctx, east, rds.DescribeInstancesInput{MaxRecords: ptr(100), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.Instances {
			all = append(all, v.Identifier)
		}
		if out.Marker == "" {
			break
		}
		marker = out.Marker
	}
	if len(all) != 250 || all[0] != "db-000" || all[249] != "db-249" {
		t.Fatalf("%d instances, first %s", len(all), all[0])
	}
	out, err := f.svc.DescribeInstances(ctx, east, rds.DescribeInstancesInput{Filters: []rds.Filter{{Name: "engine", Values: []string{"mysql"}}}})
	if err != nil || len(out.Instances) != 100 || out.Marker == "" || out.Instances[0].Identifier != "db-001" {
		t.Fatalf("engine filter: %d %q %v", len(out.Instances), out.Marker, err)
	}
	out, err = f.svc.DescribeInstances(ctx, east, rds.DescribeInstancesInput{Filters: []rds.Filter{
		{Name: "db-instance-id", Values: []string{"DB-001", "arn:aws:rds:us-east-1:111111111111:db:db-002", "arn:aws:rds:us-east-1:999999999999:db:db-003"}},
		{Name: "engine", Values: []string{"postgres"}},
	}})
	if err != nil || len(out.Instances) != 1 || out.Instances[0].Identifier != "db-002" {
		t.Fatalf("id and engine filters: %+v %v", out, err)
	}
	_, err = f.svc.DescribeInstances(ctx, east, rds.DescribeInstancesInput{Filters: []rds.Filter{{Name: "DBInstanceStatus", Values: []string{"stopped"}}}})
	if err == nil || err.Error() != "InvalidParameterValue: Unrecognized filter name: DBInstanceStatus" {
		t.Errorf("unknown filter: %v", err)
	}
	_, err = f.svc.DescribeInstances(ctx, east, rds.DescribeInstancesInput{Filters: []rds.Filter{{Name: "db-instance-id", Values: []string{"arn:aws:rds:us-west-2:x:db:"}}}})
	wantCode(t, err, rds.ErrInvalidParameterValue)
	_, err = f.svc.DescribeInstances(ctx, east, rds.DescribeInstancesInput{Marker: "junk"})
	wantCode(t, err, rds.ErrInvalidParameterValue)
}

func TestMaintenanceFollowsCAExpiry(t *testing.T) {
	ctx := context.Background()
	f := newInstanceFixture(t, "2024-01-01T00:00:00Z")
	create(t, f, east, createInput("old", "mysql", "5.7"))
	create(t, f, east, createInput("other", "postgres", ""))
	f.clock.Advance(delay)
	arn := "arn:aws:rds:us-east-1:111111111111:db:old"
	pending := func() []rds.ResourcePendingActions {
		t.Helper()
		out, err := f.svc.DescribePendingMaintenance(ctx, east, rds.DescribePendingMaintenanceInput{})
		if err != nil {
			t.Fatal(err)
		}
		return out.Resources
	}
	if p := pending(); len(p) != 0 {
		t.Fatalf("pending in January: %+v", p)
	}
	// Within 90 days of 2024-08-22.
	f.clock.Set(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	p := pending()
	if len(p) != 2 || p[0].ResourceIdentifier != arn || p[0].Actions[0].Action != "ca-certificate-rotation" || p[0].Actions[0].OptInStatus != "" || p[0].Actions[0].CurrentApplyDate != nil {
		t.Fatalf("pending in June: %+v", p)
	}
	_, err := f.svc.ApplyPendingMaintenance(ctx, east, rds.ApplyPendingMaintenanceInput{ResourceIdentifier: arn, ApplyAction: "ca-certificate-rotation", OptInType: "undo-opt-in"})
	wantCode(t, err, rds.ErrInvalidParameterCombination)
	_, err = f.svc.ApplyPendingMaintenance(ctx, east, rds.ApplyPendingMaintenanceInput{ResourceIdentifier: arn, ApplyAction: "db-upgrade", OptInType: "immediate"})
	if err == nil || err.Error() != "InvalidParameterCombination: There is no pending db-upgrade action for "+arn {
		t.Errorf("db-upgrade: %v", err)
	}
	_, err = f.svc.ApplyPendingMaintenance(ctx, east, rds.ApplyPendingMaintenanceInput{ResourceIdentifier: arn + "x", ApplyAction: "ca-certificate-rotation", OptInType: "immediate"})
	wantCode(t, err, rds.ErrResourceNotFound)
	_, err = f.svc.ApplyPendingMaintenance(ctx, east, rds.ApplyPendingMaintenanceInput{ResourceIdentifier: arn, ApplyAction: "ca-certificate-rotation", OptInType: "later"})
	wantCode(t, err, rds.ErrInvalidParameterValue)

	// next-maintenance: applied at the next window start.
	res, err := f.svc.ApplyPendingMaintenance(ctx, east, rds.ApplyPendingMaintenanceInput{ResourceIdentifier: arn, ApplyAction: "ca-certificate-rotation", OptInType: "next-maintenance"})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Actions[0]
	if a.OptInStatus != "next-maintenance" || a.CurrentApplyDate == nil || !a.CurrentApplyDate.After(f.clock.Now()) || a.CurrentApplyDate.Sub(f.clock.Now()) > 7*24*time.Hour || a.CurrentApplyDate.Second() != 0 {
		t.Fatalf("next-maintenance: %+v", a)
	}
	if p := pending(); p[0].Actions[0].OptInStatus != "next-maintenance" {
		t.Errorf("listing after opt-in: %+v", p[0].Actions[0])
	}
	if _, err := f.svc.ApplyPendingMaintenance(ctx, east, rds.ApplyPendingMaintenanceInput{ResourceIdentifier: arn, ApplyAction: "ca-certificate-rotation", OptInType: "undo-opt-in"}); err != nil {
		t.Fatal(err)
	}
	if p := pending(); p[0].Actions[0].OptInStatus != "" {
		t.Errorf("after undo: %+v", p[0].Actions[0])
	}
	res, err = f.svc.ApplyPendingMaintenance(ctx, east, rds.ApplyPendingMaintenanceInput{ResourceIdentifier: arn, ApplyAction: "ca-certificate-rotation", OptInType: "next-maintenance"})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Set(res.Actions[0].CurrentApplyDate.Add(time.Hour))
	wantState(t, get(t, f, east, "old"), rds.StatusAvailable, "rds-ca-rsa2048-g1", "")

	// After expiry: the CA is gone from DescribeCertificates, the instance
	// still names it, the action is pending; immediate rotates now.
	f.clock.Set(time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC))
	_, err = f.svc.DescribeCertificates(ctx, east, rds.DescribeCertificatesInput{CertificateIdentifier: "rds-ca-2019"})
	wantCode(t, err, rds.ErrCertificateNotFound)
	wantState(t, get(t, f, east, "other"), rds.StatusAvailable, "rds-ca-2019", "")
	p = pending()
	if len(p) != 1 || p[0].ResourceIdentifier != "arn:aws:rds:us-east-1:111111111111:db:other" {
		t.Fatalf("pending after expiry: %+v", p)
	}
	res, err = f.svc.ApplyPendingMaintenance(ctx, east, rds.ApplyPendingMaintenanceInput{ResourceIdentifier: p[0].ResourceIdentifier, ApplyAction: "ca-certificate-rotation", OptInType: "immediate"})
	if err != nil {
		t.Fatal(err)
	}
	if a := res.Actions[0]; a.OptInStatus != "immediate" || a.CurrentApplyDate == nil || !a.CurrentApplyDate.Equal(f.clock.Now()) {
		t.Errorf("immediate: %+v", a)
	}
	f.clock.Advance(delay)
	wantState(t, get(t, f, east, "other"), rds.StatusAvailable, "rds-ca-rsa2048-g1", "")
	if p := pending(); len(p) != 0 {
		t.Errorf("still pending: %+v", p)
	}
}

func TestEngineVersions(t *testing.T) {
	ctx := context.Background()
	f := newInstanceFixture(t, "2024-01-01T00:00:00Z")
	out, err := f.svc.DescribeEngineVersions(ctx, east, rds.DescribeEngineVersionsInput{Engine: "mysql"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Versions) != 3 {
		t.Fatalf("%d mysql versions", len(out.Versions))
	}
	for _, v := range out.Versions {
		want := v.Version != "5.7.44"
		if v.RotatesWithoutRestart != want || strings.Join(v.SupportedCAs, ",") != "rds-ca-2019,rds-ca-ecc384-g1,rds-ca-rsa2048-g1,rds-ca-rsa4096-g1" {
			t.Errorf("%+v", v)
		}
	}
	f.clock.Set(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	out, err = f.svc.DescribeEngineVersions(ctx, east, rds.DescribeEngineVersionsInput{Engine: "postgres", DefaultOnly: ptr(true)})
	if err != nil || len(out.Versions) != 1 || !out.Versions[0].Default || strings.Contains(strings.Join(out.Versions[0].SupportedCAs, ","), "2019") {
		t.Fatalf("postgres default in 2025: %+v %v", out, err)
	}
	out, err = f.svc.DescribeEngineVersions(ctx, east, rds.DescribeEngineVersionsInput{Engine: "mariadb", EngineVersion: "10.11"})
	if err != nil || len(out.Versions) != 1 || out.Versions[0].Version != "10.11.10" {
		t.Fatalf("mariadb 10.11: %+v %v", out, err)
	}
	_, err = f.svc.DescribeEngineVersions(ctx, east, rds.DescribeEngineVersionsInput{Engine: "oracle-se"})
	if err == nil || err.Error() != "InvalidParameterValue: Unrecognized engine name: oracle-se" {
		t.Errorf("unknown engine: %v", err)
	}
	var all []string
	marker := ""
	for {
		out, err := f.svc.DescribeEngineVersions(ctx, east, rds.DescribeEngineVersionsInput{MaxRecords: ptr(20), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.Versions {
			all = append(all, v.Engine+v.Version)
		}
		if marker = out.Marker; marker == "" {
			break
		}
	}
	if len(all) != len(rds.EngineVersions()) {
		t.Errorf("%d versions listed, want %d", len(all), len(rds.EngineVersions()))
	}
}

func TestFiltersThatMatchNothing(t *testing.T) {
	ctx := context.Background()
	f := newInstanceFixture(t, "2026-12-04T00:00:00Z")
	create(t, f, east, createInput("db", "postgres", ""))
	for _, fl := range [][]rds.Filter{
		{{Name: "db-cluster-id", Values: []string{"c1"}}},
		{{Name: "db-instance-id", Values: []string{"arn:aws:rds:us-east-1:999999999999:db:db"}}},
		{{Name: "db-instance-id", Values: []string{"db"}}, {Name: "db-instance-id", Values: []string{"other"}}},
		{{Name: "engine", Values: []string{}}},
	} {
		out, err := f.svc.DescribeInstances(ctx, east, rds.DescribeInstancesInput{Filters: fl})
		if err != nil || len(out.Instances) != 0 {
			t.Errorf("%+v: %d instances, %v", fl, len(out.Instances), err)
		}
	}
}

func TestSeedInstance(t *testing.T) {
	ctx := context.Background()
	f := newInstanceFixture(t, "2026-12-04T00:00:00Z")
	in := createInput("old", "postgres", "")
	in.CACertificateIdentifier = "rds-ca-2019" // expired, allowed when seeding
	v, err := f.svc.SeedInstance(ctx, east, in, rds.StatusAvailable)
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, *v, rds.StatusAvailable, "rds-ca-2019", "")
	if _, err := f.svc.CreateInstance(ctx, east, in); err == nil {
		t.Error("CreateInstance accepted an expired CA")
	}
	r, err := f.svc.SeedInstance(ctx, east, createInput("busy", "mysql", ""), rds.StatusRebooting)
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, *r, rds.StatusRebooting, "rds-ca-rsa2048-g1", "")
	f.clock.Advance(59 * time.Minute)
	wantState(t, get(t, f, east, "busy"), rds.StatusRebooting, "rds-ca-rsa2048-g1", "")
	f.clock.Advance(time.Minute)
	wantState(t, get(t, f, east, "busy"), rds.StatusAvailable, "rds-ca-rsa2048-g1", "")
	c, err := f.svc.SeedInstance(ctx, east, createInput("new", "mysql", ""), rds.StatusCreating)
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, *c, rds.StatusCreating, "rds-ca-rsa2048-g1", "")
	f.clock.Advance(30 * time.Minute)
	wantState(t, get(t, f, east, "new"), rds.StatusCreating, "rds-ca-rsa2048-g1", "")
	if _, err := f.svc.SeedInstance(ctx, east, createInput("x", "mysql", ""), "stopped"); err == nil {
		t.Error("seeded an unknown status")
	}
	if _, err := f.svc.SeedInstance(ctx, east, createInput("gone", "mysql", ""), rds.StatusDeleting); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	_, err = f.svc.DescribeInstances(ctx, east, rds.DescribeInstancesInput{Identifier: "gone"})
	wantCode(t, err, rds.ErrDBInstanceNotFound)
}

func TestGoneInstancesAreRemovedFromTheStore(t *testing.T) {
	ctx := context.Background()
	f := newInstanceFixture(t, "2026-12-04T00:00:00Z")
	for _, id := range []string{"a", "b"} {
		create(t, f, east, createInput(id, "postgres", ""))
	}
	f.clock.Advance(delay)
	for _, id := range []string{"a", "b"} {
		if _, err := f.svc.DeleteInstance(ctx, east, rds.DeleteInstanceInput{Identifier: id, SkipFinalSnapshot: ptr(true)}); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Advance(delay)
	// One read by identifier, one listing: both rows go.
	_, err := f.svc.DescribeInstances(ctx, east, rds.DescribeInstancesInput{Identifier: "a"})
	wantCode(t, err, rds.ErrDBInstanceNotFound)
	if _, err := f.svc.DescribeInstances(ctx, east, rds.DescribeInstancesInput{}); err != nil {
		t.Fatal(err)
	}
	if rows, err := f.store.ListInstances(ctx, east, rds.InstanceFilter{}, "", 10); err != nil || len(rows) != 0 {
		t.Fatalf("stored rows after deletion: %d, %v", len(rows), err)
	}
}
