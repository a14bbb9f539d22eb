package postgres

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/postgres/pgtest"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/server"
)

// proxy forwards TCP connections from a local port to a PostgreSQL
// server; cut drops the listener and every connection, restore listens
// again on the same port.
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p := &proxy{t: t, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() {
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			if !p.track(c, up) {
				return
			}
			p.wg.Add(2)
			go p.pipe(c, up)
			go p.pipe(up, c)
		}
	}()
}

// track records c and up, or closes them if the proxy was cut meanwhile.
func (p *proxy) track(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		c.Close()
		up.Close()
		return false
	}
	p.conns[c], p.conns[up] = true, true
	return true
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *proxy) restore() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// viaProxy returns dsn pointed at addr instead of its server.
func viaProxy(t *testing.T, dsn, addr string) (target, out string) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(cfg.Host, "/") {
		t.Skip("skipping: the test server is on a Unix socket; the fault test needs TCP")
	}
	target = net.JoinHostPort(cfg.Host, itoa(int(cfg.Port)))
	host, port, _ := net.SplitHostPort(addr)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.Host = addr
		return target, u.String()
	}
	return target, dsn + " host=" + host + " port=" + port
}

func itoa(n int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

const faultAuth = "AWS4-HMAC-SHA256 Credential=%s/20261204/us-east-1/rds/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func apiCall(t *testing.T, h http.Handler, account, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body+"&Version=2014-10-31"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Authorization", strings.Replace(faultAuth, "%s", account, 1))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func readyz(h http.Handler) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, server.ReadyPath, nil))
	return rec.Code
}

// TestDatabaseUnreachable cuts the connection to PostgreSQL under a
// server: requests answer ServiceUnavailable (503, Receiver) quickly and
// /readyz 503; when the connection returns, service resumes by itself and
// every write acknowledged before the cut is there.
func TestDatabaseUnreachable(t *testing.T) {
	dsn := pgtest.DSN(t)
	target, _ := viaProxy(t, dsn, "127.0.0.1:1")
	p := newProxy(t, target)
	_, pdsn := viaProxy(t, dsn, p.addr)
	st := openTest(t, pdsn)
	defer st.Close()
	srv, err := server.New(server.Config{Store: st, Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"rds-ca-rsa2048-g1", "rds-ca-ecc384-g1"}
	accounts := []string{"111111111111", "222222222222", "333333333333", "444444444444"}
	acked := map[string]string{}
	for i, a := range accounts {
		id := ids[i%2]
		rec := apiCall(t, srv, a, "Action=ModifyCertificates&CertificateIdentifier="+id)
		if rec.Code != http.StatusOK {
			t.Fatalf("ModifyCertificates for %s: %d\n%s", a, rec.Code, rec.Body)
		}
		acked[a] = id
	}
	if c := readyz(srv); c != http.StatusOK {
		t.Fatalf("/readyz before the cut = %d", c)
	}

	p.cut()
	for _, body := range []string{
		"Action=DescribeCertificates",
		"Action=ModifyCertificates&CertificateIdentifier=rds-ca-rsa4096-g1",
		"Action=DescribeCertificates",
	} {
		start := time.Now()
		rec := apiCall(t, srv, accounts[0], body)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v with the database unreachable", body, d)
		}
		if rec.Code != http.StatusServiceUnavailable ||
			!strings.Contains(rec.Body.String(), "<Code>ServiceUnavailable</Code>") ||
			!strings.Contains(rec.Body.String(), "<Type>Receiver</Type>") {
			t.Fatalf("%s with the database unreachable: %d\n%s", body, rec.Code, rec.Body)
		}
	}
	start := time.Now()
	if c := readyz(srv); c != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with the database unreachable = %d", c)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("/readyz took %v with the database unreachable", d)
	}
	_, err = st.Override(t.Context(), rds.Scope{Account: accounts[0], Region: "us-east-1"})
	if !errors.Is(err, rds.ErrServiceUnavailable) {
		t.Fatalf("Override with the database unreachable: %v, want ServiceUnavailable", err)
	}
	var ce *pgconn.ConnectError
	var re *rds.Error
	if !errors.As(err, &re) || re.Fault != rds.Receiver || !errors.As(err, &ce) {
		t.Fatalf("Override error %v: want an rds.Error Receiver wrapping a pgconn.ConnectError", err)
	}

	p.restore()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rec := apiCall(t, srv, accounts[0], "Action=DescribeCertificates")
		if rec.Code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the database returned: %d\n%s", rec.Code, rec.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c := readyz(srv); c != http.StatusOK {
		t.Fatalf("/readyz after the database returned = %d", c)
	}
	for _, a := range accounts {
		got, err := st.Override(t.Context(), rds.Scope{Account: a, Region: "us-east-1"})
		if err != nil || got != acked[a] {
			t.Errorf("override of %s after the outage = %q, %v; want %q", a, got, err, acked[a])
		}
	}
	if rec := apiCall(t, srv, accounts[0], "Action=ModifyCertificates&CertificateIdentifier=rds-ca-rsa4096-g1"); rec.Code != http.StatusOK {
		t.Fatalf("ModifyCertificates after the outage: %d\n%s", rec.Code, rec.Body)
	}
}

func TestUnavailableClassifies(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{&pgconn.PgError{Code: "23505"}, false},
		{&pgconn.PgError{Code: "40001"}, false},
		{&pgconn.PgError{Code: "08006"}, true},
		{&pgconn.PgError{Code: "57P01"}, true},
		{&pgconn.PgError{Code: "57P03"}, true},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{io.ErrUnexpectedEOF, true},
	} {
		if got := unavailable(c.err); got != c.want {
			t.Errorf("unavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	err := storeErr("set override: %w", &pgconn.PgError{Code: "08006"})
	var re *rds.Error
	var pe *pgconn.PgError
	if !errors.As(err, &re) || re.Code != rds.CodeServiceUnavailable || re.Fault != rds.Receiver || !errors.As(err, &pe) {
		t.Errorf("storeErr = %#v", err)
	}
	if err := storeErr("x: %w", &pgconn.PgError{Code: "23505"}); errors.As(err, &re) {
		t.Errorf("storeErr of a statement error = %v, want no rds.Error", err)
	}
}
