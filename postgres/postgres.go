// Package postgres is an rds.Store kept in a PostgreSQL database, through
// github.com/jackc/pgx/v5 and its connection pool.
//
// Several rdsca processes may share one database, so the Store caches
// nothing: every read of overrides, CA material and instances is a query.
// The schema comes from the numbered files in migrations/, which Open
// applies in one transaction under a transaction-scoped advisory lock
// (pg_advisory_xact_lock(migrationLockKey)), recording each in
// schema_migrations; processes starting together thus migrate once, and a
// database migrated by a newer build is refused.
//
// Statements run at the database's default isolation level (READ COMMITTED
// on PostgreSQL). Each write is one statement, or one transaction whose
// statements do not depend on each other's reads, so that level suffices:
// compare-and-swap writes are a single UPDATE or DELETE conditional on the
// stored version, and CA material is inserted with ON CONFLICT DO NOTHING
// so the first writer wins. Transactions failed by a serialization error
// (SQLSTATE 40001, as CockroachDB and YugabyteDB raise under their default
// SERIALIZABLE isolation) or a deadlock (40P01) are retried.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rdsca/rdsca/internal/migrations"
	"github.com/rdsca/rdsca/rds"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrSchemaTooNew is returned by Open for a database migrated by a newer build.
var ErrSchemaTooNew = errors.New("database schema is newer than this build")

// DefaultConnectTimeout bounds each attempt to connect to the database
// when the DSN sets no connect_timeout.
const DefaultConnectTimeout = 2 * time.Second

// migrationLockKey is the pg_advisory_xact_lock key Open migrates under;
// "rdsca" in ASCII.
const migrationLockKey int64 = 0x7264736361

// Store is an rds.Store in a PostgreSQL database. It is safe for concurrent
// use, and several Stores (in one process or many) may share a database.
type Store struct {
	pool *pgxpool.Pool
}

var (
	_ rds.Store    = (*Store)(nil)
	_ rds.Resetter = (*Store)(nil)
)

// Open connects to the database dsn names (a postgres:// URL or a
// keyword/value string, as pgx accepts) and migrates its schema to the
// newest version this build knows. The tables go in the first schema of
// the connection's search_path.
func Open(ctx context.Context, dsn string) (*Store, error) {
	s, err := open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return s, nil
}

func open(ctx context.Context, dsn string) (*Store, error) {
	migs, err := migrations.Load(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors may quote the DSN, password included.
		return nil, errors.New("cannot parse the DSN")
	}
	if cfg.ConnConfig.ConnectTimeout <= 0 {
		// Fail fast when the database is unreachable rather than wait
		// for the operating system to give up on the connection.
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, pool, migs); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// migrate applies the migrations the database lacks, all in one
// transaction that first takes the advisory lock: a concurrent Open waits
// for it, then finds the schema current. The lock is released when the
// transaction ends, however it ends.
func migrate(ctx context.Context, pool *pgxpool.Pool, migs []migrations.Migration) error {
	return retry(ctx, func() error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey); err != nil {
				return fmt.Errorf("advisory lock: %w", err)
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version    INTEGER PRIMARY KEY,
				name       TEXT NOT NULL,
				applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
			)`); err != nil {
				return err
			}
			var cur int
			if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
				return err
			}
			if cur > len(migs) {
				return fmt.Errorf("%w: version %d, this build knows up to %d", ErrSchemaTooNew, cur, len(migs))
			}
			for _, m := range migs[cur:] {
				// No arguments: pgx sends it by the simple protocol, which
				// allows several statements.
				if _, err := tx.Exec(ctx, m.SQL); err != nil {
					return fmt.Errorf("migration %s: %w", m.Name, err)
				}
				if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
					return fmt.Errorf("migration %s: %w", m.Name, err)
				}
			}
			return nil
		})
	})
}

// retry runs f again while it fails with a serialization failure or a
// deadlock, up to a few times, backing off a little.
func retry(ctx context.Context, f func() error) error {
	const attempts = 5
	for i := 1; ; i++ {
		err := f()
		if err == nil || i == attempts || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(i*i) * 5 * time.Millisecond):
		}
	}
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	// pgx says nothing reached the server: a stale pooled connection,
	// say. Trying again on another connection is harmless.
	return pgconn.SafeToRetry(err)
}

// storeErr returns fmt.Errorf("postgres: "+format, args...), as an
// rds.Error ServiceUnavailable (a receiver fault, HTTP 503) wrapping it
// when the failure is the database being unreachable rather than the
// statement failing.
func storeErr(format string, args ...any) error {
	err := fmt.Errorf("postgres: "+format, args...)
	if unavailable(err) {
		return &rds.Error{
			Code:    rds.CodeServiceUnavailable,
			Message: "The service is unavailable. Please try again shortly.",
			Fault:   rds.Receiver,
			Err:     err,
		}
	}
	return err
}

// unavailable reports whether err means the database cannot be reached
// or the connection to it was lost: a failed connect (refused, timed
// out, the server starting or shutting down), a network error, or a
// connection pgx found closed.
func unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: the server is
		// shutting down or not yet accepting connections.
		return strings.HasPrefix(pe.Code, "08") ||
			pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		pgconn.SafeToRetry(err), pgconn.Timeout(err),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "closed pool")
}

// Override implements rds.Store.
func (s *Store) Override(ctx context.Context, sc rds.Scope) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx,
		"SELECT certificate_id FROM overrides WHERE account = $1 AND region = $2",
		sc.Account, sc.Region).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", nil
	case err != nil:
		return "", storeErr("override: %w", err)
	}
	return id, nil
}

// SetOverride implements rds.Store.
func (s *Store) SetOverride(ctx context.Context, sc rds.Scope, id string) error {
	err := retry(ctx, func() error {
		_, err := s.pool.Exec(ctx,
			`INSERT INTO overrides (account, region, certificate_id) VALUES ($1, $2, $3)
			ON CONFLICT (account, region) DO UPDATE
			SET certificate_id = excluded.certificate_id, updated_at = now()`,
			sc.Account, sc.Region, id)
		return err
	})
	if err != nil {
		return storeErr("set override: %w", err)
	}
	return nil
}

// RemoveOverride implements rds.Store.
func (s *Store) RemoveOverride(ctx context.Context, sc rds.Scope) error {
	err := retry(ctx, func() error {
		_, err := s.pool.Exec(ctx,
			"DELETE FROM overrides WHERE account = $1 AND region = $2",
			sc.Account, sc.Region)
		return err
	})
	if err != nil {
		return storeErr("remove override: %w", err)
	}
	return nil
}

// Reset implements rds.Resetter: in one transaction it deletes every
// override and instance of every scope and keeps the CA material.
func (s *Store) Reset(ctx context.Context) error {
	err := retry(ctx, func() error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			for _, q := range []string{"DELETE FROM overrides", "DELETE FROM instances"} {
				if _, err := tx.Exec(ctx, q); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return storeErr("reset: %w", err)
	}
	return nil
}

// CAs implements rds.Store. The CAs come in identifier order.
func (s *Store) CAs(ctx context.Context, region string) ([]rds.CA, error) {
	rows, err := s.pool.Query(ctx,
		"SELECT identifier, cert_der, key_der FROM ca_material WHERE region = $1 ORDER BY identifier",
		region)
	if err != nil {
		return nil, storeErr("CAs: %w", err)
	}
	out := []rds.CA{}
	for rows.Next() {
		ca := rds.CA{Region: region}
		if err := rows.Scan(&ca.Identifier, &ca.CertDER, &ca.KeyDER); err != nil {
			rows.Close()
			return nil, storeErr("CAs: %w", err)
		}
		out = append(out, ca)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr("CAs: %w", err)
	}
	return out, nil
}

// AddCAs implements rds.Store, in one transaction. The first writer of an
// identifier wins, across every Store sharing the database.
func (s *Store) AddCAs(ctx context.Context, region string, cas []rds.CA) error {
	if len(cas) == 0 {
		return nil
	}
	err := retry(ctx, func() error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			for _, ca := range cas {
				if _, err := tx.Exec(ctx,
					`INSERT INTO ca_material (region, identifier, cert_der, key_der) VALUES ($1, $2, $3, $4)
					ON CONFLICT (region, identifier) DO NOTHING`,
					region, ca.Identifier, nonNil(ca.CertDER), nonNil(ca.KeyDER)); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return storeErr("add CAs: %w", err)
	}
	return nil
}

// nonNil turns nil into an empty byte string; pgx binds nil as NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Ping reports whether the database answers a query on rdsca's schema.
func (s *Store) Ping(ctx context.Context) error {
	var v int
	if err := s.pool.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return storeErr("ping: %w", err)
	}
	return nil
}

// Close implements rds.Store; it closes the pool, waiting for connections
// in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
