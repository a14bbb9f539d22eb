package sigv4_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/rdsca/rdsca/sigv4"
)

// emptySHA256 is the SHA-256 of an empty payload.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func TestParseSDKSignedRequest(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9470/", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	creds := aws.Credentials{AccessKeyID: "111111111111", SecretAccessKey: "secret"}
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, emptySHA256, "rds", "eu-west-1", at); err != nil {
		t.Fatal(err)
	}
	sig, err := sigv4.FromRequest(req, "rds")
	if err != nil {
		t.Fatal(err)
	}
	want := sigv4.Credential{AccessKeyID: "111111111111", Date: "20261204", Region: "eu-west-1", Service: "rds"}
	if sig.Credential != want || sig.Presigned || len(sig.Signature) != 64 {
		t.Fatalf("got %+v", sig)
	}
	if strings.Join(sig.SignedHeaders, ";") != "content-type;host;x-amz-date" {
		t.Errorf("signed headers %v", sig.SignedHeaders)
	}
}

func TestParsePresigned(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:9470/?Action=DescribeCertificates", nil)
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, emptySHA256, "rds", "ap-south-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest(http.MethodGet, u, nil)
	sig, err := sigv4.FromRequest(req, "rds")
	if err != nil {
		t.Fatal(err)
	}
	if !sig.Presigned || sig.Credential.AccessKeyID != "AKIDEXAMPLE" || sig.Credential.Region != "ap-south-1" {
		t.Fatalf("got %+v", sig)
	}
}

func TestUnsigned(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "http://x/?Action=DescribeCertificates", nil)
	if _, err := sigv4.FromRequest(req, "rds"); !errors.Is(err, sigv4.ErrUnsigned) {
		t.Fatalf("err = %v", err)
	}
}

func TestMalformed(t *testing.T) {
	const good = "AKID/20261204/us-east-1/rds/aws4_request"
	malformed := []string{
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 Credential=" + good,
		"AWS4-HMAC-SHA256 Credential=" + good + ", SignedHeaders=host",
		"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc",
		"AWS AKID:abc",
		"AWS4-HMAC-SHA1 Credential=" + good + ", SignedHeaders=host, Signature=abc",
		"AWS4-HMAC-SHA256 Credential=AKID/2026-12-04/us-east-1/rds/aws4_request, SignedHeaders=host, Signature=abc",
		"AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/rds, SignedHeaders=host, Signature=abc",
		"AWS4-HMAC-SHA256 Credential=/20261204/us-east-1/rds/aws4_request, SignedHeaders=host, Signature=abc",
		"AWS4-HMAC-SHA256 Credential=" + good + ", junk, Signature=abc, SignedHeaders=host",
	}
	for _, h := range malformed {
		var m *sigv4.MalformedError
		if _, err := sigv4.ParseAuthorization(h, "rds"); !errors.As(err, &m) {
			t.Errorf("%q: err = %v, want MalformedError", h, err)
		}
	}
	scope := []string{
		"AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc",
		"AWS4-HMAC-SHA256 Credential=AKID/20261204/moon/rds/aws4_request, SignedHeaders=host, Signature=abc",
	}
	for _, h := range scope {
		var s *sigv4.ScopeError
		if _, err := sigv4.ParseAuthorization(h, "rds"); !errors.As(err, &s) {
			t.Errorf("%q: err = %v, want ScopeError", h, err)
		}
	}
}
