package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rdsca/rdsca/rds"
)

// TestInstancePlans checks that the instance statements search the primary
// key rather than scan the table, and that Open's load reads the table in
// key order without sorting.
func TestInstancePlans(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "rdsca.db"))
	defer closeTest(t, s)
	sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
	key := []any{sc.Account, sc.Region, "db-1"}
	for _, q := range []struct {
		q    string
		args []any
		want string // prefix of the plan
	}{
		{qInstanceVersion, key, "SEARCH instances USING INDEX"},
		{qUpdateInstance, append([]any{"postgres", "{}"}, append(key, 1)...), "SEARCH instances USING INDEX"},
		{qDeleteInstance, append(key, 1), "SEARCH instances USING INDEX"},
		{qAllInstances, nil, "SCAN instances USING INDEX"},
	} {
		rows, err := s.db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q.q, q.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.HasPrefix(p, q.want) || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("plan of %s\n  is %s", q.q, p)
		}
	}
}

// TestInstanceTimesUTC checks that times come back in UTC, whatever zone
// they were stored in.
func TestInstanceTimesUTC(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "rdsca.db"))
	defer closeTest(t, s)
	sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
	zone := time.FixedZone("IST", 5*3600+1800)
	at := time.Date(2024, 1, 2, 3, 4, 5, 6, zone)
	in := rds.Instance{
		Identifier:          "db-1",
		CreateTime:          at,
		Phases:              []rds.Phase{{Status: rds.StatusModifying, Until: at}},
		ServerCertValidTill: time.Now(),
		Pending:             &rds.PendingCA{Since: at},
		MaintenanceOptIn:    &rds.OptIn{ApplyDate: at},
	}
	if err := s.CreateInstance(t.Context(), sc, in); err != nil {
		t.Fatal(err)
	}
	got, err := s.Instance(t.Context(), sc, "db-1")
	if err != nil {
		t.Fatal(err)
	}
	for name, tm := range map[string]time.Time{
		"CreateTime":                 got.CreateTime,
		"Phases[0].Until":            got.Phases[0].Until,
		"ServerCertValidTill":        got.ServerCertValidTill,
		"Pending.Since":              got.Pending.Since,
		"MaintenanceOptIn.ApplyDate": got.MaintenanceOptIn.ApplyDate,
	} {
		if tm.Location() != time.UTC {
			t.Errorf("%s in %v, want UTC", name, tm.Location())
		}
		if tm != tm.Round(0) {
			t.Errorf("%s has a monotonic reading", name)
		}
	}
	if !got.CreateTime.Equal(at) || got.CreateTime != at.UTC() {
		t.Errorf("CreateTime = %v, want %v", got.CreateTime, at.UTC())
	}
}
