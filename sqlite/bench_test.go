package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rdsca/rdsca/rds"
)

const benchInstances = 10_000

var benchScope = rds.Scope{Account: "111111111111", Region: "us-east-1"}

// benchStore opens a store holding benchInstances instances in benchScope,
// db-00000 to db-09999, every third one mysql and the others postgres, and
// a few in another scope.
func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "rdsca.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ins := make([]rds.Instance, benchInstances)
	for i := range ins {
		ins[i] = benchInstance(i)
	}
	if err := s.createInstances(b.Context(), benchScope, ins); err != nil {
		b.Fatal(err)
	}
	other := rds.Scope{Account: "222222222222", Region: "us-east-1"}
	if err := s.createInstances(b.Context(), other, ins[:100]); err != nil {
		b.Fatal(err)
	}
	return s
}

func benchInstance(i int) rds.Instance {
	created := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC).Add(time.Duration(i) * time.Minute)
	in := rds.Instance{
		Identifier:          fmt.Sprintf("db-%05d", i),
		ResourceID:          "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		Class:               "db.t3.micro",
		Engine:              "postgres",
		EngineVersion:       "16.4",
		MasterUsername:      "postgres",
		AllocatedStorage:    20,
		Port:                5432,
		AvailabilityZone:    "us-east-1a",
		MaintenanceWindow:   "sun:05:00-sun:05:30",
		CreateTime:          created,
		CA:                  "rds-ca-rsa2048-g1",
		ServerCertValidTill: created.AddDate(1, 0, 0),
	}
	if i%3 == 0 {
		in.Engine, in.EngineVersion, in.MasterUsername, in.Port = "mysql", "8.0.39", "admin", 3306
	}
	if i%10 == 0 {
		in.Pending = &rds.PendingCA{CA: "rds-ca-ecc384-g1", Mode: rds.ApplyAtWindow, Since: created}
	}
	return in
}

// createInstances stores new instances in one transaction, for fast setup,
// and then in the index, as CreateInstance does.
func (s *Store) createInstances(ctx context.Context, sc rds.Scope, ins []rds.Instance) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt := tx.StmtContext(ctx, s.stmts.create)
	cached := make([]rds.Instance, len(ins))
	for i, in := range ins {
		var data string
		if data, cached[i], err = encodeCached(in, 1); err != nil {
			return err
		}
		res, err := stmt.ExecContext(ctx, sc.Account, sc.Region, in.Identifier, in.Engine, data)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("create %s: %d rows, %v", in.Identifier, n, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, in := range cached {
		s.instances.Put(sc, in)
	}
	return nil
}

func BenchmarkListInstances(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	mid := fmt.Sprintf("db-%05d", benchInstances/2)
	run := func(name string, f rds.InstanceFilter, want int) {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				page, err := s.ListInstances(ctx, benchScope, f, mid, 100)
				if err != nil {
					b.Fatal(err)
				}
				if len(page) != want {
					b.Fatalf("page of %d instances, want %d", len(page), want)
				}
			}
		})
	}
	run("Page100", rds.InstanceFilter{}, 100)
	run("Page100Engine", rds.InstanceFilter{Engines: []string{"mysql"}}, 100)
	var ids []string
	for i := range 100 {
		ids = append(ids, fmt.Sprintf("db-%05d", benchInstances/2+1+3*i))
	}
	run("Page100IDs", rds.InstanceFilter{IDs: ids}, 100)
}

func BenchmarkInstance(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = fmt.Sprintf("db-%05d", i*benchInstances/len(ids))
	}
	i := 0
	for b.Loop() {
		if _, err := s.Instance(ctx, benchScope, ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkUpdateInstance measures a durable compare-and-swap write.
func BenchmarkUpdateInstance(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	in, err := s.Instance(ctx, benchScope, "db-05000")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		in.AllocatedStorage++
		if err := s.UpdateInstance(ctx, benchScope, in); err != nil {
			b.Fatal(err)
		}
		in.Version++
	}
}

// BenchmarkOpen measures Open of a database holding benchInstances+100
// instances, and reports the heap the loaded index keeps per instance.
func BenchmarkOpen(b *testing.B) {
	s := benchStore(b)
	path := filepath.Join(b.TempDir(), "copy.db")
	if _, err := s.db.ExecContext(b.Context(), "VACUUM INTO ?", path); err != nil {
		b.Fatal(err)
	}
	n := s.instances.Len()
	var heap float64
	for b.Loop() {
		b.StopTimer()
		before := heapInUse()
		b.StartTimer()
		s, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		heap = float64(heapInUse()-before) / float64(n)
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(heap, "heap-B/instance")
}

// heapInUse returns the bytes of live heap objects after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
