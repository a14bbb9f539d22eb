package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The instance phase: a fresh rdsca (own data dir, --transition-delay 0) is
// seeded with CreateDBInstance calls in one account-region, then
// DescribeDBInstances (MaxRecords=100) pages are walked with markers.
const (
	instanceAccount  = "610987654321"
	instancePageSize = 100
	seedConcurrency  = 16
	maxWalkP99       = 10 * time.Millisecond
)

// instanceID is the identifier of the i-th seeded instance.
func instanceID(i int) string { return fmt.Sprintf("bench-%05d", i) }

// createBody is the CreateDBInstance of the i-th instance; engines rotate so
// the rows are not all alike.
func createBody(i int) signedBody {
	engines := [...]string{"postgres", "mysql", "mariadb"}
	return newBody(url.Values{
		"Action":               {"CreateDBInstance"},
		"Version":              {apiVersion},
		"DBInstanceIdentifier": {instanceID(i)},
		"DBInstanceClass":      {"db.t3.micro"},
		"Engine":               {engines[i%len(engines)]},
		"MasterUsername":       {"admin"},
		"MasterUserPassword":   {"bench-password"},
		"AllocatedStorage":     {"20"},
	})
}

// pageBody is DescribeDBInstances MaxRecords=100 after marker ("" for the first page).
func pageBody(marker string) signedBody {
	v := url.Values{"Action": {"DescribeDBInstances"}, "Version": {apiVersion}, "MaxRecords": {strconv.Itoa(instancePageSize)}}
	if marker != "" {
		v.Set("Marker", marker)
	}
	return newBody(v)
}

// parsePage returns the number of instances and the Marker of a
// DescribeDBInstances response. It is cheap on purpose (the load tool shares
// the machine with the server): the Marker follows the DBInstances list, so
// it is looked for from the end.
func parsePage(body []byte) (n int, marker string, err error) {
	if !bytes.HasPrefix(body, []byte(`<?xml`)) || !bytes.Contains(body[:min(len(body), 200)], []byte("<DescribeDBInstancesResponse")) {
		return 0, "", fmt.Errorf("not a DescribeDBInstancesResponse: %.200s", body)
	}
	n = bytes.Count(body, []byte("<DBInstance>"))
	tail := body
	if end := bytes.LastIndex(body, []byte("</DBInstances>")); end >= 0 {
		tail = body[end:]
	}
	if i := bytes.Index(tail, []byte("<Marker>")); i >= 0 {
		rest := tail[i+len("<Marker>"):]
		j := bytes.Index(rest, []byte("</Marker>"))
		if j < 0 {
			return 0, "", errors.New("unterminated Marker")
		}
		marker = string(rest[:j])
	}
	return n, marker, nil
}

// seedStats is how the seeding went.
type seedStats struct {
	Instances   int      `json:"instances"`
	Concurrency int      `json:"concurrency"`
	ElapsedSec  float64  `json:"elapsed_s"`
	RPS         float64  `json:"creates_per_s"`
	P50         Duration `json:"p50_ms"`
	P99         Duration `json:"p99_ms"`
	Errors      int      `json:"errors"`
}

// seedInstances creates n instances with conc workers.
func seedInstances(ctx context.Context, addr string, n, conc int) (seedStats, error) {
	tr := &http.Transport{DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext, MaxIdleConnsPerHost: conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: requestTimeout}
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		errs     int
		lat      = make([]time.Duration, n)
	)
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				req, err := newRequest(ctx, addr, createBody(i), instanceAccount)
				if err == nil {
					_, _, err = do(client, req)
				}
				lat[i] = time.Since(t0)
				if err != nil {
					mu.Lock()
					errs++
					if firstErr == nil {
						firstErr = fmt.Errorf("CreateDBInstance %s: %w", instanceID(i), err)
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	st := summarize(lat, errs, elapsed)
	out := seedStats{Instances: n, Concurrency: conc, ElapsedSec: elapsed.Seconds(), RPS: st.RPS, P50: st.P50, P99: st.P99, Errors: errs}
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return out, firstErr
}

// walkAll pages through every instance once, checking that each page but
// the last is full and that no identifier repeats; it returns the markers
// that start each page ("" for the first).
func walkAll(ctx context.Context, addr string, want int) ([]string, error) {
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: requestTimeout}
	defer c.CloseIdleConnections()
	markers := []string{""}
	seen := make(map[string]bool, want)
	idRe := regexp.MustCompile(`<DBInstanceIdentifier>([^<]*)</DBInstanceIdentifier>`)
	var buf []byte
	for marker := ""; ; {
		req, err := newRequest(ctx, addr, pageBody(marker), instanceAccount)
		if err != nil {
			return nil, err
		}
		if _, _, err := doInto(c, req, &buf); err != nil {
			return nil, fmt.Errorf("page %d: %w", len(markers), err)
		}
		n, next, err := parsePage(buf)
		if err != nil {
			return nil, err
		}
		for _, m := range idRe.FindAllSubmatch(buf, -1) {
			id := string(m[1])
			if seen[id] {
				return nil, fmt.Errorf("page %d lists %s again", len(markers), id)
			}
			seen[id] = true
		}
		if next == "" {
			break
		}
		if n != instancePageSize {
			return nil, fmt.Errorf("page %d has %d instances and a Marker", len(markers), n)
		}
		markers = append(markers, next)
		marker = next
	}
	if len(seen) != want {
		return nil, fmt.Errorf("walked %d instances, want %d", len(seen), want)
	}
	return markers, nil
}

// walkOp walks the pages with markers: each worker starts on a random page
// and follows the Marker of each answer, wrapping to the first page after
// the last. Every page must hold 100 instances but the last.
func walkOp(markers []string, workers int, seed uint64) operation {
	rng := rand.New(rand.NewPCG(seed, 1))
	cur := make([]string, workers)
	for w := range cur {
		cur[w] = markers[rng.IntN(len(markers))]
	}
	return operation{
		name: "DescribeDBInstances",
		next: func(w, _ int) (signedBody, string) { return pageBody(cur[w]), instanceAccount },
		check: func(w int, body []byte) error {
			n, next, err := parsePage(body)
			if err != nil {
				return err
			}
			if next != "" && n != instancePageSize {
				return fmt.Errorf("a page with a Marker has %d instances", n)
			}
			if n == 0 {
				return errors.New("an empty page")
			}
			cur[w] = next
			return nil
		},
	}
}

// instanceReport is what the instance phase measured.
type instanceReport struct {
	Instances        int           `json:"instances"`
	Seed             seedStats     `json:"seed"`
	Pages            int           `json:"pages"`
	PageBytes        int           `json:"page_bytes"`
	Phases           []phaseResult `json:"walk_phases"`
	RSSBeforeBytes   int64         `json:"rss_before_seed_bytes"`
	RSSAfterBytes    int64         `json:"rss_after_seed_bytes"`
	RSSPerInstance   float64       `json:"rss_growth_per_instance_bytes"`
	DBBeforeBytes    int64         `json:"db_before_seed_bytes,omitempty"`
	DBAfterBytes     int64         `json:"db_after_seed_bytes,omitempty"`
	DBPerInstance    float64       `json:"db_growth_per_instance_bytes,omitempty"`
	DBFiles          string        `json:"db_files,omitempty"`
	RSSAfterWalkByte int64         `json:"rss_after_walk_bytes"`
}

// dbSize is the size of rdsca.db plus its -wal file in dir.
func dbSize(dir string) (int64, error) {
	var total int64
	for _, name := range []string{"rdsca.db", "rdsca.db-wal"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) && name != "rdsca.db" {
			continue
		}
		if err != nil {
			return 0, err
		}
		total += fi.Size()
	}
	return total, nil
}

// runInstancePhase starts its own rdsca, seeds it and walks it. Problems
// (errors of rdsca) are returned; a missed target is only a measurement.
func runInstancePhase(ctx context.Context, cfg config, bin, tmp string, rep *report) error {
	dataDir := filepath.Join(tmp, "instances-data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		return err
	}
	logPath := filepath.Join(tmp, "rdsca-instances.log")
	srv, err := startRdsca(bin, dataDir, cfg.store, logPath, "--transition-delay", "0")
	if err != nil {
		return fmt.Errorf("start rdsca: %v%s", err, logTail(logPath))
	}
	defer srv.kill()
	if err := srv.waitHealthy(ctx, 30*time.Second); err != nil {
		return fmt.Errorf("rdsca not healthy: %v%s", err, logTail(logPath))
	}
	// Warm up the account-region (creates the us-east-1 CA keys), so the
	// baseline RSS includes them.
	if _, err := firstAnswer(ctx, srv, 3*time.Minute, 50*time.Millisecond); err != nil {
		return fmt.Errorf("warm-up: %v%s", err, logTail(logPath))
	}
	ir := &instanceReport{Instances: cfg.instances}
	rep.Instances = ir
	time.Sleep(500 * time.Millisecond)
	if ir.RSSBeforeBytes, err = procStatusBytes(srv.pid(), "VmRSS"); err != nil {
		return err
	}
	if cfg.store == "sqlite" {
		if ir.DBBeforeBytes, err = dbSize(dataDir); err != nil {
			return err
		}
	}

	logf("instances: seeding %d instances (CreateDBInstance, c=%d, --transition-delay 0)", cfg.instances, seedConcurrency)
	if ir.Seed, err = seedInstances(ctx, srv.addr, cfg.instances, seedConcurrency); err != nil {
		return fmt.Errorf("seeding: %v%s", err, logTail(logPath))
	}
	logf("instances: seeded in %.1fs (%.0f creates/s)", ir.Seed.ElapsedSec, ir.Seed.RPS)
	time.Sleep(500 * time.Millisecond)
	if ir.RSSAfterBytes, err = procStatusBytes(srv.pid(), "VmRSS"); err != nil {
		return err
	}
	ir.RSSPerInstance = float64(ir.RSSAfterBytes-ir.RSSBeforeBytes) / float64(cfg.instances)
	if cfg.store == "sqlite" {
		if ir.DBAfterBytes, err = dbSize(dataDir); err != nil {
			return err
		}
		ir.DBPerInstance = float64(ir.DBAfterBytes-ir.DBBeforeBytes) / float64(cfg.instances)
		ir.DBFiles = "rdsca.db + rdsca.db-wal"
	}

	markers, err := walkAll(ctx, srv.addr, cfg.instances)
	if err != nil {
		return fmt.Errorf("walk: %v%s", err, logTail(logPath))
	}
	ir.Pages = len(markers)
	req, err := newRequest(ctx, srv.addr, pageBody(""), instanceAccount)
	if err != nil {
		return err
	}
	c := &http.Client{Timeout: requestTimeout}
	n, _, err := do(c, req)
	c.CloseIdleConnections()
	if err != nil {
		return err
	}
	ir.PageBytes = int(n)

	for _, conc := range instanceConcurrency {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		logf("load: rdsca DescribeDBInstances (MaxRecords=%d, marker walk over %d pages) c=%d for %s", instancePageSize, len(markers), conc, cfg.duration)
		runtime.GC()
		st := runLoad(ctx, loadConfig{addr: srv.addr, op: walkOp(markers, conc, uint64(conc)), concurrency: conc, warmup: cfg.warmup, duration: cfg.duration})
		ir.Phases = append(ir.Phases, phaseResult{Target: "rdsca", Op: "DescribeDBInstances", Concurrency: conc, Stats: st})
		if st.Errors > 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("rdsca DescribeDBInstances c=%d: %d errors, e.g. %v", conc, st.Errors, st.ErrorSamples))
		}
	}
	if ir.RSSAfterWalkByte, err = procStatusBytes(srv.pid(), "VmRSS"); err != nil {
		return err
	}
	if res := srv.stop(10 * time.Second); !res.Clean {
		rep.Problems = append(rep.Problems, "rdsca (instances) did not stop cleanly on SIGTERM: "+res.String()+logTail(logPath))
	}
	return nil
}

// instanceConcurrency are the walk's concurrency levels.
var instanceConcurrency = []int{4, 32}

// checkInstances adds the instance targets to r.Checks.
func (r *report) checkInstances() {
	ir := r.Instances
	if ir == nil {
		return
	}
	for _, p := range ir.Phases {
		r.Checks = append(r.Checks, check{
			Name:   fmt.Sprintf("DescribeDBInstances p99, %d instances, c=%d", ir.Instances, p.Concurrency),
			Result: passFail(time.Duration(p.P99) < maxWalkP99),
			Detail: fmt.Sprintf("%s < %s", fmtDur(p.P99), maxWalkP99),
		})
	}
}
