package stress

import (
	"context"
	"fmt"
	"math/rand"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsca/rdsca/ca"
	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/server"
	"github.com/rdsca/rdsca/sqlite"
)

// Load test parameters.
const (
	loadClients = 64
	// sharedWriters of the clients write one of two shared override scopes;
	// the others each own theirs.
	sharedWriters = 16
	// loadDelay is the server's transition delay: long enough that clients
	// modifying their instances without waiting run into creating and
	// modifying states (InvalidDBInstanceState, which they provoke).
	loadDelay = 250 * time.Millisecond
	// loadBudget bounds the load phase; clients stop early when it is spent.
	loadBudget = 90 * time.Second
)

// TestLoad runs 64 SDK clients at once against an in-process server over
// real TCP, once on the SQLite store and once on the memory store, so the
// race detector sees the server, the protocol and both stores under load.
// Each client makes a fixed number of calls mixing DescribeCertificates,
// ModifyCertificates, DescribeDBInstances, CreateDBInstance,
// ModifyDBInstance and DeleteDBInstance, plus calls that must fail
// (a second create of a live instance, an unknown CA, an unknown instance).
//
// Every answer is classified. Success, and the errors a call was built to
// provoke, are expected: DBInstanceAlreadyExists, CertificateNotFound and
// DBInstanceNotFound for the provoking calls, and InvalidDBInstanceState for
// ModifyDBInstance, since clients modify their instances without waiting for
// the previous change (loadDelay) to end. Anything else (another code, a 5xx,
// a transport error) fails the test.
//
// "Last acknowledged" is made well defined this way:
//   - 48 clients each own an (account, region) scope and are the only writer
//     of its override, one call at a time: the final override must equal the
//     value of the client's last acknowledged write, and every read in between
//     must show the value of the write acknowledged before it.
//   - 16 clients share two scopes, 8 writers each. Concurrent writes may
//     commit in any order, so the check is linearizability of a register:
//     the final value must be that of an acknowledged write W that no other
//     write of the scope followed in real time (none was sent after W's
//     answer came back). Writes overlapping the end are all candidates; the
//     test logs how many there were.
//   - Each client's instances live in its own scope: at the end (the clock
//     moved past every transition) they are exactly the acknowledged creates
//     minus the acknowledged deletes, each available with the CA of its last
//     acknowledged write.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("stress tests are skipped with -short")
	}
	ops := 60
	if raceEnabled {
		ops = 30
	}
	for _, store := range []string{"sqlite", "memory"} {
		t.Run(store, func(t *testing.T) { runLoad(t, store, ops) })
	}
}

// scope is an (account, region).
type scope struct{ account, region string }

// write is one acknowledged override write of a shared scope.
type write struct {
	value      string
	sent, done time.Time
}

type sharedScope struct {
	scope
	mu     sync.Mutex
	writes []write
}

type loadInstance struct {
	id      string
	ca      string // once every acknowledged write has taken effect
	deleted bool
}

type loadClient struct {
	i          int
	home       scope // its instances, and its override unless shared
	shared     *sharedScope
	c, ovc     *rdssdk.Client
	acked      string // the last acknowledged override of an owned scope
	instances  []*loadInstance
	outcomes   map[string]int
	unexpected []error
	n          int
}

func (lc *loadClient) count(op, outcome string) { lc.outcomes[op+" → "+outcome]++ }

func (lc *loadClient) fail(format string, args ...any) {
	lc.unexpected = append(lc.unexpected, fmt.Errorf("client %d (%s %s): %s", lc.i, lc.home.account, lc.home.region, fmt.Sprintf(format, args...)))
}

// classify counts an answer, reports it when it is neither a success nor
// one of the expected codes, and says whether it was a success.
func (lc *loadClient) classify(op string, err error, expected ...string) (ok bool) {
	if err == nil {
		lc.count(op, "ok")
		return true
	}
	code := apiCode(err)
	if code != "" && slices.Contains(expected, code) && httpStatus(err) < 500 {
		lc.count(op, code)
		return false
	}
	lc.count(op, fmt.Sprintf("UNEXPECTED %s (HTTP %d)", code, httpStatus(err)))
	lc.fail("%s: %v", op, err)
	return false
}

func runLoad(t *testing.T, storeKind string, ops int) {
	var store rds.Store
	switch storeKind {
	case "sqlite":
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "rdsca.db"))
		if err != nil {
			t.Fatal(err)
		}
		store = s
	case "memory":
		store = memory.New()
	}
	clk := clock.NewOffset(time.Now())
	srv, err := server.New(server.Config{Store: store, Clock: clk, Generator: &ca.Shared{Generator: &cheapGenerator{}}, Delay: loadDelay})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		_ = store.Close()
	})
	hc := sharedHTTP(loadClients + 8)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))

	shared := [2]*sharedScope{
		{scope: scope{"399999999999", regions[0]}},
		{scope: scope{"399999999999", regions[1]}},
	}
	clients := make([]*loadClient, loadClients)
	for i := range clients {
		lc := &loadClient{i: i, home: scope{fmt.Sprintf("3000000000%02d", i), regions[i%2]}, outcomes: map[string]int{}}
		lc.c = newClient(hs.URL, hc, lc.home.account, lc.home.region)
		lc.ovc = lc.c
		if i >= loadClients-sharedWriters {
			lc.shared = shared[i%2]
			lc.ovc = newClient(hs.URL, hc, lc.shared.account, lc.shared.region)
		}
		clients[i] = lc
	}
	// The regions' CA material, before the clock starts.
	for _, r := range regions {
		if _, err := newClient(hs.URL, hc, "300000000000", r).DescribeCertificates(context.Background(), &rdssdk.DescribeCertificatesInput{}); err != nil {
			t.Fatal(err)
		}
	}

	began := time.Now()
	deadline := began.Add(loadBudget)
	startLine := make(chan struct{})
	var wg sync.WaitGroup
	for _, lc := range clients {
		seed := rng.Int63()
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			<-startLine
			for lc.n = 0; lc.n < ops && time.Now().Before(deadline) && len(lc.unexpected) < 5; lc.n++ {
				lc.step(rng)
			}
		}()
	}
	close(startLine)
	wg.Wait()
	elapsed := time.Since(began)

	// Summary: calls and answers by kind.
	total := map[string]int{}
	calls := 0
	var unexpected []error
	for _, lc := range clients {
		for k, v := range lc.outcomes {
			total[k] += v
			calls += v
		}
		unexpected = append(unexpected, lc.unexpected...)
	}
	var lines []string
	for k, v := range total {
		lines = append(lines, fmt.Sprintf("  %-56s %5d", k, v))
	}
	slices.Sort(lines)
	t.Logf("%s store, seed %d: %d clients, %d calls in %v (%.0f/s)\n%s", storeKind, seed, loadClients, calls,
		elapsed.Round(time.Millisecond), float64(calls)/elapsed.Seconds(), strings.Join(lines, "\n"))
	for i, err := range unexpected {
		if i == 20 {
			t.Errorf("... and %d more unexpected errors", len(unexpected)-20)
			break
		}
		t.Error(err)
	}
	if calls < loadClients*ops/2 {
		t.Errorf("only %d calls of %d within %v", calls, loadClients*ops, loadBudget)
	}

	// The end state, once every transition is over.
	clk.Advance(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, lc := range clients {
		if lc.shared == nil {
			out, err := lc.c.DescribeCertificates(ctx, &rdssdk.DescribeCertificatesInput{})
			if err != nil {
				t.Fatalf("client %d: DescribeCertificates: %v", lc.i, err)
			}
			if got, err := override(out); err != nil || got != lc.acked {
				t.Errorf("client %d (%s %s): final override %q (%v), last acknowledged %q", lc.i, lc.home.account, lc.home.region, got, err, lc.acked)
			}
		}
		listed, err := listInstances(ctx, lc.c)
		if err != nil {
			t.Fatalf("client %d: DescribeDBInstances: %v", lc.i, err)
		}
		for _, in := range lc.instances {
			d, ok := listed[in.id]
			delete(listed, in.id)
			switch {
			case in.deleted && ok:
				t.Errorf("client %d: %s is listed (%s) after its delete was acknowledged", lc.i, in.id, aws.ToString(d.DBInstanceStatus))
			case !in.deleted && !ok:
				t.Errorf("client %d: %s is gone; its create was acknowledged and no delete", lc.i, in.id)
			case ok:
				if err := checkWhole(d, lc.home.account, lc.home.region, in.ca); err != nil {
					t.Errorf("client %d: %v", lc.i, err)
				}
			}
		}
		for id := range listed {
			t.Errorf("client %d: %s is listed but was never acknowledged", lc.i, id)
		}
	}
	for _, sc := range shared {
		out, err := newClient(hs.URL, hc, sc.account, sc.region).DescribeCertificates(ctx, &rdssdk.DescribeCertificatesInput{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := override(out)
		if err != nil {
			t.Error(err)
		}
		var candidates []string
		for _, w := range sc.writes {
			followed := false
			for _, w2 := range sc.writes {
				if w2.sent.After(w.done) {
					followed = true
					break
				}
			}
			if !followed {
				candidates = append(candidates, fmt.Sprintf("%q", w.value))
			}
		}
		t.Logf("shared %s %s: %d acknowledged writes, %d not followed by another, final %q", sc.account, sc.region, len(sc.writes), len(candidates), got)
		if len(sc.writes) == 0 {
			t.Errorf("shared %s %s: no acknowledged write", sc.account, sc.region)
		} else if !slices.Contains(candidates, fmt.Sprintf("%q", got)) {
			t.Errorf("shared %s %s: final override %q is none of the last acknowledged writes' %v", sc.account, sc.region, got, candidates)
		}
	}
}

// step makes one call chosen at random.
func (lc *loadClient) step(rng *rand.Rand) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var live []*loadInstance
	for _, in := range lc.instances {
		if !in.deleted {
			live = append(live, in)
		}
	}
	switch r := rng.Intn(100); {
	case r < 20:
		out, err := lc.ovc.DescribeCertificates(ctx, &rdssdk.DescribeCertificatesInput{})
		if !lc.classify("DescribeCertificates", err) {
			return
		}
		got, err := override(out)
		switch {
		case err != nil:
			lc.fail("DescribeCertificates: %v", err)
		case lc.shared == nil && got != lc.acked:
			lc.fail("DescribeCertificates shows override %q after %q was acknowledged", got, lc.acked)
		}
	case r < 45:
		value := ""
		in := &rdssdk.ModifyCertificatesInput{RemoveCustomerOverride: aws.Bool(true)}
		if k := rng.Intn(len(g1) + 1); k < len(g1) {
			value = g1[k]
			in = &rdssdk.ModifyCertificatesInput{CertificateIdentifier: aws.String(value)}
		}
		sent := time.Now()
		_, err := lc.ovc.ModifyCertificates(ctx, in)
		done := time.Now()
		if !lc.classify("ModifyCertificates", err) {
			return
		}
		if lc.shared == nil {
			lc.acked = value
			return
		}
		lc.shared.mu.Lock()
		lc.shared.writes = append(lc.shared.writes, write{value, sent, done})
		lc.shared.mu.Unlock()
	case r < 60:
		out, err := listInstances(ctx, lc.c)
		if !lc.classify("DescribeDBInstances", err) {
			return
		}
		for _, in := range live {
			if _, ok := out[in.id]; !ok {
				lc.fail("DescribeDBInstances does not list %s, created and not deleted", in.id)
			}
		}
		for id := range out {
			if !slices.ContainsFunc(lc.instances, func(in *loadInstance) bool { return in.id == id }) {
				lc.fail("DescribeDBInstances lists %s, which this client never created", id)
			}
		}
	case r < 75 || len(live) == 0:
		in := &loadInstance{id: fmt.Sprintf("c%d-i%d", lc.i, lc.n)}
		// No CA: the scope's default, which only this client's writes change
		// (or a shared scope's, which is not this one).
		ca := ""
		if rng.Intn(2) == 0 {
			ca = g1[rng.Intn(len(g1))]
		}
		_, err := lc.c.CreateDBInstance(ctx, createInput(in.id, ca))
		if !lc.classify("CreateDBInstance", err) {
			return
		}
		in.ca = ca
		if ca == "" {
			in.ca = lc.homeDefault()
		}
		lc.instances = append(lc.instances, in)
	case r < 90:
		in := live[rng.Intn(len(live))]
		ca := g1[rng.Intn(len(g1))]
		_, err := lc.c.ModifyDBInstance(ctx, &rdssdk.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(in.id),
			CACertificateIdentifier: aws.String(ca), ApplyImmediately: aws.Bool(true)})
		if lc.classify("ModifyDBInstance", err, rds.CodeInvalidDBInstanceState) {
			in.ca = ca
		}
	case r < 95:
		in := live[rng.Intn(len(live))]
		_, err := lc.c.DeleteDBInstance(ctx, &rdssdk.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(in.id), SkipFinalSnapshot: aws.Bool(true)})
		if lc.classify("DeleteDBInstance", err) {
			in.deleted = true
		}
	default:
		lc.provoke(ctx, live, rng)
	}
}

// homeDefault is the CA a new instance of the home scope gets: the owned
// override, else the system default.
func (lc *loadClient) homeDefault() string {
	if lc.shared == nil && lc.acked != "" {
		return lc.acked
	}
	return rsa2048
}

// provoke makes a call that must fail with a given code.
func (lc *loadClient) provoke(ctx context.Context, live []*loadInstance, rng *rand.Rand) {
	var (
		op, want string
		err      error
	)
	switch rng.Intn(3) {
	case 0:
		op, want = "CreateDBInstance (existing id, provoked)", rds.CodeDBInstanceAlreadyExists
		_, err = lc.c.CreateDBInstance(ctx, createInput(live[rng.Intn(len(live))].id, ""))
	case 1:
		op, want = "ModifyCertificates (unknown CA, provoked)", rds.CodeCertificateNotFound
		_, err = lc.ovc.ModifyCertificates(ctx, &rdssdk.ModifyCertificatesInput{CertificateIdentifier: aws.String("rds-ca-nope-g9")})
	default:
		op, want = "DescribeDBInstances (unknown id, provoked)", rds.CodeDBInstanceNotFound
		_, err = lc.c.DescribeDBInstances(ctx, &rdssdk.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(fmt.Sprintf("never-%d", lc.n))})
	}
	if err == nil {
		lc.count(op, "UNEXPECTED success")
		lc.fail("%s succeeded, want %s", op, want)
		return
	}
	lc.classify(op, err, want)
}
