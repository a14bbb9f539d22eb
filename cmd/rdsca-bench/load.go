package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	region         = "us-east-1"
	service        = "rds"
	apiVersion     = "2014-10-31"
	secretKey      = "rdsca-bench-secret-key"
	benchAccount   = "123456789012" // DescribeCertificates caller
	requestTimeout = 30 * time.Second
)

// modifyAccounts are the callers ModifyCertificates load spreads over.
var modifyAccounts = []string{"210987654321", "310987654321", "410987654321", "510987654321"}

var signer = v4.NewSigner()

// signedBody is a form body with its precomputed SHA-256 payload hash.
type signedBody struct {
	body string
	hash string
}

func newBody(v url.Values) signedBody {
	b := v.Encode()
	sum := sha256.Sum256([]byte(b))
	return signedBody{body: b, hash: hex.EncodeToString(sum[:])}
}

// operation picks the body and caller of the n-th call of a worker.
type operation struct {
	name string
	next func(worker, n int) (signedBody, string)
	// check, if set, sees the body of each 200 response of a worker (after
	// the latency is taken); an error makes the call a failed one.
	check func(worker int, body []byte) error
}

func describeOp() operation {
	b := newBody(url.Values{"Action": {"DescribeCertificates"}, "Version": {apiVersion}})
	return operation{name: "DescribeCertificates", next: func(int, int) (signedBody, string) { return b, benchAccount }}
}

// modifyOp alternates the override between rsa2048 and ecc384; each worker
// keeps one of modifyAccounts.
func modifyOp() operation {
	var bodies [2]signedBody
	for i, id := range []string{"rds-ca-rsa2048-g1", "rds-ca-ecc384-g1"} {
		bodies[i] = newBody(url.Values{"Action": {"ModifyCertificates"}, "Version": {apiVersion}, "CertificateIdentifier": {id}})
	}
	return operation{name: "ModifyCertificates", next: func(w, n int) (signedBody, string) {
		return bodies[n%2], modifyAccounts[w%len(modifyAccounts)]
	}}
}

// newRequest builds a fresh SigV4-signed Query protocol POST.
func newRequest(ctx context.Context, addr string, b signedBody, account string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/", strings.NewReader(b.body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	creds := aws.Credentials{AccessKeyID: account, SecretAccessKey: secretKey}
	if err := signer.SignHTTP(ctx, creds, req, b.hash, service, region, time.Now()); err != nil {
		return nil, err
	}
	return req, nil
}

// do sends one request, reads the whole body and checks for 200.
func do(c *http.Client, req *http.Request) (n int64, ctype string, err error) {
	n, ctype, err = doInto(c, req, nil)
	return n, ctype, err
}

// doInto is do that appends the body to *buf when buf is not nil.
func doInto(c *http.Client, req *http.Request, buf *[]byte) (n int64, ctype string, err error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return 0, "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if buf == nil {
		n, err = io.Copy(io.Discard, resp.Body)
		return n, resp.Header.Get("Content-Type"), err
	}
	w := bytes.NewBuffer((*buf)[:0])
	n, err = io.Copy(w, resp.Body)
	*buf = w.Bytes()
	return n, resp.Header.Get("Content-Type"), err
}

// firstAnswer sends signed DescribeCertificates every interval until one is
// answered with 200, and returns the time since p was exec'd.
func firstAnswer(ctx context.Context, p *process, timeout, interval time.Duration) (time.Duration, error) {
	tr := &http.Transport{DialContext: (&net.Dialer{Timeout: time.Second}).DialContext, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: timeout}
	op := describeOp()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		b, acct := op.next(0, 0)
		req, err := newRequest(ctx, p.addr, b, acct)
		if err != nil {
			return 0, err
		}
		if _, _, last = do(c, req); last == nil {
			return time.Since(p.started), nil
		}
		if p.exited() {
			return 0, fmt.Errorf("rdsca exited (%s); last error: %v", exitStatus(p.waitErr), last)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no answer within %s; last error: %v", timeout, last)
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		time.Sleep(interval)
	}
}

// describeOnce returns the size and Content-Type of a DescribeCertificates response.
func describeOnce(ctx context.Context, addr string) (int, string, error) {
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: requestTimeout}
	defer c.CloseIdleConnections()
	b, acct := describeOp().next(0, 0)
	req, err := newRequest(ctx, addr, b, acct)
	if err != nil {
		return 0, "", err
	}
	n, ct, err := do(c, req)
	return int(n), ct, err
}

// loadConfig is one load phase.
type loadConfig struct {
	addr        string
	addrs       []string // if set, requests go round-robin across these instead of addr
	op          operation
	concurrency int
	warmup      time.Duration // run but not recorded
	duration    time.Duration // recorded
}

// workerResult is what one worker recorded.
type workerResult struct {
	lat     []time.Duration
	errors  int
	samples []string
	last    time.Time // end of its last recorded call
}

// runLoad drives cfg.concurrency workers, each looping over fresh signed
// requests until the phase deadline; calls started after the warm-up are
// recorded. A call in flight at the deadline completes (bounded by
// requestTimeout) and is recorded.
func runLoad(ctx context.Context, cfg loadConfig) Stats {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        cfg.concurrency * 2 * max(1, len(cfg.addrs)),
		MaxIdleConnsPerHost: cfg.concurrency * 2,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: requestTimeout}

	start := time.Now()
	measureFrom := start.Add(cfg.warmup)
	phaseCtx, cancel := context.WithDeadline(ctx, measureFrom.Add(cfg.duration))
	defer cancel()

	results := make([]workerResult, cfg.concurrency)
	var wg sync.WaitGroup
	for w := 0; w < cfg.concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := &results[w]
			r.lat = make([]time.Duration, 0, 8192)
			var body *[]byte
			if cfg.op.check != nil {
				body = new([]byte)
			}
			for n := 0; phaseCtx.Err() == nil; n++ {
				b, acct := cfg.op.next(w, n)
				t0 := time.Now()
				// The request is not tied to phaseCtx: the deadline must not
				// turn a call in flight into an error.
				addr := cfg.addr
				if len(cfg.addrs) > 0 {
					addr = cfg.addrs[(w+n)%len(cfg.addrs)]
				}
				req, err := newRequest(context.Background(), addr, b, acct)
				if err == nil {
					_, _, err = doInto(client, req, body)
				}
				t1 := time.Now()
				if err == nil && cfg.op.check != nil {
					err = cfg.op.check(w, *body)
				}
				if t0.Before(measureFrom) {
					continue
				}
				r.last = t1
				if err != nil {
					r.errors++
					if len(r.samples) < 3 {
						r.samples = append(r.samples, err.Error())
					}
					continue
				}
				r.lat = append(r.lat, t1.Sub(t0))
			}
		}(w)
	}
	wg.Wait()

	var (
		all     []time.Duration
		errs    int
		samples []string
		end     = measureFrom
	)
	for _, r := range results {
		all = append(all, r.lat...)
		errs += r.errors
		for _, s := range r.samples {
			if len(samples) < 3 {
				samples = append(samples, s)
			}
		}
		if r.last.After(end) {
			end = r.last
		}
	}
	st := summarize(all, errs, end.Sub(measureFrom))
	st.ErrorSamples = samples
	return st
}

// Stats summarizes one load phase. Latencies are of successful calls.
type Stats struct {
	Requests     int      `json:"requests"` // successful
	Errors       int      `json:"errors"`
	ElapsedSec   float64  `json:"elapsed_s"`
	RPS          float64  `json:"rps"` // successful requests per second
	P50          Duration `json:"p50_ms"`
	P99          Duration `json:"p99_ms"`
	Max          Duration `json:"max_ms"`
	ErrorSamples []string `json:"error_samples,omitempty"`
}

// Duration marshals to JSON as milliseconds.
type Duration time.Duration

// MarshalJSON writes milliseconds with microsecond precision.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%.3f", ms(time.Duration(d)))), nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// summarize sorts lat in place and computes throughput and percentiles.
func summarize(lat []time.Duration, errs int, elapsed time.Duration) Stats {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	st := Stats{Requests: len(lat), Errors: errs, ElapsedSec: elapsed.Seconds()}
	if elapsed > 0 {
		st.RPS = float64(len(lat)) / elapsed.Seconds()
	}
	st.P50 = Duration(percentile(lat, 50))
	st.P99 = Duration(percentile(lat, 99))
	if len(lat) > 0 {
		st.Max = Duration(lat[len(lat)-1])
	}
	return st
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// ascending sorted; 0 for an empty slice.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p * float64(len(sorted)) / 100))
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}
