package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdsca/rdsca/ca"
	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/server"
	"github.com/rdsca/rdsca/sqlite"
)

var keys = &ca.Shared{}

const benchAuth = "AWS4-HMAC-SHA256 Credential=111111111111/20261204/us-east-1/rds/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func benchStores(b *testing.B) map[string]func(b *testing.B) rds.Store {
	return map[string]func(b *testing.B) rds.Store{
		"memory": func(b *testing.B) rds.Store { return memory.New() },
		"sqlite": func(b *testing.B) rds.Store {
			s, err := sqlite.Open(filepath.Join(b.TempDir(), "rdsca.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// benchRequest measures one request through the whole handler: protocol,
// identity, domain, store and XML encoding, without the network.
func benchRequest(b *testing.B, body string) {
	for _, name := range []string{"memory", "sqlite"} {
		b.Run(name, func(b *testing.B) {
			srv, err := server.New(server.Config{Store: benchStores(b)[name](b), Clock: clock.Real{}, Generator: keys})
			if err != nil {
				b.Fatal(err)
			}
			do := func() {
				req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
				req.Header.Set("Authorization", benchAuth)
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			do() // creates the region's CA material
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				do()
			}
		})
	}
}

func BenchmarkDescribeCertificates(b *testing.B) {
	benchRequest(b, "Action=DescribeCertificates&Version=2014-10-31")
}

func BenchmarkModifyCertificates(b *testing.B) {
	benchRequest(b, "Action=ModifyCertificates&Version=2014-10-31&CertificateIdentifier=rds-ca-ecc384-g1")
}

// BenchmarkDescribeDBInstances reads pages of 100 from 10,000 instances
// in one account and region, walking the list with markers.
func BenchmarkDescribeDBInstances(b *testing.B) {
	for _, name := range []string{"memory", "sqlite"} {
		b.Run(name, func(b *testing.B) {
			store := benchStores(b)[name](b)
			srv, err := server.New(server.Config{Store: store, Clock: clock.Real{}, Generator: keys})
			if err != nil {
				b.Fatal(err)
			}
			sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
			svc := srv.Service()
			for i := range 10000 {
				size := 20
				_, err := svc.CreateInstance(b.Context(), sc, rds.CreateInstanceInput{
					Identifier: fmt.Sprintf("db-%05d", i), Class: "db.t3.micro", Engine: "postgres",
					MasterUsername: "admin", MasterUserPassword: "secret123", AllocatedStorage: &size,
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			marker := ""
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				body := "Action=DescribeDBInstances&Version=2014-10-31&MaxRecords=100"
				if marker != "" {
					body += "&Marker=" + marker
				}
				req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Authorization", benchAuth)
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				marker = ""
				if _, m, ok := strings.Cut(rec.Body.String(), "<Marker>"); ok {
					marker, _, _ = strings.Cut(m, "</Marker>")
				}
			}
		})
	}
}
