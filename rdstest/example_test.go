package rdstest_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsca/rdsca/rdstest"
)

// A test gets its own server, and an SDK client for it.
func ExampleNewServer() {
	// In a test, t is the *testing.T (or *testing.B, any testing.TB).
	srv := rdstest.NewServer(t, nil) // closed by t.Cleanup
	client := rds.NewFromConfig(srv.AWSConfig())

	out, err := client.DescribeCertificates(context.Background(), &rds.DescribeCertificatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range out.Certificates {
		fmt.Println(aws.ToString(c.CertificateIdentifier))
	}
	fmt.Println("default:", aws.ToString(out.DefaultCertificateForNewLaunches))
	// Output:
	// rds-ca-ecc384-g1
	// rds-ca-rsa2048-g1
	// rds-ca-rsa4096-g1
	// default: rds-ca-rsa2048-g1
}

// Options set the account and region the SDK config signs as, the clock
// and the transition delay, and whether the server listens at all.
func ExampleNewServer_options() {
	srv := rdstest.NewServer(t, &rdstest.Options{
		Account:    "123456789012",
		Region:     "eu-west-1",
		Now:        time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		Frozen:     true,            // the clock stands still until moved
		Delay:      3 * time.Second, // as the rdsca binary's default
		NoListener: true,            // no socket: requests run in-process
	})
	client := rds.NewFromConfig(srv.AWSConfig())

	out, err := client.DescribeCertificates(context.Background(), &rds.DescribeCertificatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(srv.Account(), srv.Region(), srv.Now().Format(time.DateOnly))
	fmt.Println("default:", aws.ToString(out.DefaultCertificateForNewLaunches))
	// Output:
	// 123456789012 eu-west-1 2024-01-01
	// default: rds-ca-2019
}

func ExampleServer_AWSConfig() {
	srv := rdstest.NewServer(t, &rdstest.Options{Account: "111111111111"})
	cfg := srv.AWSConfig()

	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(cfg.Region, creds.AccessKeyID, aws.ToString(cfg.BaseEndpoint) == srv.URL())

	// Any client of aws-sdk-go-v2 takes it; per-client options still apply.
	client := rds.NewFromConfig(cfg, func(o *rds.Options) { o.RetryMaxAttempts = 1 })
	_ = client
	// Output:
	// us-east-1 111111111111 true
}

// URL is the address to give code that takes an endpoint rather than an
// aws.Config, or another process.
func ExampleServer_URL() {
	srv := rdstest.NewServer(t, nil)
	fmt.Println(strings.HasPrefix(srv.URL(), "http://127.0.0.1:"))

	quiet := rdstest.NewServer(t, &rdstest.Options{NoListener: true})
	fmt.Println(quiet.URL())
	// Output:
	// true
	// http://rdstest.invalid
}

// Client reaches the server outside the SDK, listener or not: the admin
// endpoints, or raw Query API requests (unsigned, so in the server's
// default account and region).
func ExampleServer_Client() {
	srv := rdstest.NewServer(t, &rdstest.Options{NoListener: true, Now: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), Frozen: true})

	resp, err := srv.Client().Get(srv.URL() + "/_rdsca/clock")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output:
	// 200 {"now":"2026-12-04T00:00:00Z"}
}

// Close ends the server before the test does; NewServer has registered it
// with t.Cleanup already, and a second Close does nothing.
func ExampleServer_Close() {
	srv := rdstest.NewServer(t, &rdstest.Options{NoListener: true})
	client := rds.NewFromConfig(srv.AWSConfig(), func(o *rds.Options) { o.RetryMaxAttempts = 1 })
	srv.Close()

	_, err := client.DescribeCertificates(context.Background(), &rds.DescribeCertificatesInput{})
	fmt.Println(err != nil)
	// Output:
	// true
}

func ExampleServer_SetOverride() {
	srv := rdstest.NewServer(t, nil)
	client := rds.NewFromConfig(srv.AWSConfig())

	srv.SetOverride(t, "rds-ca-ecc384-g1")

	out, err := client.DescribeCertificates(context.Background(), &rds.DescribeCertificatesInput{CertificateIdentifier: aws.String("rds-ca-ecc384-g1")})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("default:", aws.ToString(out.DefaultCertificateForNewLaunches))
	fmt.Println("override:", aws.ToBool(out.Certificates[0].CustomerOverride))
	// Output:
	// default: rds-ca-ecc384-g1
	// override: true
}

func ExampleServer_RemoveOverride() {
	srv := rdstest.NewServer(t, nil)
	client := rds.NewFromConfig(srv.AWSConfig())
	srv.SetOverride(t, "rds-ca-rsa4096-g1")

	srv.RemoveOverride(t)

	out, err := client.DescribeCertificates(context.Background(), &rds.DescribeCertificatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("default:", aws.ToString(out.DefaultCertificateForNewLaunches))
	// Output:
	// default: rds-ca-rsa2048-g1
}

// CreateInstance seeds instances in a given state, here one still on the
// expired rds-ca-2019, whose rotation is overdue.
func ExampleServer_CreateInstance() {
	srv := rdstest.NewServer(t, &rdstest.Options{Now: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), Frozen: true})
	client := rds.NewFromConfig(srv.AWSConfig())

	old := srv.CreateInstance(t, rdstest.InstanceSpec{ID: "legacy", Engine: "mysql", EngineVersion: "8.0", CA: "rds-ca-2019"})
	srv.CreateInstance(t, rdstest.InstanceSpec{ID: "busy", Status: "rebooting"})
	fmt.Println(old.ARN, old.CA)

	dbs, err := client.DescribeDBInstances(context.Background(), &rds.DescribeDBInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range dbs.DBInstances {
		fmt.Println(aws.ToString(db.DBInstanceIdentifier), aws.ToString(db.DBInstanceStatus), aws.ToString(db.CACertificateIdentifier))
	}
	pending, err := client.DescribePendingMaintenanceActions(context.Background(), &rds.DescribePendingMaintenanceActionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pending.PendingMaintenanceActions {
		fmt.Println(aws.ToString(p.ResourceIdentifier), aws.ToString(p.PendingMaintenanceActionDetails[0].Action))
	}
	// Output:
	// arn:aws:rds:us-east-1:000000000000:db:legacy rds-ca-2019
	// busy rebooting rds-ca-rsa2048-g1
	// legacy available rds-ca-2019
	// arn:aws:rds:us-east-1:000000000000:db:legacy ca-certificate-rotation
}

// Now reads the server's clock, which moves with real time unless frozen.
func ExampleServer_Now() {
	srv := rdstest.NewServer(t, &rdstest.Options{Now: time.Date(2024, 8, 20, 0, 0, 0, 0, time.UTC)})
	fmt.Println(srv.Now().Format(time.DateOnly))
	// Output:
	// 2024-08-20
}

// SetClock puts the clock anywhere; here past the expiry of rds-ca-2019,
// which then leaves DescribeCertificates.
func ExampleServer_SetClock() {
	srv := rdstest.NewServer(t, &rdstest.Options{Now: time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC), Frozen: true})
	client := rds.NewFromConfig(srv.AWSConfig())
	count := func() int {
		out, err := client.DescribeCertificates(context.Background(), &rds.DescribeCertificatesInput{})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Certificates)
	}
	fmt.Println(srv.Now().Format(time.DateOnly), count())

	srv.SetClock(t, time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC))
	fmt.Println(srv.Now().Format(time.DateOnly), count())
	// Output:
	// 2024-08-01 4
	// 2024-09-01 3
}

// AdvanceClock moves time on: a CA change waiting for the maintenance
// window is applied once the window has passed.
func ExampleServer_AdvanceClock() {
	srv := rdstest.NewServer(t, &rdstest.Options{Now: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), Frozen: true})
	client := rds.NewFromConfig(srv.AWSConfig())
	srv.CreateInstance(t, rdstest.InstanceSpec{ID: "app", MaintenanceWindow: "sun:05:00-sun:05:30"})
	ctx := context.Background()

	_, err := client.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{
		DBInstanceIdentifier:    aws.String("app"),
		CACertificateIdentifier: aws.String("rds-ca-ecc384-g1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	ca := func() string {
		out, err := client.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("app")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.DBInstances[0].CACertificateIdentifier)
	}
	fmt.Println(ca())

	srv.AdvanceClock(t, 8*24*time.Hour)
	fmt.Println(ca())
	// Output:
	// rds-ca-rsa2048-g1
	// rds-ca-ecc384-g1
}

// Reset empties every account and region, for tests that share a server;
// thumbprints and the clock stay.
func ExampleServer_Reset() {
	srv := rdstest.NewServer(t, nil)
	client := rds.NewFromConfig(srv.AWSConfig())
	srv.SetOverride(t, "rds-ca-ecc384-g1")
	srv.CreateInstance(t, rdstest.InstanceSpec{ID: "app"})

	srv.Reset(t)

	certs, err := client.DescribeCertificates(context.Background(), &rds.DescribeCertificatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	dbs, err := client.DescribeDBInstances(context.Background(), &rds.DescribeDBInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(aws.ToString(certs.DefaultCertificateForNewLaunches), len(dbs.DBInstances))
	// Output:
	// rds-ca-rsa2048-g1 0
}

// Scope reaches other accounts and regions: each has its own override and
// instances, and its own SDK config.
func ExampleServer_Scope() {
	srv := rdstest.NewServer(t, nil)
	other := srv.Scope(t, "222222222222", "eu-west-1")

	other.SetOverride(t, "rds-ca-rsa4096-g1")
	db := other.CreateInstance(t, rdstest.InstanceSpec{ID: "eu-app"})
	fmt.Println(other.Account(), other.Region(), db.ARN, db.CA)

	for _, cfg := range []aws.Config{srv.AWSConfig(), other.AWSConfig()} {
		out, err := rds.NewFromConfig(cfg).DescribeCertificates(context.Background(), &rds.DescribeCertificatesInput{})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println(cfg.Region, aws.ToString(out.DefaultCertificateForNewLaunches))
	}

	other.RemoveOverride(t)
	// Output:
	// 222222222222 eu-west-1 arn:aws:rds:eu-west-1:222222222222:db:eu-app rds-ca-rsa4096-g1
	// us-east-1 rds-ca-rsa2048-g1
	// eu-west-1 rds-ca-rsa4096-g1
}

// A scope's config signs as its account for its region: a client made from
// it sees that state only.
func ExampleScope_AWSConfig() {
	srv := rdstest.NewServer(t, nil)
	srv.CreateInstance(t, rdstest.InstanceSpec{ID: "mine"})
	neighbour := srv.Scope(t, "222222222222", "")

	out, err := rds.NewFromConfig(neighbour.AWSConfig()).DescribeDBInstances(context.Background(), &rds.DescribeDBInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(neighbour.Account(), neighbour.Region(), len(out.DBInstances))
	// Output:
	// 222222222222 us-east-1 0
}
