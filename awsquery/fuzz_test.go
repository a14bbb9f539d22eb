package awsquery_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/rdsca/rdsca/ca"
	"github.com/rdsca/rdsca/catalog"
	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/internal/testenv"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/rdsapi"
	"github.com/rdsca/rdsca/server"
)

// FuzzRequest sends arbitrary requests (method, query string, content type,
// Authorization header, body) to the real handler, in open or strict mode:
// server.New with a memory store holding an override and a few instances,
// at a fixed clock. The strict seeds are signed by aws-sdk-go-v2, so they
// get past the verifier; the fuzzer's changes mostly do not. Whatever
// comes in, the answer is a 200 or a 4xx, never a 5xx; the body is one
// well-formed XML document, an ErrorResponse (Sender, with a code and a
// message) or an <Action>Response with its Result and the request id of the
// x-amzn-RequestId header; and nothing is logged as a panic or an internal
// error. Seeds: testdata/fuzz/FuzzRequest; grow them with
//
//	go test -run '^$' -fuzz '^FuzzRequest$' -fuzztime 60s ./awsquery
func FuzzRequest(f *testing.F) {
	const signed = "AWS4-HMAC-SHA256 Credential=111111111111/20240701/us-east-1/rds/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0123456789abcdef"
	const form = "application/x-www-form-urlencoded; charset=utf-8"
	const v = "&Version=2014-10-31"
	arn := "arn:aws:rds:us-east-1:111111111111:db:"
	for _, s := range []struct {
		method      byte
		query, ct   string
		auth, body  string
		description string
	}{
		{0, "", form, signed, "Action=DescribeCertificates" + v, ""},
		{0, "", form, signed, "Action=DescribeCertificates&MaxRecords=20&Marker=Y2VydDpyZHMtY2EtMjAxOQ&CertificateIdentifier=RDS-CA-RSA4096-G1" + v, ""},
		{1, "Action=DescribeCertificates&Marker=%ff" + v, "", "", "", ""},
		{0, "", form, signed, "Action=ModifyCertificates&CertificateIdentifier=rds-ca-rsa4096-g1" + v, ""},
		{0, "", form, signed, "Action=ModifyCertificates&RemoveCustomerOverride=TRUE" + v, ""},
		{0, "", form, signed, "Action=CreateDBInstance&DBInstanceIdentifier=db-new&DBInstanceClass=db.t3.micro&Engine=postgres&EngineVersion=16.3&MasterUsername=admin&MasterUserPassword=secret-password&AllocatedStorage=20&Port=5433&AvailabilityZone=us-east-1b&PreferredMaintenanceWindow=Sun:05:00-Sun:06:00&CACertificateIdentifier=rds-ca-ecc384-g1" + v, ""},
		{0, "", form, signed, "Action=CreateDBInstance&DBInstanceIdentifier=db1&DBInstanceClass=db.t3.micro&Engine=mysql&MasterUsername=admin&ManageMasterUserPassword=true&AllocatedStorage=20" + v, ""},
		{0, "", form, signed, "Action=DescribeDBInstances&Filters.Filter.1.Name=engine&Filters.Filter.1.Values.Value.1=postgres&Filters.Filter.2.Name=db-instance-id&Filters.Filter.2.Values.Value.1=" + url.QueryEscape(arn+"db1") + "&MaxRecords=20" + v, ""},
		{0, "", form, signed, "Action=DescribeDBInstances&Marker=ZGI6ZGIx&Filters.member.1.Name=dbi-resource-id&Filters.member.1.Values.member.1=db-X" + v, ""},
		{0, "", form, signed, "Action=DescribeDBInstances&DBInstanceIdentifier=" + url.QueryEscape(arn+"db2") + v, ""},
		{0, "", form, signed, "Action=ModifyDBInstance&DBInstanceIdentifier=db1&CACertificateIdentifier=rds-ca-rsa4096-g1&ApplyImmediately=true&CertificateRotationRestart=false" + v, ""},
		{0, "", form, signed, "Action=ModifyDBInstance&DBInstanceIdentifier=db2&PreferredMaintenanceWindow=mon:00:00-mon:00:30&MasterUserPassword=another-secret" + v, ""},
		{0, "", form, signed, "Action=RebootDBInstance&DBInstanceIdentifier=db1&ForceFailover=false" + v, ""},
		{0, "", form, signed, "Action=DeleteDBInstance&DBInstanceIdentifier=db2&SkipFinalSnapshot=true" + v, ""},
		{0, "", form, signed, "Action=DeleteDBInstance&DBInstanceIdentifier=db3&FinalDBSnapshotIdentifier=final-1" + v, ""},
		{0, "", form, signed, "Action=DescribePendingMaintenanceActions&ResourceIdentifier=" + url.QueryEscape(arn+"db1") + v, ""},
		{0, "", form, signed, "Action=DescribePendingMaintenanceActions&Filters.Filter.1.Name=db-instance-id&Filters.Filter.1.Values.Value.1=db1&MaxRecords=20&Marker=cmVzOmRiMQ" + v, ""},
		{0, "", form, signed, "Action=ApplyPendingMaintenanceAction&ResourceIdentifier=" + url.QueryEscape(arn+"db1") + "&ApplyAction=ca-certificate-rotation&OptInType=next-maintenance" + v, ""},
		{0, "", form, signed, "Action=ApplyPendingMaintenanceAction&ResourceIdentifier=" + url.QueryEscape(arn+"db1") + "&ApplyAction=ca-certificate-rotation&OptInType=immediate" + v, ""},
		{0, "", form, signed, "Action=DescribeDBEngineVersions&Engine=postgres&DefaultOnly=true&Filters.Filter.1.Name=engine-version&Filters.Filter.1.Values.Value.1=16.3" + v, ""},
		{0, "", form, signed, "Action=DescribeDBEngineVersions&Marker=ZXY6eA&MaxRecords=100" + v, ""},
		{0, "", form, "", "Action=DescribeCertificates&x=%zz", ""},
		{0, "", "multipart/form-data; boundary=x", signed, "--x\r\nContent-Disposition: form-data; name=\"Action\"\r\n\r\nDescribeCertificates\r\n--x--", ""},
		{0, "", "text/plain;;", signed, "Action=DescribeCertificates", ""},
		{2, "Action=DescribeCertificates", "", signed, "", ""},
		{0, "", form, "AWS4-HMAC-SHA256 Credential=111111111111/20261204/us-east-1/rds/aws4_request", "Action=DescribeCertificates", ""},
		{0, "", form, strings.Replace(signed, "/rds/", "/s3/", 1), "Action=DescribeCertificates", ""},
		{0, "", form, strings.Replace(signed, "us-east-1", "xx-yyyy-9", 1), "Action=DescribeDBInstances&DBInstanceIdentifier=db1", ""},
		{1, "Action=DescribeCertificates&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=222222222222%2F20261204%2Feu-west-1%2Frds%2Faws4_request&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "", "", "", ""},
		{0, "", form, signed, "Action=" + strings.Repeat("\xff", 80), ""},
		{0, "", form, signed, "", ""},
	} {
		f.Add(false, s.method, s.query, s.ct, s.auth, []byte(s.body))
		if s.auth == signed {
			f.Add(true, s.method, s.query, s.ct, sign(f, s.method, s.query, s.ct, []byte(s.body)), []byte(s.body))
		}
	}
	f.Fuzz(func(t *testing.T, strict bool, method byte, query, contentType, auth string, body []byte) {
		h, logs := fuzzServer(t, strict)
		req := fuzzRequest(method, query, contentType, body)
		if auth != "" {
			req.Header["Authorization"] = []string{auth}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(ctx))
		checkResponse(t, rec.Result(), rec.Body.Bytes())
		if l := logs.String(); l != "" {
			t.Fatalf("the server logged an error (status %d):\n%s\nbody:\n%s", rec.Code, l, rec.Body)
		}
	})
}

// fuzzRequest is the request FuzzRequest sends, as net/http's server would
// hand it to the handler, without an Authorization header.
func fuzzRequest(method byte, query, contentType string, body []byte) *http.Request {
	methods := []string{http.MethodPost, http.MethodGet, http.MethodPut, http.MethodDelete}
	req := &http.Request{
		Method:        methods[int(method)%len(methods)],
		URL:           &url.URL{Path: "/", RawQuery: query},
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"X-Amz-Date": {fuzzNow.Format("20060102T150405Z")}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Host:          "127.0.0.1:9470",
		RemoteAddr:    "127.0.0.1:50000",
		RequestURI:    "/?" + query,
	}
	if contentType != "" {
		req.Header["Content-Type"] = []string{contentType}
	}
	return req
}

// Strict mode's one key: account 111111111111, like the open seeds'.
const (
	strictKey    = "AKIDRDSCAFUZZ"
	strictSecret = "rdsca/fuzz/secret"
)

// sign returns the Authorization header aws-sdk-go-v2 signs the request
// with, in us-east-1 at fuzzNow.
func sign(f *testing.F, method byte, query, contentType string, body []byte) string {
	req := fuzzRequest(method, query, contentType, body)
	req.URL = &url.URL{Scheme: "http", Host: req.Host, Path: "/", RawQuery: query}
	req.RequestURI = ""
	req.Header.Del("X-Amz-Date")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: strictKey, SecretAccessKey: strictSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "rds", "us-east-1", fuzzNow); err != nil {
		f.Fatal(err)
	}
	return req.Header.Get("Authorization")
}

// envelope is the part of either response envelope the checks read.
type envelope struct {
	XMLName xml.Name
	Error   *struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
	Metadata  *struct {
		RequestID string `xml:"RequestId"`
	} `xml:"ResponseMetadata"`
}

func checkResponse(t *testing.T, res *http.Response, body []byte) {
	t.Helper()
	if res.StatusCode >= 500 || (res.StatusCode != http.StatusOK && res.StatusCode < 400) {
		t.Fatalf("status %d:\n%s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/xml" {
		t.Fatalf("Content-Type %q", ct)
	}
	reqID := res.Header.Get("x-amzn-RequestId")
	if reqID == "" {
		t.Fatal("no x-amzn-RequestId")
	}
	root := wellFormed(t, body)
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		t.Fatalf("unmarshal: %v\n%s", err, body)
	}
	if env.XMLName.Space != rdsapi.Namespace {
		t.Fatalf("namespace %q:\n%s", env.XMLName.Space, body)
	}
	if res.StatusCode != http.StatusOK {
		if root != "ErrorResponse" || env.Error == nil {
			t.Fatalf("status %d without an ErrorResponse:\n%s", res.StatusCode, body)
		}
		if env.Error.Type != "Sender" || env.Error.Code == "" || env.Error.Message == "" {
			t.Fatalf("error %+v:\n%s", *env.Error, body)
		}
		if env.RequestID != reqID {
			t.Fatalf("RequestId %q, header %q", env.RequestID, reqID)
		}
		return
	}
	action, ok := strings.CutSuffix(root, "Response")
	if !ok || action == "" || action == "Error" {
		t.Fatalf("200 with root element %q:\n%s", root, body)
	}
	if !bytes.Contains(body, []byte("<"+action+"Result>")) && !bytes.Contains(body, []byte("<"+action+"Result/>")) {
		t.Fatalf("no %sResult:\n%s", action, body)
	}
	if env.Metadata == nil || env.Metadata.RequestID != reqID {
		t.Fatalf("ResponseMetadata %+v, header %q:\n%s", env.Metadata, reqID, body)
	}
}

// wellFormed reads every token of body strictly and returns the name of
// its one root element.
func wellFormed(t *testing.T, body []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(body))
	root, depth := "", 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("body is not well-formed XML: %v\n%s", err, body)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if root != "" {
					t.Fatalf("second root element %s:\n%s", tok.Name.Local, body)
				}
				root = tok.Name.Local
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(tok)) > 0 {
				t.Fatalf("text outside the root element:\n%s", body)
			}
		}
	}
	if root == "" || depth != 0 {
		t.Fatalf("no complete root element:\n%s", body)
	}
	return root
}

// fuzzNow has rds-ca-2019 listed but due for rotation, so the seeded
// instance on it has a pending maintenance action.
var fuzzNow = time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)

// keys is shared by every server of the process; cheapGenerator makes
// certificate material for a new region in well under a millisecond.
var keys = &ca.Shared{Generator: &cheapGenerator{}}

// fuzzServer returns a fresh handler and its error log: memory store,
// fixed clock, override rds-ca-ecc384-g1 for 111111111111 in us-east-1 and
// instances db1 (rds-ca-2019), db2 and db3 (creating) there. In strict mode
// strictKey is 111111111111's key, and the verifier's clock is fuzzNow.
func fuzzServer(t *testing.T, strict bool) (http.Handler, *testenv.SyncBuffer) {
	t.Helper()
	logs := &testenv.SyncBuffer{}
	store := memory.New()
	t.Cleanup(func() { _ = store.Close() })
	cfg := server.Config{
		Store:     store,
		Clock:     clock.NewFixed(fuzzNow),
		Generator: keys,
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError})),
	}
	if strict {
		creds, err := server.NewCredentials(server.Credential{AccessKeyID: strictKey, SecretAccessKey: strictSecret, Account: "111111111111"})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Auth = &server.Auth{Credentials: creds, Now: func() time.Time { return fuzzNow }}
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sc := rds.Scope{Account: "111111111111", Region: "us-east-1"}
	svc := srv.Service()
	if _, err := svc.ModifyCertificates(ctx, sc, rds.ModifyCertificatesInput{CertificateIdentifier: catalog.ECC384G1}); err != nil {
		t.Fatal(err)
	}
	storage := 20
	for _, s := range []struct{ id, ca, status string }{
		{"db1", "rds-ca-2019", rds.StatusAvailable},
		{"db2", "", rds.StatusAvailable},
		{"db3", "", rds.StatusCreating},
	} {
		in := rds.CreateInstanceInput{Identifier: s.id, Class: "db.t3.micro", Engine: "postgres", MasterUsername: "admin",
			MasterUserPassword: "secret-password", AllocatedStorage: &storage, CACertificateIdentifier: s.ca}
		if _, err := svc.SeedInstance(ctx, sc, in, s.status); err != nil {
			t.Fatal(err)
		}
	}
	return srv, logs
}

// cheapGenerator signs every certificate with one P-256 key, keeping the
// spec's validity window (which is all the service reads from it).
type cheapGenerator struct {
	once sync.Once
	key  *ecdsa.PrivateKey
	err  error
}

func (g *cheapGenerator) Generate(s catalog.Spec) (rds.CA, error) {
	g.once.Do(func() { g.key, g.err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	if g.err != nil {
		return rds.CA{}, g.err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return rds.CA{}, err
	}
	name := pkix.Name{CommonName: s.CommonName}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: name, Issuer: name, NotBefore: s.NotBefore, NotAfter: s.NotAfter,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &g.key.PublicKey, g.key)
	if err != nil {
		return rds.CA{}, fmt.Errorf("%s %s: %w", s.Region, s.Identifier, err)
	}
	return rds.CA{Region: s.Region, Identifier: s.Identifier, CertDER: der, KeyDER: []byte("unused")}, nil
}
