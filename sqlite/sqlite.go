// Package sqlite is an rds.Store kept in a SQLite database file, through the
// pure Go driver modernc.org/sqlite.
//
// The database runs in WAL mode with synchronous=FULL: a write that returned
// is on disk. The schema comes from the numbered files in migrations/, which
// Open applies in order and records in schema_migrations.
//
// One Store owns its database file: Open takes an exclusive lock on
// <path>.lock, so no other writer can change the database behind the
// Store's back, and the Store answers every read of overrides and instances
// from memory. Open loads both tables (decoding each instance's JSON once);
// from then on each write is committed first and then applied to memory,
// in one order (writeMu), so memory never runs ahead of the disk nor misses
// a committed write, and a failed write changes neither. The database stays
// the source of truth: compare-and-swap checks run in SQL, and a restart
// rebuilds memory from the file. Memory holds each instance decoded, as the
// memory store does (a few hundred bytes each), not its JSON.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers driver "sqlite"

	"github.com/rdsca/rdsca/internal/instindex"
	"github.com/rdsca/rdsca/internal/migrations"
	"github.com/rdsca/rdsca/rds"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrSchemaTooNew is returned by Open for a database migrated by a newer build.
var ErrSchemaTooNew = errors.New("database schema is newer than this build")

// ErrInUse is returned by Open when another Store holds the database.
var ErrInUse = errors.New("database is in use by another process")

// params apply to every pooled connection. busy_timeout is in milliseconds;
// _txlock=immediate makes write transactions take the write lock at BEGIN.
const params = "_pragma=busy_timeout(5000)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(FULL)" +
	"&_pragma=foreign_keys(ON)" +
	"&_txlock=immediate"

// maxConns bounds the pool; SQLite serialises writers anyway.
const maxConns = 8

// now is the SQL expression for a UTC timestamp with milliseconds.
const now = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`

// Store is an rds.Store in a SQLite database. It is safe for concurrent use.
type Store struct {
	db    *sql.DB
	lock  *os.File
	stmts *stmts

	// writeMu orders writes so the caches end as the disk does; SQLite
	// admits one writer at a time anyway, and queueing here is cheaper
	// than its busy-timeout sleeps.
	writeMu   sync.Mutex
	mu        sync.RWMutex
	overrides map[rds.Scope]string
	// instances caches the instances table; it has its own lock.
	instances *instindex.Index
}

var (
	_ rds.Store    = (*Store)(nil)
	_ rds.Resetter = (*Store)(nil)
)

// Open opens the database at path, creating it if absent, and migrates its
// schema to the newest version this build knows.
func Open(path string) (*Store, error) {
	s, err := open(context.Background(), path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return s, nil
}

func open(ctx context.Context, path string) (_ *Store, err error) {
	migs, err := migrations.Load(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	dsn, err := dataSourceName(path)
	if err != nil {
		return nil, err
	}
	lk, err := lock(path + ".lock")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lk.Close()
		}
	}()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := migrate(ctx, db, migs); err != nil {
		db.Close()
		return nil, err
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, err
	}
	if !strings.EqualFold(mode, "wal") {
		db.Close()
		return nil, fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	s := &Store{db: db, lock: lk}
	if s.overrides, err = loadOverrides(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	if s.instances, err = loadInstances(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	if s.stmts, err = prepare(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func loadOverrides(ctx context.Context, db *sql.DB) (map[rds.Scope]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT account, region, certificate_id FROM overrides")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[rds.Scope]string{}
	for rows.Next() {
		var sc rds.Scope
		var id string
		if err := rows.Scan(&sc.Account, &sc.Region, &id); err != nil {
			return nil, err
		}
		m[sc] = id
	}
	return m, rows.Err()
}

// dataSourceName returns a file: URI for path with params.
func dataSourceName(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows drive letter
	}
	p = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
	return "file:" + p + "?" + params, nil
}

// migrate applies the migrations the database lacks, one transaction each.
func migrate(ctx context.Context, db *sql.DB, migs []migrations.Migration) error {
	for {
		done, err := migrateStep(ctx, db, migs)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next missing migration, if any, and reports
// whether the schema is current. The write lock taken at BEGIN keeps
// concurrent openers from applying the same migration twice.
func migrateStep(ctx context.Context, db *sql.DB, migs []migrations.Migration) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return false, err
	}
	var cur int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&cur); err != nil {
		return false, err
	}
	switch {
	case cur > len(migs):
		return false, fmt.Errorf("%w: version %d, this build knows up to %d", ErrSchemaTooNew, cur, len(migs))
	case cur == len(migs):
		return true, tx.Commit()
	}
	m := migs[cur]
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, "+now+")", m.Version); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	return false, nil
}

// Override implements rds.Store, from memory.
func (s *Store) Override(ctx context.Context, sc rds.Scope) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.overrides[sc], nil
}

// setCached records a committed override write; id "" removes.
func (s *Store) setCached(sc rds.Scope, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		delete(s.overrides, sc)
	} else {
		s.overrides[sc] = id
	}
}

// SetOverride implements rds.Store.
func (s *Store) SetOverride(ctx context.Context, sc rds.Scope, id string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO overrides (account, region, certificate_id) VALUES (?, ?, ?)
		ON CONFLICT (account, region) DO UPDATE
		SET certificate_id = excluded.certificate_id, updated_at = `+now,
		sc.Account, sc.Region, id)
	if err != nil {
		return fmt.Errorf("sqlite: set override: %w", err)
	}
	s.setCached(sc, id)
	return nil
}

// RemoveOverride implements rds.Store.
func (s *Store) RemoveOverride(ctx context.Context, sc rds.Scope) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_, err := s.db.ExecContext(ctx,
		"DELETE FROM overrides WHERE account = ? AND region = ?",
		sc.Account, sc.Region)
	if err != nil {
		return fmt.Errorf("sqlite: remove override: %w", err)
	}
	s.setCached(sc, "")
	return nil
}

// Reset implements rds.Resetter: in one transaction it deletes every
// override and instance of every scope and keeps the CA material. The
// caches are emptied as the transaction commits, so no reader sees an
// override or instance the database no longer holds once Reset has
// returned, nor an instance after seeing the overrides gone.
func (s *Store) Reset(ctx context.Context) error {
	if err := s.reset(ctx); err != nil {
		return fmt.Errorf("sqlite: reset: %w", err)
	}
	return nil
}

func (s *Store) reset(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{"DELETE FROM overrides", "DELETE FROM instances"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	// Readers answer from the cache: hold them off from the commit until
	// the cache matches it.
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := tx.Commit(); err != nil {
		return err
	}
	clear(s.overrides)
	s.instances.Reset()
	return nil
}

// CAs implements rds.Store. The CAs come in identifier order.
func (s *Store) CAs(ctx context.Context, region string) ([]rds.CA, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT identifier, cert_der, key_der FROM ca_material WHERE region = ? ORDER BY identifier",
		region)
	if err != nil {
		return nil, fmt.Errorf("sqlite: CAs: %w", err)
	}
	defer rows.Close()
	out := []rds.CA{}
	for rows.Next() {
		ca := rds.CA{Region: region}
		if err := rows.Scan(&ca.Identifier, &ca.CertDER, &ca.KeyDER); err != nil {
			return nil, fmt.Errorf("sqlite: CAs: %w", err)
		}
		out = append(out, ca)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: CAs: %w", err)
	}
	return out, nil
}

// AddCAs implements rds.Store, in one transaction.
func (s *Store) AddCAs(ctx context.Context, region string, cas []rds.CA) error {
	if len(cas) == 0 {
		return nil
	}
	if err := s.addCAs(ctx, region, cas); err != nil {
		return fmt.Errorf("sqlite: add CAs: %w", err)
	}
	return nil
}

func (s *Store) addCAs(ctx context.Context, region string, cas []rds.CA) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx,
		`INSERT INTO ca_material (region, identifier, cert_der, key_der) VALUES (?, ?, ?, ?)
		ON CONFLICT (region, identifier) DO NOTHING`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, ca := range cas {
		if _, err := stmt.ExecContext(ctx, region, ca.Identifier, nonNil(ca.CertDER), nonNil(ca.KeyDER)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// nonNil turns nil into an empty blob; the driver binds nil as NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Ping reports whether the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close implements rds.Store; it releases the lock last.
func (s *Store) Close() error {
	return errors.Join(s.stmts.close(), s.db.Close(), s.lock.Close())
}
