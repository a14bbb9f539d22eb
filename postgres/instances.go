package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/rdsca/rdsca/internal/instindex"
	"github.com/rdsca/rdsca/rds"
)

const (
	qCreateInstance = `INSERT INTO instances (account, region, id, engine, version, data)
		VALUES ($1, $2, $3, $4, 1, $5)
		ON CONFLICT (account, region, id) DO NOTHING`
	qInstance = `SELECT version, data FROM instances
		WHERE account = $1 AND region = $2 AND id = $3`
	qUpdateInstance = `UPDATE instances
		SET engine = $1, version = version + 1, data = $2, updated_at = now()
		WHERE account = $3 AND region = $4 AND id = $5 AND version = $6`
	qDeleteInstance = `DELETE FROM instances
		WHERE account = $1 AND region = $2 AND id = $3 AND version = $4`
	qInstanceVersion = `SELECT version FROM instances
		WHERE account = $1 AND region = $2 AND id = $3`
)

// encodeInstance returns the JSON stored for in at version v. Times are
// stored in UTC, so they come back in UTC and without a monotonic reading.
func encodeInstance(in rds.Instance, v int64) (string, error) {
	in = instindex.Clone(in)
	in.Version = v
	b, err := json.Marshal(in)
	return string(b), err
}

func decodeInstance(version int64, data string) (rds.Instance, error) {
	var in rds.Instance
	if err := json.Unmarshal([]byte(data), &in); err != nil {
		return rds.Instance{}, err
	}
	in.Version = version
	return instindex.Clone(in), nil
}

// CreateInstance implements rds.InstanceStore. The primary key decides
// between Stores racing to create one identifier.
func (s *Store) CreateInstance(ctx context.Context, sc rds.Scope, in rds.Instance) error {
	data, err := encodeInstance(in, 1)
	if err != nil {
		return storeErr("create instance %s: %w", in.Identifier, err)
	}
	var n int64
	err = retry(ctx, func() error {
		tag, err := s.pool.Exec(ctx, qCreateInstance, sc.Account, sc.Region, in.Identifier, in.Engine, data)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return storeErr("create instance %s: %w", in.Identifier, err)
	}
	if n == 0 {
		return rds.ErrInstanceExists
	}
	return nil
}

// Instance implements rds.InstanceStore.
func (s *Store) Instance(ctx context.Context, sc rds.Scope, id string) (rds.Instance, error) {
	var v int64
	var data string
	err := s.pool.QueryRow(ctx, qInstance, sc.Account, sc.Region, id).Scan(&v, &data)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return rds.Instance{}, rds.ErrInstanceNotStored
	case err != nil:
		return rds.Instance{}, storeErr("instance %s: %w", id, err)
	}
	in, err := decodeInstance(v, data)
	if err != nil {
		return rds.Instance{}, storeErr("instance %s: %w", id, err)
	}
	return in, nil
}

// ListInstances implements rds.InstanceStore: one keyset page, in
// identifier (byte) order. A nil filter field matches everything, an empty
// non-nil one nothing.
func (s *Store) ListInstances(ctx context.Context, sc rds.Scope, f rds.InstanceFilter, after string, limit int) ([]rds.Instance, error) {
	out := []rds.Instance{}
	if limit <= 0 || (f.IDs != nil && len(f.IDs) == 0) || (f.Engines != nil && len(f.Engines) == 0) {
		return out, nil
	}
	var q strings.Builder
	q.WriteString("SELECT version, data FROM instances WHERE account = $1 AND region = $2 AND id > $3")
	args := []any{sc.Account, sc.Region, after}
	if f.IDs != nil {
		args = append(args, f.IDs)
		q.WriteString(" AND id = ANY($" + strconv.Itoa(len(args)) + ")")
	}
	if f.Engines != nil {
		args = append(args, f.Engines)
		q.WriteString(" AND engine = ANY($" + strconv.Itoa(len(args)) + ")")
	}
	args = append(args, limit)
	q.WriteString(" ORDER BY id LIMIT $" + strconv.Itoa(len(args)))
	rows, err := s.pool.Query(ctx, q.String(), args...)
	if err != nil {
		return nil, storeErr("list instances: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		var data string
		if err := rows.Scan(&v, &data); err != nil {
			return nil, storeErr("list instances: %w", err)
		}
		in, err := decodeInstance(v, data)
		if err != nil {
			return nil, storeErr("list instances: %w", err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr("list instances: %w", err)
	}
	return out, nil
}

// UpdateInstance implements rds.InstanceStore.
func (s *Store) UpdateInstance(ctx context.Context, sc rds.Scope, in rds.Instance) error {
	data, err := encodeInstance(in, in.Version+1)
	if err != nil {
		return storeErr("update instance %s: %w", in.Identifier, err)
	}
	err = s.casWrite(ctx, sc, in.Identifier, qUpdateInstance,
		in.Engine, data, sc.Account, sc.Region, in.Identifier, in.Version)
	if err != nil && !isStoreError(err) {
		return storeErr("update instance %s: %w", in.Identifier, err)
	}
	return err
}

// DeleteInstance implements rds.InstanceStore.
func (s *Store) DeleteInstance(ctx context.Context, sc rds.Scope, id string, version int64) error {
	err := s.casWrite(ctx, sc, id, qDeleteInstance, sc.Account, sc.Region, id, version)
	if err != nil && !isStoreError(err) {
		return storeErr("delete instance %s: %w", id, err)
	}
	return err
}

// casWrite runs the write, one statement conditional on the stored
// version: the row lock the UPDATE or DELETE takes, and its recheck of the
// condition once a concurrent writer committed, make it atomic at any
// isolation level. When it changes no row, a second query tells why: the
// instance is gone (ErrInstanceNotStored) or has another version
// (ErrVersionConflict), as the database holds it then.
func (s *Store) casWrite(ctx context.Context, sc rds.Scope, id, query string, args ...any) error {
	var n int64
	err := retry(ctx, func() error {
		tag, err := s.pool.Exec(ctx, query, args...)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	var cur int64
	err = s.pool.QueryRow(ctx, qInstanceVersion, sc.Account, sc.Region, id).Scan(&cur)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return rds.ErrInstanceNotStored
	case err != nil:
		return err
	}
	return rds.ErrVersionConflict
}

func isStoreError(err error) bool {
	return errors.Is(err, rds.ErrInstanceNotStored) || errors.Is(err, rds.ErrVersionConflict)
}
