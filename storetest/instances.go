package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rdsca/rdsca/rds"
)

// runInstances checks the rds.InstanceStore contract.
func runInstances(t *testing.T, fresh func(t *testing.T) rds.Store) {
	t.Helper()
	sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}

	t.Run("InstanceRoundTrip", func(t *testing.T) {
		st := fresh(t)
		full := FullInstance("db-full")
		checkPopulated(t, full)
		full.Version = 42 // CreateInstance stores Version 1 whatever it is given
		minimal := rds.Instance{Identifier: "db-min"}
		empty := rds.Instance{Identifier: "db-empty-phases", Engine: "mysql", Phases: []rds.Phase{}}
		for _, in := range []rds.Instance{full, minimal, empty} {
			createInstance(t, st, sc, in)
			in.Version = 1
			wantInstance(t, st, sc, in)
		}
		want := []rds.Instance{empty, full, minimal}
		for i := range want {
			want[i].Version = 1
		}
		wantList(t, st, sc, rds.InstanceFilter{}, "", 10, want...)
	})

	t.Run("InstanceNotShared", func(t *testing.T) {
		st := fresh(t)
		in := FullInstance("db-1")
		want := FullInstance("db-1")
		want.Version = 1
		createInstance(t, st, sc, in)
		scribble(&in) // the caller's value is not the stored one
		wantInstance(t, st, sc, want)

		got := instance(t, st, sc, "db-1")
		scribble(&got) // nor is a returned one
		wantInstance(t, st, sc, want)

		list := listInstances(t, st, sc, rds.InstanceFilter{}, "", 10)
		scribble(&list[0])
		wantInstance(t, st, sc, want)

		upd := instance(t, st, sc, "db-1")
		upd.Class = "db.r6g.large"
		updateInstance(t, st, sc, upd)
		scribble(&upd)
		want.Class, want.Version = "db.r6g.large", 2
		wantInstance(t, st, sc, want)
	})

	t.Run("InstanceExists", func(t *testing.T) {
		st := fresh(t)
		first := FullInstance("db-1")
		createInstance(t, st, sc, first)
		second := FullInstance("db-1")
		second.Engine, second.AllocatedStorage = "mysql", 999
		if err := st.CreateInstance(t.Context(), sc, second); !errors.Is(err, rds.ErrInstanceExists) {
			t.Fatalf("second CreateInstance(db-1) = %v, want ErrInstanceExists", err)
		}
		first.Version = 1
		wantInstance(t, st, sc, first)
		wantList(t, st, sc, rds.InstanceFilter{}, "", 10, first)
	})

	t.Run("InstanceNotStored", func(t *testing.T) {
		st := fresh(t)
		wantNotStored(t, st, sc, "db-missing")
		createInstance(t, st, sc, rds.Instance{Identifier: "db-1"})
		wantNotStored(t, st, sc, "db-missing")
		wantNotStored(t, st, sc, "DB-1") // identifiers match exactly
		wantNotStored(t, st, sc, "db-")
	})

	t.Run("InstanceScopesIsolated", func(t *testing.T) {
		st := fresh(t)
		otherAccount := rds.Scope{Account: "222222222222", Region: "us-east-1"}
		otherRegion := rds.Scope{Account: "111111111111", Region: "eu-west-1"}
		unused := rds.Scope{Account: "222222222222", Region: "eu-west-1"}
		ins := map[rds.Scope]rds.Instance{}
		for i, s := range []rds.Scope{sc, otherAccount, otherRegion} {
			in := FullInstance("db-1")
			in.AllocatedStorage = 100 * (i + 1)
			in.Engine = []string{"postgres", "mysql", "mariadb"}[i]
			createInstance(t, st, s, in)
			in.Version = 1
			ins[s] = in
		}
		for s, in := range ins {
			wantInstance(t, st, s, in)
			wantList(t, st, s, rds.InstanceFilter{}, "", 10, in)
		}
		wantNotStored(t, st, unused, "db-1")
		wantList(t, st, unused, rds.InstanceFilter{}, "", 10)

		// Writes in one scope leave the others alone.
		in := ins[otherAccount]
		in.AllocatedStorage = 5
		updateInstance(t, st, otherAccount, in)
		in.Version = 2
		ins[otherAccount] = in
		deleteInstance(t, st, otherRegion, "db-1", 1)
		delete(ins, otherRegion)
		wantNotStored(t, st, otherRegion, "db-1")
		for s, in := range ins {
			wantInstance(t, st, s, in)
		}
		// The version is per scope too.
		stale := ins[sc]
		stale.Version = 2
		if err := st.UpdateInstance(t.Context(), sc, stale); !errors.Is(err, rds.ErrVersionConflict) {
			t.Fatalf("UpdateInstance with the other scope's version = %v, want ErrVersionConflict", err)
		}
		if err := st.DeleteInstance(t.Context(), sc, "db-1", 2); !errors.Is(err, rds.ErrVersionConflict) {
			t.Fatalf("DeleteInstance with the other scope's version = %v, want ErrVersionConflict", err)
		}
		wantInstance(t, st, sc, ins[sc])
	})

	t.Run("UpdateInstance", func(t *testing.T) {
		st := fresh(t)
		in := FullInstance("db-1")
		createInstance(t, st, sc, in)

		in = instance(t, st, sc, "db-1")
		in.Class = "db.m7g.large"
		in.Engine = "aurora-postgresql" // engine may change too
		in.Phases = nil
		in.Pending = nil
		in.MaintenanceOptIn = &rds.OptIn{Type: rds.OptInImmediate, ApplyDate: time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)}
		updateInstance(t, st, sc, in)
		in.Version = 2
		wantInstance(t, st, sc, in)
		wantList(t, st, sc, rds.InstanceFilter{Engines: []string{"aurora-postgresql"}}, "", 10, in)
		wantList(t, st, sc, rds.InstanceFilter{Engines: []string{"postgres"}}, "", 10)

		in.Phases = []rds.Phase{{Status: rds.StatusRebooting, Until: time.Date(2025, 3, 4, 5, 7, 0, 999, time.UTC)}}
		updateInstance(t, st, sc, in)
		in.Version = 3
		wantInstance(t, st, sc, in)
	})

	t.Run("UpdateInstanceConflict", func(t *testing.T) {
		st := fresh(t)
		createInstance(t, st, sc, rds.Instance{Identifier: "db-1", AllocatedStorage: 20})
		a := instance(t, st, sc, "db-1")
		b := instance(t, st, sc, "db-1")
		a.AllocatedStorage = 30
		updateInstance(t, st, sc, a)
		b.AllocatedStorage = 40
		if err := st.UpdateInstance(t.Context(), sc, b); !errors.Is(err, rds.ErrVersionConflict) {
			t.Fatalf("UpdateInstance with a stale version = %v, want ErrVersionConflict", err)
		}
		for _, v := range []int64{0, 3, 99, -1} {
			b.Version = v
			if err := st.UpdateInstance(t.Context(), sc, b); !errors.Is(err, rds.ErrVersionConflict) {
				t.Fatalf("UpdateInstance with version %d = %v, want ErrVersionConflict", v, err)
			}
		}
		a.Version = 2
		wantInstance(t, st, sc, a)
	})

	t.Run("UpdateInstanceNotStored", func(t *testing.T) {
		st := fresh(t)
		if err := st.UpdateInstance(t.Context(), sc, rds.Instance{Identifier: "db-1", Version: 1}); !errors.Is(err, rds.ErrInstanceNotStored) {
			t.Fatalf("UpdateInstance of a missing instance = %v, want ErrInstanceNotStored", err)
		}
		wantNotStored(t, st, sc, "db-1") // and it did not create one
		createInstance(t, st, sc, rds.Instance{Identifier: "db-1"})
		deleteInstance(t, st, sc, "db-1", 1)
		if err := st.UpdateInstance(t.Context(), sc, rds.Instance{Identifier: "db-1", Version: 1}); !errors.Is(err, rds.ErrInstanceNotStored) {
			t.Fatalf("UpdateInstance of a deleted instance = %v, want ErrInstanceNotStored", err)
		}
		wantNotStored(t, st, sc, "db-1")
	})

	t.Run("DeleteInstance", func(t *testing.T) {
		st := fresh(t)
		keep := rds.Instance{Identifier: "db-0", Engine: "postgres"}
		createInstance(t, st, sc, keep)
		keep.Version = 1
		in := FullInstance("db-1")
		createInstance(t, st, sc, in)
		in = instance(t, st, sc, "db-1")
		updateInstance(t, st, sc, in)
		in.Version = 2

		for _, v := range []int64{1, 3, 0} {
			if err := st.DeleteInstance(t.Context(), sc, "db-1", v); !errors.Is(err, rds.ErrVersionConflict) {
				t.Fatalf("DeleteInstance(db-1, %d) = %v, want ErrVersionConflict", v, err)
			}
		}
		wantInstance(t, st, sc, in)
		deleteInstance(t, st, sc, "db-1", 2)
		wantNotStored(t, st, sc, "db-1")
		wantList(t, st, sc, rds.InstanceFilter{}, "", 10, keep)
		for _, v := range []int64{2, 1} {
			if err := st.DeleteInstance(t.Context(), sc, "db-1", v); !errors.Is(err, rds.ErrInstanceNotStored) {
				t.Fatalf("DeleteInstance(db-1, %d) again = %v, want ErrInstanceNotStored", v, err)
			}
		}
		if err := st.DeleteInstance(t.Context(), sc, "db-never", 1); !errors.Is(err, rds.ErrInstanceNotStored) {
			t.Fatalf("DeleteInstance(db-never) = %v, want ErrInstanceNotStored", err)
		}

		// The identifier is free again, and starts over at Version 1.
		again := rds.Instance{Identifier: "db-1", Engine: "mysql"}
		createInstance(t, st, sc, again)
		again.Version = 1
		wantInstance(t, st, sc, again)
		wantList(t, st, sc, rds.InstanceFilter{}, "", 10, keep, again)
	})

	t.Run("ListInstances", func(t *testing.T) {
		st := fresh(t)
		listing(t, st, sc)
	})

	t.Run("ConcurrentCAS", func(t *testing.T) {
		st := fresh(t)
		concurrentCAS(t, st, sc)
	})
}

// listing checks ListInstances over 250 instances of two engines, among
// instances of other scopes with the same and interleaved identifiers.
func listing(t *testing.T, st rds.Store, sc rds.Scope) {
	t.Helper()
	const n = 250
	var all, mysql, postgres []rds.Instance
	for i := range n {
		in := rds.Instance{Identifier: fmt.Sprintf("db-%03d", i), Engine: "postgres", AllocatedStorage: i}
		if i%3 == 0 {
			in.Engine = "mysql"
		}
		in.Version = 1
		all = append(all, in)
		if in.Engine == "mysql" {
			mysql = append(mysql, in)
		} else {
			postgres = append(postgres, in)
		}
	}
	// Create in random order; other scopes get the same identifiers and
	// ones that sort between this scope's.
	rng := rand.New(rand.NewPCG(1, 2))
	for _, i := range rng.Perm(n) {
		createInstance(t, st, sc, all[i])
	}
	others := []rds.Scope{
		{Account: "222222222222", Region: sc.Region},
		{Account: sc.Account, Region: "eu-west-1"},
		{Account: sc.Account + "0", Region: sc.Region},
	}
	for j, o := range others {
		for i := 0; i < n; i += 7 {
			createInstance(t, st, o, rds.Instance{Identifier: fmt.Sprintf("db-%03d", i), Engine: "postgres"})
			createInstance(t, st, o, rds.Instance{Identifier: fmt.Sprintf("db-%03d-%d", i, j), Engine: "mysql"})
		}
	}
	none := rds.InstanceFilter{}

	t.Run("All", func(t *testing.T) {
		wantList(t, st, sc, none, "", 1000, all...)
		wantList(t, st, sc, none, "", n, all...)
	})
	t.Run("Pages", func(t *testing.T) {
		pages := paginate(t, st, sc, none, 100)
		if len(pages) != 3 || len(pages[0]) != 100 || len(pages[1]) != 100 || len(pages[2]) != 50 {
			t.Fatalf("pages of 100 have %v instances, want [100 100 50]", pageLens(pages))
		}
		wantSame(t, "joined pages", slices.Concat(pages...), all)
		// Any page size joins to the same list.
		for _, size := range []int{1, 7, 249, 250, 251} {
			wantSame(t, fmt.Sprintf("joined pages of %d", size), slices.Concat(paginate(t, st, sc, none, size)...), all)
		}
	})
	t.Run("After", func(t *testing.T) {
		wantList(t, st, sc, none, "db-000", 3, all[1:4]...)
		wantList(t, st, sc, none, "db-100", 2, all[101:103]...)
		wantList(t, st, sc, none, "db-100-0", 2, all[101:103]...) // stored only in another scope
		wantList(t, st, sc, none, "db-0999", 2, all[100:102]...)  // sorts between db-099 and db-100
		wantList(t, st, sc, none, "db-1", 1, all[100])
		wantList(t, st, sc, none, "a", 2, all[:2]...)
		wantList(t, st, sc, none, "db-248", 10, all[249])
		wantList(t, st, sc, none, "db-249", 10)
		wantList(t, st, sc, none, "zzz", 10)
	})
	t.Run("Limit", func(t *testing.T) {
		for _, limit := range []int{1, 2, 7, 100} {
			wantList(t, st, sc, none, "", limit, all[:limit]...)
		}
	})
	t.Run("IDs", func(t *testing.T) {
		f := rds.InstanceFilter{IDs: []string{"db-200", "db-007", "db-missing", "db-100", "db-007", "db-100-0", "DB-003"}}
		wantList(t, st, sc, f, "", 100, all[7], all[100], all[200])
		wantList(t, st, sc, f, "db-007", 100, all[100], all[200])
		wantList(t, st, sc, f, "db-050", 1, all[100])
		wantList(t, st, sc, f, "db-200", 100)
		wantList(t, st, sc, rds.InstanceFilter{IDs: []string{"db-missing"}}, "", 100)
		var ids []string
		for i := n - 1; i >= 0; i -= 2 {
			ids = append(ids, all[i].Identifier)
		}
		var odd []rds.Instance
		for i := 1; i < n; i += 2 {
			odd = append(odd, all[i])
		}
		wantSame(t, "joined pages of IDs", slices.Concat(paginate(t, st, sc, rds.InstanceFilter{IDs: ids}, 10)...), odd)
	})
	t.Run("Engines", func(t *testing.T) {
		wantList(t, st, sc, rds.InstanceFilter{Engines: []string{"mysql"}}, "", 1000, mysql...)
		wantList(t, st, sc, rds.InstanceFilter{Engines: []string{"postgres"}}, "", 1000, postgres...)
		wantList(t, st, sc, rds.InstanceFilter{Engines: []string{"postgres", "mysql", "mysql"}}, "", 1000, all...)
		wantList(t, st, sc, rds.InstanceFilter{Engines: []string{"oracle-ee"}}, "", 1000)
		wantList(t, st, sc, rds.InstanceFilter{Engines: []string{"mysql"}}, "db-100", 2, all[102], all[105])
		for _, size := range []int{1, 10, 100} {
			f := rds.InstanceFilter{Engines: []string{"postgres"}}
			wantSame(t, fmt.Sprintf("joined pages of %d postgres", size), slices.Concat(paginate(t, st, sc, f, size)...), postgres)
		}
	})
	t.Run("IDsAndEngines", func(t *testing.T) {
		f := rds.InstanceFilter{IDs: []string{"db-000", "db-001", "db-002", "db-003", "db-004", "db-missing"}, Engines: []string{"mysql", "oracle-ee"}}
		wantList(t, st, sc, f, "", 100, all[0], all[3])
		wantList(t, st, sc, f, "db-000", 100, all[3])
		wantList(t, st, sc, f, "", 1, all[0])
		f.Engines = []string{"postgres"}
		wantList(t, st, sc, f, "", 100, all[1], all[2], all[4])
	})
	t.Run("AfterWrites", func(t *testing.T) {
		deleteInstance(t, st, sc, "db-001", 1)
		in := all[2]
		in.Engine = "mysql"
		updateInstance(t, st, sc, in)
		in.Version = 2
		wantList(t, st, sc, none, "", 3, all[0], in, all[3])
		wantList(t, st, sc, rds.InstanceFilter{Engines: []string{"mysql"}}, "", 3, all[0], in, all[3])
		wantList(t, st, sc, rds.InstanceFilter{IDs: []string{"db-001", "db-002"}}, "", 3, in)
	})
}

// paginate lists every instance matching f, size at a time, each page
// starting after the last identifier of the one before, and returns the
// non-empty pages.
func paginate(t *testing.T, st rds.Store, sc rds.Scope, f rds.InstanceFilter, size int) [][]rds.Instance {
	t.Helper()
	var pages [][]rds.Instance
	after := ""
	for {
		page := listInstances(t, st, sc, f, after, size)
		if len(page) > size {
			t.Fatalf("ListInstances(limit %d) returned %d instances", size, len(page))
		}
		if len(page) == 0 {
			return pages
		}
		pages = append(pages, page)
		after = page[len(page)-1].Identifier
		if len(pages) > 10000 {
			t.Fatal("ListInstances pages do not end")
		}
	}
}

func pageLens(pages [][]rds.Instance) []int {
	var n []int
	for _, p := range pages {
		n = append(n, len(p))
	}
	return n
}

// concurrentCAS runs read-modify-write increments of AllocatedStorage from
// 16 goroutines, each retrying on ErrVersionConflict, and checks that no
// successful update was lost.
func concurrentCAS(t *testing.T, st rds.Store, sc rds.Scope) {
	t.Helper()
	const workers, increments = 16, 10
	ctx := t.Context()
	createInstance(t, st, sc, rds.Instance{Identifier: "db-counter", Engine: "postgres"})
	var updates, conflicts atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range increments {
				for {
					in, err := st.Instance(ctx, sc, "db-counter")
					if err != nil {
						t.Errorf("worker %d: Instance: %v", w, err)
						return
					}
					in.AllocatedStorage++
					in.Phases = append(in.Phases, rds.Phase{Status: fmt.Sprint(w)})
					runtime.Gosched() // let others in between the read and the write
					err = st.UpdateInstance(ctx, sc, in)
					if errors.Is(err, rds.ErrVersionConflict) {
						conflicts.Add(1)
						continue
					}
					if err != nil {
						t.Errorf("worker %d: UpdateInstance: %v", w, err)
						return
					}
					updates.Add(1)
					break
				}
				if _, err := st.ListInstances(ctx, sc, rds.InstanceFilter{}, "", 10); err != nil {
					t.Errorf("worker %d: ListInstances: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	got := instance(t, st, sc, "db-counter")
	t.Logf("%d updates, %d conflicts", updates.Load(), conflicts.Load())
	if n := updates.Load(); n != workers*increments {
		t.Fatalf("%d successful updates, want %d", n, workers*increments)
	}
	if got.AllocatedStorage != workers*increments || len(got.Phases) != workers*increments {
		t.Fatalf("counter = %d with %d phases after %d updates: updates were lost",
			got.AllocatedStorage, len(got.Phases), workers*increments)
	}
	if got.Version != 1+workers*increments {
		t.Fatalf("Version = %d after %d updates, want %d", got.Version, workers*increments, 1+workers*increments)
	}
}

// monotonic is a time with a monotonic clock reading.
var monotonic = time.Now()

// FullInstance returns an instance with every field set (the suite fails
// when rds.Instance gains a field it leaves zero), times with nanoseconds
// in several zones, one with a monotonic reading, and Version 7. Adapter
// tests use it to check that every field survives them.
func FullInstance(id string) rds.Instance {
	east := time.FixedZone("UTC-5", -5*3600)
	india := time.FixedZone("IST", 5*3600+1800)
	return rds.Instance{
		Identifier:        id,
		ResourceID:        "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		Class:             "db.t3.micro",
		Engine:            "postgres",
		EngineVersion:     "16.4",
		MasterUsername:    "postgres",
		AllocatedStorage:  20,
		Port:              5432,
		AvailabilityZone:  "us-east-1a",
		MaintenanceWindow: "sun:05:00-sun:05:30",
		CreateTime:        time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.UTC),
		Phases: []rds.Phase{
			{Status: rds.StatusModifying, Until: time.Date(2024, 3, 1, 0, 0, 1, 1, east)},
			{Status: rds.StatusRebooting, Until: time.Date(2024, 3, 1, 0, 0, 2, 999999999, india)},
			{Status: rds.StatusDeleting, Until: time.Date(2024, 3, 1, 0, 0, 3, 500, time.UTC)},
		},
		Deleted:             true,
		CA:                  "rds-ca-rsa2048-g1",
		ServerCertValidTill: time.Date(2025, 2, 28, 23, 59, 59, 0, time.Local),
		Pending:             &rds.PendingCA{CA: "rds-ca-ecc384-g1", Mode: rds.ApplyAtRestart, Since: monotonic},
		MaintenanceOptIn:    &rds.OptIn{Type: rds.OptInNextMaintenance, ApplyDate: time.Date(2039, 12, 31, 1, 2, 3, 4, india)},
		Version:             7,
	}
}

// scribble changes everything in in that a store could share with its
// caller: slice elements and pointed-to values.
func scribble(in *rds.Instance) {
	for i := range in.Phases {
		in.Phases[i].Status = "scribbled"
		in.Phases[i].Until = time.Unix(1, 1)
	}
	if in.Pending != nil {
		*in.Pending = rds.PendingCA{CA: "scribbled"}
	}
	if in.MaintenanceOptIn != nil {
		*in.MaintenanceOptIn = rds.OptIn{Type: "scribbled"}
	}
	in.Identifier += "-scribbled"
}

// checkPopulated fails if any field of v, however deep, is zero, so the
// round-trip test covers every field rds.Instance gains.
func checkPopulated(t *testing.T, in rds.Instance) {
	t.Helper()
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		if v.Type() == reflect.TypeFor[time.Time]() {
			if v.Interface().(time.Time).IsZero() {
				t.Errorf("FullInstance: %s is zero; set it so the round trip covers it", path)
			}
			return
		}
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				if f := v.Type().Field(i); f.IsExported() {
					walk(path+"."+f.Name, v.Field(i))
				}
			}
		case reflect.Pointer:
			if v.IsNil() {
				t.Errorf("FullInstance: %s is nil; set it so the round trip covers it", path)
				return
			}
			walk(path, v.Elem())
		case reflect.Slice:
			if v.Len() == 0 {
				t.Errorf("FullInstance: %s is empty; set it so the round trip covers it", path)
			}
			for i := range v.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
			}
		default:
			if v.IsZero() {
				t.Errorf("FullInstance: %s is zero; set it so the round trip covers it", path)
			}
		}
	}
	walk("Instance", reflect.ValueOf(in))
}

// diff describes the first difference between got and want, "" if none.
// Times compare with Equal; nil and empty slices differ, as do nil and
// non-nil pointers.
func diff(path string, got, want reflect.Value) string {
	if got.Type() == reflect.TypeFor[time.Time]() {
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		if !g.Equal(w) {
			return fmt.Sprintf("%s = %v, want %v", path, g, w)
		}
		return ""
	}
	switch got.Kind() {
	case reflect.Struct:
		for i := range got.NumField() {
			if f := got.Type().Field(i); f.IsExported() {
				if d := diff(path+"."+f.Name, got.Field(i), want.Field(i)); d != "" {
					return d
				}
			}
		}
		return ""
	case reflect.Pointer:
		if got.IsNil() || want.IsNil() {
			if got.IsNil() != want.IsNil() {
				return fmt.Sprintf("%s is nil: %v, want %v", path, got.IsNil(), want.IsNil())
			}
			return ""
		}
		return diff(path, got.Elem(), want.Elem())
	case reflect.Slice:
		if got.IsNil() != want.IsNil() {
			return fmt.Sprintf("%s is nil: %v, want %v", path, got.IsNil(), want.IsNil())
		}
		if got.Len() != want.Len() {
			return fmt.Sprintf("%s has %d elements, want %d", path, got.Len(), want.Len())
		}
		for i := range got.Len() {
			if d := diff(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i)); d != "" {
				return d
			}
		}
		return ""
	default:
		if !got.Equal(want) {
			return fmt.Sprintf("%s = %#v, want %#v", path, got.Interface(), want.Interface())
		}
		return ""
	}
}

func checkInstance(t *testing.T, what string, got, want rds.Instance) {
	t.Helper()
	if d := diff("Instance", reflect.ValueOf(got), reflect.ValueOf(want)); d != "" {
		t.Fatalf("%s: %s", what, d)
	}
}

// wantSame checks that got holds want's instances, in want's order.
func wantSame(t *testing.T, what string, got, want []rds.Instance) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d instances %s, want %d %s", what, len(got), ids(got), len(want), ids(want))
	}
	for i := range got {
		checkInstance(t, fmt.Sprintf("%s[%d]", what, i), got[i], want[i])
	}
}

func ids(ins []rds.Instance) string {
	const most = 8
	var s []string
	for i, in := range ins {
		if i == most {
			s = append(s, fmt.Sprintf("... (%d more)", len(ins)-most))
			break
		}
		s = append(s, in.Identifier)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func createInstance(t *testing.T, st rds.Store, sc rds.Scope, in rds.Instance) {
	t.Helper()
	if err := st.CreateInstance(t.Context(), sc, in); err != nil {
		t.Fatalf("CreateInstance(%+v, %s): %v", sc, in.Identifier, err)
	}
}

func instance(t *testing.T, st rds.Store, sc rds.Scope, id string) rds.Instance {
	t.Helper()
	in, err := st.Instance(t.Context(), sc, id)
	if err != nil {
		t.Fatalf("Instance(%+v, %s): %v", sc, id, err)
	}
	return in
}

func wantInstance(t *testing.T, st rds.Store, sc rds.Scope, want rds.Instance) {
	t.Helper()
	checkInstance(t, fmt.Sprintf("Instance(%+v, %s)", sc, want.Identifier), instance(t, st, sc, want.Identifier), want)
}

func wantNotStored(t *testing.T, st rds.Store, sc rds.Scope, id string) {
	t.Helper()
	if in, err := st.Instance(t.Context(), sc, id); !errors.Is(err, rds.ErrInstanceNotStored) {
		t.Fatalf("Instance(%+v, %s) = %s, %v; want ErrInstanceNotStored", sc, id, in.Identifier, err)
	}
}

func updateInstance(t *testing.T, st rds.Store, sc rds.Scope, in rds.Instance) {
	t.Helper()
	if err := st.UpdateInstance(t.Context(), sc, in); err != nil {
		t.Fatalf("UpdateInstance(%+v, %s, version %d): %v", sc, in.Identifier, in.Version, err)
	}
}

func deleteInstance(t *testing.T, st rds.Store, sc rds.Scope, id string, version int64) {
	t.Helper()
	if err := st.DeleteInstance(t.Context(), sc, id, version); err != nil {
		t.Fatalf("DeleteInstance(%+v, %s, %d): %v", sc, id, version, err)
	}
}

func listInstances(t *testing.T, st rds.Store, sc rds.Scope, f rds.InstanceFilter, after string, limit int) []rds.Instance {
	t.Helper()
	list, err := st.ListInstances(t.Context(), sc, f, after, limit)
	if err != nil {
		t.Fatalf("ListInstances(%+v, %+v, %q, %d): %v", sc, f, after, limit, err)
	}
	return list
}

// wantList checks that ListInstances returns exactly want, in order.
func wantList(t *testing.T, st rds.Store, sc rds.Scope, f rds.InstanceFilter, after string, limit int, want ...rds.Instance) {
	t.Helper()
	got := listInstances(t, st, sc, f, after, limit)
	wantSame(t, fmt.Sprintf("ListInstances(%+v, %+v, %q, %d)", sc, f, after, limit), got, want)
}
