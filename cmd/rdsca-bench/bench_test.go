package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	st := summarize(lat, 2, 2*time.Second)
	if st.P50 != Duration(50*time.Millisecond) || st.P99 != Duration(99*time.Millisecond) || st.Max != Duration(100*time.Millisecond) {
		t.Errorf("p50 %v p99 %v max %v, want 50ms 99ms 100ms", time.Duration(st.P50), time.Duration(st.P99), time.Duration(st.Max))
	}
	if st.Requests != 100 || st.Errors != 2 || st.RPS != 50 {
		t.Errorf("requests %d errors %d rps %v, want 100 2 50", st.Requests, st.Errors, st.RPS)
	}

	cases := []struct {
		n    int
		p    float64
		want time.Duration
	}{
		{0, 50, 0},
		{1, 50, 1},
		{1, 99, 1},
		{2, 50, 1},
		{2, 99, 2},
		{10, 99, 10},
		{1000, 99, 990},
		{1000, 50, 500},
		{1001, 50, 501},
	}
	for _, c := range cases {
		s := make([]time.Duration, c.n)
		for i := range s {
			s[i] = time.Duration(i + 1)
		}
		if got := percentile(s, c.p); got != c.want {
			t.Errorf("percentile(1..%d, %v) = %d, want %d", c.n, c.p, got, c.want)
		}
	}
}

func TestSummarizeEmpty(t *testing.T) {
	st := summarize(nil, 3, 0)
	if st.RPS != 0 || st.P99 != 0 || st.Errors != 3 {
		t.Errorf("got %+v", st)
	}
}

func TestMedianMs(t *testing.T) {
	if m := medianMs([]float64{30, 10, 20}); m != 20 {
		t.Errorf("odd median %v", m)
	}
	if m := medianMs([]float64{40, 10, 20, 30}); m != 25 {
		t.Errorf("even median %v", m)
	}
}

func TestBareHandler(t *testing.T) {
	for _, n := range []int{0, 10, 68, 69, 2345} {
		body := bareBody(n)
		if len(body) != n {
			t.Fatalf("bareBody(%d) has %d bytes", n, len(body))
		}
		srv := httptest.NewServer(bareHandler(body))
		resp, err := http.Post(srv.URL+"/", "application/x-www-form-urlencoded",
			strings.NewReader("Action=DescribeCertificates&Version=2014-10-31"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/xml" || len(got) != n || resp.ContentLength != int64(n) {
			t.Errorf("n=%d: status %d, type %q, %d bytes, Content-Length %d", n, resp.StatusCode,
				resp.Header.Get("Content-Type"), len(got), resp.ContentLength)
		}
	}
}

func TestRunBareServerLoopbackOnly(t *testing.T) {
	if err := runBareServer("0.0.0.0:0", 10); err == nil {
		t.Error("bare server accepted a non-loopback address")
	}
}

func TestSignedRequest(t *testing.T) {
	b, acct := modifyOp().next(5, 1)
	req, err := newRequest(context.Background(), "127.0.0.1:1", b, acct)
	if err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+modifyAccounts[1]+"/") ||
		!strings.Contains(auth, "/us-east-1/rds/aws4_request") || req.Header.Get("X-Amz-Date") == "" {
		t.Errorf("Authorization %q", auth)
	}
	body, _ := io.ReadAll(req.Body)
	if string(body) != "Action=ModifyCertificates&CertificateIdentifier=rds-ca-ecc384-g1&Version=2014-10-31" {
		t.Errorf("body %q", body)
	}
}

func TestParseStatusField(t *testing.T) {
	status := []byte("Name:\trdsca\nVmHWM:\t   25000 kB\nVmRSS:\t   18000 kB\n")
	if n, err := parseStatusField(status, "VmRSS"); err != nil || n != 18000*1024 {
		t.Errorf("VmRSS = %d, %v", n, err)
	}
	if n, err := parseStatusField(status, "VmHWM"); err != nil || n != 25000*1024 {
		t.Errorf("VmHWM = %d, %v", n, err)
	}
	if _, err := parseStatusField(status, "VmSwap"); err == nil {
		t.Error("missing field: no error")
	}
}

func TestParseConcurrency(t *testing.T) {
	got, err := parseConcurrency(" 32, 4 ")
	if err != nil || len(got) != 2 || got[0] != 32 || got[1] != 4 {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "x", "4,-1"} {
		if _, err := parseConcurrency(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestRunLoad(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
			http.Error(w, "unsigned", http.StatusForbidden)
			return
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("Action") != "DescribeCertificates" {
			http.Error(w, "<ErrorResponse/>", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(bareBody(100))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	cfg := loadConfig{addr: addr, op: describeOp(), concurrency: 4, warmup: 20 * time.Millisecond, duration: 100 * time.Millisecond}
	st := runLoad(context.Background(), cfg)
	if st.Errors != 0 || st.Requests == 0 || st.RPS <= 0 || st.P99 < st.P50 || st.ElapsedSec < 0.1 || st.ElapsedSec > 2 {
		t.Errorf("describe: %+v", st)
	}

	cfg.op = modifyOp()
	st = runLoad(context.Background(), cfg)
	if st.Errors == 0 || st.Requests != 0 || len(st.ErrorSamples) == 0 || !strings.Contains(st.ErrorSamples[0], "HTTP 500") {
		t.Errorf("modify: %+v", st)
	}
}

func TestParsePage(t *testing.T) {
	body := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBInstancesResult>
    <DBInstances>
      <DBInstance><DBInstanceIdentifier>a</DBInstanceIdentifier></DBInstance>
      <DBInstance><DBInstanceIdentifier>b</DBInstanceIdentifier></DBInstance>
    </DBInstances>
    <Marker>ZGI6Yg</Marker>
  </DescribeDBInstancesResult>
</DescribeDBInstancesResponse>`)
	n, m, err := parsePage(body)
	if err != nil || n != 2 || m != "ZGI6Yg" {
		t.Errorf("got %d %q %v", n, m, err)
	}
	last := []byte(strings.Replace(string(body), "<Marker>ZGI6Yg</Marker>", "", 1))
	if n, m, err := parsePage(last); err != nil || n != 2 || m != "" {
		t.Errorf("last page: got %d %q %v", n, m, err)
	}
	if _, _, err := parsePage([]byte(`<?xml version="1.0"?><ErrorResponse/>`)); err == nil {
		t.Error("ErrorResponse parsed as a page")
	}
}

func TestWalkOpFollowsMarkers(t *testing.T) {
	op := walkOp([]string{"", "m1"}, 2, 7)
	page := func(marker string, n int) []byte {
		b := `<?xml version="1.0"?><DescribeDBInstancesResponse><DBInstances>` + strings.Repeat("<DBInstance></DBInstance>", n) + `</DBInstances>`
		if marker != "" {
			b += "<Marker>" + marker + "</Marker>"
		}
		return []byte(b + "</DescribeDBInstancesResponse>")
	}
	if err := op.check(0, page("m2", instancePageSize)); err != nil {
		t.Fatal(err)
	}
	b, acct := op.next(0, 1)
	if acct != instanceAccount || !strings.Contains(b.body, "Marker=m2") || !strings.Contains(b.body, "MaxRecords=100") {
		t.Errorf("next after m2: %q %s", b.body, acct)
	}
	if err := op.check(0, page("", 3)); err != nil { // the last page wraps around
		t.Fatal(err)
	}
	if b, _ := op.next(0, 2); strings.Contains(b.body, "Marker=") {
		t.Errorf("after the last page: %q", b.body)
	}
	if err := op.check(1, page("m3", 5)); err == nil {
		t.Error("a short page with a Marker passed")
	}
}

func TestWithSearchPath(t *testing.T) {
	got, err := withSearchPath("postgres://u:pw@h:5432/db?sslmode=disable", "rdsca_bench_ab")
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres://u:pw@h:5432/db?search_path=rdsca_bench_ab&sslmode=disable"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := withSearchPath("host=h dbname=db", "s"); err == nil {
		t.Error("key=value DSN accepted; rdsca takes only URLs")
	}
}

func TestResolvePostgres(t *testing.T) {
	t.Setenv("RDSCA_POSTGRES_DSN", "")
	if dsn, explicit := resolvePostgres("off"); dsn != "" || explicit {
		t.Errorf("off: %q %v", dsn, explicit)
	}
	if dsn, explicit := resolvePostgres(""); dsn != defaultPostgresDSN || explicit {
		t.Errorf("default: %q %v", dsn, explicit)
	}
	t.Setenv("RDSCA_POSTGRES_DSN", "postgres://x/y")
	if dsn, explicit := resolvePostgres(""); dsn != "postgres://x/y" || !explicit {
		t.Errorf("env: %q %v", dsn, explicit)
	}
	if dsn, explicit := resolvePostgres("postgres://a/b"); dsn != "postgres://a/b" || !explicit {
		t.Errorf("flag: %q %v", dsn, explicit)
	}
}
