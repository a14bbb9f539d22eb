package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"
	dto "github.com/prometheus/client_model/go"

	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/server"
)

// blockingStore holds Override calls until release is closed.
type blockingStore struct {
	rds.Store
	entered chan struct{}
	release chan struct{}
}

func (s blockingStore) Override(ctx context.Context, sc rds.Scope) (string, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.Store.Override(ctx, sc)
}

func TestConcurrencyBoundThrottles(t *testing.T) {
	store := blockingStore{memory.New(), make(chan struct{}, 4), make(chan struct{})}
	srv, err := server.New(server.Config{Store: store, Clock: clock.Real{}, Generator: keys, MaxConcurrent: 2, QueueTimeout: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 2)
	for range 2 {
		go func() { done <- query(t, srv, "Action=DescribeCertificates", benchAuth).Code }()
		<-store.entered
	}
	rec := query(t, srv, "Action=DescribeCertificates", benchAuth)
	body := rec.Body.String()
	for _, want := range []string{"<Type>Sender</Type>", "<Code>Throttling</Code>", "<Message>Rate exceeded</Message>"} {
		if rec.Code != 400 || !strings.Contains(body, want) {
			t.Errorf("third request: %d, want 400 with %s:\n%s", rec.Code, want, body)
		}
	}
	// Health, readiness, metrics and admin endpoints do not count.
	for _, path := range []string{server.HealthPath, server.ReadyPath, server.MetricsPath, server.ClockPath} {
		if rec := get(t, srv, path); rec.Code != 200 {
			t.Errorf("GET %s with the API saturated: %d", path, rec.Code)
		}
	}
	mf := scrape(t, srv)
	if got := counter(mf, "unknown", "Throttling"); got != 1 {
		t.Errorf("throttled requests counted %v", got)
	}
	if m := sample(mf, "rdsca_requests_in_flight", nil); m.GetGauge().GetValue() != 2 {
		t.Errorf("in flight: %v", m)
	}
	close(store.release)
	for range 2 {
		if code := <-done; code != 200 {
			t.Errorf("held request: %d", code)
		}
	}
}

// limitedServer serves srv over loopback with the timeouts.
func limitedServer(t *testing.T, to server.Timeouts) string {
	t.Helper()
	srv, err := server.New(server.Config{Store: memory.New(), Clock: clock.Real{}, Generator: keys})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv)
	hs := srv.HTTPServer(to)
	ts.Config.ReadHeaderTimeout, ts.Config.ReadTimeout, ts.Config.IdleTimeout = hs.ReadHeaderTimeout, hs.ReadTimeout, hs.IdleTimeout
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

// wantClosed checks that the server closes c without answering.
func wantClosed(t *testing.T, r *bufio.Reader, what string) {
	t.Helper()
	b, err := r.ReadByte()
	if err == nil {
		t.Fatalf("%s: the server sent %q, want the connection closed", what, b)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: the connection is still open", what)
	}
}

func TestHeaderTimeout(t *testing.T) {
	addr := limitedServer(t, server.Timeouts{Header: 100 * time.Millisecond, Read: time.Minute, Idle: time.Minute})
	c, r := dial(t, addr)
	start := time.Now()
	// A slow client: the request line and half the headers, then nothing.
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: rdsca\r\n"); err != nil {
		t.Fatal(err)
	}
	wantClosed(t, r, "headers never finished")
	if d := time.Since(start); d < 50*time.Millisecond || d > 5*time.Second {
		t.Errorf("closed after %s, want about the header timeout", d)
	}
}

func TestReadTimeoutAnswersRequestTimeout(t *testing.T) {
	addr := limitedServer(t, server.Timeouts{Header: time.Minute, Read: 200 * time.Millisecond, Idle: time.Minute})
	c, r := dial(t, addr)
	start := time.Now()
	// Headers in time, then a body that stops a third of the way.
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: rdsca\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nAction=DescribeCertificates"); err != nil {
		t.Fatal(err)
	}
	resp, body := readResponse(t, r)
	if resp.StatusCode != 400 || !strings.Contains(body, "<Code>RequestTimeout</Code>") || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("slow body: %d\n%s", resp.StatusCode, body)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 5*time.Second {
		t.Errorf("answered after %s, want about the read timeout", d)
	}
	// The rest of the body is not awaited: the connection closes.
	wantClosed(t, r, "after the timed-out request")

	// A client that sends its body in time is served on the same limits.
	c, r = dial(t, addr)
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: rdsca\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 27\r\n\r\nAction=DescribeCertificates"); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResponse(t, r); resp.StatusCode != 200 {
		t.Errorf("prompt body: %d\n%s", resp.StatusCode, body)
	}
}

func TestIdleTimeout(t *testing.T) {
	addr := limitedServer(t, server.Timeouts{Header: time.Minute, Read: time.Minute, Idle: 150 * time.Millisecond})
	c, r := dial(t, addr)
	for i := range 2 { // keep-alive: two requests on one connection
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: rdsca\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		if resp, body := readResponse(t, r); resp.StatusCode != 200 || body != "ok\n" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	start := time.Now()
	wantClosed(t, r, "idle connection")
	if d := time.Since(start); d < 100*time.Millisecond || d > 5*time.Second {
		t.Errorf("idle connection closed after %s, want about the idle timeout", d)
	}
}

func TestDefaultTimeouts(t *testing.T) {
	srv, err := server.New(server.Config{Store: memory.New(), Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer(server.DefaultTimeouts())
	if hs.ReadHeaderTimeout != 10*time.Second || hs.ReadTimeout != 30*time.Second || hs.IdleTimeout != 2*time.Minute || hs.Handler != srv || hs.ErrorLog == nil {
		t.Errorf("%+v", hs)
	}
}

// TestSDKRetriesThrottling shows why an over-bound request gets Throttling:
// aws-sdk-go-v2 backs off and retries it, and the call succeeds once a slot
// frees.
func TestSDKRetriesThrottling(t *testing.T) {
	store := blockingStore{memory.New(), make(chan struct{}, 4), make(chan struct{})}
	srv, err := server.New(server.Config{Store: store, Clock: clock.Real{}, Generator: keys, MaxConcurrent: 1, QueueTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := rdssdk.NewFromConfig(aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "111111111111", SecretAccessKey: "secret"}, nil
		}),
		BaseEndpoint: aws.String(ts.URL),
		HTTPClient:   ts.Client(),
	})
	held := make(chan error, 1)
	go func() {
		_, err := client.DescribeCertificates(context.Background(), &rdssdk.DescribeCertificatesInput{})
		held <- err
	}()
	<-store.entered // the only slot is taken
	go func() {
		// Free the slot once the second call has been throttled.
		for throttled(srv) < 1 {
			time.Sleep(5 * time.Millisecond)
		}
		close(store.release)
	}()
	out, err := client.DescribeCertificates(context.Background(), &rdssdk.DescribeCertificatesInput{})
	if err != nil {
		t.Fatalf("the SDK did not retry Throttling to success: %v", err)
	}
	if len(out.Certificates) == 0 {
		t.Error("no certificates")
	}
	if err := <-held; err != nil {
		t.Fatal(err)
	}
}

// throttled counts the requests srv throttled, from its registry.
func throttled(srv *server.Server) float64 {
	mfs, _ := srv.Registry().Gather()
	m := map[string]*dto.MetricFamily{}
	for _, f := range mfs {
		m[f.GetName()] = f
	}
	return counter(m, "unknown", "Throttling")
}
