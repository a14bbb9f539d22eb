package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/smithy-go"

	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/internal/testenv"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/server"
)

func TestParseCredentials(t *testing.T) {
	const file = `# rdsca strict-mode keys
AKIAALICE   alice/secret+1   111111111111   # Alice
	AKIAALICE2	alice-2	111111111111

AKIABOB bob-secret 222222222222#no space before the comment
`
	c, err := server.ParseCredentials(strings.NewReader(file), "creds")
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 3 {
		t.Errorf("Len = %d", c.Len())
	}
	for key, want := range map[string]server.Credential{
		"AKIAALICE":  {"AKIAALICE", "alice/secret+1", "111111111111"},
		"AKIAALICE2": {"AKIAALICE2", "alice-2", "111111111111"},
		"AKIABOB":    {"AKIABOB", "bob-secret", "222222222222"},
	} {
		if got, ok := c.Lookup(key); !ok || got != want {
			t.Errorf("Lookup(%s) = %+v %v", key, got, ok)
		}
	}
	if _, ok := c.Lookup("AKIANOBODY"); ok {
		t.Error("unknown key found")
	}
	for _, tc := range []struct{ file, want string }{
		{"A s 111111111111\nB s\n", "creds line 2: want ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID, got 2 fields"},
		{"A s 111111111111 extra\n", "creds line 1: want ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID, got 4 fields"},
		{"\n\nA s 11111111111\n", `creds line 3: account "11111111111" is not 12 digits`},
		{"A s 11111111111x\n", `creds line 1: account "11111111111x" is not 12 digits`},
		{"A s 111111111111\n# c\nA t 222222222222\n", "creds line 3: access key id A is already on line 1"},
		{"A/B s 111111111111\n", `creds line 1: access key id "A/B" contains '/'`},
		{"# only comments\n\n", "creds has no credentials"},
		{"", "creds has no credentials"},
	} {
		_, err := server.ParseCredentials(strings.NewReader(tc.file), "creds")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: err = %v, want %q", tc.file, err, tc.want)
		}
	}
	if _, err := server.LoadCredentials("/does/not/exist"); err == nil || err.Error() != "credentials file /does/not/exist: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	if _, err := server.NewCredentials(server.Credential{"A", "s", "1"}); err == nil {
		t.Error("NewCredentials accepted a bad account")
	}
}

var strictKeys = []server.Credential{
	{AccessKeyID: "AKIAALICE", SecretAccessKey: "alice-secret", Account: "111111111111"},
	{AccessKeyID: "AKIAALICE2", SecretAccessKey: "alice-secret-2", Account: "111111111111"},
	{AccessKeyID: "AKIABOB", SecretAccessKey: "bob-secret", Account: "222222222222"},
	// A 12-digit key whose account is another: the file decides.
	{AccessKeyID: "333333333333", SecretAccessKey: "carol-secret", Account: "444444444444"},
}

// strictServer runs a strict-mode server whose simulated clock is at
// 2024-01-01 while signatures are checked against now().
func strictServer(t *testing.T, now func() time.Time, logs io.Writer) string {
	t.Helper()
	creds, err := server.NewCredentials(strictKeys...)
	if err != nil {
		t.Fatal(err)
	}
	var logger *slog.Logger
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := server.New(server.Config{
		Store:  memory.New(),
		Clock:  clock.NewFixed(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)),
		Auth:   &server.Auth{Credentials: creds, Now: now},
		Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs.URL
}

// bodyOwner gives the transport a body of its own (see internal/testenv's OwnBodyClient,
// aws-sdk-go-v2#2737).
type bodyOwner struct{ c aws.HTTPClient }

func (o bodyOwner) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return o.c.Do(r)
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.ContentLength = int64(len(b))
	r.Body = io.NopCloser(bytes.NewReader(b))
	return o.c.Do(r)
}

func sdkClient(base, key, secret, region string) *rdssdk.Client {
	return rdssdk.NewFromConfig(aws.Config{
		Region:           region,
		Credentials:      aws.NewCredentialsCache(credentialsOf(key, secret)),
		BaseEndpoint:     aws.String(base),
		HTTPClient:       bodyOwner{awshttp.NewBuildableClient()},
		RetryMaxAttempts: 1,
		Retryer:          func() aws.Retryer { return aws.NopRetryer{} },
	})
}

func credentialsOf(key, secret string) aws.CredentialsProviderFunc {
	return func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, Source: "test"}, nil
	}
}

// wantAPIError checks err's code, HTTP status and message prefix.
func wantAPIError(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	var api smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &api) || !errors.As(err, &re) {
		t.Fatalf("err = %v, want %s", err, code)
	}
	if api.ErrorCode() != code || re.HTTPStatusCode() != status || !strings.HasPrefix(api.ErrorMessage(), msg) {
		t.Fatalf("got %s %d %q, want %s %d %q...", api.ErrorCode(), re.HTTPStatusCode(), api.ErrorMessage(), code, status, msg)
	}
}

func TestStrictModeWithTheSDK(t *testing.T) {
	base := strictServer(t, time.Now, nil)
	ctx := context.Background()
	alice := sdkClient(base, "AKIAALICE", "alice-secret", "us-east-1")
	alice2 := sdkClient(base, "AKIAALICE2", "alice-secret-2", "us-east-1")
	bob := sdkClient(base, "AKIABOB", "bob-secret", "us-east-1")
	carol := sdkClient(base, "333333333333", "carol-secret", "us-east-1")

	// The server's clock says 2024-01-01; the SDK signs with the real time,
	// which is what the 15-minute window is checked against.
	if _, err := alice.ModifyCertificates(ctx, &rdssdk.ModifyCertificatesInput{CertificateIdentifier: aws.String("rds-ca-ecc384-g1")}); err != nil {
		t.Fatal(err)
	}
	override := func(c *rdssdk.Client) string {
		t.Helper()
		out, err := c.DescribeCertificates(ctx, &rdssdk.DescribeCertificatesInput{})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.DefaultCertificateForNewLaunches)
	}
	// The account is the credentials file's: both of Alice's keys share it.
	if got := override(alice2); got != "rds-ca-ecc384-g1" {
		t.Errorf("alice's second key (same account) sees default %s", got)
	}
	if got := override(bob); got == "rds-ca-ecc384-g1" {
		t.Errorf("bob sees alice's override")
	}
	// A 12-digit key is not its own account in strict mode: carol's key
	// 333333333333 is account 444444444444.
	if _, err := carol.ModifyCertificates(ctx, &rdssdk.ModifyCertificatesInput{CertificateIdentifier: aws.String("rds-ca-rsa4096-g1")}); err != nil {
		t.Fatal(err)
	}
	if got := override(sdkClient(base, "333333333333", "carol-secret", "us-east-1")); got != "rds-ca-rsa4096-g1" {
		t.Errorf("carol: %s", got)
	}

	_, err := sdkClient(base, "AKIAALICE", "wrong", "us-east-1").DescribeCertificates(ctx, &rdssdk.DescribeCertificatesInput{})
	wantAPIError(t, err, "SignatureDoesNotMatch", 403, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	_, err = sdkClient(base, "AKIANOBODY", "x", "us-east-1").DescribeCertificates(ctx, &rdssdk.DescribeCertificatesInput{})
	wantAPIError(t, err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
	_, err = sdkClient(base, "AKIABOB", "bob-secret", "moon").DescribeCertificates(ctx, &rdssdk.DescribeCertificatesInput{})
	wantAPIError(t, err, "SignatureDoesNotMatch", 403, "Credential should be scoped to a valid region, not 'moon'.")
}

func TestStrictModeExpiredSignature(t *testing.T) {
	// The verifier's clock is an hour ahead of the SDK's.
	base := strictServer(t, func() time.Time { return time.Now().Add(time.Hour) }, nil)
	_, err := sdkClient(base, "AKIAALICE", "alice-secret", "us-east-1").DescribeCertificates(context.Background(), &rdssdk.DescribeCertificatesInput{})
	wantAPIError(t, err, "SignatureDoesNotMatch", 403, "Signature expired: ")
	if !strings.HasSuffix(err.Error(), " - 15 min.)") {
		t.Errorf("message: %v", err)
	}
}

// sendRaw sends req and returns the status, error code and message.
func sendRaw(t *testing.T, req *http.Request) (int, string, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	between := func(open, close string) string {
		s := string(b)
		i := strings.Index(s, open)
		j := strings.Index(s, close)
		if i < 0 || j < i {
			return ""
		}
		return html.UnescapeString(s[i+len(open) : j])
	}
	return res.StatusCode, between("<Code>", "</Code>"), between("<Message>", "</Message>")
}

func TestStrictModeOnTheWire(t *testing.T) {
	logs := &testenv.SyncBuffer{}
	base := strictServer(t, time.Now, logs)
	form := "Action=DescribeCertificates&Version=2014-10-31"
	post := func(body string) *http.Request {
		r, _ := http.NewRequest("POST", base+"/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		return r
	}
	sign := func(r *http.Request, key, secret, body string) *http.Request {
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, r, hex.EncodeToString(sum[:]), "rds", "eu-west-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		return r
	}

	for _, tc := range []struct {
		name         string
		req          *http.Request
		status       int
		code, prefix string
	}{
		{"signed", sign(post(form), "AKIABOB", "bob-secret", form), 200, "", ""},
		{"unsigned", post(form), 403, "MissingAuthenticationToken", "Request is missing Authentication Token"},
		{"unknown key", sign(post(form), "AKIANOBODY", "x", form), 403, "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"wrong secret", sign(post(form), "AKIABOB", "alice-secret", form), 403, "SignatureDoesNotMatch", "The request signature we calculated does not match"},
		{"malformed", func() *http.Request {
			r := post(form)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIABOB/20240101/us-east-1/rds/aws4_request")
			return r
		}(), 400, "IncompleteSignature", "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{"no date", func() *http.Request {
			r := sign(post(form), "AKIABOB", "bob-secret", form)
			r.Header.Del("X-Amz-Date")
			return r
		}(), 400, "IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{"body swapped after signing", func() *http.Request {
			r := sign(post(form), "AKIABOB", "bob-secret", form)
			other := "Action=ModifyCertificates&Version=2014-10-31&RemoveCustomerOverride=true"
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(other)), int64(len(other))
			return r
		}(), 403, "SignatureDoesNotMatch", "The request signature we calculated does not match"},
		{"SigV4a", func() *http.Request {
			r := sign(post(form), "AKIABOB", "bob-secret", form)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1))
			return r
		}(), 400, "IncompleteSignature", "Authorization header requires the AWS4-HMAC-SHA256 algorithm."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, code, msg := sendRaw(t, tc.req)
			if status != tc.status || code != tc.code || !strings.HasPrefix(msg, tc.prefix) {
				t.Fatalf("got %d %s %q, want %d %s %q...", status, code, msg, tc.status, tc.code, tc.prefix)
			}
		})
	}
	if !strings.Contains(logs.String(), "canonical_request=") {
		t.Errorf("no debug log of the canonical request of a mismatch:\n%s", logs.String())
	}

	// A presigned GET (query-string signature) is verified too.
	r, _ := http.NewRequest("GET", base+"/?Action=DescribeCertificates&Version=2014-10-31&X-Amz-Expires=60", nil)
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIABOB", SecretAccessKey: "bob-secret"}, r,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "rds", "eu-west-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r, _ = http.NewRequest("GET", u, nil)
	if status, code, msg := sendRaw(t, r); status != 200 {
		t.Fatalf("presigned: %d %s %s", status, code, msg)
	}
	bad, _ := url.Parse(u)
	q := bad.Query()
	q.Set("Version", "2014-10-30")
	bad.RawQuery = q.Encode()
	r, _ = http.NewRequest("GET", bad.String(), nil)
	if status, code, _ := sendRaw(t, r); status != 403 || code != "SignatureDoesNotMatch" {
		t.Fatalf("tampered presigned: %d %s", status, code)
	}
}

// Open mode is unchanged: unsigned requests and any signature pass.
func TestOpenModeAcceptsAnySignature(t *testing.T) {
	srv, err := server.New(server.Config{Store: memory.New(), Clock: clock.NewFixed(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	_, err = sdkClient(hs.URL, "111111111111", "anything", "us-east-1").DescribeCertificates(context.Background(), &rdssdk.DescribeCertificatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest("POST", hs.URL+"/", strings.NewReader("Action=DescribeCertificates"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if status, code, _ := sendRaw(t, r); status != 200 {
		t.Fatalf("unsigned in open mode: %d %s", status, code)
	}
}
