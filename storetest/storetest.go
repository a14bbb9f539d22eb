// Package storetest is the contract test suite every rds.Store adapter runs.
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/rdsca/rdsca/rds"
)

// Run checks the rds.Store contract. open returns a new, empty store for
// each subtest; Run closes every store open returns. A store that is an
// rds.Resetter is checked for Reset too; for the others those subtests skip.
func Run(t *testing.T, open func(t *testing.T) rds.Store) {
	t.Helper()
	fresh := func(t *testing.T) rds.Store {
		t.Helper()
		st := open(t)
		if st == nil {
			t.Fatal("open returned a nil store")
		}
		t.Cleanup(func() {
			if err := st.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return st
	}

	t.Run("OverrideUnset", func(t *testing.T) {
		st := fresh(t)
		if got := override(t, st, rds.Scope{Account: "111111111111", Region: "us-east-1"}); got != "" {
			t.Fatalf("Override of an unset scope = %q, want \"\"", got)
		}
	})

	t.Run("SetOverride", func(t *testing.T) {
		st := fresh(t)
		sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
		setOverride(t, st, sc, "rds-ca-rsa4096-g1")
		wantOverride(t, st, sc, "rds-ca-rsa4096-g1")
	})

	t.Run("SetOverrideReplaces", func(t *testing.T) {
		st := fresh(t)
		sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
		setOverride(t, st, sc, "rds-ca-rsa4096-g1")
		setOverride(t, st, sc, "rds-ca-ecc384-g1")
		wantOverride(t, st, sc, "rds-ca-ecc384-g1")
		setOverride(t, st, sc, "rds-ca-ecc384-g1")
		wantOverride(t, st, sc, "rds-ca-ecc384-g1")
	})

	t.Run("ScopesIsolated", func(t *testing.T) {
		st := fresh(t)
		a := rds.Scope{Account: "111111111111", Region: "us-east-1"}
		otherAccount := rds.Scope{Account: "222222222222", Region: "us-east-1"}
		otherRegion := rds.Scope{Account: "111111111111", Region: "eu-west-1"}
		otherBoth := rds.Scope{Account: "222222222222", Region: "eu-west-1"}

		setOverride(t, st, a, "rds-ca-rsa4096-g1")
		wantOverride(t, st, otherAccount, "")
		wantOverride(t, st, otherRegion, "")
		wantOverride(t, st, otherBoth, "")

		setOverride(t, st, otherRegion, "rds-ca-ecc384-g1")
		setOverride(t, st, otherAccount, "rds-ca-rsa2048-g1")
		wantOverride(t, st, a, "rds-ca-rsa4096-g1")
		wantOverride(t, st, otherRegion, "rds-ca-ecc384-g1")
		wantOverride(t, st, otherAccount, "rds-ca-rsa2048-g1")
		wantOverride(t, st, otherBoth, "")

		removeOverride(t, st, otherRegion)
		wantOverride(t, st, a, "rds-ca-rsa4096-g1")
		wantOverride(t, st, otherAccount, "rds-ca-rsa2048-g1")
	})

	t.Run("RemoveOverride", func(t *testing.T) {
		st := fresh(t)
		sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
		setOverride(t, st, sc, "rds-ca-rsa4096-g1")
		removeOverride(t, st, sc)
		wantOverride(t, st, sc, "")
		removeOverride(t, st, sc)
		removeOverride(t, st, rds.Scope{Account: "999999999999", Region: "ap-south-1"})
		wantOverride(t, st, sc, "")
		setOverride(t, st, sc, "rds-ca-ecc384-g1")
		wantOverride(t, st, sc, "rds-ca-ecc384-g1")
	})

	t.Run("CAsUnknownRegion", func(t *testing.T) {
		st := fresh(t)
		if got := cas(t, st, "us-west-2"); len(got) != 0 {
			t.Fatalf("CAs of an unknown region returned %d CAs, want none", len(got))
		}
	})

	t.Run("AddCAs", func(t *testing.T) {
		st := fresh(t)
		a := testCA("rds-ca-rsa2048-g1", 1, 900, 1200)
		b := testCA("rds-ca-ecc384-g1", 2, 500, 180)
		b.Region = "somewhere-else" // the region argument wins
		addCAs(t, st, "us-east-1", []rds.CA{a, b})
		wantCAs(t, st, "us-east-1", a, b)
	})

	t.Run("AddCAsEmpty", func(t *testing.T) {
		st := fresh(t)
		addCAs(t, st, "us-east-1", nil)
		addCAs(t, st, "us-east-1", []rds.CA{})
		wantCAs(t, st, "us-east-1")
	})

	t.Run("AddCAsFirstWriterWins", func(t *testing.T) {
		st := fresh(t)
		first := testCA("rds-ca-rsa2048-g1", 1, 900, 1200)
		second := testCA("rds-ca-rsa2048-g1", 99, 901, 1201)
		other := testCA("rds-ca-rsa4096-g1", 3, 1400, 2300)
		addCAs(t, st, "us-east-1", []rds.CA{first})
		addCAs(t, st, "us-east-1", []rds.CA{second, other})
		wantCAs(t, st, "us-east-1", first, other)
		addCAs(t, st, "us-east-1", []rds.CA{second})
		wantCAs(t, st, "us-east-1", first, other)
	})

	t.Run("CAsRegionsIsolated", func(t *testing.T) {
		st := fresh(t)
		east := testCA("rds-ca-rsa2048-g1", 1, 900, 1200)
		west := testCA("rds-ca-rsa2048-g1", 2, 900, 1200)
		eu := testCA("rds-ca-ecc384-g1", 3, 500, 180)
		addCAs(t, st, "us-east-1", []rds.CA{east})
		addCAs(t, st, "us-west-2", []rds.CA{west})
		addCAs(t, st, "eu-west-1", []rds.CA{eu})
		wantCAs(t, st, "us-east-1", east)
		wantCAs(t, st, "us-west-2", west)
		wantCAs(t, st, "eu-west-1", eu)
		wantCAs(t, st, "ap-south-1")
	})

	t.Run("LargeBlobs", func(t *testing.T) {
		st := fresh(t)
		small := testCA("rds-ca-rsa4096-g1", 7, 4<<10, 8<<10)
		big := testCA("rds-ca-big", 8, 256<<10, 512<<10)
		addCAs(t, st, "us-east-1", []rds.CA{small, big})
		wantCAs(t, st, "us-east-1", small, big)
	})

	t.Run("Concurrent", func(t *testing.T) {
		st := fresh(t)
		concurrent(t, st)
	})

	runInstances(t, fresh)
	runReset(t, fresh)
}

// RunPersistent checks that a store keeps its state across Close and a new
// open of the same directory, and, for an rds.Resetter, that a reopened
// store sees a Reset. Run closes every store open returns.
func RunPersistent(t *testing.T, open func(t *testing.T, dir string) rds.Store) {
	t.Helper()
	t.Run("Reopen", func(t *testing.T) {
		dir := t.TempDir()
		kept := rds.Scope{Account: "111111111111", Region: "us-east-1"}
		removed := rds.Scope{Account: "111111111111", Region: "eu-west-1"}
		a := testCA("rds-ca-rsa2048-g1", 1, 900, 1200)
		b := testCA("rds-ca-ecc384-g1", 2, 500, 8<<10)
		c := testCA("rds-ca-rsa2048-g1", 3, 900, 1200)

		st := open(t, dir)
		if st == nil {
			t.Fatal("open returned a nil store")
		}
		setOverride(t, st, kept, "rds-ca-rsa4096-g1")
		setOverride(t, st, removed, "rds-ca-ecc384-g1")
		removeOverride(t, st, removed)
		addCAs(t, st, "us-east-1", []rds.CA{a, b})
		addCAs(t, st, "eu-west-1", []rds.CA{c})
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
		wantOverride(t, st, kept, "rds-ca-rsa4096-g1")
		wantOverride(t, st, removed, "")
		wantCAs(t, st, "us-east-1", a, b)
		wantCAs(t, st, "eu-west-1", c)

		// First writer still wins after a reopen.
		addCAs(t, st, "us-east-1", []rds.CA{testCA("rds-ca-rsa2048-g1", 4, 900, 1200)})
		wantCAs(t, st, "us-east-1", a, b)
	})

	t.Run("ReopenInstances", func(t *testing.T) {
		dir := t.TempDir()
		sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
		other := rds.Scope{Account: "111111111111", Region: "eu-west-1"}
		full := FullInstance("db-full")
		minimal := rds.Instance{Identifier: "db-min"}
		empty := rds.Instance{Identifier: "db-empty-phases", Engine: "mysql", Phases: []rds.Phase{}}
		gone := rds.Instance{Identifier: "db-gone", Engine: "mysql"}
		elsewhere := rds.Instance{Identifier: "db-full", Engine: "mariadb"}

		st := open(t, dir)
		if st == nil {
			t.Fatal("open returned a nil store")
		}
		for _, in := range []rds.Instance{full, minimal, empty, gone} {
			createInstance(t, st, sc, in)
		}
		createInstance(t, st, other, elsewhere)
		full.Version, minimal.Version, empty.Version, elsewhere.Version = 1, 1, 1, 1
		minimal.AllocatedStorage = 100
		updateInstance(t, st, sc, minimal)
		minimal.Version = 2
		deleteInstance(t, st, sc, "db-gone", 1)
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
		wantInstance(t, st, sc, full)
		wantInstance(t, st, sc, minimal)
		wantInstance(t, st, sc, empty)
		wantNotStored(t, st, sc, "db-gone")
		wantList(t, st, sc, rds.InstanceFilter{}, "", 10, empty, full, minimal)
		wantList(t, st, sc, rds.InstanceFilter{Engines: []string{"mysql"}}, "", 10, empty)
		wantList(t, st, other, rds.InstanceFilter{}, "", 10, elsewhere)

		// Versions carry on from where they were.
		if err := st.CreateInstance(t.Context(), sc, full); !errors.Is(err, rds.ErrInstanceExists) {
			t.Fatalf("CreateInstance(db-full) after reopen = %v, want ErrInstanceExists", err)
		}
		stale := minimal
		stale.Version = 1
		if err := st.UpdateInstance(t.Context(), sc, stale); !errors.Is(err, rds.ErrVersionConflict) {
			t.Fatalf("UpdateInstance with a stale version after reopen = %v, want ErrVersionConflict", err)
		}
		updateInstance(t, st, sc, minimal)
		minimal.Version = 3
		wantInstance(t, st, sc, minimal)
	})

	runResetPersistent(t, open)
}

// concurrent runs writers and readers from 16 goroutines on one scope and
// one region, then checks the store ended in a state one of them wrote.
func concurrent(t *testing.T, st rds.Store) {
	t.Helper()
	const workers, rounds = 16, 8
	ctx := t.Context()
	sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
	region := "us-east-1"

	ids := make([]string, workers)
	shared := make([]rds.CA, workers)
	own := make([]rds.CA, workers)
	for i := range workers {
		ids[i] = fmt.Sprintf("rds-ca-worker-%02d", i)
		shared[i] = testCA("rds-ca-shared", byte(i+1), 600, 1200)
		own[i] = testCA(ids[i], byte(100+i), 600, 1200)
	}

	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			other := rds.Scope{Account: fmt.Sprintf("%012d", i), Region: region}
			for range rounds {
				if err := st.SetOverride(ctx, sc, ids[i]); err != nil {
					t.Errorf("worker %d: SetOverride: %v", i, err)
					return
				}
				got, err := st.Override(ctx, sc)
				if err != nil {
					t.Errorf("worker %d: Override: %v", i, err)
					return
				}
				if !slices.Contains(ids, got) {
					t.Errorf("worker %d: Override = %q, not a written value", i, got)
				}
				if err := st.AddCAs(ctx, region, []rds.CA{shared[i], own[i]}); err != nil {
					t.Errorf("worker %d: AddCAs: %v", i, err)
					return
				}
				if _, err := st.CAs(ctx, region); err != nil {
					t.Errorf("worker %d: CAs: %v", i, err)
					return
				}
				if err := st.SetOverride(ctx, other, ids[i]); err != nil {
					t.Errorf("worker %d: SetOverride: %v", i, err)
					return
				}
				if err := st.RemoveOverride(ctx, other); err != nil {
					t.Errorf("worker %d: RemoveOverride: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	if got := override(t, st, sc); !slices.Contains(ids, got) {
		t.Fatalf("final Override = %q, not a written value", got)
	}
	for i := range workers {
		wantOverride(t, st, rds.Scope{Account: fmt.Sprintf("%012d", i), Region: region}, "")
	}
	got := cas(t, st, region)
	if len(got) != workers+1 {
		t.Fatalf("CAs returned %d CAs, want %d", len(got), workers+1)
	}
	for i := range workers {
		checkCA(t, got[ids[i]], own[i])
	}
	winner := got["rds-ca-shared"]
	if !slices.ContainsFunc(shared, func(ca rds.CA) bool { return sameCA(winner, ca) }) {
		t.Fatalf("rds-ca-shared holds material no writer wrote")
	}
}

// testCA returns a CA whose DER blobs are deterministic, differ by seed and
// hold every byte value, zero included.
func testCA(id string, seed byte, certLen, keyLen int) rds.CA {
	return rds.CA{Identifier: id, CertDER: blob(seed, certLen), KeyDER: blob(seed^0x5a, keyLen)}
}

func blob(seed byte, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	if n > 0 {
		b[0] = seed
	}
	return b
}

func override(t *testing.T, st rds.Store, sc rds.Scope) string {
	t.Helper()
	id, err := st.Override(t.Context(), sc)
	if err != nil {
		t.Fatalf("Override(%+v): %v", sc, err)
	}
	return id
}

func wantOverride(t *testing.T, st rds.Store, sc rds.Scope, want string) {
	t.Helper()
	if got := override(t, st, sc); got != want {
		t.Fatalf("Override(%+v) = %q, want %q", sc, got, want)
	}
}

func setOverride(t *testing.T, st rds.Store, sc rds.Scope, id string) {
	t.Helper()
	if err := st.SetOverride(t.Context(), sc, id); err != nil {
		t.Fatalf("SetOverride(%+v, %q): %v", sc, id, err)
	}
}

func removeOverride(t *testing.T, st rds.Store, sc rds.Scope) {
	t.Helper()
	if err := st.RemoveOverride(t.Context(), sc); err != nil {
		t.Fatalf("RemoveOverride(%+v): %v", sc, err)
	}
}

func addCAs(t *testing.T, st rds.Store, region string, in []rds.CA) {
	t.Helper()
	if err := st.AddCAs(t.Context(), region, in); err != nil {
		t.Fatalf("AddCAs(%q, %d CAs): %v", region, len(in), err)
	}
}

// cas returns a region's CAs by identifier and fails on duplicates or a
// wrong Region field.
func cas(t *testing.T, st rds.Store, region string) map[string]rds.CA {
	t.Helper()
	list, err := st.CAs(t.Context(), region)
	if err != nil {
		t.Fatalf("CAs(%q): %v", region, err)
	}
	m := make(map[string]rds.CA, len(list))
	for _, ca := range list {
		if ca.Region != region {
			t.Fatalf("CAs(%q) returned %s with Region %q", region, ca.Identifier, ca.Region)
		}
		if _, dup := m[ca.Identifier]; dup {
			t.Fatalf("CAs(%q) returned %s twice", region, ca.Identifier)
		}
		m[ca.Identifier] = ca
	}
	return m
}

// wantCAs checks that a region holds exactly want, compared byte for byte.
func wantCAs(t *testing.T, st rds.Store, region string, want ...rds.CA) {
	t.Helper()
	got := cas(t, st, region)
	if len(got) != len(want) {
		t.Fatalf("CAs(%q) returned %d CAs, want %d", region, len(got), len(want))
	}
	for _, w := range want {
		g, ok := got[w.Identifier]
		if !ok {
			t.Fatalf("CAs(%q) lacks %s", region, w.Identifier)
		}
		checkCA(t, g, w)
	}
}

func checkCA(t *testing.T, got, want rds.CA) {
	t.Helper()
	if got.Identifier != want.Identifier {
		t.Fatalf("CA identifier = %q, want %q", got.Identifier, want.Identifier)
	}
	if !bytes.Equal(got.CertDER, want.CertDER) {
		t.Fatalf("%s: CertDER differs (%d bytes, want %d)", want.Identifier, len(got.CertDER), len(want.CertDER))
	}
	if !bytes.Equal(got.KeyDER, want.KeyDER) {
		t.Fatalf("%s: KeyDER differs (%d bytes, want %d)", want.Identifier, len(got.KeyDER), len(want.KeyDER))
	}
}

func sameCA(a, b rds.CA) bool {
	return a.Identifier == b.Identifier && bytes.Equal(a.CertDER, b.CertDER) && bytes.Equal(a.KeyDER, b.KeyDER)
}
