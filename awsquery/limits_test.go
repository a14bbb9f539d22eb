package awsquery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/rds"
)

// limitServer is a server with Empty, Panic and Block; Block holds its
// concurrency slot until release is closed, telling entered when it runs.
func limitServer(cfg awsquery.Config) (s *awsquery.Server, entered chan struct{}, release chan struct{}) {
	cfg.Namespace, cfg.Version = ns, "2014-10-31"
	if cfg.Identify == nil {
		cfg.Identify = func(r *http.Request, _ []byte) (awsquery.Caller, error) {
			if r.Header.Get("Authorization") == "forged" {
				return awsquery.Caller{}, &rds.Error{Code: "SignatureDoesNotMatch", Message: "no", Fault: rds.Sender}
			}
			return awsquery.Caller{Account: "111111111111", Region: "eu-west-1"}, nil
		}
	}
	if cfg.RequestID == nil {
		cfg.RequestID = func() string { return "rid" }
	}
	s = awsquery.NewServer(cfg)
	entered, release = make(chan struct{}, 16), make(chan struct{})
	type empty struct{}
	none := func(awsquery.Params) (struct{}, error) { return struct{}{}, nil }
	awsquery.Handle(s, "Empty", none, func(context.Context, awsquery.Caller, struct{}) (*empty, error) { return nil, nil })
	awsquery.Handle(s, "Panic", none, func(context.Context, awsquery.Caller, struct{}) (*empty, error) { panic("boom") })
	awsquery.Handle(s, "Block", none, func(context.Context, awsquery.Caller, struct{}) (*empty, error) {
		entered <- struct{}{}
		<-release
		return nil, nil
	})
	return s, entered, release
}

func serve(s http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func post(body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// params returns Action=Empty and n-1 more parameters.
func params(n int) string {
	var b strings.Builder
	b.WriteString("Action=Empty")
	for i := 1; i < n; i++ {
		b.WriteString("&P" + strconv.Itoa(i) + "=v")
	}
	return b.String()
}

func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code, msg string) {
	t.Helper()
	body := rec.Body.String()
	if rec.Code != status || !strings.Contains(body, "<Code>"+code+"</Code>") || !strings.Contains(body, "<Type>Sender</Type>") ||
		!strings.Contains(body, "<Message>"+msg) || !strings.Contains(body, "<RequestId>rid</RequestId>") {
		t.Errorf("got %d\n%s\nwant %d %s %q", rec.Code, body, status, code, msg)
	}
	if got := rec.Header().Get("x-amzn-RequestId"); got != "rid" {
		t.Errorf("x-amzn-RequestId %q", got)
	}
}

func TestTooManyParameters(t *testing.T) {
	s, _, _ := limitServer(awsquery.Config{})
	if rec := serve(s, post(params(awsquery.DefaultMaxParams))); rec.Code != 200 {
		t.Fatalf("%d parameters: %d\n%s", awsquery.DefaultMaxParams, rec.Code, rec.Body)
	}
	if rec := serve(s, httptest.NewRequest(http.MethodGet, "/?"+params(awsquery.DefaultMaxParams), nil)); rec.Code != 200 {
		t.Fatalf("%d parameters in the query: %d\n%s", awsquery.DefaultMaxParams, rec.Code, rec.Body)
	}
	wantError(t, serve(s, post(params(awsquery.DefaultMaxParams+1))), 400, "InvalidQueryParameter", "The request has more than 1000 parameters.")
	wantError(t, serve(s, httptest.NewRequest(http.MethodGet, "/?"+params(awsquery.DefaultMaxParams+1), nil)), 400, "InvalidQueryParameter", "The request has more than 1000 parameters.")
	// Past net/url's own cap (10,000) the form does not parse; still the
	// same answer, not MalformedQueryString.
	wantError(t, serve(s, post(params(20000))), 400, "InvalidQueryParameter", "The request has more than 1000 parameters.")

	// The query string and the body count together; repeated names count
	// once per value.
	s, _, _ = limitServer(awsquery.Config{MaxParams: 3})
	if rec := serve(s, post("Action=Empty&A=1&A=2")); rec.Code != 200 {
		t.Fatalf("3 parameters: %d\n%s", rec.Code, rec.Body)
	}
	wantError(t, serve(s, post("Action=Empty&A=1&A=2&A=3")), 400, "InvalidQueryParameter", "The request has more than 3 parameters.")
	req := httptest.NewRequest(http.MethodPost, "/?Version=2014-10-31&X=1", strings.NewReader("Action=Empty&Y=2"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	wantError(t, serve(s, req), 400, "InvalidQueryParameter", "The request has more than 3 parameters.")
}

func TestConcurrencyBound(t *testing.T) {
	s, entered, release := limitServer(awsquery.Config{MaxConcurrent: 1, QueueTimeout: 20 * time.Millisecond})
	if s.MaxConcurrent() != 1 {
		t.Fatalf("MaxConcurrent %d", s.MaxConcurrent())
	}
	done := make(chan int)
	go func() { done <- serve(s, post("Action=Block")).Code }()
	<-entered
	if s.InFlight() != 1 {
		t.Errorf("InFlight %d, want 1", s.InFlight())
	}
	start := time.Now()
	wantError(t, serve(s, post("Action=Empty")), 400, "Throttling", "Rate exceeded")
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("throttled after %s, before the queue timeout", d)
	}
	// A request whose client has gone does not wait.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	wantError(t, serve(s, post("Action=Empty").WithContext(ctx)), 400, "Throttling", "Rate exceeded")
	close(release)
	if code := <-done; code != 200 {
		t.Fatalf("blocked request: %d", code)
	}
	if rec := serve(s, post("Action=Empty")); rec.Code != 200 || s.InFlight() != 0 {
		t.Fatalf("after the slot freed: %d, in flight %d", rec.Code, s.InFlight())
	}
	// A panic gives its slot back.
	if rec := serve(s, post("Action=Panic")); rec.Code != 500 {
		t.Fatalf("panic: %d", rec.Code)
	}
	if rec := serve(s, post("Action=Empty")); rec.Code != 200 {
		t.Fatalf("after a panic: %d\n%s", rec.Code, rec.Body)
	}
}

func TestConcurrencyQueueWaits(t *testing.T) {
	s, entered, release := limitServer(awsquery.Config{MaxConcurrent: 1, QueueTimeout: 10 * time.Second})
	first := make(chan int)
	go func() { first <- serve(s, post("Action=Block")).Code }()
	<-entered
	second := make(chan int)
	go func() { second <- serve(s, post("Action=Empty")).Code }()
	time.Sleep(20 * time.Millisecond)
	close(release)
	if a, b := <-first, <-second; a != 200 || b != 200 {
		t.Fatalf("statuses %d and %d; the second request should have waited for the slot", a, b)
	}

	// A negative queue timeout throttles at once; a negative bound is none.
	s, entered, release = limitServer(awsquery.Config{MaxConcurrent: 1, QueueTimeout: -1})
	go func() { first <- serve(s, post("Action=Block")).Code }()
	<-entered
	wantError(t, serve(s, post("Action=Empty")), 400, "Throttling", "Rate exceeded")
	close(release)
	<-first
	s, entered, release = limitServer(awsquery.Config{MaxConcurrent: -1})
	var wg sync.WaitGroup
	for range 300 {
		wg.Go(func() { serve(s, post("Action=Block")) })
	}
	for range 300 {
		<-entered
	}
	close(release)
	wg.Wait()
	if s.MaxConcurrent() != 0 {
		t.Errorf("unbounded MaxConcurrent %d", s.MaxConcurrent())
	}
}

func TestObserveSeesEveryRequest(t *testing.T) {
	var mu sync.Mutex
	var infos []awsquery.RequestInfo
	s, entered, release := limitServer(awsquery.Config{
		MaxBodyBytes: 128, MaxConcurrent: 1, QueueTimeout: -1,
		Observe: func(i awsquery.RequestInfo) {
			mu.Lock()
			defer mu.Unlock()
			infos = append(infos, i)
		},
	})
	last := func() awsquery.RequestInfo {
		mu.Lock()
		defer mu.Unlock()
		return infos[len(infos)-1]
	}
	account := awsquery.Caller{Account: "111111111111", Region: "eu-west-1"}
	forged := post("Action=Empty")
	forged.Header.Set("Authorization", "forged")
	long := strings.Repeat("X", 100)
	for _, c := range []struct {
		name         string
		req          *http.Request
		status       int
		code, action string
		operation    string
		caller       awsquery.Caller
	}{
		{"success", post("Action=Empty"), 200, "", "Empty", "Empty", account},
		{"missing action", post("Version=1"), 400, "MissingAction", "", "", awsquery.Caller{}},
		{"unknown action", post("Action=" + long), 400, "InvalidAction", long[:64] + "...", "", account},
		{"auth failure", forged, 403, "SignatureDoesNotMatch", "Empty", "Empty", awsquery.Caller{}},
		{"too large", post("Action=Empty&Pad=" + long + long), 413, "RequestEntityTooLarge", "", "", awsquery.Caller{}},
		{"bad method", httptest.NewRequest(http.MethodPut, "/", nil), 405, "MethodNotAllowed", "", "", awsquery.Caller{}},
		{"panic", post("Action=Panic"), 500, "InternalFailure", "Panic", "Panic", account},
	} {
		start := time.Now()
		rec := serve(s, c.req)
		i := last()
		if i.RequestID != "rid" || i.Status != c.status || rec.Code != c.status || i.Code != c.code || i.Action != c.action ||
			i.Operation != c.operation || i.Caller != c.caller || i.Request != c.req {
			t.Errorf("%s: observed %+v (sent %d)", c.name, i, rec.Code)
		}
		if i.Duration <= 0 || i.Start.Before(start) || i.Duration > time.Since(start) {
			t.Errorf("%s: start %s, duration %s", c.name, i.Start, i.Duration)
		}
	}
	blocked := make(chan struct{})
	go func() {
		defer close(blocked)
		serve(s, post("Action=Block"))
	}()
	<-entered
	serve(s, post("Action=Empty"))
	if i := last(); i.Status != 400 || i.Code != "Throttling" || i.Action != "" {
		t.Errorf("throttled: observed %+v", i)
	}
	close(release)
	<-blocked
	mu.Lock()
	defer mu.Unlock()
	if len(infos) != 9 {
		t.Errorf("%d observations for 9 requests answered", len(infos))
	}
}

func TestTooLargeClosesConnection(t *testing.T) {
	s, _, _ := limitServer(awsquery.Config{MaxBodyBytes: 16, Observe: func(awsquery.RequestInfo) {}})
	rec := serve(s, post("Action=Empty&Pad=0123456789"))
	wantError(t, rec, 413, "RequestEntityTooLarge", "Request body must be no larger than 16 bytes.")
	if rec.Header().Get("Connection") != "close" {
		t.Errorf("413 without Connection: close; the unread body would be read as the next request")
	}
}
