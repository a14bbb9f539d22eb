package stress

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"
)

// TestCrashSafety runs the rdsca binary on the SQLite store, with
// --transition-delay 0 so every acknowledged instance write is final, and
// RDSCA_CRASH_RUNS times (default 3):
//
//  1. 16 goroutines write through aws-sdk-go-v2: 8 set and remove overrides
//     (each the only writer of two (account, region) scopes, so the order of
//     a scope's writes is the order they were sent), 8 create, modify (a new
//     CA, ApplyImmediately) and delete instances of their own (two workers
//     per scope). Each remembers what every acknowledged (200) write set,
//     and what its one unanswered request would set.
//  2. Once the writers have had some answers, at a random moment, rdsca is
//     SIGKILLed; it is restarted on the same data dir.
//  3. Every scope's override is its last acknowledged value, or the value of
//     the request that was in flight at the kill. Every acknowledged create
//     exists unless an acknowledged delete followed; an instance has the CA
//     of its last acknowledged write (or of the one in flight); an instance
//     in flight may exist or not, but if it exists it is whole (available,
//     every member a create writes, its CA in CertificateDetails) and in its
//     scope; nothing else is listed. DescribeCertificates and
//     DescribeDBInstances answer normally and thumbprints do not change.
//
// What was observed then becomes the expected state of the next run, which
// loads the restarted process.
func TestCrashSafety(t *testing.T) {
	needBinary(t)
	runs := envInt(t, "RDSCA_CRASH_RUNS", 3)
	seed := time.Now().UnixNano()
	t.Logf("%d runs, seed %d", runs, seed)
	rng := rand.New(rand.NewSource(seed))

	data := t.TempDir()
	args := []string{"--store", "sqlite", "--data-dir", data, "--transition-delay", "0"}
	p := start(t, args...)
	hc := sharedHTTP(32)

	// Create the regions' CA material before the load.
	thumbs := map[string]map[string]string{}
	for _, region := range regions {
		thumbs[region] = thumbprints(t, newClient(p.url, hc, "100000000000", region))
	}

	m := newCrashModel()
	for run := 1; run <= runs; run++ {
		started := time.Now()
		stats := m.load(t, p, hc, run, rng)
		p.checkLog(t)
		p = start(t, args...)
		restarted := time.Now()
		m.verify(t, p, hc)
		for _, region := range regions {
			if got := thumbprints(t, newClient(p.url, hc, "100000000000", region)); fmt.Sprint(got) != fmt.Sprint(thumbs[region]) {
				t.Errorf("run %d: %s thumbprints changed across the kill:\n%v\n%v", run, region, thumbs[region], got)
			}
		}
		t.Logf("run %d: %s; load and kill %v, restart and check %v",
			run, stats, restarted.Sub(started).Round(time.Millisecond), time.Since(restarted).Round(time.Millisecond))
		if t.Failed() {
			return
		}
	}
	p.checkLog(t)
}

func thumbprints(t *testing.T, c *rdssdk.Client) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := c.DescribeCertificates(ctx, &rdssdk.DescribeCertificatesInput{})
	if err != nil {
		t.Fatalf("DescribeCertificates: %v", err)
	}
	m := map[string]string{}
	for _, c := range out.Certificates {
		m[aws.ToString(c.CertificateIdentifier)] = aws.ToString(c.Thumbprint)
	}
	return m
}

// overrideScope is one (account, region) and what its override may be.
type overrideScope struct {
	account, region string
	acked           string   // the last acknowledged value; "" for none
	maybe           []string // values of requests left unanswered by the kill
}

// instanceState is one instance and what may be stored for it.
type instanceState struct {
	id      string
	created bool   // a create was acknowledged (or seen after a restart)
	gone    bool   // a delete was acknowledged (or the instance was not seen)
	ca      string // the CA of the last acknowledged write
	maybe   *instanceOp
}

// instanceOp is a write whose answer the kill swallowed.
type instanceOp struct {
	kind string // create, modify, delete
	ca   string
}

// instanceScope is the instances of one (account, region), written by two
// workers with disjoint identifiers.
type instanceScope struct {
	account, region string
	workers         [2][]*instanceState
}

type crashModel struct {
	overrides [8][2]*overrideScope
	instances [4]*instanceScope
}

func newCrashModel() *crashModel {
	m := &crashModel{}
	for w := range m.overrides {
		for i := range m.overrides[w] {
			m.overrides[w][i] = &overrideScope{account: fmt.Sprintf("1000000000%02d", w+1), region: regions[i]}
		}
	}
	for s := range m.instances {
		m.instances[s] = &instanceScope{account: fmt.Sprintf("2000000000%02d", s+1), region: regions[s%2]}
	}
	return m
}

// loadStats counts what one load saw.
type loadStats struct {
	acked, unanswered atomic.Int64
	byOp              sync.Map // op name → *atomic.Int64
}

func (s *loadStats) ack(op string) {
	s.acked.Add(1)
	v, _ := s.byOp.LoadOrStore(op, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func (s *loadStats) String() string {
	var parts []string
	s.byOp.Range(func(k, v any) bool {
		parts = append(parts, fmt.Sprintf("%s %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	slices.Sort(parts)
	return fmt.Sprintf("%d acknowledged (%s), %d unanswered at the kill", s.acked.Load(), strings.Join(parts, ", "), s.unanswered.Load())
}

// load runs the 16 writers against p until it is SIGKILLed.
func (m *crashModel) load(t *testing.T, p *proc, hc aws.HTTPClient, run int, rng *rand.Rand) *loadStats {
	t.Helper()
	var killing atomic.Bool
	stats := &loadStats{}
	errs := make(chan error, 64)
	// fail reports an error the kill does not explain.
	fail := func(what string, err error) {
		select {
		case errs <- fmt.Errorf("run %d: %s: %w (HTTP %d)", run, what, err, httpStatus(err)):
		default:
		}
	}
	var wg sync.WaitGroup
	for w := range m.overrides {
		seed := rng.Int63()
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.overrideWorker(p.url, hc, w, rand.New(rand.NewSource(seed)), &killing, stats, fail)
		}()
	}
	for s := range m.instances {
		for k := range 2 {
			seed := rng.Int63()
			wg.Add(1)
			go func() {
				defer wg.Done()
				m.instanceWorker(p.url, hc, run, s, k, rand.New(rand.NewSource(seed)), &killing, stats, fail)
			}()
		}
	}
	// Let the writers get going, then kill at a random moment.
	deadline := time.Now().Add(time.Minute)
	for stats.acked.Load() < 40 && time.Now().Before(deadline) && len(errs) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(time.Duration(200+rng.Intn(1300)) * time.Millisecond)
	killing.Store(true)
	p.kill(t)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if stats.acked.Load() == 0 {
		t.Errorf("run %d: no write was acknowledged before the kill", run)
	}
	return stats
}

func (m *crashModel) overrideWorker(url string, hc aws.HTTPClient, w int, rng *rand.Rand, killing *atomic.Bool, stats *loadStats, fail func(string, error)) {
	clients := [2]*rdssdk.Client{}
	for i, sc := range m.overrides[w] {
		clients[i] = newClient(url, hc, sc.account, sc.region)
	}
	for !killing.Load() {
		i := rng.Intn(2)
		sc, c := m.overrides[w][i], clients[i]
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		// Now and then, read back the last acknowledged value: this worker is
		// the scope's only writer.
		if rng.Intn(4) == 0 {
			out, err := c.DescribeCertificates(ctx, &rdssdk.DescribeCertificatesInput{})
			cancel()
			if err != nil {
				if !killing.Load() {
					fail("DescribeCertificates "+sc.account+" "+sc.region, err)
				}
				return
			}
			if got, err := override(out); err != nil || got != sc.acked {
				fail("DescribeCertificates "+sc.account+" "+sc.region, fmt.Errorf("override %q (%v) after %q was acknowledged", got, err, sc.acked))
				return
			}
			continue
		}
		value := ""
		in := &rdssdk.ModifyCertificatesInput{RemoveCustomerOverride: aws.Bool(true)}
		if k := rng.Intn(len(g1) + 1); k < len(g1) {
			value = g1[k]
			in = &rdssdk.ModifyCertificatesInput{CertificateIdentifier: aws.String(value)}
		}
		_, err := c.ModifyCertificates(ctx, in)
		cancel()
		switch {
		case err == nil:
			sc.acked = value
			stats.ack("ModifyCertificates")
		case killing.Load():
			sc.maybe = append(sc.maybe, value)
			stats.unanswered.Add(1)
			return
		default:
			fail(fmt.Sprintf("ModifyCertificates %s %s to %q", sc.account, sc.region, value), err)
			return
		}
	}
}

func (m *crashModel) instanceWorker(url string, hc aws.HTTPClient, run, s, k int, rng *rand.Rand, killing *atomic.Bool, stats *loadStats, fail func(string, error)) {
	sc := m.instances[s]
	c := newClient(url, hc, sc.account, sc.region)
	mine := &sc.workers[k]
	n := 0
	for !killing.Load() {
		var live []*instanceState
		for _, in := range *mine {
			if in.created && !in.gone {
				live = append(live, in)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var (
			op   instanceOp
			inst *instanceState
			err  error
		)
		switch r := rng.Float64(); {
		case len(live) < 3 || r < 0.4:
			n++
			inst = &instanceState{id: fmt.Sprintf("r%d-w%d-%d-%d", run, s, k, n)}
			*mine = append(*mine, inst)
			op = instanceOp{kind: "create", ca: g1[rng.Intn(len(g1))]}
			_, err = c.CreateDBInstance(ctx, createInput(inst.id, op.ca))
		case r < 0.8:
			inst = live[rng.Intn(len(live))]
			op = instanceOp{kind: "modify", ca: g1[rng.Intn(len(g1))]}
			for op.ca == inst.ca {
				op.ca = g1[rng.Intn(len(g1))]
			}
			_, err = c.ModifyDBInstance(ctx, &rdssdk.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(inst.id),
				CACertificateIdentifier: aws.String(op.ca), ApplyImmediately: aws.Bool(true)})
		default:
			inst = live[rng.Intn(len(live))]
			op = instanceOp{kind: "delete"}
			_, err = c.DeleteDBInstance(ctx, &rdssdk.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(inst.id), SkipFinalSnapshot: aws.Bool(true)})
		}
		cancel()
		switch {
		case err == nil:
			switch op.kind {
			case "create":
				inst.created, inst.ca = true, op.ca
				stats.ack("CreateDBInstance")
			case "modify":
				inst.ca = op.ca
				stats.ack("ModifyDBInstance")
			case "delete":
				inst.gone = true
				stats.ack("DeleteDBInstance")
			}
		case killing.Load():
			inst.maybe = &op
			stats.unanswered.Add(1)
			return
		default:
			fail(fmt.Sprintf("%s %s (%s %s, CA %q)", op.kind, inst.id, sc.account, sc.region, op.ca), err)
			return
		}
	}
}

// verify checks the restarted server against the model, then makes what it
// saw the model.
func (m *crashModel) verify(t *testing.T, p *proc, hc aws.HTTPClient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for w := range m.overrides {
		for _, sc := range m.overrides[w] {
			out, err := newClient(p.url, hc, sc.account, sc.region).DescribeCertificates(ctx, &rdssdk.DescribeCertificatesInput{})
			if err != nil {
				t.Fatalf("after restart: DescribeCertificates %s %s: %v", sc.account, sc.region, err)
			}
			got, err := override(out)
			if err != nil {
				t.Errorf("after restart: %s %s: %v", sc.account, sc.region, err)
			}
			if got != sc.acked && !slices.Contains(sc.maybe, got) {
				t.Errorf("after restart: %s %s override is %q; the last acknowledged write set %q, the unanswered ones %q: an acknowledged write was lost",
					sc.account, sc.region, got, sc.acked, sc.maybe)
			}
			sc.acked, sc.maybe = got, nil
		}
	}
	for _, sc := range m.instances {
		c := newClient(p.url, hc, sc.account, sc.region)
		listed, err := listInstances(ctx, c)
		if err != nil {
			t.Fatalf("after restart: DescribeDBInstances %s %s: %v", sc.account, sc.region, err)
		}
		for k := range sc.workers {
			for _, in := range sc.workers[k] {
				d, exists := listed[in.id]
				delete(listed, in.id)
				var cas []string // the CAs it may have if it exists
				switch {
				case in.gone:
				case in.created:
					cas = []string{in.ca}
					if in.maybe != nil && in.maybe.kind == "modify" {
						cas = append(cas, in.maybe.ca)
					}
				case in.maybe != nil && in.maybe.kind == "create":
					cas = []string{in.maybe.ca}
				}
				mayBeGone := !in.created || in.gone || (in.maybe != nil && in.maybe.kind == "delete")
				got := aws.ToString(d.CACertificateIdentifier)
				switch {
				case !exists && !mayBeGone:
					t.Errorf("after restart: %s (%s %s) is gone; its create was acknowledged, no delete was sent (CA %s, unanswered %+v): an acknowledged write was lost",
						in.id, sc.account, sc.region, in.ca, in.maybe)
				case exists && len(cas) == 0:
					t.Errorf("after restart: %s (%s %s) exists (%s); created %v, deleted %v, unanswered %+v",
						in.id, sc.account, sc.region, aws.ToString(d.DBInstanceStatus), in.created, in.gone, in.maybe)
				case exists && !slices.Contains(cas, got):
					t.Errorf("after restart: %s (%s %s) has CA %q, want one of %q: an acknowledged write was lost", in.id, sc.account, sc.region, got, cas)
				}
				if exists {
					if err := checkWhole(d, sc.account, sc.region, got); err != nil {
						t.Errorf("after restart: %v", err)
					}
					// Describing it by identifier agrees with the listing.
					one, err := c.DescribeDBInstances(ctx, &rdssdk.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(in.id)})
					if err != nil || len(one.DBInstances) != 1 || aws.ToString(one.DBInstances[0].CACertificateIdentifier) != got {
						t.Errorf("after restart: DescribeDBInstances %s: %v %+v; listed with CA %s", in.id, err, one, got)
					}
				}
				in.created, in.gone, in.ca, in.maybe = exists, !exists, got, nil
			}
		}
		for id, d := range listed {
			t.Errorf("after restart: %s %s lists %s (%s), which no writer created", sc.account, sc.region, id, aws.ToString(d.DBInstanceStatus))
		}
	}
	p.checkLog(t)
}
