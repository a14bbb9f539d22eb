package instindex

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/storetest"
)

var (
	sc    = rds.Scope{Account: "111111111111", Region: "us-east-1"}
	other = rds.Scope{Account: "222222222222", Region: "us-east-1"}
	none  = rds.InstanceFilter{}
)

// utc is in as the Index returns it: times in UTC without a monotonic
// reading.
func utc(in rds.Instance) rds.Instance { return Clone(in) }

func wantGet(t *testing.T, x *Index, sc rds.Scope, want rds.Instance) {
	t.Helper()
	got, ok := x.Get(sc, want.Identifier)
	if !ok {
		t.Fatalf("Get(%+v, %s): not stored", sc, want.Identifier)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Get(%+v, %s) =\n  %+v\nwant\n  %+v", sc, want.Identifier, got, want)
	}
}

func idsOf(ins []rds.Instance) []string {
	ids := []string{}
	for _, in := range ins {
		ids = append(ids, in.Identifier)
	}
	return ids
}

func wantIDs(t *testing.T, x *Index, sc rds.Scope, f rds.InstanceFilter, after string, limit int, want ...string) {
	t.Helper()
	got := x.List(sc, f, after, limit)
	if got == nil {
		t.Fatalf("List(%+v, %q, %d) = nil, want a non-nil slice", f, after, limit)
	}
	if want == nil {
		want = []string{}
	}
	if ids := idsOf(got); !slices.Equal(ids, want) {
		t.Fatalf("List(%+v, %q, %d) = %v, want %v", f, after, limit, ids, want)
	}
}

func TestPutGet(t *testing.T) {
	x := New()
	if _, ok := x.Get(sc, "db-1"); ok {
		t.Fatal("Get from an empty index found an instance")
	}
	if _, ok := x.Version(sc, "db-1"); ok {
		t.Fatal("Version from an empty index found an instance")
	}
	full := storetest.FullInstance("db-1")
	x.Put(sc, full)
	wantGet(t, x, sc, utc(full)) // Version 7, as given
	if v, ok := x.Version(sc, "db-1"); !ok || v != 7 {
		t.Fatalf("Version = %d, %v; want 7, true", v, ok)
	}
	if _, ok := x.Get(other, "db-1"); ok {
		t.Fatal("Get found the instance in another scope")
	}
	if _, ok := x.Get(sc, "DB-1"); ok {
		t.Fatal("Get matched an identifier in another case")
	}

	// Put replaces, whatever the versions.
	repl := rds.Instance{Identifier: "db-1", Engine: "mysql", Version: 3}
	x.Put(sc, repl)
	wantGet(t, x, sc, repl)
	if x.Len() != 1 {
		t.Fatalf("Len = %d after replacing, want 1", x.Len())
	}

	// nil and empty slices stay as they are.
	empty := rds.Instance{Identifier: "db-2", Phases: []rds.Phase{}}
	x.Put(sc, empty)
	got, _ := x.Get(sc, "db-2")
	if got.Phases == nil || len(got.Phases) != 0 || got.Pending != nil || got.MaintenanceOptIn != nil {
		t.Fatalf("Get(db-2) = %+v, want empty non-nil Phases and nil pointers", got)
	}
	got, _ = x.Get(sc, "db-1")
	if got.Phases != nil {
		t.Fatalf("Get(db-1).Phases = %#v, want nil", got.Phases)
	}
}

func TestTimesUTC(t *testing.T) {
	x := New()
	in := storetest.FullInstance("db-1")
	x.Put(sc, in)
	got, _ := x.Get(sc, "db-1")
	for name, tm := range map[string][2]time.Time{
		"CreateTime":                 {got.CreateTime, in.CreateTime},
		"Phases[1].Until":            {got.Phases[1].Until, in.Phases[1].Until},
		"ServerCertValidTill":        {got.ServerCertValidTill, in.ServerCertValidTill},
		"Pending.Since":              {got.Pending.Since, in.Pending.Since},
		"MaintenanceOptIn.ApplyDate": {got.MaintenanceOptIn.ApplyDate, in.MaintenanceOptIn.ApplyDate},
	} {
		g, w := tm[0], tm[1]
		if g.Location() != time.UTC || g != g.Round(0) || !g.Equal(w) {
			t.Errorf("%s = %#v, want %v in UTC without a monotonic reading", name, g, w)
		}
	}
}

// TestCopies checks that the Index shares no memory with its callers, in
// either direction.
func TestCopies(t *testing.T) {
	x := New()
	in := storetest.FullInstance("db-1")
	want := utc(storetest.FullInstance("db-1"))
	x.Put(sc, in)
	scribble(&in)
	wantGet(t, x, sc, want)

	got, _ := x.Get(sc, "db-1")
	scribble(&got)
	wantGet(t, x, sc, want)

	list := x.List(sc, none, "", 10)
	scribble(&list[0])
	wantGet(t, x, sc, want)

	list = x.List(sc, rds.InstanceFilter{IDs: []string{"db-1"}}, "", 10)
	scribble(&list[0])
	wantGet(t, x, sc, want)

	// Two reads share nothing either.
	a, _ := x.Get(sc, "db-1")
	b, _ := x.Get(sc, "db-1")
	scribble(&a)
	if !reflect.DeepEqual(b, want) {
		t.Fatal("two Gets share memory")
	}
}

// scribble changes everything in in that could be shared.
func scribble(in *rds.Instance) {
	for i := range in.Phases {
		in.Phases[i] = rds.Phase{Status: "scribbled", Until: time.Unix(1, 1)}
	}
	if in.Pending != nil {
		*in.Pending = rds.PendingCA{CA: "scribbled"}
	}
	if in.MaintenanceOptIn != nil {
		*in.MaintenanceOptIn = rds.OptIn{Type: "scribbled"}
	}
	in.Phases = append(in.Phases, rds.Phase{Status: "appended"})
}

func TestDeleteAndReset(t *testing.T) {
	x := New()
	for _, id := range []string{"db-1", "db-2", "db-3"} {
		x.Put(sc, rds.Instance{Identifier: id, Version: 1})
		x.Put(other, rds.Instance{Identifier: id, Version: 1})
	}
	x.Delete(sc, "db-2")
	x.Delete(sc, "db-missing") // no-op
	x.Delete(rds.Scope{Account: "333333333333", Region: "us-east-1"}, "db-1")
	wantIDs(t, x, sc, none, "", 10, "db-1", "db-3")
	wantIDs(t, x, other, none, "", 10, "db-1", "db-2", "db-3")
	if x.Len() != 5 {
		t.Fatalf("Len = %d, want 5", x.Len())
	}
	x.Delete(sc, "db-1")
	x.Delete(sc, "db-3")
	if len(x.scopes) != 1 {
		t.Fatalf("%d scopes after emptying one of two, want 1", len(x.scopes))
	}
	x.Put(sc, rds.Instance{Identifier: "db-1", Version: 1}) // and it fills again
	wantIDs(t, x, sc, none, "", 10, "db-1")
	x.Reset()
	if x.Len() != 0 {
		t.Fatalf("Len = %d after Reset", x.Len())
	}
	wantIDs(t, x, sc, none, "", 10)
	wantIDs(t, x, other, none, "", 10)
	x.Put(other, rds.Instance{Identifier: "db-9", Version: 1})
	wantIDs(t, x, other, none, "", 10, "db-9")

	var zero Index // the zero Index works too
	zero.Delete(sc, "db-1")
	wantIDs(t, &zero, sc, none, "", 10)
	zero.Put(sc, rds.Instance{Identifier: "db-1"})
	wantIDs(t, &zero, sc, none, "", 10, "db-1")
}

func TestList(t *testing.T) {
	x := New()
	var all, mysql []string
	rng := rand.New(rand.NewPCG(1, 2))
	for _, i := range rng.Perm(50) {
		in := rds.Instance{Identifier: fmt.Sprintf("db-%02d", i), Engine: "postgres"}
		if i%3 == 0 {
			in.Engine = "mysql"
		}
		x.Put(sc, in)
		x.Put(other, rds.Instance{Identifier: fmt.Sprintf("db-%02d-x", i), Engine: "mysql"})
	}
	for i := range 50 {
		all = append(all, fmt.Sprintf("db-%02d", i))
		if i%3 == 0 {
			mysql = append(mysql, fmt.Sprintf("db-%02d", i))
		}
	}
	wantIDs(t, x, sc, none, "", 100, all...)
	wantIDs(t, x, sc, none, "", 3, all[:3]...)
	wantIDs(t, x, sc, none, "db-10", 3, all[11:14]...)
	wantIDs(t, x, sc, none, "db-10-x", 3, all[11:14]...) // stored in another scope only
	wantIDs(t, x, sc, none, "db-49", 3)
	wantIDs(t, x, sc, none, "a", 1, all[0])
	wantIDs(t, x, sc, none, "", 0)
	wantIDs(t, x, sc, none, "", -1)
	wantIDs(t, x, rds.Scope{Account: "111111111111", Region: "eu-west-1"}, none, "", 10)

	wantIDs(t, x, sc, rds.InstanceFilter{Engines: []string{"mysql"}}, "", 100, mysql...)
	wantIDs(t, x, sc, rds.InstanceFilter{Engines: []string{"mysql"}}, "db-10", 2, "db-12", "db-15")
	wantIDs(t, x, sc, rds.InstanceFilter{Engines: []string{"oracle-ee"}}, "", 100)

	ids := rds.InstanceFilter{IDs: []string{"db-30", "db-03", "db-missing", "db-03", "db-10-x", "DB-04", "db-04"}}
	wantIDs(t, x, sc, ids, "", 100, "db-03", "db-04", "db-30")
	wantIDs(t, x, sc, ids, "db-03", 100, "db-04", "db-30")
	wantIDs(t, x, sc, ids, "db-031", 100, "db-04", "db-30")
	wantIDs(t, x, sc, ids, "", 2, "db-03", "db-04")
	wantIDs(t, x, sc, ids, "db-30", 100)
	ids.Engines = []string{"mysql"}
	wantIDs(t, x, sc, ids, "", 100, "db-03", "db-30")
	if !slices.Equal(ids.IDs, []string{"db-30", "db-03", "db-missing", "db-03", "db-10-x", "DB-04", "db-04"}) {
		t.Fatalf("List changed the filter's IDs: %v", ids.IDs)
	}

	// An empty non-nil field matches nothing.
	wantIDs(t, x, sc, rds.InstanceFilter{IDs: []string{}}, "", 100)
	wantIDs(t, x, sc, rds.InstanceFilter{Engines: []string{}}, "", 100)
}

// TestIntern checks that repeated strings are shared and that the table
// stays bounded.
func TestIntern(t *testing.T) {
	x := New()
	for i := range maxInterned + 100 {
		x.Put(sc, rds.Instance{
			Identifier:     fmt.Sprintf("db-%05d", i),
			Class:          string([]byte("db.t3.micro")),
			MasterUsername: fmt.Sprintf("user%d", i),
		})
	}
	if len(x.intern) > maxInterned {
		t.Fatalf("%d strings interned, want at most %d", len(x.intern), maxInterned)
	}
	a, b := x.scopes[sc].entries[0].in, x.scopes[sc].entries[maxInterned+50].in
	if unsafeData(a.Class) != unsafeData(b.Class) {
		t.Error("Class strings are not shared")
	}
	if b.MasterUsername != fmt.Sprintf("user%d", maxInterned+50) {
		t.Errorf("MasterUsername = %q", b.MasterUsername)
	}
	x.Reset()
	if len(x.intern) != 0 {
		t.Errorf("%d strings interned after Reset", len(x.intern))
	}
}

func unsafeData(s string) *byte { return unsafe.StringData(s) }

// TestConcurrent runs writers and readers on shared identifiers (run it
// with -race). Writers keep AllocatedStorage equal to Version and Phases
// of that length; readers check that every instance they see is whole and
// that listings are in order.
func TestConcurrent(t *testing.T) {
	x := New()
	const writers, readers, rounds, ids = 4, 4, 300, 20
	id := func(i int) string { return fmt.Sprintf("db-%02d", i) }
	mk := func(i int, v int64) rds.Instance {
		in := rds.Instance{Identifier: id(i), Engine: []string{"mysql", "postgres"}[i%2], AllocatedStorage: int(v), Version: v}
		for range v {
			in.Phases = append(in.Phases, rds.Phase{Status: rds.StatusModifying})
		}
		return in
	}
	check := func(in rds.Instance) error {
		if int64(in.AllocatedStorage) != in.Version || int64(len(in.Phases)) != in.Version {
			return fmt.Errorf("%s: Version %d, AllocatedStorage %d, %d phases", in.Identifier, in.Version, in.AllocatedStorage, len(in.Phases))
		}
		return nil
	}
	var mu sync.Mutex // orders each writer's check and Put, as the stores do
	var wg, rg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range rounds {
				i := rng.IntN(ids)
				mu.Lock()
				switch v, ok := x.Version(sc, id(i)); {
				case !ok:
					x.Put(sc, mk(i, 1))
				case v > 6:
					x.Delete(sc, id(i))
				default:
					x.Put(sc, mk(i, v+1))
				}
				if rng.IntN(100) == 0 {
					x.Reset()
				}
				mu.Unlock()
			}
		})
	}
	for r := range readers {
		rg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if in, ok := x.Get(sc, id(n%ids)); ok {
					if err := check(in); err != nil {
						t.Errorf("reader %d: Get: %v", r, err)
						return
					}
					scribble(&in)
				}
				f := none
				switch n % 3 {
				case 1:
					f.Engines = []string{"mysql"}
				case 2:
					f.IDs = []string{id(n % ids), id((n + 7) % ids), id((n + 3) % ids)}
				}
				list := x.List(sc, f, "", ids)
				for j, in := range list {
					if err := check(in); err != nil {
						t.Errorf("reader %d: List: %v", r, err)
						return
					}
					if j > 0 && list[j-1].Identifier >= in.Identifier {
						t.Errorf("reader %d: List out of order: %v", r, idsOf(list))
						return
					}
					if f.Engines != nil && in.Engine != "mysql" {
						t.Errorf("reader %d: List(%+v) returned %s, engine %s", r, f, in.Identifier, in.Engine)
					}
					scribble(&list[j])
				}
				_ = x.Len()
			}
		})
	}
	wg.Wait()
	close(stop)
	rg.Wait()
	n := 0
	for _, in := range x.List(sc, none, "", ids) {
		if err := check(in); err != nil {
			t.Error(err)
		}
		n++
	}
	if n != x.Len() {
		t.Errorf("List found %d instances, Len says %d", n, x.Len())
	}
}
