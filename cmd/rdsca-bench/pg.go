package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultPostgresDSN is tried when -postgres and RDSCA_POSTGRES_DSN are unset
// (the same server postgres/pgtest uses).
const defaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// pgReplicas are the replica counts of the PostgreSQL phases.
var pgReplicas = []int{1, 3}

// resolvePostgres returns the DSN to use and whether it was asked for
// explicitly: flag value "off" skips; "" means RDSCA_POSTGRES_DSN, else the
// default DSN if it answers.
func resolvePostgres(flagVal string) (dsn string, explicit bool) {
	switch {
	case flagVal == "off":
		return "", false
	case flagVal != "":
		return flagVal, true
	}
	if v := os.Getenv("RDSCA_POSTGRES_DSN"); v != "" {
		return v, true
	}
	return defaultPostgresDSN, false
}

// pgExec runs one statement on dsn.
func pgExec(ctx context.Context, dsn, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// withSearchPath returns the URL dsn with its search_path set to schema.
func withSearchPath(dsn, schema string) (string, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return "", fmt.Errorf("-postgres must be a postgres:// or postgresql:// URL")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// pgAnswers reports whether dsn accepts a connection within 5 s.
func pgAnswers(ctx context.Context, dsn string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// runPostgresPhases creates a fresh schema, runs DescribeCertificates and
// ModifyCertificates on 1 and then 3 rdsca processes sharing it (the load
// spread round-robin across them), appends the phases to rep with targets
// "pg×1" and "pg×3", and drops the schema.
func runPostgresPhases(ctx context.Context, cfg config, bin, tmp string, rep *report) error {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	schema := "rdsca_bench_" + hex.EncodeToString(b[:])
	dsn, err := withSearchPath(cfg.postgres, schema)
	if err != nil {
		return err
	}
	if err := pgExec(ctx, cfg.postgres, "CREATE SCHEMA "+schema); err != nil {
		return fmt.Errorf("CREATE SCHEMA %s: %w", schema, err)
	}
	rep.PostgresSchema = schema
	defer func() {
		if err := pgExec(context.Background(), cfg.postgres, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("DROP SCHEMA %s: %v", schema, err))
		}
	}()

	for _, n := range pgReplicas {
		if err := runPostgresReplicas(ctx, cfg, bin, tmp, dsn, n, rep); err != nil {
			return err
		}
	}
	return nil
}

func runPostgresReplicas(ctx context.Context, cfg config, bin, tmp, dsn string, n int, rep *report) error {
	target := fmt.Sprintf("pg×%d", n)
	logPath := fmt.Sprintf("%s/rdsca-pg%d.log", tmp, n)
	var procs []*process
	defer func() {
		for _, p := range procs {
			p.kill()
		}
	}()
	logf("starting %d rdsca on PostgreSQL", n)
	for i := 0; i < n; i++ {
		dataDir := fmt.Sprintf("%s/data-pg%d-%d", tmp, n, i)
		if err := os.Mkdir(dataDir, 0o755); err != nil {
			return err
		}
		p, err := startRdsca(bin, dataDir, dsn, logPath)
		if err != nil {
			return fmt.Errorf("start rdsca: %v%s", err, logTail(logPath))
		}
		procs = append(procs, p)
		if err := p.waitHealthy(ctx, time.Minute); err != nil {
			return fmt.Errorf("%s replica %d not healthy: %v%s", target, i+1, err, logTail(logPath))
		}
		// The first answer of the first replica creates the CA keys (once
		// per schema); the others then only read them.
		if _, err := firstAnswer(ctx, p, 3*time.Minute, 50*time.Millisecond); err != nil {
			return fmt.Errorf("%s replica %d warm-up: %v%s", target, i+1, err, logTail(logPath))
		}
	}
	addrs := make([]string, len(procs))
	for i, p := range procs {
		addrs[i] = p.addr
	}
	for _, o := range []operation{describeOp(), modifyOp()} {
		for _, c := range cfg.concurrency {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			logf("load: %s %s c=%d for %s", target, o.name, c, cfg.duration)
			runtime.GC()
			st := runLoad(ctx, loadConfig{addrs: addrs, op: o, concurrency: c, warmup: cfg.warmup, duration: cfg.duration})
			rep.Phases = append(rep.Phases, phaseResult{Target: target, Op: o.name, Concurrency: c, Stats: st})
		}
	}
	for i, p := range procs {
		if p.exited() {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s replica %d exited during the load phases%s", target, i+1, logTail(logPath)))
			continue
		}
		if res := p.stop(10 * time.Second); !res.Clean {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s replica %d did not stop cleanly on SIGTERM: %s%s", target, i+1, res, logTail(logPath)))
		}
	}
	return nil
}
