package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go/middleware"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkCertificate checks the fields every listed certificate carries.
func checkCertificate(t *testing.T, c types.Certificate, region string, row catalogRow, override bool) {
	t.Helper()
	id := aws.ToString(c.CertificateIdentifier)
	if id != row.id {
		t.Fatalf("CertificateIdentifier %q, want %q", id, row.id)
	}
	if got := aws.ToString(c.CertificateType); got != "CA" {
		t.Fatalf("%s: CertificateType %q, want CA", id, got)
	}
	if tp := aws.ToString(c.Thumbprint); !thumbprintRe.MatchString(tp) {
		t.Fatalf("%s: Thumbprint %q is not 40 lowercase hex", id, tp)
	}
	if c.ValidFrom == nil || !c.ValidFrom.Equal(mustTime(t, row.validFrom)) {
		t.Fatalf("%s: ValidFrom %v, want %s", id, c.ValidFrom, row.validFrom)
	}
	if c.ValidTill == nil || !c.ValidTill.Equal(mustTime(t, row.validTill)) {
		t.Fatalf("%s: ValidTill %v, want %s", id, c.ValidTill, row.validTill)
	}
	if arn, want := aws.ToString(c.CertificateArn), "arn:aws:rds:"+region+"::cert:"+row.id; arn != want {
		t.Fatalf("%s: CertificateArn %q, want %q", id, arn, want)
	}
	if c.CustomerOverride == nil {
		t.Fatalf("%s: CustomerOverride absent", id)
	}
	if *c.CustomerOverride != override {
		t.Fatalf("%s: CustomerOverride %v, want %v", id, *c.CustomerOverride, override)
	}
	switch {
	case !override && c.CustomerOverrideValidTill != nil:
		t.Fatalf("%s: CustomerOverrideValidTill %v on a certificate that is not overridden", id, c.CustomerOverrideValidTill)
	case override && (c.CustomerOverrideValidTill == nil || !c.CustomerOverrideValidTill.Equal(*c.ValidTill)):
		t.Fatalf("%s: CustomerOverrideValidTill %v, want ValidTill %v", id, c.CustomerOverrideValidTill, c.ValidTill)
	}
}

func TestDescribeCertificatesListsUSEast1(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	out := describeAll(t, newClient(t, s.URL, "111111111111", "us-east-1"))
	if got := ids(out.Certificates); !slices.Equal(got, []string{ecc384, rsa2048, rsa4096}) {
		t.Fatalf("identifiers %v", got)
	}
	for i, c := range out.Certificates {
		checkCertificate(t, c, "us-east-1", usEast1[i], false)
	}
	tps := map[string]bool{}
	for _, tp := range thumbprints(out.Certificates) {
		tps[tp] = true
	}
	if len(tps) != 3 {
		t.Fatalf("thumbprints not distinct: %v", thumbprints(out.Certificates))
	}
	if d := aws.ToString(out.DefaultCertificateForNewLaunches); d != rsa2048 {
		t.Fatalf("DefaultCertificateForNewLaunches %q, want %s", d, rsa2048)
	}
	if out.Marker != nil {
		t.Fatalf("Marker %q on the only page", *out.Marker)
	}
}

func TestDescribeCertificatesByIDIsCaseInsensitive(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	c := newClient(t, s.URL, "111111111111", "us-east-1")
	all := thumbprints(describeAll(t, c).Certificates)
	out, err := c.DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{CertificateIdentifier: aws.String("RDS-CA-RSA4096-G1")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Certificates) != 1 {
		t.Fatalf("%d certificates, want 1", len(out.Certificates))
	}
	checkCertificate(t, out.Certificates[0], "us-east-1", usEast1[2], false)
	if tp := aws.ToString(out.Certificates[0].Thumbprint); tp != all[rsa4096] {
		t.Fatalf("thumbprint %s, list says %s", tp, all[rsa4096])
	}
	if d := aws.ToString(out.DefaultCertificateForNewLaunches); d != rsa2048 {
		t.Fatalf("DefaultCertificateForNewLaunches %q", d)
	}
}

func TestCertificateNotFound(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	c := newClient(t, s.URL, "111111111111", "us-east-1")
	for _, tc := range []struct{ name, id string }{
		{"unknown", "rds-ca-nope"},
		{"expired 2019 at 2026", ca2019},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{CertificateIdentifier: aws.String(tc.id)})
			var nf *types.CertificateNotFoundFault
			if !errors.As(err, &nf) {
				t.Fatalf("DescribeCertificates %s: %v (%T), want *types.CertificateNotFoundFault", tc.id, err, err)
			}
			if msg, want := nf.ErrorMessage(), "Certificate "+tc.id+" not found"; msg != want {
				t.Fatalf("message %q, want %q", msg, want)
			}
			wantAPIError(t, err, "CertificateNotFound", http.StatusNotFound)

			_, err = c.ModifyCertificates(ctx(t), &rdssdk.ModifyCertificatesInput{CertificateIdentifier: aws.String(tc.id)})
			if !errors.As(err, &nf) {
				t.Fatalf("ModifyCertificates %s: %v, want *types.CertificateNotFoundFault", tc.id, err)
			}
			wantAPIError(t, err, "CertificateNotFound", http.StatusNotFound)
		})
	}
	// A failed ModifyCertificates leaves no override behind.
	wantOverride(t, describeAll(t, c), "", rsa2048)
}

func TestMaxRecordsBounds(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	c := newClient(t, s.URL, "111111111111", "us-east-1")
	for _, n := range []int32{19, 101, 0, -1} {
		_, err := c.DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{MaxRecords: aws.Int32(n)})
		ae := wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)
		if n == 19 || n == 101 {
			if msg, want := ae.ErrorMessage(), "Invalid value "+strconv.Itoa(int(n))+" for MaxRecords. Must be between 20 and 100."; msg != want {
				t.Fatalf("message %q, want %q", msg, want)
			}
		}
	}
	for _, n := range []int32{20, 100} {
		out, err := c.DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{MaxRecords: aws.Int32(n)})
		if err != nil {
			t.Fatalf("MaxRecords %d: %v", n, err)
		}
		if len(out.Certificates) != 3 {
			t.Fatalf("MaxRecords %d: %d certificates", n, len(out.Certificates))
		}
	}
}

func TestPaginatorOver45Certificates(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{catalog: syntheticCatalog(t, "us-east-1", "rds-ca-page", 45)})
	c := newClient(t, s.URL, "111111111111", "us-east-1")
	full := describeAll(t, c)
	if len(full.Certificates) != 45 || full.Marker != nil {
		t.Fatalf("single call: %d certificates, marker %v", len(full.Certificates), full.Marker)
	}
	p := rdssdk.NewDescribeCertificatesPaginator(c, &rdssdk.DescribeCertificatesInput{},
		func(o *rdssdk.DescribeCertificatesPaginatorOptions) { o.Limit = 20 })
	var joined []types.Certificate
	var sizes []int
	seen := map[string]bool{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("page %d: %v", len(sizes)+1, err)
		}
		sizes = append(sizes, len(page.Certificates))
		last := !p.HasMorePages()
		if (page.Marker == nil) != last {
			t.Fatalf("page %d: marker %v, last page %v", len(sizes), page.Marker, last)
		}
		for _, cert := range page.Certificates {
			id := aws.ToString(cert.CertificateIdentifier)
			if seen[id] {
				t.Fatalf("duplicate %s on page %d", id, len(sizes))
			}
			seen[id] = true
		}
		joined = append(joined, page.Certificates...)
		if len(sizes) > 10 {
			t.Fatal("paginator does not stop")
		}
	}
	if !slices.Equal(sizes, []int{20, 20, 5}) {
		t.Fatalf("page sizes %v, want [20 20 5]", sizes)
	}
	if !slices.Equal(ids(joined), ids(full.Certificates)) {
		t.Fatalf("joined pages %v\n!= full list %v", ids(joined), ids(full.Certificates))
	}
	if !slices.Equal(thumbprintList(joined), thumbprintList(full.Certificates)) {
		t.Fatal("joined pages' thumbprints differ from the full list's")
	}
	if !slices.IsSorted(ids(joined)) {
		t.Fatalf("not sorted: %v", ids(joined))
	}
}

func TestPaginatorExactMultiple(t *testing.T) {
	t.Parallel()
	// Same identifiers and windows as the 45-certificate catalog's first 40.
	s := startServer(t, serverOpts{catalog: syntheticCatalog(t, "us-east-1", "rds-ca-page", 40)})
	c := newClient(t, s.URL, "111111111111", "us-east-1")
	out, err := c.DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{MaxRecords: aws.Int32(20)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Certificates) != 20 || out.Marker == nil {
		t.Fatalf("page 1: %d certificates, marker %v", len(out.Certificates), out.Marker)
	}
	out, err = c.DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{MaxRecords: aws.Int32(20), Marker: out.Marker})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Certificates) != 20 || out.Marker != nil {
		t.Fatalf("page 2: %d certificates, marker %v; want 20 and no marker", len(out.Certificates), aws.ToString(out.Marker))
	}
	if got := aws.ToString(out.Certificates[19].CertificateIdentifier); got != "rds-ca-page-039" {
		t.Fatalf("last certificate %s", got)
	}
	// A marker from nowhere is rejected.
	_, err = c.DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{Marker: aws.String("bm90LWEtbWFya2Vy")})
	wantAPIError(t, err, "InvalidParameterValue", http.StatusBadRequest)
}

func thumbprintList(certs []types.Certificate) []string {
	out := make([]string, len(certs))
	for i, c := range certs {
		out[i] = aws.ToString(c.Thumbprint)
	}
	return out
}

func TestModifyCertificatesSetAndRemove(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	c := newClient(t, s.URL, "111111111111", "us-east-1")

	got := modify(t, c, "RDS-CA-ECC384-G1")
	checkCertificate(t, *got, "us-east-1", usEast1[0], true)
	out := describeAll(t, c)
	wantOverride(t, out, ecc384, ecc384)
	for i, cert := range out.Certificates {
		checkCertificate(t, cert, "us-east-1", usEast1[i], usEast1[i].id == ecc384)
	}
	if aws.ToString(got.Thumbprint) != thumbprints(out.Certificates)[ecc384] {
		t.Fatal("ModifyCertificates thumbprint differs from DescribeCertificates'")
	}

	// Idempotent.
	again := modify(t, c, ecc384)
	checkCertificate(t, *again, "us-east-1", usEast1[0], true)
	wantOverride(t, describeAll(t, c), ecc384, ecc384)

	// Another id replaces the override.
	checkCertificate(t, *modify(t, c, rsa4096), "us-east-1", usEast1[2], true)
	wantOverride(t, describeAll(t, c), rsa4096, rsa4096)

	// Both, neither, and RemoveCustomerOverride=false alone are rejected and change nothing.
	for name, in := range map[string]*rdssdk.ModifyCertificatesInput{
		"both":         {CertificateIdentifier: aws.String(rsa2048), RemoveCustomerOverride: aws.Bool(true)},
		"neither":      {},
		"remove false": {RemoveCustomerOverride: aws.Bool(false)},
	} {
		_, err := c.ModifyCertificates(ctx(t), in)
		ae := wantAPIError(t, err, "InvalidParameterCombination", http.StatusBadRequest)
		if ae.ErrorMessage() == "" {
			t.Fatalf("%s: empty message", name)
		}
	}
	wantOverride(t, describeAll(t, c), rsa4096, rsa4096)

	removed := removeOverride(t, c)
	checkCertificate(t, *removed, "us-east-1", usEast1[1], false)
	wantOverride(t, describeAll(t, c), "", rsa2048)

	// Removing with no override set succeeds too.
	checkCertificate(t, *removeOverride(t, c), "us-east-1", usEast1[1], false)
	wantOverride(t, describeAll(t, c), "", rsa2048)
}

func TestOverrideIsScopedToAccountAndRegion(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	a1East := newClient(t, s.URL, "111111111111", "us-east-1")
	a2East := newClient(t, s.URL, "222222222222", "us-east-1")
	a1West := newClient(t, s.URL, "111111111111", "eu-west-1")

	modify(t, a1East, rsa4096)
	east := describeAll(t, a1East)
	wantOverride(t, east, rsa4096, rsa4096)
	wantOverride(t, describeAll(t, a2East), "", rsa2048)
	west := describeAll(t, a1West)
	wantOverride(t, west, "", rsa2048)

	// eu-west-1 has its own CAs: own dates, own ARNs, own thumbprints.
	euWest1 := []catalogRow{
		{ecc384, "2021-05-20T16:58:07Z", "2121-05-20T17:58:07Z"},
		{rsa2048, "2021-05-20T16:49:12Z", "2061-05-20T17:49:12Z"},
		{rsa4096, "2021-05-20T16:53:54Z", "2121-05-20T17:53:54Z"},
	}
	if len(west.Certificates) != 3 {
		t.Fatalf("eu-west-1: %v", ids(west.Certificates))
	}
	for i, c := range west.Certificates {
		checkCertificate(t, c, "eu-west-1", euWest1[i], false)
	}
	te, tw := thumbprints(east.Certificates), thumbprints(west.Certificates)
	for id := range te {
		if te[id] == tw[id] {
			t.Fatalf("%s has the same thumbprint in us-east-1 and eu-west-1", id)
		}
	}

	// The other scopes' overrides do not leak back either.
	modify(t, a1West, ecc384)
	modify(t, a2East, rsa2048)
	wantOverride(t, describeAll(t, a1East), rsa4096, rsa4096)
	wantOverride(t, describeAll(t, a1West), ecc384, ecc384)
	wantOverride(t, describeAll(t, a2East), rsa2048, rsa2048)
	removeOverride(t, a1East)
	wantOverride(t, describeAll(t, a1East), "", rsa2048)
	wantOverride(t, describeAll(t, a1West), ecc384, ecc384)
	wantOverride(t, describeAll(t, a2East), rsa2048, rsa2048)
}

func TestUnsignedAndNonAccountKeysShareDefaultAccount(t *testing.T) {
	t.Parallel()
	// The server's default region is eu-west-1, so unsigned requests land there.
	s := startServer(t, serverOpts{region: "eu-west-1"})
	example := newClient(t, s.URL, exampleKey, "eu-west-1")
	zero := newClient(t, s.URL, defaultAccount, "eu-west-1")
	exampleEast := newClient(t, s.URL, exampleKey, "us-east-1")
	other := newClient(t, s.URL, "111111111111", "eu-west-1")

	m := wantModify(t, postForm(t, s.URL, form("Action", "ModifyCertificates", "Version", "2014-10-31", "CertificateIdentifier", ecc384)))
	if arn := m.Result.Certificate.CertificateArn; arn != "arn:aws:rds:eu-west-1::cert:"+ecc384 {
		t.Fatalf("unsigned request answered for %s, want eu-west-1", arn)
	}
	wantOverride(t, describeAll(t, example), ecc384, ecc384)
	wantOverride(t, describeAll(t, zero), ecc384, ecc384)
	wantOverride(t, describeAll(t, exampleEast), "", rsa2048)
	wantOverride(t, describeAll(t, other), "", rsa2048)

	// And the other way: a non-numeric key's override is what unsigned callers see.
	modify(t, example, rsa4096)
	d := wantDescribe(t, do(t, newRequest(t, http.MethodGet, s.URL+"/?Action=DescribeCertificates&Version=2014-10-31", "")))
	if d.Result.DefaultCertificateForNewLaunches != rsa4096 {
		t.Fatalf("unsigned sees default %q, want %s", d.Result.DefaultCertificateForNewLaunches, rsa4096)
	}
	wt := thumbprints(describeAll(t, example).Certificates)
	for _, c := range d.Result.Certificates {
		if wt[c.CertificateIdentifier] != c.Thumbprint {
			t.Fatalf("unsigned %s thumbprint %s, eu-west-1 has %s", c.CertificateIdentifier, c.Thumbprint, wt[c.CertificateIdentifier])
		}
	}
	// Other non-account keys (wrong length, letters) are the default account too.
	for _, key := range []string{"12345678901", "1234567890123", "12345678901a", "ASIAEXAMPLE"} {
		wantOverride(t, describeAll(t, newClient(t, s.URL, key, "eu-west-1")), rsa4096, rsa4096)
	}
}

func TestRequestIDHeaderMatchesSDKMetadata(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	c := newClient(t, s.URL, "111111111111", "us-east-1")

	var h http.Header
	out, err := c.DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{}, captureHeaders(&h))
	if err != nil {
		t.Fatal(err)
	}
	wantRequestID(t, h, out.ResultMetadata)

	var h2 http.Header
	mout, err := c.ModifyCertificates(ctx(t), &rdssdk.ModifyCertificatesInput{CertificateIdentifier: aws.String(rsa2048)}, captureHeaders(&h2))
	if err != nil {
		t.Fatal(err)
	}
	wantRequestID(t, h2, mout.ResultMetadata)
	if h.Get("x-amzn-RequestId") == h2.Get("x-amzn-RequestId") {
		t.Fatal("two requests share a request id")
	}

	var h3 http.Header
	_, err = c.DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{CertificateIdentifier: aws.String("rds-ca-nope")}, captureHeaders(&h3))
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v has no response", err)
	}
	if hid := h3.Get("x-amzn-RequestId"); hid == "" || re.ServiceRequestID() != hid {
		t.Fatalf("error request id %q, header %q", re.ServiceRequestID(), hid)
	}
}

// wantRequestID checks the header request id is a UUID and is what the SDK
// reports as the request id.
func wantRequestID(t *testing.T, h http.Header, md middleware.Metadata) {
	t.Helper()
	hid := h.Get("x-amzn-RequestId")
	if !uuidRe.MatchString(hid) {
		t.Fatalf("x-amzn-RequestId %q is not a UUID", hid)
	}
	sid, ok := awsmiddleware.GetRequestIDMetadata(md)
	if !ok || sid != hid {
		t.Fatalf("SDK request id %q (%v), header %q", sid, ok, hid)
	}
}

func TestClockBefore2019Expiry(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{now: jan2024})
	c := newClient(t, s.URL, "111111111111", "us-east-1")

	out := describeAll(t, c)
	if got := ids(out.Certificates); !slices.Equal(got, []string{ca2019, ecc384, rsa2048, rsa4096}) {
		t.Fatalf("identifiers at 2024-01-01: %v", got)
	}
	checkCertificate(t, out.Certificates[0], "us-east-1", usEast1CA2019, false)
	wantOverride(t, out, "", ca2019)
	// Removing an override returns the system default of the moment.
	checkCertificate(t, *removeOverride(t, c), "us-east-1", usEast1CA2019, false)

	// An override on rds-ca-2019 vanishes when the certificate expires.
	checkCertificate(t, *modify(t, c, ca2019), "us-east-1", usEast1CA2019, true)
	wantOverride(t, describeAll(t, c), ca2019, ca2019)
	s.Clock.Set(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC))
	wantOverride(t, describeAll(t, c), ca2019, ca2019)
	removeOverride(t, c)
	wantOverride(t, describeAll(t, c), "", rsa2048) // system default moved on 2024-01-25
	modify(t, c, ca2019)
	s.Clock.Set(mustTime(t, usEast1CA2019.validTill))
	out = describeAll(t, c)
	if got := ids(out.Certificates); !slices.Equal(got, []string{ecc384, rsa2048, rsa4096}) {
		t.Fatalf("identifiers at rds-ca-2019's ValidTill: %v", got)
	}
	wantOverride(t, out, "", rsa2048)
}

func TestPartitionsAndRSA2048OnlyRegions(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	for _, tc := range []struct {
		region, partition string
		ids               []string
	}{
		{"us-gov-west-1", "aws-us-gov", []string{ecc384, rsa2048, rsa4096}},
		{"cn-north-1", "aws-cn", []string{ecc384, rsa2048, rsa4096}},
		{"us-iso-east-1", "aws-iso", []string{ecc384, rsa2048, rsa4096}}, // not in the catalog: us-east-1's windows
		{"ap-south-1", "aws", []string{rsa2048}},                         // the User Guide lists rsa2048 only
	} {
		t.Run(tc.region, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, s.URL, "111111111111", tc.region)
			out := describeAll(t, c)
			if got := ids(out.Certificates); !slices.Equal(got, tc.ids) {
				t.Fatalf("identifiers %v, want %v", got, tc.ids)
			}
			for _, cert := range out.Certificates {
				id := aws.ToString(cert.CertificateIdentifier)
				if arn, want := aws.ToString(cert.CertificateArn), "arn:"+tc.partition+":rds:"+tc.region+"::cert:"+id; arn != want {
					t.Fatalf("CertificateArn %q, want %q", arn, want)
				}
			}
			if tc.region == "us-iso-east-1" {
				for i, cert := range out.Certificates {
					if !cert.ValidFrom.Equal(mustTime(t, usEast1[i].validFrom)) || !cert.ValidTill.Equal(mustTime(t, usEast1[i].validTill)) {
						t.Fatalf("%s: %v..%v, want us-east-1's window", usEast1[i].id, cert.ValidFrom, cert.ValidTill)
					}
				}
			}
			wantOverride(t, out, "", rsa2048)
			if len(tc.ids) == 1 {
				_, err := c.ModifyCertificates(ctx(t), &rdssdk.ModifyCertificatesInput{CertificateIdentifier: aws.String(rsa4096)})
				wantAPIError(t, err, "CertificateNotFound", http.StatusNotFound)
			}
			got := modify(t, c, rsa2048)
			if aws.ToString(got.CertificateArn) != "arn:"+tc.partition+":rds:"+tc.region+"::cert:"+rsa2048 {
				t.Fatalf("ModifyCertificates ARN %q", aws.ToString(got.CertificateArn))
			}
		})
	}
}

// TestConcurrentFirstUseOfARegion races many callers onto a region no one
// has asked for yet: they all see one set of CAs.
func TestConcurrentFirstUseOfARegion(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOpts{})
	const n = 16
	results := make(chan string, n)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			c := newClient(t, s.URL, fmt.Sprintf("%012d", 100000000000+i), "eu-west-2")
			out, err := c.DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{})
			if err != nil {
				errs <- err
				return
			}
			if i%2 == 0 {
				if _, err := c.ModifyCertificates(ctx(t), &rdssdk.ModifyCertificatesInput{CertificateIdentifier: aws.String(ecc384)}); err != nil {
					errs <- err
					return
				}
			}
			results <- fmt.Sprint(thumbprints(out.Certificates))
		}()
	}
	var first string
	for i := 0; i < n; i++ {
		select {
		case err := <-errs:
			t.Fatal(err)
		case r := <-results:
			if first == "" {
				first = r
			} else if r != first {
				t.Fatalf("callers saw different CAs:\n%s\n%s", first, r)
			}
		}
	}
	for i := 0; i < n; i++ {
		want := ""
		if i%2 == 0 {
			want = ecc384
		}
		def := want
		if def == "" {
			def = rsa2048
		}
		wantOverride(t, describeAll(t, newClient(t, s.URL, fmt.Sprintf("%012d", 100000000000+i), "eu-west-2")), want, def)
	}
}
