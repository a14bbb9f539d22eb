package awsquery_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/rds"
)

const ns = "http://example.com/doc/2014-10-31/"

func newServer() *awsquery.Server {
	s := awsquery.NewServer(awsquery.Config{
		Namespace: ns, Version: "2014-10-31",
		Identify:  func(*http.Request) (awsquery.Caller, error) { return awsquery.Caller{Account: "1", Region: "r"}, nil },
		Statuses:  awsquery.Statuses{"Gone": http.StatusGone},
		RequestID: func() string { return "rid" },
	})
	type empty struct{}
	none := func(awsquery.Params) (struct{}, error) { return struct{}{}, nil }
	awsquery.Handle(s, "Empty", none, func(context.Context, awsquery.Caller, struct{}) (*empty, error) { return nil, nil })
	awsquery.Handle(s, "Panic", none, func(context.Context, awsquery.Caller, struct{}) (*empty, error) { panic("boom") })
	awsquery.Handle(s, "Plain", none, func(context.Context, awsquery.Caller, struct{}) (*empty, error) {
		return nil, errors.New("disk on fire")
	})
	awsquery.Handle(s, "Gone", none, func(context.Context, awsquery.Caller, struct{}) (*empty, error) {
		return nil, rds.Errorf("Gone", "it is <gone> & \"done\"")
	})
	awsquery.Handle(s, "Busy", none, func(context.Context, awsquery.Caller, struct{}) (*empty, error) {
		return nil, &rds.Error{Code: "Busy", Message: "later", Fault: rds.Receiver}
	})
	return s
}

func call(t *testing.T, action string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	newServer().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?Action="+action, nil))
	return rec.Code, rec.Body.String()
}

func TestEmptyResultElementAlwaysPresent(t *testing.T) {
	code, body := call(t, "Empty")
	want := `<?xml version="1.0" encoding="UTF-8"?>
<EmptyResponse xmlns="` + ns + `">
  <EmptyResult/>
  <ResponseMetadata>
    <RequestId>rid</RequestId>
  </ResponseMetadata>
</EmptyResponse>
`
	if code != 200 || body != want {
		t.Fatalf("%d\n%s", code, body)
	}
}

func TestErrorsMapOnce(t *testing.T) {
	for _, c := range []struct {
		action         string
		status         int
		typ, code, msg string
	}{
		{"Panic", 500, "Receiver", "InternalFailure", "We encountered an internal error. Please try again."},
		{"Plain", 500, "Receiver", "InternalFailure", "We encountered an internal error. Please try again."},
		{"Gone", 410, "Sender", "Gone", "it is &lt;gone&gt; &amp; &#34;done&#34;"},
		{"Busy", 500, "Receiver", "Busy", "later"},
	} {
		code, body := call(t, c.action)
		for _, want := range []string{"<Type>" + c.typ + "</Type>", "<Code>" + c.code + "</Code>", "<Message>" + c.msg + "</Message>", "<RequestId>rid</RequestId>"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: body lacks %s:\n%s", c.action, want, body)
			}
		}
		if code != c.status {
			t.Errorf("%s: status %d, want %d", c.action, code, c.status)
		}
		if strings.Contains(body, "disk on fire") || strings.Contains(body, "boom") {
			t.Errorf("%s: internal detail leaked:\n%s", c.action, body)
		}
	}
}

func TestParams(t *testing.T) {
	p := awsquery.NewParams(url.Values{
		"B1": {"TRUE"}, "B2": {"false"}, "B3": {"1"},
		"I1": {"42"}, "I2": {"4294967296"}, "I3": {"-3"},
		"L.member.1": {"a"}, "L.member.2": {"b"}, "L.member.4": {"d"},
	})
	if b, err := p.Bool("B1"); err != nil || !*b {
		t.Errorf("B1: %v %v", b, err)
	}
	if b, err := p.Bool("B2"); err != nil || *b {
		t.Errorf("B2: %v %v", b, err)
	}
	if _, err := p.Bool("B3"); !errors.Is(err, rds.ErrInvalidParameterValue) {
		t.Errorf("B3: %v", err)
	}
	if b, err := p.Bool("absent"); b != nil || err != nil {
		t.Errorf("absent bool: %v %v", b, err)
	}
	if n, err := p.Int("I1"); err != nil || *n != 42 {
		t.Errorf("I1: %v %v", n, err)
	}
	if _, err := p.Int("I2"); !errors.Is(err, rds.ErrInvalidParameterValue) {
		t.Errorf("I2 (overflow): %v", err)
	}
	if n, err := p.Int("I3"); err != nil || *n != -3 {
		t.Errorf("I3: %v %v", n, err)
	}
	if got := strings.Join(p.List("L", "member"), ","); got != "a,b" {
		t.Errorf("List stops at the first gap: %s", got)
	}
}

func TestEncodeFragment(t *testing.T) {
	type item struct{ Name string }
	b, err := awsquery.EncodeFragment(item{Name: "x&y"}, "Item", 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := "\n    <Item>\n      <Name>x&amp;y</Name>\n    </Item>"; string(b) != want {
		t.Fatalf("%q, want %q", b, want)
	}
}
