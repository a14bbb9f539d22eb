package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rdsca/rdsca/internal/migrations"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/storetest"
)

func openTest(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func closeTest(t *testing.T, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) rds.Store {
		return openTest(t, filepath.Join(t.TempDir(), "rdsca.db"))
	})
}

func TestPersistent(t *testing.T) {
	storetest.RunPersistent(t, func(t *testing.T, dir string) rds.Store {
		return openTest(t, filepath.Join(dir, "rdsca.db"))
	})
}

// TestPathNeedsEscaping opens a path holding URI metacharacters.
func TestPathNeedsEscaping(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b#c%20d e")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rdsca.db")
	closeTest(t, openTest(t, path))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the given path: %v", err)
	}
}

func TestPragmasOnEveryConnection(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "rdsca.db"))
	defer closeTest(t, s)
	ctx := t.Context()
	for i := range maxConns {
		c, err := s.db.Conn(ctx) // held, so each iteration gets another connection
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for pragma, want := range map[string]string{
			"journal_mode": "wal",
			"synchronous":  "2", // FULL
			"busy_timeout": "5000",
			"foreign_keys": "1",
		} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("conn %d: PRAGMA %s: %v", i, pragma, err)
			}
			if got != want {
				t.Errorf("conn %d: PRAGMA %s = %q, want %q", i, pragma, got, want)
			}
		}
	}
}

func versions(t *testing.T, s *Store) []int {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

func wantVersions(t *testing.T, s *Store) {
	t.Helper()
	migs, err := migrations.Load(migrationFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	got := versions(t, s)
	if len(got) != len(migs) {
		t.Fatalf("schema_migrations holds %v, want versions 1..%d", got, len(migs))
	}
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("schema_migrations holds %v, want versions 1..%d", got, len(migs))
		}
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rdsca.db")
	sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
	s := openTest(t, path)
	wantVersions(t, s)
	if err := s.SetOverride(t.Context(), sc, "rds-ca-rsa4096-g1"); err != nil {
		t.Fatal(err)
	}
	closeTest(t, s)
	for range 3 {
		s = openTest(t, path)
		wantVersions(t, s)
		id, err := s.Override(t.Context(), sc)
		if err != nil || id != "rds-ca-rsa4096-g1" {
			t.Fatalf("Override after reopen = %q, %v", id, err)
		}
		closeTest(t, s)
	}
}

// TestConcurrentOpen opens one new file from several goroutines at once;
// each migration must be applied exactly once.
func TestSecondOpenRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rdsca.db")
	s := openTest(t, path)
	if err := wantOpenError(t, path); !errors.Is(err, ErrInUse) {
		t.Fatalf("second Open: %v, want ErrInUse", err)
	}
	sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
	if err := s.SetOverride(t.Context(), sc, "rds-ca-ecc384-g1"); err != nil {
		t.Fatal(err)
	}
	closeTest(t, s)
	// Closing releases the database to the next Store, which reads the write.
	s = openTest(t, path)
	defer closeTest(t, s)
	if id, err := s.Override(t.Context(), sc); err != nil || id != "rds-ca-ecc384-g1" {
		t.Fatalf("Override after reopen = %q, %v", id, err)
	}
}

// wantOpenError checks that Open fails with a one-line error naming path.
func wantOpenError(t *testing.T, path string) error {
	t.Helper()
	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%q) succeeded, want an error", path)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) {
		t.Errorf("error %q does not name %s", msg, path)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error %q spans lines", msg)
	}
	t.Logf("Open(%q): %v", path, err)
	return err
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rdsca.db")
	s := openTest(t, path)
	migs, err := migrations.Load(migrationFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(t.Context(),
		"INSERT INTO schema_migrations (version, applied_at) VALUES (?, 'later')", len(migs)+1); err != nil {
		t.Fatal(err)
	}
	closeTest(t, s)
	if err := wantOpenError(t, path); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open: %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	content := bytes.Repeat([]byte("this is not a database\n"), 200)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	wantOpenError(t, path)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Fatal("Open modified the file it refused")
	}
}

func TestOpenUnwritableDirectory(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(parent, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A path below a regular file cannot be created, even by root.
	wantOpenError(t, filepath.Join(parent, "rdsca.db"))
}

func TestPing(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "rdsca.db"))
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	closeTest(t, s)
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
}

func TestNilBlobs(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "rdsca.db"))
	defer closeTest(t, s)
	if err := s.AddCAs(t.Context(), "us-east-1", []rds.CA{{Identifier: "empty"}}); err != nil {
		t.Fatalf("AddCAs: %v", err)
	}
	got, err := s.CAs(t.Context(), "us-east-1")
	if err != nil || len(got) != 1 || len(got[0].CertDER) != 0 || len(got[0].KeyDER) != 0 {
		t.Fatalf("CAs = %+v, %v", got, err)
	}
}

const killEnv = "RDSCA_SQLITE_KILL_DB"

// TestKilledWriter kills a writer process with SIGKILL as soon as its writes
// return and checks that a new Open finds every one of them.
func TestKilledWriter(t *testing.T) {
	if path := os.Getenv(killEnv); path != "" {
		killedWriter(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	path := filepath.Join(t.TempDir(), "rdsca.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$")
	cmd.Env = append(os.Environ(), killEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "written\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("writer said %q, %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	s := openTest(t, path)
	defer closeTest(t, s)
	for i := range killWrites {
		sc := rds.Scope{Account: fmt.Sprintf("%012d", i), Region: "us-east-1"}
		id, err := s.Override(t.Context(), sc)
		if err != nil || id != "rds-ca-rsa4096-g1" {
			t.Fatalf("Override(%+v) after kill = %q, %v", sc, id, err)
		}
	}
	cas, err := s.CAs(t.Context(), "us-east-1")
	if err != nil || len(cas) != 1 || !bytes.Equal(cas[0].KeyDER, bytes.Repeat([]byte{7}, 8<<10)) {
		t.Fatalf("CAs after kill: %d CAs, %v", len(cas), err)
	}
}

const killWrites = 20

// killedWriter writes, reports "written" on stdout and waits to be killed.
func killedWriter(path string) {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx := context.Background()
	for i := range killWrites {
		sc := rds.Scope{Account: fmt.Sprintf("%012d", i), Region: "us-east-1"}
		if err := s.SetOverride(ctx, sc, "rds-ca-rsa4096-g1"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	ca := rds.CA{Identifier: "rds-ca-rsa2048-g1", CertDER: []byte{1, 2, 3}, KeyDER: bytes.Repeat([]byte{7}, 8<<10)}
	if err := s.AddCAs(ctx, "us-east-1", []rds.CA{ca}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("written")
	time.Sleep(time.Hour) // never closes the store
}
