// Package migrations reads the numbered SQL migrations that the SQL stores
// embed.
package migrations

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load returns the migrations in dir of fsys, named NNN_name.sql, whose
// versions must run 1, 2, 3, ... in file name order.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var migs []Migration
	for _, e := range entries {
		name := e.Name()
		prefix, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %s: name is not NNN_name.sql", name)
		}
		if v != len(migs)+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d", name, v, len(migs)+1)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		migs = append(migs, Migration{Version: v, Name: name, SQL: string(b)})
	}
	return migs, nil
}
