package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/rdsca/rdsca/rds"
)

// resetter returns st as an rds.Resetter, skipping the test for a store
// that is not one: Reset is optional.
func resetter(t *testing.T, st rds.Store) rds.Resetter {
	t.Helper()
	r, ok := st.(rds.Resetter)
	if !ok {
		t.Skipf("%T is not an rds.Resetter", st)
	}
	return r
}

func reset(t *testing.T, r rds.Resetter) {
	t.Helper()
	if err := r.Reset(t.Context()); err != nil {
		t.Fatalf("Reset: %v", err)
	}
}

// resetScopes are scopes of two accounts and two regions.
var resetScopes = []rds.Scope{
	{Account: "111111111111", Region: "us-east-1"},
	{Account: "111111111111", Region: "eu-west-1"},
	{Account: "222222222222", Region: "us-east-1"},
	{Account: "222222222222", Region: "eu-west-1"},
}

// runReset checks the optional rds.Resetter contract: Reset forgets every
// override and instance of every scope and keeps the CA material.
func runReset(t *testing.T, fresh func(t *testing.T) rds.Store) {
	t.Helper()

	t.Run("ResetEmpty", func(t *testing.T) {
		st := fresh(t)
		r := resetter(t, st)
		reset(t, r)
		reset(t, r)
		wantOverride(t, st, resetScopes[0], "")
		wantCAs(t, st, "us-east-1")
	})

	t.Run("Reset", func(t *testing.T) {
		st := fresh(t)
		r := resetter(t, st)
		east := []rds.CA{testCA("rds-ca-rsa2048-g1", 1, 900, 1200), testCA("rds-ca-ecc384-g1", 2, 500, 180)}
		eu := []rds.CA{testCA("rds-ca-rsa4096-g1", 3, 1400, 2300)}
		addCAs(t, st, "us-east-1", east)
		addCAs(t, st, "eu-west-1", eu)
		for i, sc := range resetScopes {
			setOverride(t, st, sc, "rds-ca-rsa4096-g1")
			for j := range i + 1 {
				createInstance(t, st, sc, FullInstance(fmt.Sprintf("db-%d", j)))
			}
		}
		// An updated instance and a removed override are forgotten too.
		in := instance(t, st, resetScopes[0], "db-0")
		in.AllocatedStorage = 99
		updateInstance(t, st, resetScopes[0], in)
		removeOverride(t, st, resetScopes[1])

		reset(t, r)
		for _, sc := range resetScopes {
			wantOverride(t, st, sc, "")
			for j := range len(resetScopes) {
				wantNotStored(t, st, sc, fmt.Sprintf("db-%d", j))
			}
			wantList(t, st, sc, rds.InstanceFilter{}, "", 10)
			wantList(t, st, sc, rds.InstanceFilter{Engines: []string{"postgres"}}, "", 10)
		}
		wantCAs(t, st, "us-east-1", east...)
		wantCAs(t, st, "eu-west-1", eu...)

		// The store works as new afterwards: the same identifiers again,
		// from Version 1, and first writer still wins for CA material.
		sc := resetScopes[3]
		setOverride(t, st, sc, "rds-ca-ecc384-g1")
		wantOverride(t, st, sc, "rds-ca-ecc384-g1")
		again := FullInstance("db-0")
		createInstance(t, st, sc, again)
		again.Version = 1
		wantInstance(t, st, sc, again)
		wantList(t, st, sc, rds.InstanceFilter{}, "", 10, again)
		addCAs(t, st, "us-east-1", []rds.CA{testCA("rds-ca-rsa2048-g1", 9, 900, 1200)})
		wantCAs(t, st, "us-east-1", east...)
		wantOverride(t, st, resetScopes[0], "")
	})

	t.Run("ResetConcurrent", func(t *testing.T) {
		st := fresh(t)
		r := resetter(t, st)
		const workers, rounds = 8, 8
		ctx := t.Context()
		ca := testCA("rds-ca-rsa2048-g1", 1, 900, 1200)
		addCAs(t, st, "us-east-1", []rds.CA{ca})
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() {
				sc := rds.Scope{Account: fmt.Sprintf("%012d", i), Region: "us-east-1"}
				for j := range rounds {
					if err := st.SetOverride(ctx, sc, "rds-ca-ecc384-g1"); err != nil {
						t.Errorf("worker %d: SetOverride: %v", i, err)
						return
					}
					// The identifier is new each round: a Reset between two
					// creates must not make the second one fail.
					if err := st.CreateInstance(ctx, sc, rds.Instance{Identifier: fmt.Sprintf("db-%d", j), Engine: "mysql"}); err != nil {
						t.Errorf("worker %d: CreateInstance: %v", i, err)
						return
					}
					if i%2 == 0 {
						if err := r.Reset(ctx); err != nil {
							t.Errorf("worker %d: Reset: %v", i, err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		reset(t, r)
		for i := range workers {
			sc := rds.Scope{Account: fmt.Sprintf("%012d", i), Region: "us-east-1"}
			wantOverride(t, st, sc, "")
			wantList(t, st, sc, rds.InstanceFilter{}, "", 100)
		}
		wantCAs(t, st, "us-east-1", ca)
	})
}

// runResetPersistent checks that a Reset is what a reopened store sees.
func runResetPersistent(t *testing.T, open func(t *testing.T, dir string) rds.Store) {
	t.Helper()
	t.Run("ResetReopen", func(t *testing.T) {
		dir := t.TempDir()
		ca := testCA("rds-ca-rsa2048-g1", 1, 900, 1200)
		st := open(t, dir)
		if st == nil {
			t.Fatal("open returned a nil store")
		}
		r, ok := st.(rds.Resetter)
		if !ok {
			st.Close()
			t.Skipf("%T is not an rds.Resetter", st)
		}
		addCAs(t, st, "us-east-1", []rds.CA{ca})
		for _, sc := range resetScopes {
			setOverride(t, st, sc, "rds-ca-rsa4096-g1")
			createInstance(t, st, sc, FullInstance("db-1"))
		}
		reset(t, r)
		kept := rds.Instance{Identifier: "db-after", Engine: "mysql"}
		createInstance(t, st, resetScopes[0], kept)
		kept.Version = 1
		setOverride(t, st, resetScopes[1], "rds-ca-ecc384-g1")
		if err := st.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}

		st = open(t, dir)
		if st == nil {
			t.Fatal("open returned a nil store on reopen")
		}
		t.Cleanup(func() {
			if err := st.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		for i, sc := range resetScopes {
			want := ""
			if i == 1 {
				want = "rds-ca-ecc384-g1"
			}
			wantOverride(t, st, sc, want)
			wantNotStored(t, st, sc, "db-1")
		}
		wantList(t, st, resetScopes[0], rds.InstanceFilter{}, "", 10, kept)
		wantCAs(t, st, "us-east-1", ca)
	})
}
