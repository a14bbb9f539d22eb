package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Targets from the issue.
const (
	minThroughputRatio = 0.60
	maxP99Ratio        = 1.5
	p99RatioConc       = 32
	maxP99LowConc      = 2 * time.Millisecond
	lowConc            = 4
	maxStartMs         = 100.0
	maxIdleRSSBytes    = 30_000_000 // 30 MB, decimal
)

// phaseResult is one row of the table.
type phaseResult struct {
	Target      string `json:"target"` // rdsca or bare
	Op          string `json:"op"`
	Concurrency int    `json:"concurrency"`
	Stats
}

// check is one target check; Info checks are reported but not targets.
type check struct {
	Name   string `json:"name"`
	Result string `json:"result"` // PASS, FAIL, INFO or N/A
	Detail string `json:"detail"`
}

// report is everything the run measured.
type report struct {
	CPUs         int             `json:"cpus"`
	GOMAXPROCS   int             `json:"gomaxprocs"`
	Store        string          `json:"store"`
	Duration     string          `json:"duration"`
	Warmup       string          `json:"warmup"`
	Concurrency  []int           `json:"concurrency"`
	Binary       string          `json:"binary,omitempty"`
	BuildTime    string          `json:"build_time,omitempty"`
	WarmupTime   string          `json:"first_request_with_ca_keygen,omitempty"`
	BodyBytes    int             `json:"describe_body_bytes,omitempty"`
	ContentType  string          `json:"describe_content_type,omitempty"`
	Phases       []phaseResult   `json:"phases"`
	StartsMs     []float64       `json:"start_to_first_answer_ms"`
	IdleRSSBytes int64           `json:"idle_rss_bytes"`
	PeakRSSBytes int64           `json:"peak_rss_bytes"`
	Shutdown     string          `json:"shutdown,omitempty"`
	Checks       []check         `json:"checks"`
	Problems     []string        `json:"problems,omitempty"` // make the exit status 1
	Notes        []string        `json:"notes,omitempty"`
	Fatal        string          `json:"fatal,omitempty"`
	Instances    *instanceReport `json:"instances,omitempty"`
	// PostgresSchema is the throwaway schema of the pg×N phases.
	PostgresSchema string `json:"postgres_schema,omitempty"`
}

func (r *report) phase(target, op string, c int) (Stats, bool) {
	for _, p := range r.Phases {
		if p.Target == target && p.Op == op && p.Concurrency == c {
			return p.Stats, true
		}
	}
	return Stats{}, false
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// medianMs returns the median of xs (mean of the middle two for even length).
func medianMs(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// check evaluates the targets against the measurements.
func (r *report) check() {
	const d = "DescribeCertificates"
	add := func(name, result, detail string) {
		r.Checks = append(r.Checks, check{Name: name, Result: result, Detail: detail})
	}
	for _, c := range r.Concurrency {
		rd, ok1 := r.phase("rdsca", d, c)
		bd, ok2 := r.phase("bare", d, c)
		name := fmt.Sprintf("describe throughput vs bare, c=%d", c)
		if !ok1 || !ok2 || bd.RPS == 0 {
			add(name, "N/A", "not measured")
			continue
		}
		ratio := rd.RPS / bd.RPS
		add(name, passFail(ratio >= minThroughputRatio),
			fmt.Sprintf("%.2f >= %.2f (%.0f / %.0f req/s)", ratio, minThroughputRatio, rd.RPS, bd.RPS))
	}
	rd, ok1 := r.phase("rdsca", d, p99RatioConc)
	bd, ok2 := r.phase("bare", d, p99RatioConc)
	name := fmt.Sprintf("describe p99 vs bare p99, c=%d", p99RatioConc)
	if ok1 && ok2 && bd.P99 > 0 {
		ratio := float64(rd.P99) / float64(bd.P99)
		add(name, passFail(ratio <= maxP99Ratio),
			fmt.Sprintf("%.2f <= %.2f (%s / %s)", ratio, maxP99Ratio, fmtDur(rd.P99), fmtDur(bd.P99)))
	} else {
		add(name, "N/A", "concurrency 32 not measured")
	}
	name = fmt.Sprintf("describe p99, c=%d", lowConc)
	if rd, ok := r.phase("rdsca", d, lowConc); ok {
		add(name, passFail(time.Duration(rd.P99) < maxP99LowConc),
			fmt.Sprintf("%s < %s", fmtDur(rd.P99), maxP99LowConc))
	} else {
		add(name, "N/A", "concurrency 4 not measured")
	}
	if md, ok := r.phase("rdsca", "ModifyCertificates", lowConc); ok {
		add(fmt.Sprintf("modify p99, c=%d (not a target)", lowConc), "INFO",
			fmt.Sprintf("%s (vs %s)", fmtDur(md.P99), maxP99LowConc))
	}
	if len(r.StartsMs) > 0 {
		med := medianMs(r.StartsMs)
		detail := fmt.Sprintf("median %.1f ms < %.0f ms", med, maxStartMs)
		if r.Store == "memory" {
			detail += " (memory store: keys are regenerated on every start)"
		}
		add("start to first answer, existing data dir", passFail(med < maxStartMs), detail)
	}
	if r.IdleRSSBytes > 0 {
		add("idle RSS", passFail(r.IdleRSSBytes < maxIdleRSSBytes),
			fmt.Sprintf("%s < %s", fmtBytes(r.IdleRSSBytes), fmtBytes(maxIdleRSSBytes)))
	}
	r.checkInstances()
}

func fmtDur(d Duration) string {
	return fmt.Sprintf("%.2fms", ms(time.Duration(d)))
}

func fmtBytes(n int64) string {
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// print writes the text report (stdout, or stderr with -json) and the JSON.
func (r *report) print(cfg config) {
	var out io.Writer = os.Stdout
	if cfg.jsonOut {
		out = os.Stderr
	}
	r.writeText(out)
	if cfg.jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
	}
}

func (r *report) writeText(out io.Writer) {
	fmt.Fprintf(out, "\nrdsca-bench: %d CPUs, GOMAXPROCS %d, store %s, %s per phase after %s warm-up, loopback, SigV4-signed\n",
		r.CPUs, r.GOMAXPROCS, r.Store, r.Duration, r.Warmup)
	if r.Binary != "" {
		fmt.Fprintf(out, "binary: %s", r.Binary)
		if r.BuildTime != "" {
			fmt.Fprintf(out, " (built in %s)", r.BuildTime)
		}
		fmt.Fprintln(out)
	}
	if r.WarmupTime != "" {
		fmt.Fprintf(out, "warm-up: first DescribeCertificates (creates us-east-1 CA keys) took %s, not measured\n", r.WarmupTime)
	}
	if r.BodyBytes > 0 {
		fmt.Fprintf(out, "DescribeCertificates response: %d bytes, %s; bare handler returns the same size\n", r.BodyBytes, r.ContentType)
	}
	if len(r.Phases) > 0 {
		fmt.Fprintln(out)
		const row = "%-6s  %-20s  %4s  %8s  %8s  %8s  %8s  %8s  %6s\n"
		fmt.Fprintf(out, row, "target", "op", "conc", "req/s", "p50", "p99", "max", "requests", "errors")
		for _, p := range r.Phases {
			fmt.Fprintf(out, row, p.Target, p.Op, fmt.Sprint(p.Concurrency), fmt.Sprintf("%.0f", p.RPS),
				fmtDur(p.P50), fmtDur(p.P99), fmtDur(p.Max), fmt.Sprint(p.Requests), fmt.Sprint(p.Errors))
		}
	}
	fmt.Fprintln(out)
	if len(r.StartsMs) > 0 {
		parts := make([]string, len(r.StartsMs))
		for i, s := range r.StartsMs {
			parts[i] = fmt.Sprintf("%.1f", s)
		}
		fmt.Fprintf(out, "start to first answer (exec to first 200 DescribeCertificates, existing data dir): median %.1f ms (runs: %s ms)\n",
			medianMs(r.StartsMs), strings.Join(parts, ", "))
	}
	if r.IdleRSSBytes > 0 {
		fmt.Fprintf(out, "idle RSS (VmRSS after 1s idle):  %s\n", fmtBytes(r.IdleRSSBytes))
	}
	if r.PeakRSSBytes > 0 {
		fmt.Fprintf(out, "peak RSS (VmHWM at end of run):  %s\n", fmtBytes(r.PeakRSSBytes))
	}
	if r.Shutdown != "" {
		fmt.Fprintf(out, "shutdown on SIGTERM:             %s\n", r.Shutdown)
	}
	r.writeInstances(out)
	if len(r.Checks) > 0 {
		fmt.Fprintln(out, "\ntargets:")
		for _, c := range r.Checks {
			fmt.Fprintf(out, "  %-4s  %-50s %s\n", c.Result, c.Name, c.Detail)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(out, "\nnote: %s\n", n)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(out, "\nERROR: %s\n", p)
	}
	if r.Fatal != "" {
		fmt.Fprintf(out, "\nFATAL: %s\n", r.Fatal)
	}
}

// writeInstances writes the instance phase's section.
func (r *report) writeInstances(out io.Writer) {
	ir := r.Instances
	if ir == nil {
		return
	}
	fmt.Fprintf(out, "\ninstances (own rdsca, fresh data dir, --transition-delay 0, one account-region):\n")
	if ir.Seed.Instances > 0 {
		fmt.Fprintf(out, "  seeded %d with CreateDBInstance at c=%d in %.1fs: %.0f creates/s, p50 %s, p99 %s\n",
			ir.Seed.Instances, ir.Seed.Concurrency, ir.Seed.ElapsedSec, ir.Seed.RPS, fmtDur(ir.Seed.P50), fmtDur(ir.Seed.P99))
	}
	if ir.RSSAfterBytes > 0 {
		fmt.Fprintf(out, "  RSS %s before seeding, %s after: %.0f bytes per instance (%s after the walks)\n",
			fmtBytes(ir.RSSBeforeBytes), fmtBytes(ir.RSSAfterBytes), ir.RSSPerInstance, fmtBytes(ir.RSSAfterWalkByte))
	}
	if ir.DBAfterBytes > 0 {
		fmt.Fprintf(out, "  SQLite %s: %s before seeding, %s after: %.0f bytes per instance\n",
			ir.DBFiles, fmtBytes(ir.DBBeforeBytes), fmtBytes(ir.DBAfterBytes), ir.DBPerInstance)
	}
	if ir.Pages > 0 {
		fmt.Fprintf(out, "  DescribeDBInstances MaxRecords=%d: %d pages, all instances once; a page is %d bytes\n", instancePageSize, ir.Pages, ir.PageBytes)
	}
	if len(ir.Phases) > 0 {
		const row = "  %-20s  %4s  %8s  %8s  %8s  %8s  %8s  %6s\n"
		fmt.Fprintf(out, row, "op (marker walk)", "conc", "req/s", "p50", "p99", "max", "requests", "errors")
		for _, p := range ir.Phases {
			fmt.Fprintf(out, row, p.Op, fmt.Sprint(p.Concurrency), fmt.Sprintf("%.0f", p.RPS),
				fmtDur(p.P50), fmtDur(p.P99), fmtDur(p.Max), fmt.Sprint(p.Requests), fmt.Sprint(p.Errors))
		}
	}
}
