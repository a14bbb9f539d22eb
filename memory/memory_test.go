package memory_test

import (
	"testing"
	"time"

	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) rds.Store { return memory.New() })
}

// TestInstanceTimesUTC checks that times come back in UTC without a
// monotonic reading, as the SQLite store returns them.
func TestInstanceTimesUTC(t *testing.T) {
	st := memory.New()
	sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
	at := time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("IST", 5*3600+1800))
	in := rds.Instance{
		Identifier:          "db-1",
		CreateTime:          at,
		Phases:              []rds.Phase{{Status: rds.StatusModifying, Until: at}},
		ServerCertValidTill: time.Now(),
		Pending:             &rds.PendingCA{Since: at},
		MaintenanceOptIn:    &rds.OptIn{ApplyDate: at},
	}
	if err := st.CreateInstance(t.Context(), sc, in); err != nil {
		t.Fatal(err)
	}
	got, err := st.Instance(t.Context(), sc, "db-1")
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
		if tm.Location() != time.UTC || tm != tm.Round(0) {
			t.Errorf("%s = %#v, want UTC without a monotonic reading", name, tm)
		}
	}
}
