package rdstest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/rdsca/rdsca/rdstest"
)

// modes runs f once with a listener and once without.
func modes(t *testing.T, f func(t *testing.T, noListener bool)) {
	t.Helper()
	for _, noListener := range []bool{false, true} {
		name := "listener"
		if noListener {
			name = "no-listener"
		}
		t.Run(name, func(t *testing.T) { f(t, noListener) })
	}
}

func describeCertificates(t testing.TB, c *rds.Client) *rds.DescribeCertificatesOutput {
	t.Helper()
	out, err := c.DescribeCertificates(context.Background(), &rds.DescribeCertificatesInput{})
	if err != nil {
		t.Fatalf("DescribeCertificates: %v", err)
	}
	return out
}

func defaultCA(t testing.TB, c *rds.Client) string {
	t.Helper()
	return aws.ToString(describeCertificates(t, c).DefaultCertificateForNewLaunches)
}

func instances(t testing.TB, c *rds.Client) []types.DBInstance {
	t.Helper()
	out, err := c.DescribeDBInstances(context.Background(), &rds.DescribeDBInstancesInput{})
	if err != nil {
		t.Fatalf("DescribeDBInstances: %v", err)
	}
	return out.DBInstances
}

func instanceIDs(t testing.TB, c *rds.Client) []string {
	t.Helper()
	var ids []string
	for _, in := range instances(t, c) {
		ids = append(ids, aws.ToString(in.DBInstanceIdentifier))
	}
	return ids
}

func TestSDK(t *testing.T) {
	modes(t, func(t *testing.T, noListener bool) {
		srv := rdstest.NewServer(t, &rdstest.Options{NoListener: noListener})
		if noListener != (srv.URL() == rdstest.NoListenerURL) {
			t.Errorf("URL %s with NoListener %v", srv.URL(), noListener)
		}
		c := rds.NewFromConfig(srv.AWSConfig())
		out := describeCertificates(t, c)
		if len(out.Certificates) != 3 || aws.ToString(out.DefaultCertificateForNewLaunches) != "rds-ca-rsa2048-g1" {
			t.Errorf("DescribeCertificates: %d certificates, default %s", len(out.Certificates), aws.ToString(out.DefaultCertificateForNewLaunches))
		}
		// A write through the wire, seen by the helpers' domain and back.
		if _, err := c.ModifyCertificates(t.Context(), &rds.ModifyCertificatesInput{CertificateIdentifier: aws.String("rds-ca-ecc384-g1")}); err != nil {
			t.Fatal(err)
		}
		in := srv.CreateInstance(t, rdstest.InstanceSpec{ID: "app"})
		if in.CA != "rds-ca-ecc384-g1" || in.Status != "available" || in.Engine != "postgres" {
			t.Errorf("CreateInstance after ModifyCertificates: %+v", in)
		}
		got := instances(t, c)
		if len(got) != 1 || aws.ToString(got[0].DBInstanceArn) != in.ARN || aws.ToString(got[0].CACertificateIdentifier) != "rds-ca-ecc384-g1" {
			t.Errorf("DescribeDBInstances: %+v", got)
		}
		// An API error comes back as the SDK's typed error.
		_, err := c.DescribeDBInstances(t.Context(), &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("nope")})
		var nf *types.DBInstanceNotFoundFault
		if !errors.As(err, &nf) {
			t.Errorf("DescribeDBInstances(nope): %v, want DBInstanceNotFoundFault", err)
		}
	})
}

// TestRawHTTP uses Client for requests outside the SDK: an unsigned Query
// API call (the server's default account and region) and the admin API.
func TestRawHTTP(t *testing.T) {
	modes(t, func(t *testing.T, noListener bool) {
		srv := rdstest.NewServer(t, &rdstest.Options{NoListener: noListener, Now: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), Frozen: true})
		srv.SetOverride(t, "rds-ca-rsa4096-g1")
		status, body := do(t, srv, "POST", "/", "Action=DescribeCertificates&Version=2014-10-31")
		if status != 200 || !strings.Contains(body, "<DefaultCertificateForNewLaunches>rds-ca-rsa4096-g1</DefaultCertificateForNewLaunches>") {
			t.Errorf("unsigned DescribeCertificates: %d %s", status, body)
		}
		status, body = do(t, srv, "GET", "/_rdsca/clock", "")
		if status != 200 || body != `{"now":"2026-12-04T00:00:00Z"}`+"\n" {
			t.Errorf("GET clock: %d %s", status, body)
		}
		status, body = do(t, srv, "POST", "/_rdsca/clock/advance", `{"days":2}`)
		if status != 200 || !srv.Now().Equal(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("advance: %d %s; Now %s", status, body, srv.Now())
		}
		status, body = do(t, srv, "POST", "/moto-api/reset", "")
		if status != 200 || body != `{"status": "ok"}`+"\n" {
			t.Errorf("moto reset: %d %s", status, body)
		}
		status, body = do(t, srv, "HEAD", "/healthz", "")
		if status != 200 || body != "" {
			t.Errorf("HEAD /healthz: %d %q", status, body)
		}
		c := rds.NewFromConfig(srv.AWSConfig())
		if got := defaultCA(t, c); got != "rds-ca-rsa2048-g1" {
			t.Errorf("default after reset: %s", got)
		}
	})
}

func do(t *testing.T, srv *rdstest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(body, "Action=") {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestOptions(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := rdstest.NewServer(t, &rdstest.Options{Account: "123456789012", Region: "eu-west-1", Now: start, Frozen: true, Delay: time.Minute, NoListener: true})
	if srv.Account() != "123456789012" || srv.Region() != "eu-west-1" {
		t.Errorf("Account %s, Region %s", srv.Account(), srv.Region())
	}
	cfg := srv.AWSConfig()
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil || creds.AccessKeyID != "123456789012" || cfg.Region != "eu-west-1" || aws.ToString(cfg.BaseEndpoint) != rdstest.NoListenerURL {
		t.Errorf("AWSConfig: region %s, creds %+v %v, endpoint %s", cfg.Region, creds, err, aws.ToString(cfg.BaseEndpoint))
	}
	if !srv.Now().Equal(start) {
		t.Errorf("frozen clock reads %s", srv.Now())
	}
	c := rds.NewFromConfig(cfg)
	// Before 2024-01-25 new instances got rds-ca-2019.
	if got := defaultCA(t, c); got != "rds-ca-2019" {
		t.Errorf("default at %s: %s", start, got)
	}
	// Delay: creating lasts a minute on the clock.
	out, err := c.CreateDBInstance(t.Context(), &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("db"), Engine: aws.String("mysql"), DBInstanceClass: aws.String("db.t3.micro"),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("secret123"), AllocatedStorage: aws.Int32(20),
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.DBInstance.DBInstanceStatus) != "creating" {
		t.Errorf("CreateDBInstance: status %s", aws.ToString(out.DBInstance.DBInstanceStatus))
	}
	if st := aws.ToString(instances(t, c)[0].DBInstanceStatus); st != "creating" {
		t.Errorf("before the delay: %s", st)
	}
	srv.AdvanceClock(t, time.Minute)
	if st := aws.ToString(instances(t, c)[0].DBInstanceStatus); st != "available" {
		t.Errorf("after the delay: %s", st)
	}
	// The default account's view is another scope.
	other := rds.NewFromConfig(srv.Scope(t, rdstest.DefaultAccount, "").AWSConfig())
	if got := instanceIDs(t, other); len(got) != 0 {
		t.Errorf("default account sees %v", got)
	}
}

func TestDefaults(t *testing.T) {
	before := time.Now()
	srv := rdstest.NewServer(t, nil)
	if srv.Account() != rdstest.DefaultAccount || srv.Region() != rdstest.DefaultRegion || !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Errorf("Account %s, Region %s, URL %s", srv.Account(), srv.Region(), srv.URL())
	}
	now := srv.Now()
	if now.Before(before) || now.After(time.Now()) {
		t.Errorf("Now %s, not the real time", now)
	}
	time.Sleep(2 * time.Millisecond)
	if !srv.Now().After(now) {
		t.Errorf("the clock does not move")
	}
	// Delay 0: a created instance is available when next read.
	c := rds.NewFromConfig(srv.AWSConfig())
	_, err := c.CreateDBInstance(t.Context(), &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String("db"), Engine: aws.String("postgres"), DBInstanceClass: aws.String("db.t3.micro"),
		MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("secret123"), AllocatedStorage: aws.Int32(20),
	})
	if err != nil {
		t.Fatal(err)
	}
	if st := aws.ToString(instances(t, c)[0].DBInstanceStatus); st != "available" {
		t.Errorf("status %s", st)
	}
}

func TestHelpers(t *testing.T) {
	srv := rdstest.NewServer(t, &rdstest.Options{Now: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), Frozen: true, NoListener: true})
	c := rds.NewFromConfig(srv.AWSConfig())

	srv.SetOverride(t, "rds-ca-rsa4096-g1")
	if got := defaultCA(t, c); got != "rds-ca-rsa4096-g1" {
		t.Errorf("after SetOverride: %s", got)
	}
	srv.RemoveOverride(t)
	srv.RemoveOverride(t) // none to remove
	if got := defaultCA(t, c); got != "rds-ca-rsa2048-g1" {
		t.Errorf("after RemoveOverride: %s", got)
	}

	overdue := srv.CreateInstance(t, rdstest.InstanceSpec{ID: "Old", Engine: "mysql", EngineVersion: "8.0", CA: "rds-ca-2019"})
	if overdue.ID != "old" || overdue.CA != "rds-ca-2019" || !strings.HasPrefix(overdue.EngineVersion, "8.0.") ||
		overdue.ARN != "arn:aws:rds:us-east-1:000000000000:db:old" || !strings.HasPrefix(overdue.ResourceID, "db-") {
		t.Errorf("CreateInstance: %+v", overdue)
	}
	busy := srv.CreateInstance(t, rdstest.InstanceSpec{ID: "busy", Status: "rebooting", MaintenanceWindow: "sun:05:00-sun:05:30"})
	if busy.Status != "rebooting" || busy.MaintenanceWindow != "sun:05:00-sun:05:30" {
		t.Errorf("CreateInstance rebooting: %+v", busy)
	}
	pending, err := c.DescribePendingMaintenanceActions(t.Context(), &rds.DescribePendingMaintenanceActionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pending.PendingMaintenanceActions) != 1 || aws.ToString(pending.PendingMaintenanceActions[0].ResourceIdentifier) != overdue.ARN {
		t.Errorf("pending actions: %+v", pending.PendingMaintenanceActions)
	}
	srv.AdvanceClock(t, time.Hour)
	for _, in := range instances(t, c) {
		if st := aws.ToString(in.DBInstanceStatus); st != "available" {
			t.Errorf("%s: %s an hour later", aws.ToString(in.DBInstanceIdentifier), st)
		}
	}
	srv.SetClock(t, time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC))
	if got := defaultCA(t, c); got != "rds-ca-2019" {
		t.Errorf("default in January 2024: %s", got)
	}

	// Another scope is another state, and the helpers reach it.
	eu := srv.Scope(t, "222222222222", "eu-west-1")
	euClient := rds.NewFromConfig(eu.AWSConfig())
	eu.SetOverride(t, "rds-ca-ecc384-g1")
	eu.CreateInstance(t, rdstest.InstanceSpec{ID: "eu-db"})
	if got := defaultCA(t, c); got != "rds-ca-2019" {
		t.Errorf("the server's scope default after another scope's override: %s", got)
	}
	if got := defaultCA(t, euClient); got != "rds-ca-ecc384-g1" {
		t.Errorf("scope default: %s", got)
	}
	if got := instanceIDs(t, euClient); !slices.Equal(got, []string{"eu-db"}) {
		t.Errorf("scope instances: %v", got)
	}
	eu.RemoveOverride(t)
	if got := defaultCA(t, euClient); got != "rds-ca-2019" {
		t.Errorf("scope default after RemoveOverride: %s", got)
	}
	same := srv.Scope(t, "", "")
	if same.Account() != srv.Account() || same.Region() != srv.Region() {
		t.Errorf("Scope(\"\", \"\") = %s %s", same.Account(), same.Region())
	}

	thumbprint := aws.ToString(describeCertificates(t, c).Certificates[0].Thumbprint)
	srv.SetOverride(t, "rds-ca-rsa4096-g1")
	eu.SetOverride(t, "rds-ca-rsa4096-g1")
	srv.Reset(t)
	if ids := instanceIDs(t, c); len(ids) != 0 {
		t.Errorf("instances after Reset: %v", ids)
	}
	if ids := instanceIDs(t, euClient); len(ids) != 0 {
		t.Errorf("scope instances after Reset: %v", ids)
	}
	if got := defaultCA(t, euClient); got != "rds-ca-2019" {
		t.Errorf("scope default after Reset: %s", got)
	}
	if got := aws.ToString(describeCertificates(t, c).Certificates[0].Thumbprint); got != thumbprint {
		t.Errorf("thumbprint %s after Reset, %s before", got, thumbprint)
	}
	if !srv.Now().Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Reset moved the clock to %s", srv.Now())
	}
}

func TestClose(t *testing.T) {
	modes(t, func(t *testing.T, noListener bool) {
		srv := rdstest.NewServer(t, &rdstest.Options{NoListener: noListener})
		cfg := srv.AWSConfig()
		cfg.RetryMaxAttempts = 1
		c := rds.NewFromConfig(cfg)
		describeCertificates(t, c)
		srv.Close()
		srv.Close()
		if _, err := c.DescribeCertificates(t.Context(), &rds.DescribeCertificatesInput{}); err == nil {
			t.Fatal("a request after Close succeeded")
		} else if noListener && !errors.Is(err, rdstest.ErrClosed) {
			t.Errorf("after Close: %v, want ErrClosed", err)
		}
	})
}

// TestCloseWaits closes a server without a listener while requests are in
// flight: Close waits for them, later ones fail, none hangs.
func TestCloseWaits(t *testing.T) {
	srv := rdstest.NewServer(t, &rdstest.Options{NoListener: true})
	cfg := srv.AWSConfig()
	cfg.RetryMaxAttempts = 1
	c := rds.NewFromConfig(cfg)
	describeCertificates(t, c)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				_, err := c.DescribeCertificates(context.Background(), &rds.DescribeCertificatesInput{})
				if err != nil {
					if !errors.Is(err, rdstest.ErrClosed) {
						t.Errorf("DescribeCertificates: %v", err)
					}
					return
				}
			}
		})
	}
	time.Sleep(10 * time.Millisecond)
	srv.Close()
	wg.Wait()
}

func TestCancelledContext(t *testing.T) {
	srv := rdstest.NewServer(t, &rdstest.Options{NoListener: true})
	c := rds.NewFromConfig(srv.AWSConfig())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	if _, err := c.DescribeCertificates(ctx, &rds.DescribeCertificatesInput{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a cancelled request took %s", d)
	}
}

// TestParallel runs 100 parallel tests, each with its own server, half of
// them without a listener, each setting its own clock, override and
// instances; none sees another's.
func TestParallel(t *testing.T) {
	cas := []string{"", "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1"}
	engines := []string{"postgres", "mysql", "mariadb"}
	jan2024 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			srv := rdstest.NewServer(t, &rdstest.Options{NoListener: i%2 == 0, Now: jan2024.AddDate(0, 0, i), Frozen: i%3 == 0})
			c := rds.NewFromConfig(srv.AWSConfig())
			want := cas[i%len(cas)]
			if want != "" {
				srv.SetOverride(t, want)
			} else if i < 24 { // before 2024-01-25
				want = "rds-ca-2019"
			} else {
				want = "rds-ca-rsa2048-g1"
			}
			own := fmt.Sprintf("db-%03d", i)
			srv.CreateInstance(t, rdstest.InstanceSpec{ID: "shared", Engine: engines[i%3]})
			srv.CreateInstance(t, rdstest.InstanceSpec{ID: own})
			for round := range 3 {
				if got := defaultCA(t, c); got != want {
					t.Errorf("round %d: default %s, want %s", round, got, want)
				}
				got := instances(t, c)
				if len(got) != 2 || aws.ToString(got[0].DBInstanceIdentifier) != own || aws.ToString(got[1].DBInstanceIdentifier) != "shared" {
					t.Fatalf("round %d: instances %v", round, instanceIDs(t, c))
				}
				if e, ca := aws.ToString(got[1].Engine), aws.ToString(got[1].CACertificateIdentifier); e != engines[i%3] || ca != want {
					t.Errorf("round %d: shared is %s on %s, want %s on %s", round, e, ca, engines[i%3], want)
				}
				if d := srv.Now().Sub(jan2024.AddDate(0, 0, i)); d < 0 || d > time.Minute {
					t.Errorf("round %d: clock %s", round, srv.Now())
				}
				runtime.Gosched()
			}
			if i%5 == 0 {
				srv.Reset(t)
				if ids := instanceIDs(t, c); len(ids) != 0 {
					t.Errorf("instances after Reset: %v", ids)
				}
			}
		})
	}
}

// fakeTB records a t.Fatal instead of failing the test.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	fatal    string
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatal(args ...any) {
	f.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// fatal runs fn with a fakeTB on a goroutine of its own and returns what it
// passed to t.Fatal, "" if nothing.
func fatal(fn func(t testing.TB)) string {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	for _, c := range slices.Backward(f.cleanups) {
		c()
	}
	return f.fatal
}

func TestFatal(t *testing.T) {
	srv := rdstest.NewServer(t, &rdstest.Options{NoListener: true})
	for _, c := range []struct {
		name string
		fn   func(t testing.TB)
		want string
	}{
		{"account", func(t testing.TB) { rdstest.NewServer(t, &rdstest.Options{Account: "AKIAIOSFODNN7EXAMPLE"}) }, "12-digit"},
		{"short account", func(t testing.TB) { rdstest.NewServer(t, &rdstest.Options{Account: "12345"}) }, "12-digit"},
		{"region", func(t testing.TB) { rdstest.NewServer(t, &rdstest.Options{Region: "moon"}) }, "region"},
		{"delay", func(t testing.TB) { rdstest.NewServer(t, &rdstest.Options{Delay: -time.Second}) }, "negative"},
		{"scope", func(t testing.TB) { srv.Scope(t, "1", "") }, "12-digit"},
		{"scope region", func(t testing.TB) { srv.Scope(t, "", "Mars") }, "region"},
		{"unknown CA", func(t testing.TB) { srv.SetOverride(t, "rds-ca-nope") }, "Certificate rds-ca-nope not found"},
		{"empty CA", func(t testing.TB) { srv.SetOverride(t, "") }, "RemoveOverride"},
		{"expired CA", func(t testing.TB) { srv.SetOverride(t, "rds-ca-2019") }, "not found"},
		{"no ID", func(t testing.TB) { srv.CreateInstance(t, rdstest.InstanceSpec{}) }, "ID"},
		{"bad engine", func(t testing.TB) { srv.CreateInstance(t, rdstest.InstanceSpec{ID: "x", Engine: "oracle-ee"}) }, "Invalid DB engine"},
		{"bad status", func(t testing.TB) { srv.CreateInstance(t, rdstest.InstanceSpec{ID: "x", Status: "stopped"}) }, "stopped"},
		{"twice", func(t testing.TB) {
			srv.CreateInstance(t, rdstest.InstanceSpec{ID: "twice"})
			srv.CreateInstance(t, rdstest.InstanceSpec{ID: "twice"})
		}, "already exists"},
		{"zero time", func(t testing.TB) { srv.SetClock(t, time.Time{}) }, "zero"},
	} {
		if got := fatal(c.fn); !strings.Contains(got, c.want) {
			t.Errorf("%s: t.Fatal(%q), want it to say %q", c.name, got, c.want)
		}
	}
	// A server NewServer made with a fake TB is closed by its cleanup.
	var made *rdstest.Server
	if msg := fatal(func(t testing.TB) { made = rdstest.NewServer(t, &rdstest.Options{NoListener: true}) }); msg != "" {
		t.Fatal(msg)
	}
	cfg := made.AWSConfig()
	cfg.RetryMaxAttempts = 1
	if _, err := rds.NewFromConfig(cfg).DescribeCertificates(t.Context(), &rds.DescribeCertificatesInput{}); !errors.Is(err, rdstest.ErrClosed) {
		t.Errorf("after the cleanup: %v", err)
	}
}

// TestSeededStatuses checks how long each seeded status lasts: the
// server's Delay, but at least an hour.
func TestSeededStatuses(t *testing.T) {
	start := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	srv := rdstest.NewServer(t, &rdstest.Options{NoListener: true, Frozen: true, Now: start, Delay: time.Minute})
	c := rds.NewFromConfig(srv.AWSConfig())
	for _, st := range []string{"creating", "modifying", "rebooting", "deleting", "available"} {
		if in := srv.CreateInstance(t, rdstest.InstanceSpec{ID: st, Status: st}); in.Status != st {
			t.Errorf("CreateInstance(%s): status %s", st, in.Status)
		}
	}
	statuses := func() map[string]string {
		m := map[string]string{}
		for _, in := range instances(t, c) {
			m[aws.ToString(in.DBInstanceIdentifier)] = aws.ToString(in.DBInstanceStatus)
		}
		return m
	}
	want := map[string]string{"creating": "creating", "modifying": "modifying", "rebooting": "rebooting", "deleting": "deleting", "available": "available"}
	if got := statuses(); !maps.Equal(got, want) {
		t.Errorf("at once: %v", got)
	}
	srv.AdvanceClock(t, time.Minute)
	if got := statuses(); !maps.Equal(got, want) {
		t.Errorf("after the delay: %v", got)
	}
	srv.AdvanceClock(t, time.Hour)
	want = map[string]string{"creating": "available", "modifying": "available", "rebooting": "available", "available": "available"}
	if got := statuses(); !maps.Equal(got, want) {
		t.Errorf("an hour later: %v", got)
	}
}
