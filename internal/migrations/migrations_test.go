package migrations

import (
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	good := fstest.MapFS{
		"m/001_init.sql": {Data: []byte("CREATE TABLE a (x INT);")},
		"m/002_more.sql": {Data: []byte("CREATE TABLE b (x INT);")},
	}
	migs, err := Load(good, "m")
	if err != nil || len(migs) != 2 || migs[1].Version != 2 || migs[1].Name != "002_more.sql" || migs[0].SQL != "CREATE TABLE a (x INT);" {
		t.Fatalf("Load = %+v, %v", migs, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":      {"m/001_a.sql": {}, "m/003_c.sql": {}},
		"bad name": {"m/init.sql": {}},
		"not sql":  {"m/001_a.txt": {}},
	} {
		if _, err := Load(fsys, "m"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
