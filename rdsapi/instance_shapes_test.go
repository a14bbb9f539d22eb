package rdsapi

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/rds"
)

// shapeServer serves fixed domain outputs through the wire shapes, so the
// element layout is pinned independently of the service.
func shapeServer() *awsquery.Server {
	s := awsquery.NewServer(awsquery.Config{
		Namespace: Namespace, Version: Version,
		Identify:  func(*http.Request, []byte) (awsquery.Caller, error) { return awsquery.Caller{}, nil },
		RequestID: func() string { return "00000000-0000-4000-8000-000000000000" },
	})
	none := func(awsquery.Params) (struct{}, error) { return struct{}{}, nil }
	created := time.Date(2026, 12, 4, 0, 4, 0, 138_000_000, time.UTC)
	validTill := time.Date(2027, 12, 4, 0, 4, 0, 0, time.UTC)
	base := rds.Instance{
		Identifier: "db1", ResourceID: "db-CKGCM6BVK67HH7GSPRBYWX5DSU", Class: "db.t3.micro", Engine: "postgres",
		EngineVersion: "17.4", MasterUsername: "admin", AllocatedStorage: 20, Port: 5432,
		AvailabilityZone: "us-east-1b", MaintenanceWindow: "sun:05:42-sun:06:12",
	}
	arn := "arn:aws:rds:us-east-1:111111111111:db:db1"
	ep := &rds.Endpoint{Address: "db1.cabcdefghijk.us-east-1.rds.amazonaws.com", Port: 5432, HostedZoneID: "Z2R2ITUGPM61AM"}
	views := []rds.InstanceView{
		{Instance: base, ARN: arn, Status: rds.StatusCreating, CACertificateIdentifier: "rds-ca-rsa2048-g1",
			CertificateCA: "rds-ca-rsa2048-g1", PendingMasterUserPassword: true},
		{Instance: base, ARN: arn, Status: rds.StatusAvailable, Endpoint: ep, CACertificateIdentifier: "rds-ca-rsa2048-g1",
			CertificateCA: "rds-ca-rsa2048-g1", CertificateValidTill: &validTill, CreateTime: &created, PendingCA: "rds-ca-ecc384-g1"},
		{Instance: base, ARN: arn, Status: rds.StatusDeleting, Endpoint: ep, CreateTime: &created},
	}
	awsquery.Handle(s, "DescribeDBInstances", none, func(context.Context, awsquery.Caller, struct{}) (awsquery.Raw, error) {
		return toDescribeDBInstancesResult(&rds.DescribeInstancesOutput{Instances: views, Marker: "m"}), nil
	})
	awsquery.Handle(s, "DescribeNoDBInstances", none, func(context.Context, awsquery.Caller, struct{}) (awsquery.Raw, error) {
		return toDescribeDBInstancesResult(&rds.DescribeInstancesOutput{}), nil
	})
	applyDate := time.Date(2026, 12, 6, 5, 42, 0, 0, time.UTC)
	awsquery.Handle(s, "DescribePendingMaintenanceActions", none, func(context.Context, awsquery.Caller, struct{}) (describePendingMaintenanceActionsResult, error) {
		return toDescribePendingMaintenanceActionsResult(&rds.DescribePendingMaintenanceOutput{Resources: []rds.ResourcePendingActions{
			{ResourceIdentifier: arn, Actions: []rds.PendingMaintenanceAction{{Action: rds.ActionCARotation, Description: "CA certificate rotation"}}},
			{ResourceIdentifier: arn + "2", Actions: []rds.PendingMaintenanceAction{{Action: rds.ActionCARotation, Description: "CA certificate rotation",
				OptInStatus: rds.OptInNextMaintenance, CurrentApplyDate: &applyDate}}},
		}}), nil
	})
	awsquery.Handle(s, "ApplyPendingMaintenanceAction", none, func(context.Context, awsquery.Caller, struct{}) (applyPendingMaintenanceActionResult, error) {
		return applyPendingMaintenanceActionResult{ResourcePendingMaintenanceActions: toResourcePendingMaintenanceActions(&rds.ResourcePendingActions{ResourceIdentifier: arn})}, nil
	})
	awsquery.Handle(s, "DescribeDBEngineVersions", none, func(context.Context, awsquery.Caller, struct{}) (describeDBEngineVersionsResult, error) {
		return toDescribeDBEngineVersionsResult(&rds.DescribeEngineVersionsOutput{Versions: []rds.EngineVersionView{
			{EngineVersion: rds.EngineVersion{Engine: "mysql", Version: "5.7.44", Family: "mysql5.7", EngineDescription: "MySQL Community Edition", VersionDescription: "MySQL 5.7.44"},
				SupportedCAs: []string{"rds-ca-ecc384-g1", "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1"}},
			{EngineVersion: rds.EngineVersion{Engine: "postgres", Version: "17.4", Family: "postgres17", EngineDescription: "PostgreSQL", VersionDescription: "PostgreSQL 17.4-R1", RotatesWithoutRestart: true}},
		}}), nil
	})
	return s
}

func TestShapes(t *testing.T) {
	update := flag.Lookup("update")
	s := shapeServer()
	for _, action := range []string{"DescribeDBInstances", "DescribeNoDBInstances", "DescribePendingMaintenanceActions", "ApplyPendingMaintenanceAction", "DescribeDBEngineVersions"} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?Action="+action, nil))
		golden := filepath.Join("testdata", "shape-"+action+".xml")
		if update != nil && update.Value.String() == "true" {
			if err := os.WriteFile(golden, rec.Body.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./rdsapi -update)", err)
		}
		if rec.Code != 200 || rec.Body.String() != string(want) {
			t.Errorf("%s: %d, body differs from %s\ngot:\n%s", action, rec.Code, golden, rec.Body)
		}
	}
}

func TestDecodeInstanceInputs(t *testing.T) {
	p := awsquery.NewParams(url.Values{
		"DBInstanceIdentifier": {"DB1"}, "DBInstanceClass": {"db.t3.micro"}, "Engine": {"postgres"}, "EngineVersion": {"16"},
		"MasterUsername": {"admin"}, "MasterUserPassword": {"secret99"}, "ManageMasterUserPassword": {"false"},
		"AllocatedStorage": {"20"}, "Port": {"6543"}, "AvailabilityZone": {"us-east-1a"},
		"PreferredMaintenanceWindow": {"mon:01:00-mon:01:30"}, "CACertificateIdentifier": {"rds-ca-ecc384-g1"},
	})
	in, err := decodeCreateDBInstance(p)
	f, twenty, port := false, 20, 6543
	want := rds.CreateInstanceInput{Identifier: "DB1", Class: "db.t3.micro", Engine: "postgres", EngineVersion: "16",
		MasterUsername: "admin", MasterUserPassword: "secret99", ManageMasterUserPassword: &f, AllocatedStorage: &twenty, Port: &port,
		AvailabilityZone: "us-east-1a", PreferredMaintenanceWindow: "mon:01:00-mon:01:30", CACertificateIdentifier: "rds-ca-ecc384-g1"}
	if err != nil || !reflect.DeepEqual(in, want) {
		t.Errorf("CreateDBInstance: %+v %v", in, err)
	}

	d, err := decodeDescribeDBInstances(awsquery.NewParams(url.Values{
		"Filters.Filter.1.Name": {"db-instance-id"}, "Filters.Filter.1.Values.Value.1": {"db1"}, "Filters.Filter.1.Values.Value.2": {"db2"},
		"Filters.Filter.2.Name": {"engine"}, "Filters.Filter.2.Values.Value.1": {"postgres"},
		"MaxRecords": {"20"}, "Marker": {"m"},
	}))
	if err != nil || len(d.Filters) != 2 || !reflect.DeepEqual(d.Filters[0], rds.Filter{Name: "db-instance-id", Values: []string{"db1", "db2"}}) ||
		d.Filters[1].Name != "engine" || *d.MaxRecords != 20 || d.Marker != "m" {
		t.Errorf("DescribeDBInstances: %+v %v", d, err)
	}

	m, err := decodeModifyDBInstance(awsquery.NewParams(url.Values{
		"DBInstanceIdentifier": {"db1"}, "CACertificateIdentifier": {"rds-ca-ecc384-g1"}, "ApplyImmediately": {"true"},
		"CertificateRotationRestart": {"false"},
	}))
	if err != nil || m.Identifier != "db1" || m.CACertificateIdentifier != "rds-ca-ecc384-g1" || !*m.ApplyImmediately || *m.CertificateRotationRestart {
		t.Errorf("ModifyDBInstance: %+v %v", m, err)
	}

	e, err := decodeDescribeDBEngineVersions(awsquery.NewParams(url.Values{
		"Engine": {"mysql"}, "DBParameterGroupFamily": {"mysql8.0"}, "DefaultOnly": {"true"},
	}))
	if err != nil || e.Engine != "mysql" || e.Family != "mysql8.0" || !*e.DefaultOnly || e.Filters != nil {
		t.Errorf("DescribeDBEngineVersions: %+v %v", e, err)
	}

	// The first malformed member's error is returned.
	for _, c := range []struct {
		name   string
		decode func(awsquery.Params) error
		values url.Values
	}{
		{"AllocatedStorage", func(p awsquery.Params) error { _, err := decodeCreateDBInstance(p); return err }, url.Values{"AllocatedStorage": {"lots"}}},
		{"Port", func(p awsquery.Params) error { _, err := decodeCreateDBInstance(p); return err }, url.Values{"Port": {"99999999999"}}},
		{"ManageMasterUserPassword", func(p awsquery.Params) error { _, err := decodeCreateDBInstance(p); return err }, url.Values{"ManageMasterUserPassword": {"yes"}, "Port": {"x"}}},
		{"MaxRecords", func(p awsquery.Params) error { _, err := decodeDescribeDBInstances(p); return err }, url.Values{"MaxRecords": {"20.5"}}},
		{"ApplyImmediately", func(p awsquery.Params) error { _, err := decodeModifyDBInstance(p); return err }, url.Values{"ApplyImmediately": {"1"}}},
		{"CertificateRotationRestart", func(p awsquery.Params) error { _, err := decodeModifyDBInstance(p); return err }, url.Values{"CertificateRotationRestart": {"no"}}},
		{"ForceFailover", func(p awsquery.Params) error { _, err := decodeRebootDBInstance(p); return err }, url.Values{"ForceFailover": {"maybe"}}},
		{"SkipFinalSnapshot", func(p awsquery.Params) error { _, err := decodeDeleteDBInstance(p); return err }, url.Values{"SkipFinalSnapshot": {""}}},
		{"MaxRecords", func(p awsquery.Params) error { _, err := decodeDescribePendingMaintenanceActions(p); return err }, url.Values{"MaxRecords": {"many"}}},
		{"DefaultOnly", func(p awsquery.Params) error { _, err := decodeDescribeDBEngineVersions(p); return err }, url.Values{"DefaultOnly": {"y"}}},
	} {
		err := c.decode(awsquery.NewParams(c.values))
		var e *rds.Error
		if !errors.As(err, &e) || e.Code != rds.CodeInvalidParameterValue || !containsWord(e.Message, c.name) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func containsWord(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i:i+len(w)] == w && (i+len(w) == len(s) || s[i+len(w)] == ' ' || s[i+len(w)] == '.') {
			return true
		}
	}
	return false
}
