package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/server"
	"github.com/rdsca/rdsca/sqlite"
)

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// query sends one API request, signed as account 111111111111 in us-east-1
// unless auth is "", and returns the recorder.
func query(t *testing.T, h http.Handler, body, auth string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.RemoteAddr = "192.0.2.7:4242"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestRequestLogLines(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	srv, err := server.New(server.Config{Store: memory.New(), Clock: clock.Real{}, Generator: keys, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ok := query(t, srv, "Action=DescribeCertificates&Version=2014-10-31", benchAuth)
	missing := query(t, srv, "Version=2014-10-31", "")
	notFound := query(t, srv, "Action=ModifyCertificates&Version=2014-10-31&CertificateIdentifier=nope", benchAuth)
	get(t, srv, server.HealthPath) // not an API request: no line
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, l)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d request lines for 3 API requests:\n%s", len(lines), buf.String())
	}
	for i, c := range []struct {
		rec                           *httptest.ResponseRecorder
		action, account, region, code string
		status                        float64
	}{
		{ok, "DescribeCertificates", "111111111111", "us-east-1", "", 200},
		{missing, "", "", "", "MissingAction", 400},
		{notFound, "ModifyCertificates", "111111111111", "us-east-1", "CertificateNotFound", 404},
	} {
		l := lines[i]
		if c.rec.Code != int(c.status) {
			t.Fatalf("request %d: status %d\n%s", i, c.rec.Code, c.rec.Body)
		}
		want := map[string]any{
			"level": "INFO", "request_id": c.rec.Header().Get("x-amzn-RequestId"), "action": c.action,
			"account": c.account, "region": c.region, "status": c.status, "code": c.code, "remote": "192.0.2.7:4242",
		}
		for k, v := range want {
			if l[k] != v {
				t.Errorf("line %d: %s = %#v, want %#v\n%v", i, k, l[k], v, l)
			}
		}
		if lat, ok := l["latency"].(float64); !ok || lat <= 0 {
			t.Errorf("line %d: latency %#v, want nanoseconds", i, l["latency"])
		}
		if id, _ := l["request_id"].(string); len(id) != 36 {
			t.Errorf("line %d: request_id %q", i, id)
		}
	}
}

func TestRequestLogLevels(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(server.Config{Store: failingStore{memory.New()}, Clock: clock.Real{}, Generator: keys, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	query(t, srv, "Action=DescribeCertificates", benchAuth)                                      // 200: below warn
	query(t, srv, "Action=ModifyCertificates&CertificateIdentifier=rds-ca-ecc384-g1", benchAuth) // 500: an error
	out := buf.String()
	if strings.Contains(out, "action=DescribeCertificates") || !strings.Contains(out, `level=ERROR msg=request`) ||
		!strings.Contains(out, "action=ModifyCertificates") || !strings.Contains(out, "code=InternalFailure") || !strings.Contains(out, "status=500") {
		t.Errorf("at level warn, want only the failed request's line:\n%s", out)
	}
}

// failingStore fails every write.
type failingStore struct{ rds.Store }

func (failingStore) SetOverride(context.Context, rds.Scope, string) error {
	return errors.New("disk on fire")
}

// scrape reads /metrics with the Prometheus text parser.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := get(t, h, server.MetricsPath)
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d\n%s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return mf
}

// sample returns the metric of family name with the labels, or nil.
func sample(mf map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	f := mf[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if got[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func counter(mf map[string]*dto.MetricFamily, action, code string) float64 {
	m := sample(mf, "rdsca_requests_total", map[string]string{"action": action, "code": code})
	if m == nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

func TestMetrics(t *testing.T) {
	srv, err := server.New(server.Config{Store: memory.New(), Clock: clock.Real{}, Generator: keys})
	if err != nil {
		t.Fatal(err)
	}
	// A second server in the process has registries of its own.
	other, err := server.New(server.Config{Store: memory.New(), Clock: clock.Real{}, Generator: keys})
	if err != nil {
		t.Fatal(err)
	}
	mf := scrape(t, srv)
	if got := counter(mf, "DescribeCertificates", "OK"); got != 0 {
		t.Fatalf("before any request: DescribeCertificates OK = %v, want a zero series", got)
	}
	for range 2 {
		query(t, srv, "Action=DescribeCertificates", benchAuth)
	}
	query(t, srv, "Action=ModifyCertificates&CertificateIdentifier=nope", benchAuth)
	query(t, srv, "Version=2014-10-31", "")
	query(t, srv, "Action=NoSuchThing", "")
	query(t, other, "Action=DescribeCertificates", benchAuth)
	get(t, srv, server.HealthPath)
	get(t, srv, server.ReadyPath)

	mf = scrape(t, srv)
	for _, c := range []struct {
		action, code string
		want         float64
	}{
		{"DescribeCertificates", "OK", 2},
		{"ModifyCertificates", "CertificateNotFound", 1},
		{"ModifyCertificates", "OK", 0},
		{"unknown", "MissingAction", 1},
		{"unknown", "InvalidAction", 1},
	} {
		if got := counter(mf, c.action, c.code); got != c.want {
			t.Errorf("rdsca_requests_total{action=%q,code=%q} = %v, want %v", c.action, c.code, got, c.want)
		}
	}
	var total float64
	for _, m := range mf["rdsca_requests_total"].GetMetric() {
		total += m.GetCounter().GetValue()
	}
	if total != 5 {
		t.Errorf("%v requests counted, want the 5 API requests (not health, metrics or the other server's)", total)
	}
	h := sample(mf, "rdsca_request_duration_seconds", map[string]string{"action": "DescribeCertificates"})
	if h == nil || h.GetHistogram().GetSampleCount() != 2 || h.GetHistogram().GetSampleSum() <= 0 {
		t.Errorf("rdsca_request_duration_seconds{action=DescribeCertificates}: %v", h)
	}
	for _, op := range []string{"Override", "CAs", "AddCAs"} {
		m := sample(mf, "rdsca_store_operation_duration_seconds", map[string]string{"op": op})
		if m == nil || m.GetHistogram().GetSampleCount() == 0 {
			t.Errorf("rdsca_store_operation_duration_seconds{op=%q}: %v", op, m)
		}
	}
	if m := sample(mf, "rdsca_store_operation_duration_seconds", map[string]string{"op": "SetOverride"}); m == nil || m.GetHistogram().GetSampleCount() != 0 {
		t.Errorf("SetOverride was never called: %v", m)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes", "rdsca_requests_in_flight", "rdsca_requests_max_concurrent"} {
		if mf[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	if m := sample(mf, "rdsca_requests_max_concurrent", nil); m.GetGauge().GetValue() != 256 {
		t.Errorf("rdsca_requests_max_concurrent %v", m)
	}
	if got := counter(scrape(t, other), "DescribeCertificates", "OK"); got != 1 {
		t.Errorf("other server: %v", got)
	}
	// The server's store still resets through the timing wrapper.
	if rec := query(t, srv, "Action=ModifyCertificates&CertificateIdentifier=rds-ca-ecc384-g1", benchAuth); rec.Code != 200 {
		t.Fatalf("modify: %d", rec.Code)
	}
	req := httptest.NewRequest(http.MethodPost, server.ResetPath, nil)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("reset: %d %s", rec.Code, rec.Body)
	}
	mf = scrape(t, srv)
	if m := sample(mf, "rdsca_store_operation_duration_seconds", map[string]string{"op": "Reset"}); m == nil || m.GetHistogram().GetSampleCount() != 1 {
		t.Errorf("Reset not timed: %v", m)
	}
}

// pingStore is a store whose Ping answers err, or hangs when err is
// errHang.
type pingStore struct {
	rds.Store
	err error
}

var errHang = errors.New("hang")

func (s pingStore) Ping(ctx context.Context) error {
	if s.err == errHang {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // a store that notices late
		return ctx.Err()
	}
	return s.err
}

func TestReadiness(t *testing.T) {
	sq, err := sqlite.Open(filepath.Join(t.TempDir(), "rdsca.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		store  rds.Store
		status int
		body   string
	}{
		{"memory (no Ping)", memory.New(), 200, "ok\n"},
		{"sqlite", sq, 200, "ok\n"},
		{"ping fails", pingStore{memory.New(), errors.New("disk gone")}, 503, "not ready: store unreachable: disk gone\n"},
		{"ping hangs", pingStore{memory.New(), errHang}, 503, "not ready: store unreachable: context deadline exceeded\n"},
	} {
		srv, err := server.New(server.Config{Store: c.store, Clock: clock.Real{}, Generator: keys, ReadyTimeout: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		rec := get(t, srv, server.ReadyPath)
		if rec.Code != c.status || rec.Body.String() != c.body || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
			t.Errorf("%s: %d %q", c.name, rec.Code, rec.Body)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: answered after %s", c.name, d)
		}
		if rec := get(t, srv, server.HealthPath); rec.Code != 200 || rec.Body.String() != "ok\n" {
			t.Errorf("%s: /healthz %d %q", c.name, rec.Code, rec.Body)
		}
	}
	// A closed database is not ready.
	srv, err := server.New(server.Config{Store: sq, Clock: clock.Real{}, Generator: keys})
	if err != nil {
		t.Fatal(err)
	}
	sq.Close()
	if rec := get(t, srv, server.ReadyPath); rec.Code != 503 || !strings.HasPrefix(rec.Body.String(), "not ready: store unreachable: ") {
		t.Errorf("closed sqlite: %d %q", rec.Code, rec.Body)
	}
}

// readResponse reads one HTTP response from a raw connection.
func readResponse(t *testing.T, r *bufio.Reader) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
