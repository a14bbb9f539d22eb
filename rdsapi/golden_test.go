package rdsapi_test

import (
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rdsca/rdsca/ca"
	"github.com/rdsca/rdsca/catalog"
	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/server"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const caFile = "testdata/ca-us-east-1.pem"

// fileGenerator serves fixed certificates from testdata, so thumbprints
// and golden bodies are stable.
type fileGenerator map[string][]byte

func (g fileGenerator) Generate(s catalog.Spec) (rds.CA, error) {
	der, ok := g[s.Identifier]
	if !ok {
		return rds.CA{}, fmt.Errorf("no fixed certificate for %s", s.Identifier)
	}
	return rds.CA{Region: s.Region, Identifier: s.Identifier, CertDER: der, KeyDER: []byte("unused")}, nil
}

func loadCAs(t *testing.T) fileGenerator {
	t.Helper()
	b, err := os.ReadFile(caFile)
	if os.IsNotExist(err) && *update {
		b = writeCAs(t)
	} else if err != nil {
		t.Fatal(err)
	}
	g := fileGenerator{}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		g[blk.Headers["Identifier"]] = blk.Bytes
	}
	return g
}

func writeCAs(t *testing.T) []byte {
	var out []byte
	for _, s := range catalog.Default().Region("us-east-1") {
		c, err := ca.Generator{}.Generate(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: map[string]string{"Identifier": s.Identifier}, Bytes: c.CertDER})...)
	}
	if err := os.WriteFile(caFile, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func newHandler(t *testing.T, now time.Time) http.Handler {
	t.Helper()
	srv, err := server.New(server.Config{
		Store:     memory.New(),
		Clock:     clock.NewFixed(now),
		Generator: loadCAs(t),
		RequestID: func() string { return "00000000-0000-4000-8000-000000000000" },
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

const signed = "AWS4-HMAC-SHA256 Credential=111111111111/20261204/us-east-1/rds/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef"

type step struct {
	name   string // golden file, "" to not compare
	method string
	body   string
	auth   string
	status int
}

func TestGolden(t *testing.T) {
	run := func(t *testing.T, now time.Time, steps []step) {
		h := newHandler(t, now)
		for _, s := range steps {
			req := httptest.NewRequest(s.method, "/", strings.NewReader(s.body))
			if s.method == http.MethodGet {
				req = httptest.NewRequest(s.method, "/?"+s.body, nil)
			} else {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			}
			if s.auth != "" {
				req.Header.Set("Authorization", s.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != s.status {
				t.Errorf("%s: status %d, want %d\n%s", s.name, res.StatusCode, s.status, body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "text/xml" {
				t.Errorf("%s: Content-Type %q", s.name, ct)
			}
			if id := res.Header.Get("x-amzn-RequestId"); id != "00000000-0000-4000-8000-000000000000" {
				t.Errorf("%s: x-amzn-RequestId %q", s.name, id)
			}
			if s.name == "" {
				continue
			}
			golden := filepath.Join("testdata", s.name+".xml")
			if *update {
				if err := os.WriteFile(golden, body, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%s: %v (run go test ./rdsapi -update)", s.name, err)
			}
			if string(body) != string(want) {
				t.Errorf("%s: body differs from %s\ngot:\n%s\nwant:\n%s", s.name, golden, body, want)
			}
		}
	}
	const post, get = http.MethodPost, http.MethodGet
	t.Run("2026", func(t *testing.T) {
		run(t, time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), []step{
			{"describe-certificates", post, "Action=DescribeCertificates&Version=2014-10-31", signed, 200},
			{"describe-certificates-one", get, "Version=2014-10-31&CertificateIdentifier=RDS-CA-RSA4096-G1&Action=DescribeCertificates", signed, 200},
			{"modify-certificates-set", post, "Action=ModifyCertificates&Version=2014-10-31&CertificateIdentifier=rds-ca-ecc384-g1", signed, 200},
			{"describe-certificates-overridden", post, "Action=DescribeCertificates&Version=2014-10-31", signed, 200},
			{"modify-certificates-remove", post, "Action=ModifyCertificates&Version=2014-10-31&RemoveCustomerOverride=true", signed, 200},
			{"error-certificate-not-found", post, "Action=DescribeCertificates&Version=2014-10-31&CertificateIdentifier=rds-ca-2019", signed, 404},
			{"error-modify-certificate-not-found", post, "Action=ModifyCertificates&Version=2014-10-31&CertificateIdentifier=rds-ca-nope", signed, 404},
			{"error-max-records-range", post, "Action=DescribeCertificates&Version=2014-10-31&MaxRecords=19", signed, 400},
			{"error-max-records-not-integer", post, "Action=DescribeCertificates&Version=2014-10-31&MaxRecords=abc", signed, 400},
			{"error-marker", post, "Action=DescribeCertificates&Version=2014-10-31&Marker=bogus", signed, 400},
			{"error-both-parameters", post, "Action=ModifyCertificates&Version=2014-10-31&CertificateIdentifier=rds-ca-rsa2048-g1&RemoveCustomerOverride=true", signed, 400},
			{"error-neither-parameter", post, "Action=ModifyCertificates&Version=2014-10-31", signed, 400},
			{"error-not-boolean", post, "Action=ModifyCertificates&Version=2014-10-31&RemoveCustomerOverride=yes", signed, 400},
			{"error-missing-action", post, "Version=2014-10-31", signed, 400},
			{"error-invalid-action", post, "Action=DescribeDBSnapshots&Version=2014-10-31", signed, 400},
			{"error-malformed-query", post, "Action=DescribeCertificates&x=%zz", signed, 400},
			{"error-incomplete-signature", post, "Action=DescribeCertificates", "AWS4-HMAC-SHA256 Credential=111111111111/20261204/us-east-1/rds/aws4_request", 400},
			{"error-scope-service", post, "Action=DescribeCertificates", strings.Replace(signed, "/rds/", "/s3/", 1), 403},
			{"error-method", http.MethodPut, "Action=DescribeCertificates", signed, 405},
		})
	})
	t.Run("2024", func(t *testing.T) {
		run(t, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), []step{
			{"describe-certificates-2024", post, "Action=DescribeCertificates&Version=2014-10-31", "", 200},
		})
	})
}

func TestBodyTooLarge(t *testing.T) {
	h := newHandler(t, time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action=DescribeCertificates&x="+strings.Repeat("a", 2<<20)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "<Code>RequestEntityTooLarge</Code>") {
		t.Fatalf("status %d body %s", rec.Code, rec.Body)
	}
}
