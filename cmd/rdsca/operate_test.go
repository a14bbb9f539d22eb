package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rdsca/rdsca/server"
)

func TestOperatingDefaults(t *testing.T) {
	m := &Main{Stderr: &bytes.Buffer{}, Getenv: env(nil)}
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	want := Operating{
		MaxBodyBytes: 1 << 20, MaxParams: 1000, MaxConcurrent: 256, QueueTimeout: time.Second,
		HeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		LogFormat: "text", LogLevel: "info",
	}
	if m.Operating != want {
		t.Errorf("defaults\n got %+v\nwant %+v", m.Operating, want)
	}
}

func TestOperatingFlagsAndTwins(t *testing.T) {
	m := &Main{Stderr: &bytes.Buffer{}, Getenv: env(map[string]string{
		"RDSCA_MAX_BODY_BYTES": "2048", "RDSCA_MAX_PARAMS": "50", "RDSCA_MAX_CONCURRENT": "8", "RDSCA_QUEUE_TIMEOUT": "0s",
		"RDSCA_HEADER_TIMEOUT": "1s", "RDSCA_READ_TIMEOUT": "2s", "RDSCA_IDLE_TIMEOUT": "3s",
		"RDSCA_LOG_FORMAT": "json", "RDSCA_LOG_LEVEL": "debug",
	})}
	if err := m.ParseFlags([]string{"--max-concurrent", "9", "--log-level", "warn", "--read-timeout", "5s"}); err != nil {
		t.Fatal(err)
	}
	want := Operating{
		MaxBodyBytes: 2048, MaxParams: 50, MaxConcurrent: 9, QueueTimeout: 0,
		HeaderTimeout: time.Second, ReadTimeout: 5 * time.Second, IdleTimeout: 3 * time.Second,
		LogFormat: "json", LogLevel: "warn",
	}
	if m.Operating != want {
		t.Errorf("\n got %+v\nwant %+v", m.Operating, want)
	}
	if cfg := m.serverLimits(server.Config{}); cfg.QueueTimeout >= 0 || cfg.MaxParams != 50 || cfg.MaxBodyBytes != 2048 || cfg.MaxConcurrent != 9 {
		t.Errorf("--queue-timeout 0 must throttle at once: %+v", cfg)
	}
}

func TestOperatingErrors(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"RDSCA_MAX_PARAMS": "many"}, nil, "RDSCA_MAX_PARAMS"},
		{map[string]string{"RDSCA_IDLE_TIMEOUT": "5"}, nil, "RDSCA_IDLE_TIMEOUT"},
		{nil, []string{"--max-body-bytes", "0"}, "--max-body-bytes"},
		{nil, []string{"--max-params", "0"}, "--max-params"},
		{nil, []string{"--max-params", "10001"}, "--max-params"},
		{nil, []string{"--max-concurrent", "0"}, "--max-concurrent"},
		{nil, []string{"--queue-timeout", "-1s"}, "--queue-timeout"},
		{nil, []string{"--header-timeout", "0s"}, "--header-timeout"},
		{nil, []string{"--read-timeout", "-1s"}, "--read-timeout"},
		{nil, []string{"--idle-timeout", "0s"}, "--idle-timeout"},
		{nil, []string{"--log-format", "xml"}, "--log-format"},
		{nil, []string{"--log-level", "loud"}, "--log-level"},
	} {
		m := &Main{Stderr: &bytes.Buffer{}, Getenv: env(c.env)}
		err := m.ParseFlags(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v %v: err = %v, want one line mentioning %s", c.env, c.args, err, c.want)
		}
	}
}

// logBuffer is a bytes.Buffer the server and the test can share.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestRunLogsJSONAndServesMetrics(t *testing.T) {
	var stderr logBuffer
	ready := make(chan string, 1)
	m := &Main{Stderr: &stderr, Getenv: env(nil), Ready: func(a string) { ready <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"--listen", "127.0.0.1:0", "--store", "memory", "--log-format", "json", "--max-params", "3"})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := do("POST", "/", "Action=DescribeCertificates&Version=2014-10-31"); code != 200 {
		t.Fatalf("DescribeCertificates: %d\n%s", code, body)
	}
	if code, body := do("POST", "/", "Action=DescribeCertificates&Version=2014-10-31&A=1&B=2"); code != 400 || !strings.Contains(body, "<Code>InvalidQueryParameter</Code>") {
		t.Fatalf("4 parameters over --max-params 3: %d\n%s", code, body)
	}
	if code, body := do("GET", "/readyz", ""); code != 200 || body != "ok\n" {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	if code, body := do("GET", "/metrics", ""); code != 200 ||
		!strings.Contains(body, `rdsca_requests_total{action="DescribeCertificates",code="OK"} 1`) ||
		!strings.Contains(body, `rdsca_requests_total{action="DescribeCertificates",code="InvalidQueryParameter"} 1`) {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var requests int
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		var line map[string]any
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("--log-format json wrote a line that is not JSON: %v\n%s", err, l)
		}
		if line["msg"] == "request" {
			requests++
			for _, k := range []string{"time", "level", "request_id", "action", "account", "region", "status", "code", "latency", "remote"} {
				if _, ok := line[k]; !ok {
					t.Errorf("request line without %s: %s", k, l)
				}
			}
			if line["code"] == "" && (line["account"] != "000000000000" || line["region"] != "us-east-1" || line["status"] != 200.0) {
				t.Errorf("unsigned request line: %s", l)
			}
		}
	}
	if requests != 2 {
		t.Errorf("%d request lines for 2 API requests:\n%s", requests, stderr.String())
	}
}
