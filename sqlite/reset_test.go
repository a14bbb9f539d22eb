package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rdsca/rdsca/rds"
)

// diskOverride reads a scope's override from the database, not the cache.
func diskOverride(t *testing.T, s *Store, sc rds.Scope) string {
	t.Helper()
	var id string
	err := s.db.QueryRowContext(t.Context(),
		"SELECT certificate_id FROM overrides WHERE account = ? AND region = ?", sc.Account, sc.Region).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestResetCacheInStep races override writes against Resets and then checks
// that the cache answers what the database holds, scope by scope.
func TestResetCacheInStep(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "rdsca.db"))
	defer closeTest(t, s)
	ctx := t.Context()
	const workers, rounds = 8, 20
	scopes := make([]rds.Scope, workers)
	for i := range scopes {
		scopes[i] = rds.Scope{Account: fmt.Sprintf("%012d", i), Region: "us-east-1"}
	}
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			for j := range rounds {
				var err error
				switch {
				case j%5 == 4:
					err = s.Reset(ctx)
				case j%3 == 2:
					err = s.RemoveOverride(ctx, scopes[i])
				default:
					err = s.SetOverride(ctx, scopes[i], fmt.Sprintf("rds-ca-%d-%d", i, j))
				}
				if err != nil {
					t.Errorf("worker %d round %d: %v", i, j, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, sc := range scopes {
		cached, err := s.Override(ctx, sc)
		if err != nil {
			t.Fatal(err)
		}
		if disk := diskOverride(t, s, sc); cached != disk {
			t.Errorf("%+v: cache says %q, database %q", sc, cached, disk)
		}
	}
}

// TestResetFailsWhole checks that a Reset that cannot run changes nothing,
// in the database or the cache.
func TestResetFailsWhole(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "rdsca.db"))
	defer closeTest(t, s)
	sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
	if err := s.SetOverride(t.Context(), sc, "rds-ca-ecc384-g1"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateInstance(t.Context(), sc, rds.Instance{Identifier: "db-1"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Reset(ctx); err == nil {
		t.Fatal("Reset with a cancelled context succeeded")
	}
	if id, _ := s.Override(t.Context(), sc); id != "rds-ca-ecc384-g1" {
		t.Errorf("cached override after a failed Reset = %q", id)
	}
	if id := diskOverride(t, s, sc); id != "rds-ca-ecc384-g1" {
		t.Errorf("stored override after a failed Reset = %q", id)
	}
	if _, err := s.Instance(t.Context(), sc, "db-1"); err != nil {
		t.Errorf("instance after a failed Reset: %v", err)
	}
	// And the store still resets afterwards.
	if err := s.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	if id, _ := s.Override(t.Context(), sc); id != "" || diskOverride(t, s, sc) != "" {
		t.Errorf("override survived Reset")
	}
}
