package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

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

// strictAdmin runs a strict-mode server (strictKeys) whose clock is fixed at
// 2024-01-01 and whose account 111111111111 has an override, and returns it
// and its URL.
func strictAdmin(t *testing.T) (*server.Server, string) {
	t.Helper()
	creds, err := server.NewCredentials(strictKeys...)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{
		Store:     memory.New(),
		Clock:     clock.NewFixed(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)),
		Generator: keys,
		Auth:      &server.Auth{Credentials: creds},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Service().ModifyCertificates(t.Context(), aliceScope, rds.ModifyCertificatesInput{CertificateIdentifier: "rds-ca-ecc384-g1"}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

var aliceScope = rds.Scope{Account: "111111111111", Region: "us-east-1"}

// adminRequest is a request to an admin endpoint of base.
func adminRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

// signAdmin signs r (whose body is body) with aws-sdk-go-v2's signer for
// service, in us-east-1, now.
func signAdmin(t *testing.T, r *http.Request, key, secret, service, body string) *http.Request {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, r,
		hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return r
}

// sendAdmin sends r and returns the status and the decoded JSON body.
func sendAdmin(t *testing.T, r *http.Request) (int, map[string]any) {
	t.Helper()
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v\n%s", r.Method, r.URL.Path, err, b)
	}
	return res.StatusCode, m
}

// untouched checks that the clock and alice's override are as strictAdmin
// left them.
func untouched(t *testing.T, srv *server.Server, base string) {
	t.Helper()
	if def, err := srv.Service().DefaultCertificate(t.Context(), aliceScope); err != nil || def != "rds-ca-ecc384-g1" {
		t.Errorf("override gone: default %s, %v", def, err)
	}
	status, m := sendAdmin(t, signAdmin(t, adminRequest(t, "GET", base+server.ClockPath, ""), "AKIABOB", "bob-secret", "rds", ""))
	if status != 200 || m["now"] != "2024-01-01T00:00:00Z" {
		t.Errorf("clock moved: %d %v", status, m)
	}
}

// In strict mode the admin endpoints refuse what the API refuses, with its
// codes and statuses, as JSON.
func TestStrictAdminRefused(t *testing.T) {
	srv, base := strictAdmin(t)
	endpoints := []struct{ method, path, body string }{
		{"GET", server.ClockPath, ""},
		{"HEAD", server.ClockPath, ""},
		{"PUT", server.ClockPath, `{"now":"2030-01-01T00:00:00Z"}`},
		{"POST", server.AdvancePath, `{"days":8}`},
		{"POST", server.ResetPath, ""},
		{"POST", server.ResetPath, "{}"},
		{"POST", server.MotoResetPath, ""},
		// Refused before routing: no method or path is told apart.
		{"GET", server.MotoResetPath, ""},
		{"DELETE", server.ClockPath, ""},
		{"GET", server.AdminPrefix + "nothing", ""},
	}
	for _, tc := range []struct {
		name   string
		sign   func(r *http.Request, body string) *http.Request
		status int
		code   string
		prefix string
	}{
		{"unsigned", func(r *http.Request, _ string) *http.Request { return r }, 403, server.CodeMissingAuthenticationToken, server.MsgMissingAuthenticationToken},
		{"wrong secret", func(r *http.Request, body string) *http.Request {
			return signAdmin(t, r, "AKIAALICE", "bob-secret", "rds", body)
		}, 403, server.CodeSignatureDoesNotMatch, "The request signature we calculated does not match"},
		{"unknown key", func(r *http.Request, body string) *http.Request {
			return signAdmin(t, r, "AKIANOBODY", "alice-secret", "rds", body)
		}, 403, server.CodeInvalidClientTokenID, server.MsgInvalidClientTokenID},
		{"another service", func(r *http.Request, body string) *http.Request {
			return signAdmin(t, r, "AKIAALICE", "alice-secret", "execute-api", body)
		}, 403, server.CodeSignatureDoesNotMatch, "Credential should be scoped to correct service: 'rds'."},
		{"malformed", func(r *http.Request, _ string) *http.Request {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAALICE/20240101/us-east-1/rds/aws4_request")
			return r
		}, 400, server.CodeIncompleteSignature, "Authorization header requires 'Signature' parameter."},
		{"body changed after signing", func(r *http.Request, body string) *http.Request {
			r = signAdmin(t, r, "AKIAALICE", "alice-secret", "rds", body)
			other := `{"days":3650}`
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(other)), int64(len(other))
			return r
		}, 403, server.CodeSignatureDoesNotMatch, "The request signature we calculated does not match"},
		{"expired", func(r *http.Request, body string) *http.Request {
			sum := sha256.Sum256([]byte(body))
			if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIAALICE", SecretAccessKey: "alice-secret"}, r,
				hex.EncodeToString(sum[:]), "rds", "us-east-1", time.Now().Add(-20*time.Minute)); err != nil {
				t.Fatal(err)
			}
			return r
		}, 403, server.CodeSignatureDoesNotMatch, "Signature expired: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, e := range endpoints {
				r := tc.sign(adminRequest(t, e.method, base+e.path, e.body), e.body)
				if e.method == "HEAD" {
					res, err := http.DefaultClient.Do(r)
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					if res.StatusCode != tc.status {
						t.Errorf("HEAD %s: %d, want %d", e.path, res.StatusCode, tc.status)
					}
					continue
				}
				status, m := sendAdmin(t, r)
				msg, _ := m["error"].(string)
				if status != tc.status || m["code"] != tc.code || !strings.HasPrefix(msg, tc.prefix) {
					t.Errorf("%s %s: %d %v, want %d %s %q...", e.method, e.path, status, m, tc.status, tc.code, tc.prefix)
				}
			}
			untouched(t, srv, base)
		})
	}
	// An unsigned body over the admin bound is refused without being read
	// whole.
	status, m := sendAdmin(t, adminRequest(t, "POST", base+server.ResetPath, strings.Repeat(" ", 100<<10)))
	if status != http.StatusRequestEntityTooLarge || m["error"] == nil {
		t.Errorf("large body: %d %v", status, m)
	}
	untouched(t, srv, base)
}

// In strict mode a request signed by any key of the file may use the admin
// endpoints, header-signed or presigned; they act on every account.
func TestStrictAdminSigned(t *testing.T) {
	srv, base := strictAdmin(t)
	do := func(key, secret, method, path, body string) (int, map[string]any) {
		t.Helper()
		return sendAdmin(t, signAdmin(t, adminRequest(t, method, base+path, body), key, secret, "rds", body))
	}
	steps := []struct {
		key, secret, method, path, body string
		status                          int
		now                             string
	}{
		{"AKIABOB", "bob-secret", "GET", server.ClockPath, "", 200, "2024-01-01T00:00:00Z"},
		{"AKIABOB", "bob-secret", "PUT", server.ClockPath, `{"now":"2024-08-20T00:00:00Z"}`, 200, "2024-08-20T00:00:00Z"},
		{"333333333333", "carol-secret", "POST", server.AdvancePath, `{"days":8}`, 200, "2024-08-28T00:00:00Z"},
		// Once signed, the endpoints answer as in open mode.
		{"AKIABOB", "bob-secret", "POST", server.AdvancePath, `{}`, 400, ""},
		{"AKIABOB", "bob-secret", "DELETE", server.ClockPath, "", 405, ""},
		{"AKIABOB", "bob-secret", "GET", server.AdminPrefix + "nothing", "", 404, ""},
		{"AKIABOB", "bob-secret", "POST", server.ResetPath, "not json", 400, ""},
	}
	for _, s := range steps {
		status, m := do(s.key, s.secret, s.method, s.path, s.body)
		if status != s.status || (s.now != "" && m["now"] != s.now) || (s.now == "" && m["error"] == nil) {
			t.Errorf("%s %s %s by %s: %d %v, want %d %s", s.method, s.path, s.body, s.key, status, m, s.status, s.now)
		}
	}

	// Bob's key resets every account, Alice's included.
	status, m := do("AKIABOB", "bob-secret", "POST", server.ResetPath, "")
	if status != 200 || m["status"] != "ok" {
		t.Fatalf("reset: %d %v", status, m)
	}
	if def, _ := srv.Service().DefaultCertificate(t.Context(), aliceScope); def != rds.DefaultIdentifier {
		t.Errorf("alice's override after bob's reset: %s", def)
	}
	if _, err := srv.Service().ModifyCertificates(t.Context(), aliceScope, rds.ModifyCertificatesInput{CertificateIdentifier: "rds-ca-ecc384-g1"}); err != nil {
		t.Fatal(err)
	}
	status, m = do("AKIAALICE2", "alice-secret-2", "POST", server.MotoResetPath, "ignored")
	if status != 200 || m["status"] != "ok" {
		t.Fatalf("moto reset: %d %v", status, m)
	}
	if def, _ := srv.Service().DefaultCertificate(t.Context(), aliceScope); def != rds.DefaultIdentifier {
		t.Errorf("override after moto reset: %s", def)
	}
	status, m = do("AKIABOB", "bob-secret", "GET", server.MotoResetPath, "")
	if status != 400 || m["Error"] != "Need to POST to reset Moto" {
		t.Errorf("signed GET moto reset: %d %v", status, m)
	}

	// Presigned (query-string) requests are verified too.
	presign := func(method, path string) string {
		r, _ := http.NewRequest(method, base+path+"?X-Amz-Expires=60", nil)
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIABOB", SecretAccessKey: "bob-secret"}, r,
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "rds", "eu-west-1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if status, m := sendAdmin(t, adminRequest(t, "GET", presign("GET", server.ClockPath), "")); status != 200 || m["now"] != "2024-08-28T00:00:00Z" {
		t.Errorf("presigned GET: %d %v", status, m)
	}
	u := presign("POST", server.AdvancePath)
	// The body is not signed by a presigned URL's signer here: its payload
	// hash is the empty body's, so a body is refused.
	if status, m := sendAdmin(t, adminRequest(t, "POST", u, `{"days":1}`)); status != 403 || m["code"] != server.CodeSignatureDoesNotMatch {
		t.Errorf("presigned POST with a body: %d %v", status, m)
	}
	tampered := strings.Replace(presign("GET", server.ClockPath), "X-Amz-Expires=60", "X-Amz-Expires=600", 1)
	if status, m := sendAdmin(t, adminRequest(t, "GET", tampered, "")); status != 403 || m["code"] != server.CodeSignatureDoesNotMatch {
		t.Errorf("tampered presigned GET: %d %v", status, m)
	}
}

// Health, readiness and metrics stay unauthenticated in strict mode.
func TestStrictModeLeavesHealthAndMetricsOpen(t *testing.T) {
	_, base := strictAdmin(t)
	for _, path := range []string{server.HealthPath, server.ReadyPath, server.MetricsPath} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("GET %s unsigned: %d", path, res.StatusCode)
		}
	}
}

// Open mode does not look at the admin requests' signatures: unsigned and
// wrongly signed requests pass, as before strict mode.
func TestOpenAdminIgnoresSignatures(t *testing.T) {
	srv, scopes, tps := seeded(t)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	for _, r := range []*http.Request{
		adminRequest(t, "PUT", hs.URL+server.ClockPath, `{"now":"2030-01-01T00:00:00Z"}`),
		signAdmin(t, adminRequest(t, "PUT", hs.URL+server.ClockPath, `{"now":"2030-01-01T00:00:00Z"}`), "AKIANOBODY", "x", "rds", `{"now":"2030-01-01T00:00:00Z"}`),
		func() *http.Request {
			r := adminRequest(t, "PUT", hs.URL+server.ClockPath, `{"now":"2030-01-01T00:00:00Z"}`)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 garbage")
			return r
		}(),
	} {
		if status, m := sendAdmin(t, r); status != 200 || m["now"] != "2030-01-01T00:00:00Z" {
			t.Errorf("open mode, Authorization %q: %d %v", r.Header.Get("Authorization"), status, m)
		}
	}
	r := signAdmin(t, adminRequest(t, "POST", hs.URL+server.MotoResetPath, ""), "AKIANOBODY", "x", "ec2", "")
	if status, m := sendAdmin(t, r); status != 200 || m["status"] != "ok" {
		t.Errorf("open mode moto reset: %d %v", status, m)
	}
	wantReset(t, srv, scopes, tps)
}
