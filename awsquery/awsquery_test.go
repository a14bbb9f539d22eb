package awsquery_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/rds"
)

const ns = "http://example.com/doc/2014-10-31/"

func newServer() *awsquery.Server {
	s := awsquery.NewServer(awsquery.Config{
		Namespace: ns, Version: "2014-10-31",
		Identify: func(*http.Request, []byte) (awsquery.Caller, error) {
			return awsquery.Caller{Account: "1", Region: "r"}, nil
		},
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

func TestFilters(t *testing.T) {
	p := awsquery.NewParams(url.Values{
		"Filters.Filter.1.Name":           {"db-instance-id"},
		"Filters.Filter.1.Values.Value.1": {"a"},
		"Filters.Filter.1.Values.Value.2": {"b"},
		"Filters.Filter.2.Name":           {"engine"},
		"Filters.Filter.3.Values.Value.1": {"nameless"},
		"Filters.Filter.5.Name":           {"after-a-gap"},
	})
	got := p.Filters("Filters")
	want := []awsquery.Filter{
		{Name: "db-instance-id", Values: []string{"a", "b"}},
		{Name: "engine"},
		{Values: []string{"nameless"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Filters = %#v, want %#v", got, want)
	}
	generic := awsquery.NewParams(url.Values{
		"Filters.member.1.Name":            {"engine"},
		"Filters.member.1.Values.member.1": {"postgres"},
	})
	if got := generic.Filters("Filters"); !reflect.DeepEqual(got, []awsquery.Filter{{Name: "engine", Values: []string{"postgres"}}}) {
		t.Errorf("generic member names: %#v", got)
	}
	if got := awsquery.NewParams(url.Values{}).Filters("Filters"); got != nil {
		t.Errorf("no filters: %#v", got)
	}
}

func TestTimestamps(t *testing.T) {
	ts := time.Date(2023, 2, 13, 14, 50, 12, 138_999_999, time.FixedZone("x", 3600))
	b, _ := awsquery.TimestampMillis(ts).MarshalText()
	if string(b) != "2023-02-13T13:50:12.138Z" {
		t.Errorf("TimestampMillis: %s", b)
	}
	b, _ = awsquery.TimestampMillis(ts.Truncate(time.Second)).MarshalText()
	if string(b) != "2023-02-13T13:50:12.000Z" {
		t.Errorf("TimestampMillis, whole second: %s", b)
	}
	if awsquery.NewTimestampMillis(nil) != nil || awsquery.NewTimestamp(nil) != nil {
		t.Error("nil time gave a timestamp")
	}
}

func TestEmptyElementsSelfClose(t *testing.T) {
	type list struct {
		Items []string `xml:"member"`
	}
	type result struct {
		Empty  string
		Full   string
		List   list
		Nested struct{ Inner list }
		Ptr    *list
		Raw    []byte `xml:",innerxml"`
	}
	s := awsquery.NewServer(awsquery.Config{
		Namespace: ns, Version: "2014-10-31",
		Identify:  func(*http.Request, []byte) (awsquery.Caller, error) { return awsquery.Caller{}, nil },
		RequestID: func() string { return "rid" },
	})
	awsquery.Handle(s, "Op", func(awsquery.Params) (struct{}, error) { return struct{}{}, nil },
		func(context.Context, awsquery.Caller, struct{}) (result, error) {
			return result{Full: "a></b> <c></c>", Raw: []byte("\n    <Raw></Raw>\n    <X></Y>")}, nil
		})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?Action=Op", nil))
	want := `<?xml version="1.0" encoding="UTF-8"?>
<OpResponse xmlns="` + ns + `">
  <OpResult>
    <Empty/>
    <Full>a&gt;&lt;/b&gt; &lt;c&gt;&lt;/c&gt;</Full>
    <List/>
    <Nested>
      <Inner/>
    </Nested>
    <Raw/>
    <X></Y>
  </OpResult>
  <ResponseMetadata>
    <RequestId>rid</RequestId>
  </ResponseMetadata>
</OpResponse>
`
	if rec.Body.String() != want {
		t.Errorf("got\n%s\nwant\n%s", rec.Body, want)
	}
}
