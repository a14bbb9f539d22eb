// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema on the test server, dropped when the test ends.
//
// The server is the one RDSCA_POSTGRES_DSN names, else DefaultDSN if it
// answers. Without a server the test skips, unless RDSCA_REQUIRE_POSTGRES=1
// or RDSCA_POSTGRES_DSN is set, when it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the server tried when RDSCA_POSTGRES_DSN is unset.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ServerDSN returns the DSN of the test server, skipping or failing t as
// the package comment says when it does not answer.
func ServerDSN(t testing.TB) string {
	t.Helper()
	dsn, given := os.LookupEnv("RDSCA_POSTGRES_DSN")
	if !given || dsn == "" {
		dsn, given = DefaultDSN, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		switch {
		case given:
			t.Fatalf("PostgreSQL at RDSCA_POSTGRES_DSN does not answer: %v", err)
		case os.Getenv("RDSCA_REQUIRE_POSTGRES") == "1":
			t.Fatalf("RDSCA_REQUIRE_POSTGRES=1 but PostgreSQL at %s does not answer: %v", DefaultDSN, err)
		default:
			t.Skipf("skipping: no PostgreSQL at %s (%v); set RDSCA_POSTGRES_DSN to a server's DSN, or RDSCA_REQUIRE_POSTGRES=1 to fail instead", DefaultDSN, err)
		}
	}
	return dsn
}

// DSN returns a DSN whose search_path is a new, empty schema on the test
// server; the schema is dropped, with all it holds, when t ends. Stores
// opened on it must be closed before then (register their Close after
// calling DSN).
func DSN(t testing.TB) string {
	t.Helper()
	server := ServerDSN(t)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "rdsca_test_" + hex.EncodeToString(b[:])
	exec(t, server, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { exec(t, server, "DROP SCHEMA "+schema+" CASCADE") })
	return WithSearchPath(t, server, schema)
}

// WithSearchPath returns dsn with its search_path set to schema.
func WithSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("RDSCA_POSTGRES_DSN is not a URL: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// Exec runs sql on the database dsn names.
func Exec(t testing.TB, dsn, sql string, args ...any) {
	t.Helper()
	exec(t, dsn, sql, args...)
}

func exec(t testing.TB, dsn, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
