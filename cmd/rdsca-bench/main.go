// Command rdsca-bench is a bounded loopback benchmark of rdsca.
//
// It builds (or takes) the rdsca binary, starts it on 127.0.0.1 with a fresh
// data dir, warms it up (the first request of a region creates its CA keys),
// restarts it on the same data dir to time process start to the first
// answered DescribeCertificates, reads its idle RSS, then drives
// DescribeCertificates and ModifyCertificates with SigV4-signed requests at
// each requested concurrency for a fixed duration. For comparison the same
// load tool drives a bare net/http handler, run as a separate process (this
// binary re-executed with -bare-server), that returns a body of the same size
// as rdsca's DescribeCertificates response.
//
// It prints requests/s, p50 and p99 latency per phase, start-to-first-answer,
// idle and peak RSS, and checks the targets. A missed target is a measurement
// and still exits 0; an rdsca error, a failed start or an unclean stop exits 1.
//
// The instance phase (-instances N, default 10000, 0 skips it) starts another
// rdsca with a fresh data dir and --transition-delay 0, seeds N instances in
// one account-region with CreateDBInstance (16 at a time), checks one full
// walk of DescribeDBInstances pages (MaxRecords=100) for gaps and duplicates,
// then drives the walk at concurrency 4 and 32: each worker starts on a
// random page and follows the Markers, wrapping around. It reports req/s,
// p50 and p99 against the "p99 under 10 ms" target, the RSS growth of the
// process per seeded instance, and the growth of the SQLite files
// (rdsca.db + rdsca.db-wal) per instance.
//
// The PostgreSQL phases (-postgres DSN; default RDSCA_POSTGRES_DSN, else the
// local test server if it answers; -postgres off skips) create a fresh
// schema rdsca_bench_<random> on the server, run one rdsca with --store
// <dsn with search_path=schema>, then three on the same schema with the
// load spread round-robin across them, drive DescribeCertificates and
// ModifyCertificates at each concurrency, report them as targets "pg×1"
// and "pg×3", and drop the schema.
//
// Usage:
//
//	go run ./cmd/rdsca-bench [-binary PATH] [-duration 5s] [-concurrency 32,4] [-store sqlite] [-instances 10000] [-postgres DSN|off] [-json]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config holds the parsed command line.
type config struct {
	binary      string
	duration    time.Duration
	warmup      time.Duration
	concurrency []int
	store       string
	starts      int
	jsonOut     bool
	keep        bool
	instances   int
	postgres    string // server DSN of the pg×N phases; "" skips them
	pgExplicit  bool   // postgres was given (flag or env), so it must answer
}

func main() {
	var (
		cfg        config
		conc       string
		bareAddr   string
		bodySize   int
		bareHidden = map[string]bool{"bare-server": true, "body-size": true}
	)
	flag.StringVar(&cfg.binary, "binary", "", "rdsca binary to run (default: go build ./cmd/rdsca into a temp dir)")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "measured duration of each load phase")
	flag.DurationVar(&cfg.warmup, "warmup", 500*time.Millisecond, "unmeasured warm-up at the start of each load phase")
	flag.StringVar(&conc, "concurrency", "32,4", "comma-separated concurrency levels")
	flag.StringVar(&cfg.store, "store", "sqlite", "rdsca store: sqlite or memory")
	flag.IntVar(&cfg.starts, "starts", 3, "number of timed restarts on the existing data dir")
	flag.BoolVar(&cfg.jsonOut, "json", false, "write a JSON report to stdout (the text report then goes to stderr)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the temp dir (binary, data dir, logs)")
	flag.IntVar(&cfg.instances, "instances", 10000, "instances to seed for the DescribeDBInstances phase; 0 skips it")
	var pgFlag string
	flag.StringVar(&pgFlag, "postgres", "", "PostgreSQL server DSN (postgres:// URL) for the pg×1 and pg×3 phases on a throwaway schema; \"off\" skips (default: RDSCA_POSTGRES_DSN, else "+defaultPostgresDSN+" if it answers)")
	// Hidden: the bare comparison server mode.
	flag.StringVar(&bareAddr, "bare-server", "", "")
	flag.IntVar(&bodySize, "body-size", 0, "")
	flag.Usage = func() {
		out := flag.CommandLine.Output()
		fmt.Fprintf(out, "usage: rdsca-bench [flags]\n")
		flag.VisitAll(func(f *flag.Flag) {
			if bareHidden[f.Name] {
				return
			}
			fmt.Fprintf(out, "  -%s\t%s (default %q)\n", f.Name, f.Usage, f.DefValue)
		})
	}
	flag.Parse()

	if bareAddr != "" {
		if err := runBareServer(bareAddr, bodySize); err != nil {
			fmt.Fprintln(os.Stderr, "rdsca-bench bare server:", err)
			os.Exit(1)
		}
		return
	}

	cfg.postgres, cfg.pgExplicit = resolvePostgres(pgFlag)
	var err error
	if cfg.concurrency, err = parseConcurrency(conc); err != nil {
		fmt.Fprintln(os.Stderr, "rdsca-bench:", err)
		os.Exit(2)
	}
	if cfg.store != "sqlite" && cfg.store != "memory" {
		fmt.Fprintln(os.Stderr, "rdsca-bench: -store must be sqlite or memory")
		os.Exit(2)
	}
	if cfg.duration <= 0 || cfg.warmup < 0 || cfg.starts < 1 || cfg.instances < 0 {
		fmt.Fprintln(os.Stderr, "rdsca-bench: -duration must be > 0, -warmup >= 0, -starts >= 1, -instances >= 0")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := run(ctx, cfg)
	stop()
	os.Exit(code)
}

// parseConcurrency parses "32,4" into positive ints.
func parseConcurrency(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 4096 {
			return nil, fmt.Errorf("bad -concurrency value %q", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("-concurrency is empty")
	}
	return out, nil
}

// logf prints progress to stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "rdsca-bench: "+format+"\n", args...)
}

// run performs the whole benchmark and returns the exit code.
func run(ctx context.Context, cfg config) int {
	tmp, err := os.MkdirTemp("", "rdsca-bench-")
	if err != nil {
		logf("%v", err)
		return 1
	}
	defer func() {
		if cfg.keep {
			logf("kept %s", tmp)
			return
		}
		os.RemoveAll(tmp)
	}()

	rep := &report{
		CPUs:        runtime.NumCPU(),
		GOMAXPROCS:  runtime.GOMAXPROCS(0),
		Store:       cfg.store,
		Duration:    cfg.duration.String(),
		Warmup:      cfg.warmup.String(),
		Concurrency: cfg.concurrency,
	}
	fail := func(format string, args ...any) int {
		rep.Fatal = fmt.Sprintf(format, args...)
		rep.print(cfg)
		return 1
	}

	// Build or take the binary.
	bin := cfg.binary
	if bin == "" {
		logf("building ./cmd/rdsca")
		t := time.Now()
		if bin, err = buildRdsca(ctx, tmp); err != nil {
			return fail("build: %v", err)
		}
		rep.BuildTime = time.Since(t).Round(time.Millisecond).String()
	}
	rep.Binary = bin
	dataDir := tmp + "/data"
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		return fail("%v", err)
	}
	logPath := tmp + "/rdsca.log"

	// First run: warm up (creates the region's CA keys), then stop.
	logf("starting rdsca (fresh data dir) and warming up")
	srv, err := startRdsca(bin, dataDir, cfg.store, logPath)
	if err != nil {
		return fail("start rdsca: %v%s", err, logTail(logPath))
	}
	defer srv.kill()
	if err := srv.waitHealthy(ctx, 30*time.Second); err != nil {
		return fail("rdsca not healthy: %v%s", err, logTail(logPath))
	}
	t := time.Now()
	if _, err := firstAnswer(ctx, srv, 3*time.Minute, 50*time.Millisecond); err != nil {
		return fail("warm-up DescribeCertificates: %v%s", err, logTail(logPath))
	}
	rep.WarmupTime = time.Since(t).Round(time.Millisecond).String()
	if res := srv.stop(10 * time.Second); !res.Clean {
		return fail("rdsca warm-up process did not stop cleanly: %s%s", res, logTail(logPath))
	}

	// Timed restarts on the existing data dir; the last one stays up.
	for i := 0; i < cfg.starts; i++ {
		if srv, err = startRdsca(bin, dataDir, cfg.store, logPath); err != nil {
			return fail("restart rdsca: %v%s", err, logTail(logPath))
		}
		defer srv.kill()
		d, err := firstAnswer(ctx, srv, 60*time.Second, time.Millisecond)
		if err != nil {
			return fail("restart %d: %v%s", i+1, err, logTail(logPath))
		}
		rep.StartsMs = append(rep.StartsMs, ms(d))
		logf("start %d: first answer after %s", i+1, d.Round(10*time.Microsecond))
		if i < cfg.starts-1 {
			if res := srv.stop(10 * time.Second); !res.Clean {
				return fail("rdsca did not stop cleanly: %s%s", res, logTail(logPath))
			}
		}
	}

	// Response size and idle RSS.
	size, ctype, err := describeOnce(ctx, srv.addr)
	if err != nil {
		return fail("measure response size: %v", err)
	}
	rep.BodyBytes, rep.ContentType = size, ctype
	time.Sleep(time.Second)
	if rep.IdleRSSBytes, err = procStatusBytes(srv.pid(), "VmRSS"); err != nil {
		return fail("idle RSS: %v", err)
	}

	// Bare comparison server, a separate process.
	bare, err := startBare(size, tmp+"/bare.log")
	if err != nil {
		return fail("start bare server: %v", err)
	}
	defer bare.kill()
	if err := bare.waitHealthy(ctx, 10*time.Second); err != nil {
		return fail("bare server not ready: %v%s", err, logTail(tmp+"/bare.log"))
	}

	// Load phases: bare and rdsca Describe back to back per concurrency,
	// then rdsca Modify.
	phase := func(target string, addr string, o operation, c int) bool {
		if ctx.Err() != nil {
			return false
		}
		logf("load: %s %s c=%d for %s", target, o.name, c, cfg.duration)
		runtime.GC() // start each phase with the load tool's heap clean
		st := runLoad(ctx, loadConfig{addr: addr, op: o, concurrency: c, warmup: cfg.warmup, duration: cfg.duration})
		rep.Phases = append(rep.Phases, phaseResult{Target: target, Op: o.name, Concurrency: c, Stats: st})
		return true
	}
	for _, c := range cfg.concurrency {
		if !phase("bare", bare.addr, describeOp(), c) || !phase("rdsca", srv.addr, describeOp(), c) {
			break
		}
	}
	for _, c := range cfg.concurrency {
		if !phase("rdsca", srv.addr, modifyOp(), c) {
			break
		}
	}
	if ctx.Err() != nil {
		return fail("interrupted")
	}

	// Peak RSS, then stop both processes.
	if rep.PeakRSSBytes, err = procStatusBytes(srv.pid(), "VmHWM"); err != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("peak RSS: %v", err))
	}
	if srv.exited() {
		rep.Problems = append(rep.Problems, "rdsca exited during the load phases"+logTail(logPath))
	}
	res := srv.stop(10 * time.Second)
	rep.Shutdown = res.String()
	if !res.Clean {
		rep.Problems = append(rep.Problems, "rdsca did not stop cleanly on SIGTERM: "+res.String()+logTail(logPath))
	}
	bare.stop(5 * time.Second)

	// The instance phase, on an rdsca of its own.
	if cfg.instances > 0 {
		if err := runInstancePhase(ctx, cfg, bin, tmp, rep); err != nil {
			if ctx.Err() != nil {
				return fail("interrupted")
			}
			rep.Problems = append(rep.Problems, "instance phase: "+err.Error())
		}
	}

	// The PostgreSQL phases, on rdsca processes of their own.
	if cfg.postgres != "" {
		if err := pgAnswers(ctx, cfg.postgres); err != nil {
			if cfg.pgExplicit {
				rep.Problems = append(rep.Problems, "PostgreSQL does not answer: "+err.Error())
			} else {
				rep.Notes = append(rep.Notes, "PostgreSQL phases skipped: no server at "+defaultPostgresDSN+" ("+err.Error()+"); pass -postgres DSN or set RDSCA_POSTGRES_DSN")
			}
		} else if err := runPostgresPhases(ctx, cfg, bin, tmp, rep); err != nil {
			if ctx.Err() != nil {
				return fail("interrupted")
			}
			rep.Problems = append(rep.Problems, "postgres phases: "+err.Error())
		}
	}

	for _, p := range rep.Phases {
		if p.Target != "bare" && p.Stats.Errors > 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("rdsca %s c=%d: %d errors, e.g. %s",
				p.Op, p.Concurrency, p.Stats.Errors, strings.Join(p.Stats.ErrorSamples, "; ")))
		}
		if p.Target == "bare" && p.Stats.Errors > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("bare c=%d had %d errors (load tool or machine problem), e.g. %s",
				p.Concurrency, p.Stats.Errors, strings.Join(p.Stats.ErrorSamples, "; ")))
		}
	}
	rep.check()
	rep.print(cfg)
	if len(rep.Problems) > 0 {
		return 1
	}
	return 0
}
