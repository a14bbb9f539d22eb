package rdsapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/server"
)

// instanceStep is one request of an instance scenario. The clock moves
// before the request: to at if set, then by advance.
type instanceStep struct {
	name    string // golden file, "" to not compare
	at      time.Time
	advance time.Duration
	body    string
	status  int
}

// q builds a signed-API form body: Action, Version, then name/value pairs.
func q(action string, kv ...string) string {
	var b strings.Builder
	b.WriteString("Action=" + action + "&Version=2014-10-31")
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString("&" + url.QueryEscape(kv[i]) + "=" + url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

// resourceID matches DbiResourceId values, which are random.
var resourceID = regexp.MustCompile(`<DbiResourceId>db-[A-Z2-7]{26}</DbiResourceId>`)

const stableResourceID = "<DbiResourceId>db-AAAAAAAAAAAAAAAAAAAAAAAAAA</DbiResourceId>"

// instanceDelay is how long each transitional status lasts in the scenarios.
const instanceDelay = time.Minute

func runInstanceSteps(t *testing.T, start time.Time, steps []instanceStep) {
	t.Helper()
	clk := clock.NewFixed(start)
	n := 0
	srv, err := server.New(server.Config{
		Store:     memory.New(),
		Clock:     clk,
		Generator: loadCAs(t),
		Delay:     instanceDelay,
		RequestID: func() string { n++; return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if !s.at.IsZero() {
			clk.Set(s.at)
		}
		clk.Advance(s.advance)
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(s.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		req.Header.Set("Authorization", signed)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		res := rec.Result()
		raw, _ := io.ReadAll(res.Body)
		body := resourceID.ReplaceAllString(string(raw), stableResourceID)
		label := s.name
		if label == "" {
			label = s.body
		}
		if res.StatusCode != s.status {
			// A golden file is never written from a wrong status.
			t.Fatalf("%s at %s: status %d, want %d\n%s", label, clk.Now().Format(time.RFC3339), res.StatusCode, s.status, body)
		}
		if id := res.Header.Get("x-amzn-RequestId"); id != fmt.Sprintf("00000000-0000-4000-8000-%012d", n) {
			t.Errorf("%s: x-amzn-RequestId %q", label, id)
		}
		if s.name == "" {
			continue
		}
		golden := filepath.Join("testdata", "instances", s.name+".xml")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%s: %v (run go test ./rdsapi -run GoldenInstances -update)", s.name, err)
		}
		if body != string(want) {
			t.Errorf("%s: body differs from %s\ngot:\n%s\nwant:\n%s", s.name, golden, body, want)
		}
	}
}

func TestGoldenInstances(t *testing.T) {
	const arn = "arn:aws:rds:us-east-1:111111111111:db:db1"
	// Thursday 2026-12-04 00:00 UTC.
	start := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	settle := 10 * instanceDelay // past every transitional status

	// Before 2024-01-25 new instances get rds-ca-2019, which expires on
	// 2024-08-22: its rotation becomes a pending maintenance action.
	t.Run("lifecycle", func(t *testing.T) {
		runInstanceSteps(t, time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), []instanceStep{
			{name: "instance-create", status: 200, body: q("CreateDBInstance",
				"DBInstanceIdentifier", "DB1", "DBInstanceClass", "db.t3.micro", "Engine", "postgres",
				"MasterUsername", "admin", "MasterUserPassword", "secret99", "AllocatedStorage", "20")},
			{name: "instance-describe-creating", status: 200, body: q("DescribeDBInstances", "DBInstanceIdentifier", "db1")},
			{name: "instance-describe-available", advance: settle, status: 200, body: q("DescribeDBInstances")},
			{name: "instance-describe-by-arn-filter", status: 200, body: q("DescribeDBInstances",
				"Filters.Filter.1.Name", "db-instance-id", "Filters.Filter.1.Values.Value.1", arn)},
			{name: "pending-maintenance-none", status: 200, body: q("DescribePendingMaintenanceActions")},

			// 82 days before rds-ca-2019 expires.
			{name: "pending-maintenance-due", at: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), status: 200,
				body: q("DescribePendingMaintenanceActions")},
			{name: "pending-maintenance-by-filter", status: 200, body: q("DescribePendingMaintenanceActions",
				"Filters.Filter.1.Name", "db-instance-id", "Filters.Filter.1.Values.Value.1", "db1")},
			{name: "apply-next-maintenance", status: 200, body: q("ApplyPendingMaintenanceAction",
				"ResourceIdentifier", arn, "ApplyAction", "ca-certificate-rotation", "OptInType", "next-maintenance")},
			{name: "apply-undo-opt-in", status: 200, body: q("ApplyPendingMaintenanceAction",
				"ResourceIdentifier", arn, "ApplyAction", "ca-certificate-rotation", "OptInType", "undo-opt-in")},
			{name: "apply-immediate", status: 200, body: q("ApplyPendingMaintenanceAction",
				"ResourceIdentifier", arn, "ApplyAction", "ca-certificate-rotation", "OptInType", "immediate")},
			{name: "instance-describe-rotated", advance: settle, status: 200, body: q("DescribeDBInstances", "DBInstanceIdentifier", "db1")},

			// A deferred CA change waits for the maintenance window; a reboot does not apply it.
			{name: "instance-modify-deferred", status: 200, body: q("ModifyDBInstance",
				"DBInstanceIdentifier", "db1", "CACertificateIdentifier", "rds-ca-ecc384-g1")},
			{name: "instance-reboot", status: 200, body: q("RebootDBInstance", "DBInstanceIdentifier", "db1")},
			{name: "error-invalid-instance-state", status: 400, body: q("ModifyDBInstance",
				"DBInstanceIdentifier", "db1", "CACertificateIdentifier", "rds-ca-rsa4096-g1", "ApplyImmediately", "true")},
			{name: "instance-describe-after-reboot", advance: settle, status: 200, body: q("DescribeDBInstances", "DBInstanceIdentifier", "db1")},
			{name: "instance-describe-after-window", advance: 7 * 24 * time.Hour, status: 200, body: q("DescribeDBInstances", "DBInstanceIdentifier", "db1")},

			{name: "instance-delete", status: 200, body: q("DeleteDBInstance", "DBInstanceIdentifier", "db1", "SkipFinalSnapshot", "true")},
			{name: "instance-describe-deleting", status: 200, body: q("DescribeDBInstances", "DBInstanceIdentifier", "db1")},
			{name: "error-instance-not-found", advance: settle, status: 404, body: q("DescribeDBInstances", "DBInstanceIdentifier", "db1")},
			{name: "instance-describe-none", status: 200, body: q("DescribeDBInstances")},
		})
	})

	t.Run("immediate restart", func(t *testing.T) {
		// mysql 5.7 cannot rotate without a restart: modifying, then rebooting.
		runInstanceSteps(t, start, []instanceStep{
			{status: 200, body: q("CreateDBInstance", "DBInstanceIdentifier", "legacy", "DBInstanceClass", "db.t3.micro",
				"Engine", "mysql", "EngineVersion", "5.7", "MasterUsername", "admin", "MasterUserPassword", "secret99",
				"AllocatedStorage", "20", "CACertificateIdentifier", "rds-ca-rsa4096-g1")},
			{name: "immediate-modify", advance: settle, status: 200, body: q("ModifyDBInstance",
				"DBInstanceIdentifier", "legacy", "CACertificateIdentifier", "rds-ca-ecc384-g1", "ApplyImmediately", "true")},
			{name: "immediate-describe-modifying", advance: instanceDelay / 2, status: 200, body: q("DescribeDBInstances", "DBInstanceIdentifier", "legacy")},
			{name: "immediate-describe-rebooting", advance: instanceDelay, status: 200, body: q("DescribeDBInstances", "DBInstanceIdentifier", "legacy")},
			{name: "immediate-describe-done", advance: settle, status: 200, body: q("DescribeDBInstances", "DBInstanceIdentifier", "legacy")},
		})
	})

	t.Run("engines", func(t *testing.T) {
		runInstanceSteps(t, start, []instanceStep{
			{name: "engine-versions-postgres-17", status: 200, body: q("DescribeDBEngineVersions", "Engine", "postgres", "EngineVersion", "17")},
			{name: "engine-versions-default-only", status: 200, body: q("DescribeDBEngineVersions", "DefaultOnly", "true")},
			{name: "engine-versions-family", status: 200, body: q("DescribeDBEngineVersions", "DBParameterGroupFamily", "mysql5.7")},
			// Before rds-ca-2019 expired it was still supported.
			{name: "engine-versions-2024", at: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), status: 200,
				body: q("DescribeDBEngineVersions", "Engine", "mysql", "EngineVersion", "5.7.44")},
		})
	})

	t.Run("errors", func(t *testing.T) {
		runInstanceSteps(t, start, []instanceStep{
			{status: 200, body: q("CreateDBInstance", "DBInstanceIdentifier", "db1", "DBInstanceClass", "db.t3.micro",
				"Engine", "postgres", "MasterUsername", "admin", "MasterUserPassword", "secret99", "AllocatedStorage", "20")},
			{name: "error-instance-already-exists", status: 400, body: q("CreateDBInstance", "DBInstanceIdentifier", "DB1",
				"DBInstanceClass", "db.t3.micro", "Engine", "postgres", "MasterUsername", "admin", "MasterUserPassword", "secret99",
				"AllocatedStorage", "20")},
			{name: "error-reboot-while-creating", status: 400, body: q("RebootDBInstance", "DBInstanceIdentifier", "db1")},
			{name: "error-bad-identifier", status: 400, body: q("CreateDBInstance", "DBInstanceIdentifier", "1bad--id",
				"DBInstanceClass", "db.t3.micro", "Engine", "postgres", "MasterUsername", "admin", "MasterUserPassword", "secret99")},
			{name: "error-identifier-too-long", status: 400, body: q("DescribeDBInstances", "DBInstanceIdentifier", "a"+strings.Repeat("b", 63))},
			{name: "error-missing-identifier", status: 400, body: q("ModifyDBInstance", "CACertificateIdentifier", "rds-ca-ecc384-g1")},
			{name: "error-unknown-filter", status: 400, body: q("DescribeDBInstances",
				"Filters.Filter.1.Name", "colour", "Filters.Filter.1.Values.Value.1", "blue")},
			{name: "error-modify-not-found", status: 404, body: q("ModifyDBInstance", "DBInstanceIdentifier", "nope",
				"CACertificateIdentifier", "rds-ca-ecc384-g1")},
			{name: "error-modify-certificate-unknown", advance: settle, status: 404, body: q("ModifyDBInstance",
				"DBInstanceIdentifier", "db1", "CACertificateIdentifier", "rds-ca-nope")},
			{name: "error-restart-without-ca", status: 400, body: q("ModifyDBInstance", "DBInstanceIdentifier", "db1",
				"CertificateRotationRestart", "false")},
			{name: "error-delete-without-snapshot-choice", status: 400, body: q("DeleteDBInstance", "DBInstanceIdentifier", "db1")},
			{name: "error-resource-not-found", status: 404, body: q("ApplyPendingMaintenanceAction",
				"ResourceIdentifier", "arn:aws:rds:us-east-1:111111111111:db:nope", "ApplyAction", "ca-certificate-rotation", "OptInType", "immediate")},
			{name: "error-nothing-pending", status: 400, body: q("ApplyPendingMaintenanceAction",
				"ResourceIdentifier", "arn:aws:rds:us-east-1:111111111111:db:db1", "ApplyAction", "ca-certificate-rotation", "OptInType", "immediate")},
			{name: "error-storage-not-integer", status: 400, body: q("CreateDBInstance", "DBInstanceIdentifier", "db2",
				"DBInstanceClass", "db.t3.micro", "Engine", "postgres", "AllocatedStorage", "twenty")},
			{name: "error-apply-immediately-not-boolean", status: 400, body: q("ModifyDBInstance", "DBInstanceIdentifier", "db1",
				"ApplyImmediately", "yes")},
		})
	})
}
