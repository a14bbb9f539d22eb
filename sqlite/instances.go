package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rdsca/rdsca/internal/instindex"
	"github.com/rdsca/rdsca/rds"
)

// Instance statements, prepared once at Open; database/sql prepares each
// again on every pooled connection that runs it. Instance reads are
// answered from s.instances, so only writes (and the version check of a
// compare-and-swap write that changed nothing) reach the database.
const (
	qCreateInstance = `INSERT INTO instances (account, region, id, engine, version, data)
		VALUES (?, ?, ?, ?, 1, ?)
		ON CONFLICT (account, region, id) DO NOTHING`
	qUpdateInstance = `UPDATE instances
		SET engine = ?, version = version + 1, data = ?, updated_at = ` + now + `
		WHERE account = ? AND region = ? AND id = ? AND version = ?`
	qDeleteInstance = `DELETE FROM instances
		WHERE account = ? AND region = ? AND id = ? AND version = ?`
	qInstanceVersion = `SELECT version FROM instances
		WHERE account = ? AND region = ? AND id = ?`
	// qAllInstances loads the index at Open, in primary key order, so
	// every row is appended to its scope.
	qAllInstances = `SELECT account, region, id, version, data FROM instances
		ORDER BY account, region, id`
)

// stmts are the prepared instance statements.
type stmts struct {
	create, update, delete, version *sql.Stmt
}

func prepare(ctx context.Context, db *sql.DB) (_ *stmts, err error) {
	st := &stmts{}
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&st.create, qCreateInstance},
		{&st.update, qUpdateInstance},
		{&st.delete, qDeleteInstance},
		{&st.version, qInstanceVersion},
	} {
		if *p.dst, err = db.PrepareContext(ctx, p.query); err != nil {
			st.close()
			return nil, err
		}
	}
	return st, nil
}

func (st *stmts) close() error {
	var errs []error
	for _, s := range []*sql.Stmt{st.create, st.update, st.delete, st.version} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// loadInstances reads every stored instance into a new index, decoding
// each row once.
func loadInstances(ctx context.Context, db *sql.DB) (*instindex.Index, error) {
	rows, err := db.QueryContext(ctx, qAllInstances)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	x := instindex.New()
	for rows.Next() {
		var sc rds.Scope
		var id string
		var v int64
		var data sql.RawBytes // decoded before Next reuses it
		if err := rows.Scan(&sc.Account, &sc.Region, &id, &v, &data); err != nil {
			return nil, err
		}
		in, err := decodeInstance(v, data)
		if err != nil {
			return nil, fmt.Errorf("instance %s of %s/%s: %w", id, sc.Account, sc.Region, err)
		}
		x.Put(sc, in)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return x, nil
}

// encodeInstance returns the JSON stored for in at version v, as a string:
// the driver binds []byte as a BLOB, which the STRICT TEXT column refuses.
// Times are stored in UTC, so they come back in UTC and without a monotonic
// reading.
func encodeInstance(in rds.Instance, v int64) (string, error) {
	in = instindex.Clone(in)
	in.Version = v
	b, err := json.Marshal(in)
	return string(b), err
}

func decodeInstance(version int64, data []byte) (rds.Instance, error) {
	var in rds.Instance
	if err := json.Unmarshal(data, &in); err != nil {
		return rds.Instance{}, err
	}
	in.Version = version
	return in, nil
}

// encodeCached returns the JSON stored for in at version v, as
// encodeInstance, and the instance it decodes to: what Open would load
// from the row, and so what the index holds.
func encodeCached(in rds.Instance, v int64) (string, rds.Instance, error) {
	data, err := encodeInstance(in, v)
	if err != nil {
		return "", rds.Instance{}, err
	}
	cached, err := decodeInstance(v, []byte(data))
	return data, cached, err
}

// Instance writes change the index only once the database has them: each
// runs under s.writeMu, and applies its change to s.instances after its
// statement or transaction committed, before letting go of s.writeMu. An
// error from an Exec or Commit means the write did not happen (the driver
// rolls a failed COMMIT back), so a failed write leaves the index alone.

// CreateInstance implements rds.InstanceStore.
func (s *Store) CreateInstance(ctx context.Context, sc rds.Scope, in rds.Instance) error {
	data, cached, err := encodeCached(in, 1)
	if err != nil {
		return fmt.Errorf("sqlite: create instance %s: %w", in.Identifier, err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	res, err := s.stmts.create.ExecContext(ctx, sc.Account, sc.Region, in.Identifier, in.Engine, data)
	if err != nil {
		return fmt.Errorf("sqlite: create instance %s: %w", in.Identifier, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: create instance %s: %w", in.Identifier, err)
	}
	if n == 0 {
		return rds.ErrInstanceExists
	}
	s.instances.Put(sc, cached)
	return nil
}

// Instance implements rds.InstanceStore, from memory.
func (s *Store) Instance(_ context.Context, sc rds.Scope, id string) (rds.Instance, error) {
	if in, ok := s.instances.Get(sc, id); ok {
		return in, nil
	}
	return rds.Instance{}, rds.ErrInstanceNotStored
}

// ListInstances implements rds.InstanceStore, from memory.
func (s *Store) ListInstances(_ context.Context, sc rds.Scope, f rds.InstanceFilter, after string, limit int) ([]rds.Instance, error) {
	return s.instances.List(sc, f, after, limit), nil
}

// UpdateInstance implements rds.InstanceStore.
func (s *Store) UpdateInstance(ctx context.Context, sc rds.Scope, in rds.Instance) error {
	data, cached, err := encodeCached(in, in.Version+1)
	if err != nil {
		return fmt.Errorf("sqlite: update instance %s: %w", in.Identifier, err)
	}
	err = s.casWrite(ctx, sc, in.Identifier, func(tx *sql.Tx) (sql.Result, error) {
		return tx.StmtContext(ctx, s.stmts.update).ExecContext(ctx,
			in.Engine, data, sc.Account, sc.Region, in.Identifier, in.Version)
	}, func() { s.instances.Put(sc, cached) })
	if err != nil && !isStoreError(err) {
		return fmt.Errorf("sqlite: update instance %s: %w", in.Identifier, err)
	}
	return err
}

// DeleteInstance implements rds.InstanceStore.
func (s *Store) DeleteInstance(ctx context.Context, sc rds.Scope, id string, version int64) error {
	err := s.casWrite(ctx, sc, id, func(tx *sql.Tx) (sql.Result, error) {
		return tx.StmtContext(ctx, s.stmts.delete).ExecContext(ctx, sc.Account, sc.Region, id, version)
	}, func() { s.instances.Delete(sc, id) })
	if err != nil && !isStoreError(err) {
		return fmt.Errorf("sqlite: delete instance %s: %w", id, err)
	}
	return err
}

// casWrite runs write, conditional on the instance's version, in a
// transaction, and once that committed, applies the change to the index.
// When write changes no row, it tells the caller why, from the same
// transaction.
func (s *Store) casWrite(ctx context.Context, sc rds.Scope, id string, write func(*sql.Tx) (sql.Result, error), apply func()) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := write(tx)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		var cur int64
		err := tx.StmtContext(ctx, s.stmts.version).QueryRowContext(ctx, sc.Account, sc.Region, id).Scan(&cur)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return rds.ErrInstanceNotStored
		case err != nil:
			return err
		}
		return rds.ErrVersionConflict
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	apply()
	return nil
}

func isStoreError(err error) bool {
	return errors.Is(err, rds.ErrInstanceNotStored) || errors.Is(err, rds.ErrVersionConflict)
}
