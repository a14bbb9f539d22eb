package awsquery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rdsca/rdsca/awsquery"
)

// Identify sees the body exactly as sent (SigV4 hashes it) and the form is
// still parsed from it; an oversized body is still 413.
func TestIdentifyGetsTheBody(t *testing.T) {
	var got []byte
	var calls int
	s := awsquery.NewServer(awsquery.Config{
		Namespace: "http://example.com/doc/2014-10-31/", Version: "2014-10-31",
		MaxBodyBytes: 64,
		Identify: func(r *http.Request, body []byte) (awsquery.Caller, error) {
			calls++
			got = append([]byte(nil), body...)
			return awsquery.Caller{Account: "1", Region: "r"}, nil
		},
	})
	type out struct{ Name string }
	awsquery.Handle(s, "Echo", func(p awsquery.Params) (string, error) { return p.String("Name"), nil },
		func(_ context.Context, _ awsquery.Caller, name string) (*out, error) { return &out{Name: name}, nil })

	body := "Action=Echo&Name=a%20b+c&Version=2014-10-31"
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "<Name>a b c</Name>") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if string(got) != body {
		t.Errorf("Identify got body %q, want %q", got, body)
	}

	r = httptest.NewRequest("GET", "/?Action=Echo&Name=q", nil)
	w = httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 200 || len(got) != 0 {
		t.Errorf("GET: %d, body %q", w.Code, got)
	}

	calls = 0
	r = httptest.NewRequest("POST", "/", strings.NewReader("Action=Echo&Name="+strings.Repeat("x", 100)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w = httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge || calls != 0 {
		t.Errorf("oversized body: %d, Identify called %d times", w.Code, calls)
	}
}
