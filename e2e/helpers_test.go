// Package e2e drives rdsca over real TCP: in-process servers through
// aws-sdk-go-v2 and raw net/http, and the rdsca binary as a subprocess.
package e2e

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/rdsca/rdsca/ca"
	"github.com/rdsca/rdsca/catalog"
	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/server"

	"github.com/rdsca/rdsca/internal/testenv"
)

// keys is shared by every in-process server, so each (region, id) key is
// generated once per test binary. Synthetic catalogs must therefore use
// identifiers of their own: the cache ignores everything but (region, id).
var keys = &ca.Shared{}

// Well-known instants and identifiers.
var (
	dec2026 = time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	jan2024 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
)

const (
	ecc384  = "rds-ca-ecc384-g1"
	rsa2048 = "rds-ca-rsa2048-g1"
	rsa4096 = "rds-ca-rsa4096-g1"
	ca2019  = "rds-ca-2019"

	defaultAccount = "000000000000"
	exampleKey     = "AKIAIOSFODNN7EXAMPLE"
)

// catalogRow is what the us-east-1 catalog says about one listed certificate.
type catalogRow struct {
	id        string
	validFrom string
	validTill string
}

// usEast1 are the us-east-1 rows of catalog.tsv listed at 2026-12-04, sorted.
var usEast1 = []catalogRow{
	{ecc384, "2021-05-25T22:41:55Z", "2121-05-25T23:41:55Z"},
	{rsa2048, "2021-05-25T22:34:57Z", "2061-05-25T23:34:57Z"},
	{rsa4096, "2021-05-25T22:38:35Z", "2121-05-25T23:38:35Z"},
}

// usEast1CA2019 is the us-east-1 rds-ca-2019 intermediate row.
var usEast1CA2019 = catalogRow{ca2019, "2019-09-19T18:16:53Z", "2024-08-22T17:08:50Z"}

// serverOpts configures an in-process server.
type serverOpts struct {
	now     time.Time        // zero: dec2026
	region  string           // default region of unsigned requests; "" is us-east-1
	catalog *catalog.Catalog // nil: embedded
}

// testServer is an in-process rdsca on 127.0.0.1.
type testServer struct {
	URL   string
	Clock *clock.Fixed
}

// startServer runs server.New with a memory store on an httptest listener.
func startServer(t *testing.T, o serverOpts) *testServer {
	t.Helper()
	now := o.now
	if now.IsZero() {
		now = dec2026
	}
	clk := clock.NewFixed(now)
	store := memory.New()
	srv, err := server.New(server.Config{Store: store, Clock: clk, Region: o.region, Catalog: o.catalog, Generator: keys})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		_ = store.Close()
	})
	return &testServer{URL: hs.URL, Clock: clk}
}

// newClient returns an SDK client signing with accessKey for region, with
// retries off so every error surfaces.
func newClient(t *testing.T, baseURL, accessKey, region string) *rdssdk.Client {
	t.Helper()
	return rdssdk.NewFromConfig(aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: "secret", Source: "e2e"}, nil
		}),
		BaseEndpoint:     aws.String(baseURL),
		HTTPClient:       testenv.OwnBodyClient{C: awshttp.NewBuildableClient()},
		RetryMaxAttempts: 1,
		Retryer:          func() aws.Retryer { return aws.NopRetryer{} },
	})
}

// captureHeaders is a per-call option that stores the raw HTTP response
// headers of the call in *dst.
func captureHeaders(dst *http.Header) func(*rdssdk.Options) {
	return func(o *rdssdk.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("e2eCaptureHeaders",
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleDeserialize(ctx, in)
					if r, ok := out.RawResponse.(*smithyhttp.Response); ok {
						*dst = r.Header.Clone()
					}
					return out, md, err
				}), middleware.After)
		})
	}
}

// ctx returns a context bounded well below the test timeout.
func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// describeAll lists every certificate in one call.
func describeAll(t *testing.T, c *rdssdk.Client) *rdssdk.DescribeCertificatesOutput {
	t.Helper()
	out, err := c.DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{})
	if err != nil {
		t.Fatalf("DescribeCertificates: %v", err)
	}
	return out
}

// modify sets the caller's override to id.
func modify(t *testing.T, c *rdssdk.Client, id string) *types.Certificate {
	t.Helper()
	out, err := c.ModifyCertificates(ctx(t), &rdssdk.ModifyCertificatesInput{CertificateIdentifier: aws.String(id)})
	if err != nil {
		t.Fatalf("ModifyCertificates %s: %v", id, err)
	}
	if out.Certificate == nil {
		t.Fatalf("ModifyCertificates %s: no Certificate", id)
	}
	return out.Certificate
}

// removeOverride removes the caller's override.
func removeOverride(t *testing.T, c *rdssdk.Client) *types.Certificate {
	t.Helper()
	out, err := c.ModifyCertificates(ctx(t), &rdssdk.ModifyCertificatesInput{RemoveCustomerOverride: aws.Bool(true)})
	if err != nil {
		t.Fatalf("ModifyCertificates RemoveCustomerOverride: %v", err)
	}
	if out.Certificate == nil {
		t.Fatal("ModifyCertificates RemoveCustomerOverride: no Certificate")
	}
	return out.Certificate
}

// ids returns the identifiers of certs in order.
func ids(certs []types.Certificate) []string {
	out := make([]string, len(certs))
	for i, c := range certs {
		out[i] = aws.ToString(c.CertificateIdentifier)
	}
	return out
}

// overridden returns the identifiers with CustomerOverride true.
func overridden(certs []types.Certificate) []string {
	var out []string
	for _, c := range certs {
		if aws.ToBool(c.CustomerOverride) {
			out = append(out, aws.ToString(c.CertificateIdentifier))
		}
	}
	return out
}

// thumbprints maps identifier to thumbprint.
func thumbprints(certs []types.Certificate) map[string]string {
	m := map[string]string{}
	for _, c := range certs {
		m[aws.ToString(c.CertificateIdentifier)] = aws.ToString(c.Thumbprint)
	}
	return m
}

// wantOverride checks that exactly id is overridden ("" for none) and that
// DefaultCertificateForNewLaunches is def.
func wantOverride(t *testing.T, out *rdssdk.DescribeCertificatesOutput, id, def string) {
	t.Helper()
	got := overridden(out.Certificates)
	switch {
	case id == "" && len(got) != 0:
		t.Fatalf("overridden %v, want none", got)
	case id != "" && (len(got) != 1 || got[0] != id):
		t.Fatalf("overridden %v, want [%s]", got, id)
	}
	if d := aws.ToString(out.DefaultCertificateForNewLaunches); d != def {
		t.Fatalf("DefaultCertificateForNewLaunches %q, want %q", d, def)
	}
}

// wantAPIError checks err is an API error with code and HTTP status.
func wantAPIError(t *testing.T, err error, code string, status int) smithy.APIError {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s %d", code, status)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not a smithy.APIError", err, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code %q (%v), want %q", ae.ErrorCode(), err, code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v has no HTTP response", err)
	}
	if re.HTTPStatusCode() != status {
		t.Fatalf("HTTP status %d (%v), want %d", re.HTTPStatusCode(), err, status)
	}
	if re.ServiceRequestID() == "" {
		t.Fatalf("error %v has no request id", err)
	}
	return ae
}

// syntheticCatalog has n ECDSA-P384 certificates named prefix-NNN in region,
// valid 2021-01-01..2100-01-01 plus i days, so ValidTill grows with i.
// extra rows (TSV lines without header) are appended verbatim.
func syntheticCatalog(t *testing.T, region, prefix string, n int, extra ...string) *catalog.Catalog {
	t.Helper()
	var b strings.Builder
	b.WriteString("region\tidentifier\tsubject_cn\tissuer_cn\trole\tkey\tsignature\tnot_before\tnot_after\taws_thumbprint_sha1\n")
	base := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		till := base.AddDate(0, 0, i).Format(time.RFC3339)
		fmt.Fprintf(&b, "%s\t%s-%03d\tTest %d\tTest %d\troot\tECDSA-P384\tsha384\t2021-01-01T00:00:00Z\t%s\t-\n", region, prefix, i, i, i, till)
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	c, err := catalog.Parse(b.String())
	if err != nil {
		t.Fatalf("catalog.Parse: %v", err)
	}
	return c
}

// usEast1G1Rows are the embedded catalog's us-east-1 G1 lines, so a
// synthetic catalog can list the real default certificate too.
func usEast1G1Rows() []string {
	return []string{
		"us-east-1\trds-ca-rsa2048-g1\tAmazon RDS us-east-1 Root CA RSA2048 G1\tAmazon RDS us-east-1 Root CA RSA2048 G1\troot\tRSA2048\tsha256\t2021-05-25T22:34:57Z\t2061-05-25T23:34:57Z\t-",
		"us-east-1\trds-ca-rsa4096-g1\tAmazon RDS us-east-1 Root CA RSA4096 G1\tAmazon RDS us-east-1 Root CA RSA4096 G1\troot\tRSA4096\tsha384\t2021-05-25T22:38:35Z\t2121-05-25T23:38:35Z\t-",
		"us-east-1\trds-ca-ecc384-g1\tAmazon RDS us-east-1 Root CA ECC384 G1\tAmazon RDS us-east-1 Root CA ECC384 G1\troot\tECDSA-P384\tsha384\t2021-05-25T22:41:55Z\t2121-05-25T23:41:55Z\t-",
	}
}

// --- raw HTTP ---

const namespace = "http://rds.amazonaws.com/doc/2014-10-31/"

var (
	uuidRe       = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	timestampRe  = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	thumbprintRe = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// rawResponse is a response read in full.
type rawResponse struct {
	Status int
	Header http.Header
	Body   string
}

// do sends req and reads the whole response.
func do(t *testing.T, req *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// newRequest builds a request with a string body.
func newRequest(t *testing.T, method, u, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	return req
}

// postForm POSTs body as application/x-www-form-urlencoded, unsigned.
func postForm(t *testing.T, baseURL, body string) rawResponse {
	t.Helper()
	req := newRequest(t, http.MethodPost, baseURL+"/", body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

// form encodes name/value pairs in the given order (url.Values sorts).
func form(pairs ...string) string {
	if len(pairs)%2 != 0 {
		panic("form: odd number of arguments")
	}
	parts := make([]string, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		parts = append(parts, url.QueryEscape(pairs[i])+"="+url.QueryEscape(pairs[i+1]))
	}
	return strings.Join(parts, "&")
}

// errorResponse is the Query ErrorResponse envelope.
type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

// wantErrorResponse checks status, content type, envelope and code, and that
// the body's RequestId equals the x-amzn-RequestId header.
func wantErrorResponse(t *testing.T, r rawResponse, status int, code string) errorResponse {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.Status, status, r.Body)
	}
	var e errorResponse
	if err := xml.Unmarshal([]byte(r.Body), &e); err != nil {
		t.Fatalf("body is not an ErrorResponse: %v\n%s", err, r.Body)
	}
	if e.XMLName.Space != namespace {
		t.Fatalf("ErrorResponse namespace %q, want %q", e.XMLName.Space, namespace)
	}
	if code != "" && e.Error.Code != code {
		t.Fatalf("Code %q, want %q; body:\n%s", e.Error.Code, code, r.Body)
	}
	wantType := "Sender"
	if status >= 500 {
		wantType = "Receiver"
	}
	if e.Error.Type != wantType {
		t.Fatalf("Type %q, want %q", e.Error.Type, wantType)
	}
	if e.Error.Message == "" {
		t.Fatal("empty Message")
	}
	checkRequestID(t, r, e.RequestID)
	return e
}

// checkRequestID checks the header request id is a UUID equal to bodyID.
func checkRequestID(t *testing.T, r rawResponse, bodyID string) {
	t.Helper()
	h := r.Header.Get("x-amzn-RequestId")
	if !uuidRe.MatchString(h) {
		t.Fatalf("x-amzn-RequestId %q is not a UUID", h)
	}
	if bodyID != h {
		t.Fatalf("body RequestId %q != header x-amzn-RequestId %q", bodyID, h)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/xml" {
		t.Fatalf("Content-Type %q, want text/xml", ct)
	}
}

// wireCertificate is a Certificate element as sent.
type wireCertificate struct {
	CertificateIdentifier     string
	CertificateType           string
	Thumbprint                string
	ValidFrom                 string
	ValidTill                 string
	CertificateArn            string
	CustomerOverride          string
	CustomerOverrideValidTill *string
}

// describeResponse is DescribeCertificatesResponse as sent.
type describeResponse struct {
	XMLName xml.Name `xml:"DescribeCertificatesResponse"`
	Result  *struct {
		DefaultCertificateForNewLaunches string
		Certificates                     []wireCertificate `xml:"Certificates>Certificate"`
		Marker                           string
	} `xml:"DescribeCertificatesResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// modifyResponse is ModifyCertificatesResponse as sent.
type modifyResponse struct {
	XMLName xml.Name `xml:"ModifyCertificatesResponse"`
	Result  *struct {
		Certificate *wireCertificate
	} `xml:"ModifyCertificatesResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// wantDescribe checks a 200 DescribeCertificatesResponse and decodes it.
func wantDescribe(t *testing.T, r rawResponse) describeResponse {
	t.Helper()
	var d describeResponse
	wantSuccess(t, r, "DescribeCertificates", &d)
	if d.Result == nil {
		t.Fatalf("no DescribeCertificatesResult:\n%s", r.Body)
	}
	checkRequestID(t, r, d.RequestID)
	return d
}

// wantModify checks a 200 ModifyCertificatesResponse and decodes it.
func wantModify(t *testing.T, r rawResponse) modifyResponse {
	t.Helper()
	var m modifyResponse
	wantSuccess(t, r, "ModifyCertificates", &m)
	if m.Result == nil || m.Result.Certificate == nil {
		t.Fatalf("no ModifyCertificatesResult/Certificate:\n%s", r.Body)
	}
	checkRequestID(t, r, m.RequestID)
	return m
}

func wantSuccess(t *testing.T, r rawResponse, op string, v any) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200; body:\n%s", r.Status, r.Body)
	}
	if err := xml.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("body is not a %sResponse: %v\n%s", op, err, r.Body)
	}
	if !strings.Contains(r.Body, `<`+op+`Response xmlns="`+namespace+`">`) {
		t.Fatalf("no namespaced %sResponse element:\n%s", op, r.Body)
	}
	if !strings.Contains(r.Body, "<"+op+"Result>") && !strings.Contains(r.Body, "<"+op+"Result/>") {
		t.Fatalf("no %sResult element:\n%s", op, r.Body)
	}
}

// wireIDs returns the identifiers of wire certificates in order.
func wireIDs(cs []wireCertificate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.CertificateIdentifier
	}
	return out
}
