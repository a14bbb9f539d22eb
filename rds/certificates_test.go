package rds_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rdsca/rdsca/ca"
	"github.com/rdsca/rdsca/catalog"
	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/rds"
)

// keys is shared by every test so each (region, id) key is made once.
var keys = &ca.Shared{}

// countingGenerator counts Generate calls per identifier.
type countingGenerator struct {
	gen   rds.Generator
	mu    sync.Mutex
	calls map[string]int
}

func (g *countingGenerator) Generate(s catalog.Spec) (rds.CA, error) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[string]int{}
	}
	g.calls[s.Region+"/"+s.Identifier]++
	g.mu.Unlock()
	return g.gen.Generate(s)
}

type fixture struct {
	svc   *rds.Service
	clock *clock.Fixed
	store rds.Store
}

func newFixture(t *testing.T, now string, cat *catalog.Catalog) *fixture {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, now)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{clock: clock.NewFixed(ts), store: memory.New()}
	f.svc, err = rds.New(rds.Config{Store: f.store, Clock: f.clock, Catalog: cat, Generator: keys})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var east = rds.Scope{Account: "111111111111", Region: "us-east-1"}

func ids(certs []rds.Certificate) string {
	var s []string
	for _, c := range certs {
		s = append(s, c.Identifier)
	}
	return strings.Join(s, ",")
}

func describe(t *testing.T, f *fixture, sc rds.Scope, in rds.DescribeCertificatesInput) *rds.DescribeCertificatesOutput {
	t.Helper()
	out, err := f.svc.DescribeCertificates(context.Background(), sc, in)
	if err != nil {
		t.Fatalf("DescribeCertificates: %v", err)
	}
	return out
}

func wantCode(t *testing.T, err error, target *rds.Error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want code %s", err, target.Code)
	}
}

func TestListingFollowsClock(t *testing.T) {
	cases := []struct {
		now, region, ids, def string
	}{
		{"2026-12-04T00:00:00Z", "us-east-1", "rds-ca-ecc384-g1,rds-ca-rsa2048-g1,rds-ca-rsa4096-g1", "rds-ca-rsa2048-g1"},
		{"2024-01-01T00:00:00Z", "us-east-1", "rds-ca-2019,rds-ca-ecc384-g1,rds-ca-rsa2048-g1,rds-ca-rsa4096-g1", "rds-ca-2019"},
		{"2024-01-24T23:59:59Z", "us-east-1", "rds-ca-2019,rds-ca-ecc384-g1,rds-ca-rsa2048-g1,rds-ca-rsa4096-g1", "rds-ca-2019"},
		{"2024-01-25T00:00:00Z", "us-east-1", "rds-ca-2019,rds-ca-ecc384-g1,rds-ca-rsa2048-g1,rds-ca-rsa4096-g1", "rds-ca-rsa2048-g1"},
		{"2024-08-22T17:08:49Z", "us-east-1", "rds-ca-2019,rds-ca-ecc384-g1,rds-ca-rsa2048-g1,rds-ca-rsa4096-g1", "rds-ca-rsa2048-g1"},
		{"2024-08-22T17:08:50Z", "us-east-1", "rds-ca-ecc384-g1,rds-ca-rsa2048-g1,rds-ca-rsa4096-g1", "rds-ca-rsa2048-g1"},
		{"2024-01-01T00:00:00Z", "af-south-1", "rds-ca-2019-af-south-1,rds-ca-ecc384-g1,rds-ca-rsa2048-g1,rds-ca-rsa4096-g1", "rds-ca-2019-af-south-1"},
		{"2024-01-01T00:00:00Z", "ap-east-2", "rds-ca-ecc384-g1,rds-ca-rsa2048-g1,rds-ca-rsa4096-g1", "rds-ca-rsa2048-g1"},
		{"2026-12-04T00:00:00Z", "ap-south-1", "rds-ca-rsa2048-g1", "rds-ca-rsa2048-g1"},
	}
	for _, c := range cases {
		t.Run(c.region+"@"+c.now, func(t *testing.T) {
			f := newFixture(t, c.now, nil)
			out := describe(t, f, rds.Scope{Account: "111111111111", Region: c.region}, rds.DescribeCertificatesInput{})
			if got := ids(out.Certificates); got != c.ids {
				t.Errorf("listed %s, want %s", got, c.ids)
			}
			if out.DefaultCertificateForNewLaunches != c.def {
				t.Errorf("default %s, want %s", out.DefaultCertificateForNewLaunches, c.def)
			}
			if out.Marker != "" {
				t.Errorf("marker %q on a short list", out.Marker)
			}
		})
	}
}

func TestCertificateFields(t *testing.T) {
	f := newFixture(t, "2026-12-04T00:00:00Z", nil)
	out := describe(t, f, east, rds.DescribeCertificatesInput{})
	for _, c := range out.Certificates {
		sum := sha1.Sum(c.DER)
		if c.Thumbprint != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: thumbprint %s is not the SHA-1 of its DER", c.Identifier, c.Thumbprint)
		}
		if c.Type != "CA" || c.ARN != "arn:aws:rds:us-east-1::cert:"+c.Identifier {
			t.Errorf("%s: type %q arn %q", c.Identifier, c.Type, c.ARN)
		}
		if c.CustomerOverride || c.CustomerOverrideValidTill != nil {
			t.Errorf("%s: override flags set without an override", c.Identifier)
		}
	}
	rsa := out.Certificates[1]
	if rsa.ValidFrom != time.Date(2021, 5, 25, 22, 34, 57, 0, time.UTC) || rsa.ValidTill != time.Date(2061, 5, 25, 23, 34, 57, 0, time.UTC) {
		t.Errorf("rsa2048 window %v..%v", rsa.ValidFrom, rsa.ValidTill)
	}
	gov := describe(t, f, rds.Scope{Account: "1", Region: "us-gov-west-1"}, rds.DescribeCertificatesInput{})
	if !strings.HasPrefix(gov.Certificates[0].ARN, "arn:aws-us-gov:rds:us-gov-west-1::cert:") {
		t.Errorf("gov ARN %s", gov.Certificates[0].ARN)
	}
	if gov.Certificates[0].Thumbprint == out.Certificates[0].Thumbprint {
		t.Error("two regions share a CA certificate")
	}
}

func TestDescribeOneCaseInsensitive(t *testing.T) {
	f := newFixture(t, "2026-12-04T00:00:00Z", nil)
	out := describe(t, f, east, rds.DescribeCertificatesInput{CertificateIdentifier: "RDS-CA-RSA4096-G1"})
	if ids(out.Certificates) != "rds-ca-rsa4096-g1" {
		t.Fatalf("got %s", ids(out.Certificates))
	}
	_, err := f.svc.DescribeCertificates(context.Background(), east, rds.DescribeCertificatesInput{CertificateIdentifier: "rds-ca-nope"})
	wantCode(t, err, rds.ErrCertificateNotFound)
	if err.Error() != "CertificateNotFound: Certificate rds-ca-nope not found" {
		t.Errorf("message %q", err)
	}
	_, err = f.svc.DescribeCertificates(context.Background(), east, rds.DescribeCertificatesInput{CertificateIdentifier: "rds-ca-2019"})
	wantCode(t, err, rds.ErrCertificateNotFound)
}

func TestOverride(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "2026-12-04T00:00:00Z", nil)
	c, err := f.svc.ModifyCertificates(ctx, east, rds.ModifyCertificatesInput{CertificateIdentifier: "RDS-CA-ECC384-G1"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Identifier != "rds-ca-ecc384-g1" || !c.CustomerOverride || c.CustomerOverrideValidTill == nil || !c.CustomerOverrideValidTill.Equal(c.ValidTill) {
		t.Fatalf("modify returned %+v", c)
	}
	out := describe(t, f, east, rds.DescribeCertificatesInput{})
	if out.DefaultCertificateForNewLaunches != "rds-ca-ecc384-g1" {
		t.Errorf("default %s", out.DefaultCertificateForNewLaunches)
	}
	n := 0
	for _, c := range out.Certificates {
		if c.CustomerOverride {
			n++
			if c.Identifier != "rds-ca-ecc384-g1" || c.CustomerOverrideValidTill == nil {
				t.Errorf("overridden %+v", c)
			}
		} else if c.CustomerOverrideValidTill != nil {
			t.Errorf("%s carries CustomerOverrideValidTill", c.Identifier)
		}
	}
	if n != 1 {
		t.Errorf("%d overridden certificates", n)
	}
	// Idempotent.
	if _, err := f.svc.ModifyCertificates(ctx, east, rds.ModifyCertificatesInput{CertificateIdentifier: "rds-ca-ecc384-g1"}); err != nil {
		t.Fatal(err)
	}
	// Scoped to (account, region).
	for _, sc := range []rds.Scope{{Account: "222222222222", Region: "us-east-1"}, {Account: "111111111111", Region: "eu-west-1"}} {
		if d := describe(t, f, sc, rds.DescribeCertificatesInput{}).DefaultCertificateForNewLaunches; d != "rds-ca-rsa2048-g1" {
			t.Errorf("%v sees default %s", sc, d)
		}
	}
	// Removal returns the system default, not overridden.
	yes := true
	c, err = f.svc.ModifyCertificates(ctx, east, rds.ModifyCertificatesInput{RemoveCustomerOverride: &yes})
	if err != nil {
		t.Fatal(err)
	}
	if c.Identifier != "rds-ca-rsa2048-g1" || c.CustomerOverride || c.CustomerOverrideValidTill != nil {
		t.Errorf("remove returned %+v", c)
	}
	if d := describe(t, f, east, rds.DescribeCertificatesInput{}).DefaultCertificateForNewLaunches; d != "rds-ca-rsa2048-g1" {
		t.Errorf("default after removal %s", d)
	}
	// Removing again is fine.
	if _, err := f.svc.ModifyCertificates(ctx, east, rds.ModifyCertificatesInput{RemoveCustomerOverride: &yes}); err != nil {
		t.Fatal(err)
	}
}

func TestModifyValidation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "2026-12-04T00:00:00Z", nil)
	yes, no := true, false
	for _, in := range []rds.ModifyCertificatesInput{
		{},
		{RemoveCustomerOverride: &no},
		{CertificateIdentifier: "rds-ca-rsa2048-g1", RemoveCustomerOverride: &yes},
		{CertificateIdentifier: "rds-ca-rsa2048-g1", RemoveCustomerOverride: &no},
	} {
		_, err := f.svc.ModifyCertificates(ctx, east, in)
		wantCode(t, err, rds.ErrInvalidParameterCombination)
	}
	_, err := f.svc.ModifyCertificates(ctx, east, rds.ModifyCertificatesInput{CertificateIdentifier: "rds-ca-2019"})
	wantCode(t, err, rds.ErrCertificateNotFound)
	if ov, _ := f.store.Override(ctx, east); ov != "" {
		t.Errorf("a failed modify stored override %q", ov)
	}
}

func TestExpiredOverrideFallsBack(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "2024-03-01T00:00:00Z", nil)
	if _, err := f.svc.ModifyCertificates(ctx, east, rds.ModifyCertificatesInput{CertificateIdentifier: "rds-ca-2019"}); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.svc.DefaultCertificate(ctx, east); d != "rds-ca-2019" {
		t.Fatalf("default %s", d)
	}
	f.clock.Set(time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC))
	out := describe(t, f, east, rds.DescribeCertificatesInput{})
	if out.DefaultCertificateForNewLaunches != "rds-ca-rsa2048-g1" {
		t.Errorf("default after expiry %s", out.DefaultCertificateForNewLaunches)
	}
	for _, c := range out.Certificates {
		if c.CustomerOverride {
			t.Errorf("%s still overridden", c.Identifier)
		}
	}
}

func TestMaxRecords(t *testing.T) {
	f := newFixture(t, "2026-12-04T00:00:00Z", nil)
	for _, n := range []int{-1, 0, 19, 101, 1000} {
		_, err := f.svc.DescribeCertificates(context.Background(), east, rds.DescribeCertificatesInput{MaxRecords: &n})
		wantCode(t, err, rds.ErrInvalidParameterValue)
		want := fmt.Sprintf("Invalid value %d for MaxRecords. Must be between 20 and 100.", n)
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q", err)
		}
	}
	for _, n := range []int{20, 100} {
		if _, err := f.svc.DescribeCertificates(context.Background(), east, rds.DescribeCertificatesInput{MaxRecords: &n}); err != nil {
			t.Errorf("MaxRecords %d: %v", n, err)
		}
	}
}

// longCatalog has n ECDSA certificates in one region, for pagination.
func longCatalog(t *testing.T, region string, n int) *catalog.Catalog {
	t.Helper()
	var b strings.Builder
	b.WriteString("region\tidentifier\tsubject_cn\tissuer_cn\trole\tkey\tsignature\tnot_before\tnot_after\taws_thumbprint_sha1\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s\trds-ca-test-%03d\tTest %d\tTest %d\troot\tECDSA-P384\tsha384\t2021-01-01T00:00:00Z\t2100-01-01T00:00:00Z\t-\n", region, i, i, i)
	}
	c, err := catalog.Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPagination(t *testing.T) {
	f := newFixture(t, "2026-12-04T00:00:00Z", longCatalog(t, "us-east-1", 45))
	seen := map[string]bool{}
	var all []string
	marker, pages := "", 0
	twenty := 20
	for {
		out := describe(t, f, east, rds.DescribeCertificatesInput{MaxRecords: &twenty, Marker: marker})
		pages++
		if len(out.Certificates) > 20 {
			t.Fatalf("page of %d", len(out.Certificates))
		}
		for _, c := range out.Certificates {
			if seen[c.Identifier] {
				t.Fatalf("duplicate %s", c.Identifier)
			}
			seen[c.Identifier] = true
			all = append(all, c.Identifier)
		}
		if out.Marker == "" {
			break
		}
		marker = out.Marker
	}
	if pages != 3 || len(all) != 45 {
		t.Fatalf("%d pages, %d certificates", pages, len(all))
	}
	full := describe(t, f, east, rds.DescribeCertificatesInput{})
	if ids(full.Certificates) != strings.Join(all, ",") {
		t.Error("pages do not join to the full list")
	}
	for _, bad := range []string{"!!!", "Zm9v", rds.EncodeMarker("")[:2]} {
		_, err := f.svc.DescribeCertificates(context.Background(), east, rds.DescribeCertificatesInput{Marker: bad})
		wantCode(t, err, rds.ErrInvalidParameterValue)
	}
}

func TestMaterialCreatedOncePerRegion(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	gen := &countingGenerator{gen: keys}
	now := clock.NewFixed(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
	var thumbs [2]string
	for i := range thumbs {
		svc, err := rds.New(rds.Config{Store: store, Clock: now, Generator: gen})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var failures atomic.Int32
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := svc.DescribeCertificates(ctx, east, rds.DescribeCertificatesInput{}); err != nil {
					failures.Add(1)
				}
			}()
		}
		wg.Wait()
		if failures.Load() > 0 {
			t.Fatal("concurrent first requests failed")
		}
		out := describe(t, &fixture{svc: svc}, east, rds.DescribeCertificatesInput{})
		for _, c := range out.Certificates {
			thumbs[i] += c.Thumbprint
		}
	}
	if thumbs[0] != thumbs[1] {
		t.Error("a second service on the same store sees other CAs")
	}
	for k, n := range gen.calls {
		if n != 1 {
			t.Errorf("%s generated %d times", k, n)
		}
	}
	if want := len(catalog.Default().Region("us-east-1")); len(gen.calls) != want {
		t.Errorf("generated %d CAs, want %d (expired ones included)", len(gen.calls), want)
	}
}

func TestNewRequiresDependencies(t *testing.T) {
	if _, err := rds.New(rds.Config{}); err == nil {
		t.Fatal("New accepted an empty config")
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-west-1": "aws", "us-gov-west-1": "aws-us-gov", "cn-north-1": "aws-cn",
		"us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b", "eusc-de-east-1": "aws-eusc",
	} {
		if got := rds.Partition(region); got != want {
			t.Errorf("Partition(%s) = %s, want %s", region, got, want)
		}
	}
}
