package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/rdsca/rdsca/rds"
)

// Instance statements, prepared once at Open; database/sql prepares each
// again on every pooled connection that runs it.
const (
	qInstance = `SELECT version, data FROM instances
		WHERE account = ? AND region = ? AND id = ?`
	qListInstances = `SELECT version, data FROM instances
		WHERE account = ? AND region = ? AND id > ?
		ORDER BY id LIMIT ?`
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
)

// stmts are the prepared instance statements.
type stmts struct {
	instance, list, create, update, delete, version *sql.Stmt
}

func prepare(ctx context.Context, db *sql.DB) (_ *stmts, err error) {
	st := &stmts{}
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&st.instance, qInstance},
		{&st.list, qListInstances},
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
	for _, s := range []*sql.Stmt{st.instance, st.list, st.create, st.update, st.delete, st.version} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// encodeInstance returns the JSON stored for in at version v, as a string:
// the driver binds []byte as a BLOB, which the STRICT TEXT column refuses.
// Times are stored in UTC, so they come back in UTC and without a monotonic
// reading.
func encodeInstance(in rds.Instance, v int64) (string, error) {
	in.Version = v
	in.CreateTime = in.CreateTime.UTC()
	in.ServerCertValidTill = in.ServerCertValidTill.UTC()
	if in.Phases != nil {
		ps := make([]rds.Phase, len(in.Phases))
		for i, p := range in.Phases {
			p.Until = p.Until.UTC()
			ps[i] = p
		}
		in.Phases = ps
	}
	if in.Pending != nil {
		p := *in.Pending
		p.Since = p.Since.UTC()
		in.Pending = &p
	}
	if in.MaintenanceOptIn != nil {
		o := *in.MaintenanceOptIn
		o.ApplyDate = o.ApplyDate.UTC()
		in.MaintenanceOptIn = &o
	}
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

// CreateInstance implements rds.InstanceStore.
func (s *Store) CreateInstance(ctx context.Context, sc rds.Scope, in rds.Instance) error {
	data, err := encodeInstance(in, 1)
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
	return nil
}

// Instance implements rds.InstanceStore.
func (s *Store) Instance(ctx context.Context, sc rds.Scope, id string) (rds.Instance, error) {
	var v int64
	var data []byte
	err := s.stmts.instance.QueryRowContext(ctx, sc.Account, sc.Region, id).Scan(&v, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return rds.Instance{}, rds.ErrInstanceNotStored
	}
	if err != nil {
		return rds.Instance{}, fmt.Errorf("sqlite: instance %s: %w", id, err)
	}
	in, err := decodeInstance(v, data)
	if err != nil {
		return rds.Instance{}, fmt.Errorf("sqlite: instance %s: %w", id, err)
	}
	return in, nil
}

// ListInstances implements rds.InstanceStore.
func (s *Store) ListInstances(ctx context.Context, sc rds.Scope, f rds.InstanceFilter, after string, limit int) ([]rds.Instance, error) {
	out, err := s.listInstances(ctx, sc, f, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list instances: %w", err)
	}
	return out, nil
}

func (s *Store) listInstances(ctx context.Context, sc rds.Scope, f rds.InstanceFilter, after string, limit int) ([]rds.Instance, error) {
	out := []rds.Instance{}
	if limit <= 0 {
		return out, nil
	}
	var rows *sql.Rows
	var err error
	if len(f.IDs) == 0 && len(f.Engines) == 0 {
		rows, err = s.stmts.list.QueryContext(ctx, sc.Account, sc.Region, after, limit)
	} else {
		q, args := listQuery(sc, f, after, limit)
		rows, err = s.db.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		var data []byte
		if err := rows.Scan(&v, &data); err != nil {
			return nil, err
		}
		in, err := decodeInstance(v, data)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// listQuery returns a filtered listing query, its IN lists one placeholder
// per value.
func listQuery(sc rds.Scope, f rds.InstanceFilter, after string, limit int) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 4+len(f.IDs)+len(f.Engines))
	args = append(args, sc.Account, sc.Region, after)
	b.WriteString("SELECT version, data FROM instances WHERE account = ? AND region = ? AND id > ?")
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		b.WriteString(" AND " + col + " IN (")
		for i, v := range vals {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('?')
			args = append(args, v)
		}
		b.WriteByte(')')
	}
	in("id", f.IDs)
	in("engine", f.Engines)
	b.WriteString(" ORDER BY id LIMIT ?")
	args = append(args, limit)
	return b.String(), args
}

// UpdateInstance implements rds.InstanceStore.
func (s *Store) UpdateInstance(ctx context.Context, sc rds.Scope, in rds.Instance) error {
	data, err := encodeInstance(in, in.Version+1)
	if err != nil {
		return fmt.Errorf("sqlite: update instance %s: %w", in.Identifier, err)
	}
	err = s.casWrite(ctx, sc, in.Identifier, in.Version, func(tx *sql.Tx) (sql.Result, error) {
		return tx.StmtContext(ctx, s.stmts.update).ExecContext(ctx,
			in.Engine, data, sc.Account, sc.Region, in.Identifier, in.Version)
	})
	if err != nil && !isStoreError(err) {
		return fmt.Errorf("sqlite: update instance %s: %w", in.Identifier, err)
	}
	return err
}

// DeleteInstance implements rds.InstanceStore.
func (s *Store) DeleteInstance(ctx context.Context, sc rds.Scope, id string, version int64) error {
	err := s.casWrite(ctx, sc, id, version, func(tx *sql.Tx) (sql.Result, error) {
		return tx.StmtContext(ctx, s.stmts.delete).ExecContext(ctx, sc.Account, sc.Region, id, version)
	})
	if err != nil && !isStoreError(err) {
		return fmt.Errorf("sqlite: delete instance %s: %w", id, err)
	}
	return err
}

// casWrite runs write, conditional on the instance's version, in a
// transaction; when it changes no row, it tells the caller why, from the
// same transaction.
func (s *Store) casWrite(ctx context.Context, sc rds.Scope, id string, version int64, write func(*sql.Tx) (sql.Result, error)) error {
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
	return tx.Commit()
}

func isStoreError(err error) bool {
	return errors.Is(err, rds.ErrInstanceNotStored) || errors.Is(err, rds.ErrVersionConflict)
}
