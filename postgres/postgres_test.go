package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rdsca/rdsca/internal/migrations"
	"github.com/rdsca/rdsca/postgres/pgtest"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/server"
	"github.com/rdsca/rdsca/storetest"
)

var _ server.Pinger = (*Store)(nil)

func openTest(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) rds.Store {
		return openTest(t, pgtest.DSN(t))
	})
}

// TestPersistent reopens a store as a new pool on the same schema; each
// directory RunPersistent passes stands for one schema.
func TestPersistent(t *testing.T) {
	var mu sync.Mutex
	dsns := map[string]string{}
	storetest.RunPersistent(t, func(t *testing.T, dir string) rds.Store {
		mu.Lock()
		dsn, ok := dsns[dir]
		if !ok {
			dsn = pgtest.DSN(t)
			dsns[dir] = dsn
		}
		mu.Unlock()
		return openTest(t, dsn)
	})
}

// TestTwoStoresShareState checks that a Store caches nothing: a write
// through one is seen by the next read through another.
func TestTwoStoresShareState(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := openTest(t, dsn), openTest(t, dsn)
	defer a.Close()
	defer b.Close()
	ctx := t.Context()
	sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
	if err := a.SetOverride(ctx, sc, "rds-ca-ecc384-g1"); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Override(ctx, sc); err != nil || got != "rds-ca-ecc384-g1" {
		t.Fatalf("Override through b = %q, %v", got, err)
	}
	if err := a.CreateInstance(ctx, sc, rds.Instance{Identifier: "db-1", Engine: "mysql"}); err != nil {
		t.Fatal(err)
	}
	in, err := b.Instance(ctx, sc, "db-1")
	if err != nil || in.Version != 1 {
		t.Fatalf("Instance through b = %+v, %v", in, err)
	}
	in.AllocatedStorage = 50
	if err := b.UpdateInstance(ctx, sc, in); err != nil {
		t.Fatal(err)
	}
	in.Version = 1
	if err := a.UpdateInstance(ctx, sc, in); !errors.Is(err, rds.ErrVersionConflict) {
		t.Fatalf("stale UpdateInstance through a = %v, want ErrVersionConflict", err)
	}
	if err := a.DeleteInstance(ctx, sc, "db-1", 2); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Instance(ctx, sc, "db-1"); !errors.Is(err, rds.ErrInstanceNotStored) {
		t.Fatalf("Instance through b after delete = %v", err)
	}
	if err := a.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Override(ctx, sc); got != "" {
		t.Fatalf("Override through b after Reset = %q", got)
	}
}

// TestConcurrentOpenMigratesOnce opens four stores at once on a fresh
// schema: all open, and each migration is recorded once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = Open(t.Context(), dsn)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		} else {
			defer stores[i].Close()
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	migs, err := migrations.Load(migrationFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := stores[0].pool.Query(t.Context(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != len(migs) {
		t.Fatalf("schema_migrations holds versions %v, want 1..%d once each", versions, len(migs))
	}
	for i, v := range versions {
		if v != i+1 {
			t.Fatalf("schema_migrations holds versions %v, want 1..%d once each", versions, len(migs))
		}
	}
	for i, s := range stores {
		if err := s.Ping(t.Context()); err != nil {
			t.Errorf("Ping %d: %v", i, err)
		}
	}
}

// TestNewerSchemaRefused records a migration this build does not know;
// Open must then refuse the database.
func TestNewerSchemaRefused(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := openTest(t, dsn)
	s.Close()
	pgtest.Exec(t, dsn, "INSERT INTO schema_migrations (version, name) VALUES (999, '999_future.sql')")
	s, err := Open(t.Context(), dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema = %v, want ErrSchemaTooNew", err)
	}
}

// TestReopenKeepsSchema opens a migrated schema again: nothing to apply.
func TestReopenKeepsSchema(t *testing.T) {
	dsn := pgtest.DSN(t)
	openTest(t, dsn).Close()
	s := openTest(t, dsn)
	defer s.Close()
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestBadDSN(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://user:s3cret@127.0.0.1:5432/x?sslmode=bogus")
	if err == nil {
		t.Fatal("Open with a bad DSN succeeded")
	}
	if s := err.Error(); strings.Contains(s, "s3cret") {
		t.Fatalf("error shows the password: %s", s)
	}
}
