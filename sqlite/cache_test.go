package sqlite

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/storetest"
)

// diskInstances reads every stored instance from the database, not the
// index, as Open would load it.
func diskInstances(t *testing.T, s *Store) map[rds.Scope][]rds.Instance {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), "SELECT account, region, version, data FROM instances ORDER BY account, region, id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[rds.Scope][]rds.Instance{}
	for rows.Next() {
		var sc rds.Scope
		var v int64
		var data []byte
		if err := rows.Scan(&sc.Account, &sc.Region, &v, &data); err != nil {
			t.Fatal(err)
		}
		in, err := decodeInstance(v, data)
		if err != nil {
			t.Fatal(err)
		}
		m[sc] = append(m[sc], in)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// cachedInstances returns what the store answers for each of scopes, and
// checks that the index holds no instance outside them.
func cachedInstances(t *testing.T, s *Store, scopes []rds.Scope) map[rds.Scope][]rds.Instance {
	t.Helper()
	m := map[rds.Scope][]rds.Instance{}
	n := 0
	for _, sc := range scopes {
		list, err := s.ListInstances(t.Context(), sc, rds.InstanceFilter{}, "", math.MaxInt)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range list {
			got, err := s.Instance(t.Context(), sc, in.Identifier)
			if err != nil || !reflect.DeepEqual(got, in) {
				t.Fatalf("%+v: Instance(%s) = %+v, %v; ListInstances has %+v", sc, in.Identifier, got, err, in)
			}
		}
		if len(list) > 0 {
			m[sc] = list
			n += len(list)
		}
	}
	if n != s.instances.Len() {
		t.Fatalf("the index holds %d instances, %d of them in scopes %v", s.instances.Len(), n, scopes)
	}
	return m
}

// wantCacheIsDisk checks that the store answers exactly, every field, what
// the database holds, in scopes and any scope the database has, and returns
// it.
func wantCacheIsDisk(t *testing.T, s *Store, scopes ...rds.Scope) map[rds.Scope][]rds.Instance {
	t.Helper()
	disk := diskInstances(t, s)
	for sc := range disk {
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	cache := cachedInstances(t, s, scopes)
	wantSameInstances(t, "cache", cache, "database", disk)
	return cache
}

func wantSameInstances(t *testing.T, gotName string, got map[rds.Scope][]rds.Instance, wantName string, want map[rds.Scope][]rds.Instance) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	for _, sc := range slices.SortedFunc(maps.Keys(want), func(a, b rds.Scope) int {
		return strings.Compare(a.Account+"/"+a.Region, b.Account+"/"+b.Region)
	}) {
		g, w := got[sc], want[sc]
		if len(g) != len(w) {
			t.Fatalf("%+v: %s has %d instances, %s %d", sc, gotName, len(g), wantName, len(w))
		}
		for i := range g {
			if !reflect.DeepEqual(g[i], w[i]) {
				t.Fatalf("%+v: %s has\n  %#v\n%s\n  %#v", sc, gotName, g[i], wantName, w[i])
			}
		}
	}
	t.Fatalf("%s has scopes %v, %s %v", gotName, slices.Collect(maps.Keys(got)), wantName, slices.Collect(maps.Keys(want)))
}

// TestInstanceCacheReopen writes instances of every shape, then checks that
// the index is the database, field by field, before and after a reopen.
func TestInstanceCacheReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rdsca.db")
	s := openTest(t, path)
	ctx := t.Context()
	sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
	other := rds.Scope{Account: "111111111111", Region: "eu-west-1"}
	india := time.FixedZone("IST", 5*3600+1800)
	ins := []rds.Instance{
		storetest.FullInstance("db-full"),
		{Identifier: "db-min"},
		{Identifier: "db-empty-phases", Engine: "mysql", Phases: []rds.Phase{}},
		// Strings JSON does not keep as they are: the index must hold
		// what the database does.
		{Identifier: "db-odd", Engine: "postgres", MasterUsername: "bad\xffutf8", Class: "<db&t3>", CA: "\u2028"},
	}
	for i := range 40 {
		in := storetest.FullInstance(fmt.Sprintf("db-%02d", i))
		in.AllocatedStorage = i
		in.CreateTime = time.Date(2024, 1, 2, 3, 4, 5, i, india)
		if i%4 == 0 {
			in.Pending, in.MaintenanceOptIn, in.Phases = nil, nil, nil
		}
		ins = append(ins, in)
	}
	for _, in := range ins {
		if err := s.CreateInstance(ctx, sc, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, in := range ins[:3] {
		if err := s.CreateInstance(ctx, other, in); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		id := fmt.Sprintf("db-%02d", i)
		in, err := s.Instance(ctx, sc, id)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := s.DeleteInstance(ctx, sc, id, in.Version); err != nil {
				t.Fatal(err)
			}
			continue
		}
		in.Phases = append(in.Phases, rds.Phase{Status: rds.StatusRebooting, Until: time.Now()})
		in.ServerCertValidTill = time.Date(2030, 1, 1, 0, 0, 0, 1, india)
		in.Engine = "mysql"
		if err := s.UpdateInstance(ctx, sc, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteInstance(ctx, other, "db-min", 1); err != nil {
		t.Fatal(err)
	}

	before := wantCacheIsDisk(t, s, sc, other)
	if n := len(before[sc]); n != len(ins)-5 {
		t.Fatalf("%d instances in %+v, want %d", n, sc, len(ins)-5)
	}
	closeTest(t, s)

	s = openTest(t, path)
	defer closeTest(t, s)
	after := wantCacheIsDisk(t, s, sc, other)
	wantSameInstances(t, "reopened cache", after, "cache before Close", before)
}

// TestInstanceCacheFailedWrites checks that writes that fail, for a stale
// version, a missing or existing instance, a cancelled context or a
// failing COMMIT, leave the index as the database: unchanged.
func TestInstanceCacheFailedWrites(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "rdsca.db"))
	defer closeTest(t, s)
	ctx := t.Context()
	sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
	for _, id := range []string{"db-1", "db-2", "db-3"} {
		if err := s.CreateInstance(ctx, sc, storetest.FullInstance(id)); err != nil {
			t.Fatal(err)
		}
	}
	in, err := s.Instance(ctx, sc, "db-2")
	if err != nil {
		t.Fatal(err)
	}
	in.AllocatedStorage = 99
	if err := s.UpdateInstance(ctx, sc, in); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOverride(ctx, sc, "rds-ca-ecc384-g1"); err != nil {
		t.Fatal(err)
	}
	want := wantCacheIsDisk(t, s, sc)
	cur := want[sc][1] // db-2 at Version 2

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	changed := cur
	changed.Class = "db.r7g.large"
	stale := changed
	stale.Version = 1
	missing := changed
	missing.Identifier = "db-missing"
	for _, w := range []struct {
		name  string
		write func(context.Context) error
		want  error // nil: any error
	}{
		{"update stale", func(ctx context.Context) error { return s.UpdateInstance(ctx, sc, stale) }, rds.ErrVersionConflict},
		{"update missing", func(ctx context.Context) error { return s.UpdateInstance(ctx, sc, missing) }, rds.ErrInstanceNotStored},
		{"delete stale", func(ctx context.Context) error { return s.DeleteInstance(ctx, sc, "db-2", 1) }, rds.ErrVersionConflict},
		{"delete missing", func(ctx context.Context) error { return s.DeleteInstance(ctx, sc, "db-missing", 1) }, rds.ErrInstanceNotStored},
		{"create existing", func(ctx context.Context) error { return s.CreateInstance(ctx, sc, changed) }, rds.ErrInstanceExists},
		{"update cancelled", func(context.Context) error { return s.UpdateInstance(cancelled, sc, changed) }, context.Canceled},
		{"delete cancelled", func(context.Context) error { return s.DeleteInstance(cancelled, sc, "db-2", 2) }, context.Canceled},
		{"create cancelled", func(context.Context) error { return s.CreateInstance(cancelled, sc, missing) }, context.Canceled},
		{"reset cancelled", func(context.Context) error { return s.Reset(cancelled) }, context.Canceled},
	} {
		if err := w.write(ctx); !errors.Is(err, w.want) {
			t.Fatalf("%s: %v, want %v", w.name, err, w.want)
		}
		wantSameInstances(t, "cache after "+w.name, wantCacheIsDisk(t, s, sc), "cache before", want)
	}

	// Writes whose statements run but whose COMMIT fails: a deferred
	// foreign key violation is checked at COMMIT, which the driver then
	// rolls back.
	for _, q := range []string{
		`CREATE TABLE fk_parent (id INTEGER PRIMARY KEY)`,
		`CREATE TABLE fk_child (parent INTEGER REFERENCES fk_parent (id) DEFERRABLE INITIALLY DEFERRED)`,
		`CREATE TRIGGER fail_insert AFTER INSERT ON instances BEGIN INSERT INTO fk_child VALUES (1); END`,
		`CREATE TRIGGER fail_update AFTER UPDATE ON instances BEGIN INSERT INTO fk_child VALUES (1); END`,
		`CREATE TRIGGER fail_delete AFTER DELETE ON instances BEGIN INSERT INTO fk_child VALUES (1); END`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []struct {
		name  string
		write func() error
	}{
		{"update", func() error { return s.UpdateInstance(ctx, sc, changed) }},
		{"delete", func() error { return s.DeleteInstance(ctx, sc, "db-2", 2) }},
		{"create", func() error { return s.CreateInstance(ctx, sc, missing) }},
		{"reset", func() error { return s.Reset(ctx) }},
	} {
		if err := w.write(); err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
			t.Fatalf("%s with a failing COMMIT: %v, want a FOREIGN KEY error", w.name, err)
		}
		wantSameInstances(t, "cache after a failed "+w.name, wantCacheIsDisk(t, s, sc), "cache before", want)
		if id, _ := s.Override(ctx, sc); id != "rds-ca-ecc384-g1" || diskOverride(t, s, sc) != id {
			t.Fatalf("override after a failed %s: cached %q, stored %q", w.name, id, diskOverride(t, s, sc))
		}
	}

	// Once COMMITs work again, so do the writes, and the index follows.
	for _, q := range []string{"DROP TRIGGER fail_insert", "DROP TRIGGER fail_update", "DROP TRIGGER fail_delete"} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.UpdateInstance(ctx, sc, changed); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateInstance(ctx, sc, missing); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteInstance(ctx, sc, "db-1", 1); err != nil {
		t.Fatal(err)
	}
	got := wantCacheIsDisk(t, s, sc)[sc]
	if ids := []string{got[0].Identifier, got[1].Identifier, got[2].Identifier}; len(got) != 3 || !slices.Equal(ids, []string{"db-2", "db-3", "db-missing"}) {
		t.Fatalf("instances after the writes: %v", ids)
	}
	if got[0].Class != "db.r7g.large" || got[0].Version != 3 {
		t.Fatalf("db-2 after its update: Class %s, Version %d", got[0].Class, got[0].Version)
	}
}

// TestInstanceCacheConcurrent races writers (creates, compare-and-swap
// updates and deletes, the odd Reset) against readers, in rounds; between
// rounds, once the writes have quiesced, the index must be the database.
// Readers check that each instance they see is whole: writers keep
// AllocatedStorage equal to the Version they store.
func TestInstanceCacheConcurrent(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "rdsca.db"))
	defer closeTest(t, s)
	ctx := t.Context()
	const writers, readers, rounds, ops, ids = 6, 3, 3, 25, 8
	scopes := []rds.Scope{
		{Account: "111111111111", Region: "us-east-1"},
		{Account: "111111111111", Region: "eu-west-1"},
		{Account: "222222222222", Region: "us-east-1"},
	}
	id := func(i int) string { return fmt.Sprintf("db-%d", i) }
	whole := func(in rds.Instance) error {
		if int64(in.AllocatedStorage) != in.Version {
			return fmt.Errorf("%s: AllocatedStorage %d at Version %d", in.Identifier, in.AllocatedStorage, in.Version)
		}
		return nil
	}

	stop := make(chan struct{})
	var rg sync.WaitGroup
	for r := range readers {
		rg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				sc := scopes[n%len(scopes)]
				in, err := s.Instance(ctx, sc, id(n%ids))
				if err == nil {
					err = whole(in)
				} else if errors.Is(err, rds.ErrInstanceNotStored) {
					err = nil
				}
				if err != nil {
					t.Errorf("reader %d: Instance: %v", r, err)
					return
				}
				list, err := s.ListInstances(ctx, sc, rds.InstanceFilter{}, "", ids)
				for i := 0; err == nil && i < len(list); i++ {
					err = whole(list[i])
					if err == nil && i > 0 && list[i-1].Identifier >= list[i].Identifier {
						err = fmt.Errorf("out of order: %s then %s", list[i-1].Identifier, list[i].Identifier)
					}
				}
				if err != nil {
					t.Errorf("reader %d: ListInstances: %v", r, err)
					return
				}
			}
		})
	}
	defer func() {
		close(stop)
		rg.Wait()
	}()

	for round := range rounds {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				for range ops {
					sc := scopes[rng.IntN(len(scopes))]
					i := rng.IntN(ids)
					in, err := s.Instance(ctx, sc, id(i))
					switch {
					case rng.IntN(200) == 0:
						err = s.Reset(ctx)
					case errors.Is(err, rds.ErrInstanceNotStored):
						err = s.CreateInstance(ctx, sc, rds.Instance{Identifier: id(i), Engine: "postgres", AllocatedStorage: 1})
					case err != nil:
					case rng.IntN(4) == 0:
						err = s.DeleteInstance(ctx, sc, in.Identifier, in.Version)
					default:
						in.AllocatedStorage = int(in.Version + 1)
						in.Phases = append(in.Phases, rds.Phase{Status: fmt.Sprint(w), Until: time.Now()})
						err = s.UpdateInstance(ctx, sc, in)
					}
					// Losing a race is fine; anything else is not.
					if err != nil && !errors.Is(err, rds.ErrVersionConflict) &&
						!errors.Is(err, rds.ErrInstanceNotStored) && !errors.Is(err, rds.ErrInstanceExists) {
						t.Errorf("writer %d: %v", w, err)
						return
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		cache := wantCacheIsDisk(t, s, scopes...)
		n := 0
		for _, list := range cache {
			n += len(list)
		}
		t.Logf("round %d: %d instances", round, n)
	}
}
