package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/server"
)

func adminServer(t *testing.T, c rds.Clock) *server.Server {
	t.Helper()
	srv, err := server.New(server.Config{Store: memory.New(), Clock: c, Generator: keys})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// admin sends one request and returns the status and the decoded JSON.
func admin(t *testing.T, h http.Handler, method, path, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v\n%s", method, path, err, rec.Body)
	}
	return rec.Code, m
}

func TestAdminClock(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c := clock.NewFixed(start)
	h := adminServer(t, c)
	steps := []struct {
		method, path, body string
		status             int
		now                string // "" for an error
	}{
		{"GET", "/_rdsca/clock", "", 200, "2024-01-01T00:00:00Z"},
		{"PUT", "/_rdsca/clock", `{"now":"2024-08-20T12:00:00+02:00"}`, 200, "2024-08-20T10:00:00Z"},
		{"POST", "/_rdsca/clock/advance", `{"duration":"72h"}`, 200, "2024-08-23T10:00:00Z"},
		{"POST", "/_rdsca/clock/advance", `{"days":30}`, 200, "2024-09-22T10:00:00Z"},
		{"POST", "/_rdsca/clock/advance", `{"days":1,"duration":"90m"}`, 200, "2024-09-23T11:30:00Z"},
		{"POST", "/_rdsca/clock/advance", `{"duration":"-1h30m"}`, 200, "2024-09-23T10:00:00Z"},
		{"PUT", "/_rdsca/clock", `{"now":"2024-01-01T00:00:00.5Z"}`, 200, "2024-01-01T00:00:00.5Z"},
		{"GET", "/_rdsca/clock", "", 200, "2024-01-01T00:00:00.5Z"},
		// Bad requests leave the clock alone.
		{"PUT", "/_rdsca/clock", `{"now":"yesterday"}`, 400, ""},
		{"PUT", "/_rdsca/clock", `{"now":""}`, 400, ""},
		{"PUT", "/_rdsca/clock", `{"now":"2024-01-01"}`, 400, ""},
		{"PUT", "/_rdsca/clock", `not json`, 400, ""},
		{"PUT", "/_rdsca/clock", ``, 400, ""},
		{"PUT", "/_rdsca/clock", `{"now":"2024-01-01T00:00:00Z"} {}`, 400, ""},
		{"PUT", "/_rdsca/clock", `{"time":"2024-01-01T00:00:00Z"}`, 400, ""},
		{"PUT", "/_rdsca/clock", `{"now":5}`, 400, ""},
		{"POST", "/_rdsca/clock/advance", `{}`, 400, ""},
		{"POST", "/_rdsca/clock/advance", `{"duration":"3 days"}`, 400, ""},
		{"POST", "/_rdsca/clock/advance", `{"duration":"72"}`, 400, ""},
		{"POST", "/_rdsca/clock/advance", `{"days":1.5}`, 400, ""},
		{"POST", "/_rdsca/clock/advance", `{"days":"3"}`, 400, ""},
		{"POST", "/_rdsca/clock/advance", `{"days":99999999999}`, 400, ""},
		{"POST", "/_rdsca/clock/advance", `{"duration":"2000000h","days":36500}`, 400, ""},
		{"POST", "/_rdsca/clock/advance", `{"duration":"99999999999999h"}`, 400, ""},
		{"POST", "/_rdsca/clock/advance", `[]`, 400, ""},
		{"POST", "/_rdsca/clock", `{}`, 405, ""},
		{"DELETE", "/_rdsca/clock", ``, 405, ""},
		{"GET", "/_rdsca/clock/advance", ``, 405, ""},
		{"GET", "/_rdsca/nothing", ``, 404, ""},
		{"GET", "/_rdsca/", ``, 404, ""},
		{"GET", "/_rdsca/clock", "", 200, "2024-01-01T00:00:00.5Z"},
	}
	for _, s := range steps {
		status, m := admin(t, h, s.method, s.path, s.body)
		if status != s.status {
			t.Errorf("%s %s %s: status %d, want %d (%v)", s.method, s.path, s.body, status, s.status, m)
		}
		if s.now == "" {
			if msg, _ := m["error"].(string); msg == "" {
				t.Errorf("%s %s %s: no error message: %v", s.method, s.path, s.body, m)
			}
			continue
		}
		if m["now"] != s.now {
			t.Errorf("%s %s %s: now %v, want %s", s.method, s.path, s.body, m["now"], s.now)
		}
	}
	if got := c.Now(); !got.Equal(time.Date(2024, 1, 1, 0, 0, 0, 5e8, time.UTC)) {
		t.Errorf("clock reads %s", got)
	}
}

func TestAdminClockNotSettable(t *testing.T) {
	h := adminServer(t, clock.Real{})
	status, m := admin(t, h, "GET", "/_rdsca/clock", "")
	now, err := time.Parse(time.RFC3339Nano, m["now"].(string))
	if status != 200 || err != nil || time.Since(now).Abs() > time.Minute {
		t.Errorf("GET on the real clock: %d %v", status, m)
	}
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/_rdsca/clock", `{"now":"2024-01-01T00:00:00Z"}`},
		{"POST", "/_rdsca/clock/advance", `{"days":1}`},
	} {
		status, m := admin(t, h, c.method, c.path, c.body)
		if status != http.StatusConflict || m["error"] == nil {
			t.Errorf("%s %s on the real clock: %d %v", c.method, c.path, status, m)
		}
	}
}

func TestAdminClockOffset(t *testing.T) {
	c := clock.NewOffset(time.Now())
	h := adminServer(t, c)
	status, m := admin(t, h, "PUT", "/_rdsca/clock", `{"now":"2030-05-01T00:00:00Z"}`)
	if status != 200 || !strings.HasPrefix(m["now"].(string), "2030-05-01T00:00:") {
		t.Fatalf("set: %d %v", status, m)
	}
	status, m = admin(t, h, "POST", "/_rdsca/clock/advance", `{"days":2}`)
	if status != 200 || !strings.HasPrefix(m["now"].(string), "2030-05-03T00:00:") {
		t.Fatalf("advance: %d %v", status, m)
	}
	if got := c.Now(); got.Before(time.Date(2030, 5, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("clock reads %s", got)
	}
}

// The admin paths stay out of the AWS API, which still answers elsewhere.
func TestAdminBesideAPI(t *testing.T) {
	h := adminServer(t, clock.NewFixed(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/?Action=DescribeCertificates", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<DescribeCertificatesResult>") {
		t.Fatalf("API: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/_rdsca/clock?Action=DescribeCertificates", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"now":"2026-12-04T00:00:00Z"`) {
		t.Fatalf("admin: %d %s", rec.Code, rec.Body)
	}
}

func TestNewRejectsNegativeDelay(t *testing.T) {
	if _, err := server.New(server.Config{Store: memory.New(), Clock: clock.Real{}, Delay: -time.Second}); err == nil {
		t.Fatal("accepted a negative Delay")
	}
}

// raw sends one request and returns the status and the body.
func raw(t *testing.T, h http.Handler, method, path, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return rec.Code, rec.Body.String()
}

// seeded returns a server whose two accounts in two regions each have an
// override and an instance, and the thumbprints it serves.
func seeded(t *testing.T) (*server.Server, []rds.Scope, map[string]string) {
	t.Helper()
	srv := adminServer(t, clock.NewFixed(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)))
	svc := srv.Service()
	ctx := t.Context()
	scopes := []rds.Scope{
		{Account: "111111111111", Region: "us-east-1"},
		{Account: "222222222222", Region: "us-east-1"},
		{Account: "111111111111", Region: "eu-west-1"},
	}
	storage := 20
	for _, sc := range scopes {
		if _, err := svc.ModifyCertificates(ctx, sc, rds.ModifyCertificatesInput{CertificateIdentifier: "rds-ca-ecc384-g1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SeedInstance(ctx, sc, rds.CreateInstanceInput{
			Identifier: "db-1", Class: "db.t3.micro", Engine: "postgres",
			MasterUsername: "app", MasterUserPassword: "password", AllocatedStorage: &storage,
		}, rds.StatusAvailable); err != nil {
			t.Fatal(err)
		}
	}
	return srv, scopes, thumbprints(t, svc, scopes[0])
}

func thumbprints(t *testing.T, svc *rds.Service, sc rds.Scope) map[string]string {
	t.Helper()
	out, err := svc.DescribeCertificates(t.Context(), sc, rds.DescribeCertificatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, c := range out.Certificates {
		m[c.Identifier] = c.Thumbprint
	}
	return m
}

// wantReset checks that every scope lost its override and instance and the
// thumbprints stayed.
func wantReset(t *testing.T, srv *server.Server, scopes []rds.Scope, tps map[string]string) {
	t.Helper()
	svc := srv.Service()
	for _, sc := range scopes {
		if def, err := svc.DefaultCertificate(t.Context(), sc); err != nil || def != rds.DefaultIdentifier {
			t.Errorf("%+v: default %q, %v after reset; want %s", sc, def, err, rds.DefaultIdentifier)
		}
		out, err := svc.DescribeInstances(t.Context(), sc, rds.DescribeInstancesInput{})
		if err != nil || len(out.Instances) != 0 {
			t.Errorf("%+v: instances after reset: %+v, %v", sc, out, err)
		}
	}
	got := thumbprints(t, svc, scopes[0])
	if len(got) != len(tps) {
		t.Fatalf("%d certificates after reset, %d before", len(got), len(tps))
	}
	for id, tp := range tps {
		if got[id] != tp {
			t.Errorf("%s: thumbprint %s after reset, %s before", id, got[id], tp)
		}
	}
}

func TestAdminReset(t *testing.T) {
	for _, body := range []string{"", "{}", " {} \n", "\n"} {
		srv, scopes, tps := seeded(t)
		status, got := raw(t, srv, "POST", server.ResetPath, body)
		if status != 200 || got != "{\"status\": \"ok\"}\n" {
			t.Errorf("POST %s %q: %d %q", server.ResetPath, body, status, got)
		}
		wantReset(t, srv, scopes, tps)
	}
}

func TestAdminResetRefused(t *testing.T) {
	srv, scopes, _ := seeded(t)
	for _, c := range []struct {
		method, body string
		status       int
	}{
		{"GET", "", 405},
		{"PUT", "", 405},
		{"DELETE", "", 405},
		{"POST", `{"all":true}`, 400},
		{"POST", `not json`, 400},
		{"POST", `[]`, 400},
		{"POST", `{} {}`, 400},
	} {
		status, m := admin(t, srv, c.method, server.ResetPath, c.body)
		if status != c.status || m["error"] == nil {
			t.Errorf("%s %s %q: %d %v, want %d with an error", c.method, server.ResetPath, c.body, status, m, c.status)
		}
	}
	// Nothing was reset.
	if def, _ := srv.Service().DefaultCertificate(t.Context(), scopes[1]); def != "rds-ca-ecc384-g1" {
		t.Errorf("override gone after refused resets: default %s", def)
	}
}

// TestMotoReset answers as moto's server mode does
// (moto/moto_api/_internal/responses.py, reset_response).
func TestMotoReset(t *testing.T) {
	srv, scopes, tps := seeded(t)
	status, got := raw(t, srv, "GET", server.MotoResetPath, "")
	if status != 400 || got != "{\"Error\": \"Need to POST to reset Moto\"}\n" {
		t.Errorf("GET %s: %d %q", server.MotoResetPath, status, got)
	}
	if def, _ := srv.Service().DefaultCertificate(t.Context(), scopes[0]); def != "rds-ca-ecc384-g1" {
		t.Errorf("GET reset: default %s", def)
	}
	// moto ignores the body; so does rdsca here.
	status, got = raw(t, srv, "POST", server.MotoResetPath, "anything")
	if status != 200 || got != "{\"status\": \"ok\"}\n" {
		t.Errorf("POST %s: %d %q", server.MotoResetPath, status, got)
	}
	wantReset(t, srv, scopes, tps)
}

// unresettable is a store without Reset.
type unresettable struct{ rds.Store }

func TestResetUnsupported(t *testing.T) {
	srv, err := server.New(server.Config{Store: unresettable{memory.New()}, Clock: clock.Real{}, Generator: keys})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{server.ResetPath, server.MotoResetPath} {
		status, m := admin(t, srv, "POST", path, "")
		if status != http.StatusNotImplemented || m["error"] == nil {
			t.Errorf("POST %s: %d %v", path, status, m)
		}
	}
}
