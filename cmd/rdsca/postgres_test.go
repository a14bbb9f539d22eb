package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rdsca/rdsca/postgres/pgtest"
)

// runPostgres runs rdsca with --store dsn until the test ends, returning
// its address.
func runPostgres(t *testing.T, dsn string) (addr string, stderr *bytes.Buffer) {
	t.Helper()
	ready := make(chan string, 1)
	stderr = &bytes.Buffer{}
	m := &Main{Stderr: stderr, Getenv: env(nil), Ready: func(a string) { ready <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"--listen", "127.0.0.1:0", "--store", dsn, "--transition-delay", "0"})
	}()
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("not ready")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run after cancel: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return addr, stderr
}

func post(t *testing.T, addr, form string) string {
	t.Helper()
	res, err := http.Post("http://"+addr+"/", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", form, res.StatusCode, body)
	}
	return string(body)
}

// TestStorePostgres runs rdsca on --store postgres://…: it is ready, and
// an override set through one process is seen through another sharing
// the database.
func TestStorePostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, _ := runPostgres(t, dsn)
	b, _ := runPostgres(t, dsn)
	for _, addr := range []string{a, b} {
		res, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("readyz on %s: %d", addr, res.StatusCode)
		}
	}
	post(t, a, "Action=ModifyCertificates&Version=2014-10-31&CertificateIdentifier=rds-ca-ecc384-g1")
	body := post(t, b, "Action=DescribeCertificates&Version=2014-10-31")
	if !strings.Contains(body, "<CustomerOverride>true</CustomerOverride>") {
		t.Fatalf("DescribeCertificates through the second process shows no override:\n%s", body)
	}
}

// TestStorePostgresBad checks a PostgreSQL DSN that cannot be used fails
// Run without showing its password.
func TestStorePostgresBad(t *testing.T) {
	m := &Main{Stderr: &bytes.Buffer{}, Getenv: env(nil)}
	err := m.Run(context.Background(), []string{"--listen", "127.0.0.1:0", "--store", "postgres://u:s3cret@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"})
	if err == nil {
		t.Fatal("Run with an unreachable PostgreSQL succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error shows the password: %v", err)
	}
	if !strings.Contains(err.Error(), "--store postgres://u:xxxxx@127.0.0.1:1/") {
		t.Fatalf("error does not name the store: %v", err)
	}
}

func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite":                              "sqlite",
		"postgres://u:pw@h/db":                "postgres://u:xxxxx@h/db",
		"postgresql://u@h/db?password=pw&x=1": "postgresql://u@h/db?password=xxxxx&x=1",
	} {
		if got := redactDSN(in); got != want {
			t.Errorf("redactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}
