package e2e

import (
	"math/rand"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// rawServer starts a fresh in-process server for one raw protocol test.
func rawServer(t *testing.T) *testServer {
	t.Helper()
	return startServer(t, serverOpts{})
}

var (
	timestampElemRe = regexp.MustCompile(`<(ValidFrom|ValidTill|CustomerOverrideValidTill)>([^<]*)</`)
	boolElemRe      = regexp.MustCompile(`<CustomerOverride>([^<]*)</CustomerOverride>`)
)

// checkWireFormats checks timestamps and booleans in a success body.
func checkWireFormats(t *testing.T, body string, wantCerts int) {
	t.Helper()
	ts := timestampElemRe.FindAllStringSubmatch(body, -1)
	if len(ts) < 2*wantCerts {
		t.Fatalf("%d timestamps for %d certificates:\n%s", len(ts), wantCerts, body)
	}
	for _, m := range ts {
		if !timestampRe.MatchString(m[2]) {
			t.Fatalf("%s %q is not yyyy-mm-ddThh:mm:ssZ", m[1], m[2])
		}
	}
	bs := boolElemRe.FindAllStringSubmatch(body, -1)
	if len(bs) != wantCerts {
		t.Fatalf("%d CustomerOverride elements for %d certificates:\n%s", len(bs), wantCerts, body)
	}
	for _, m := range bs {
		if m[1] != "true" && m[1] != "false" {
			t.Fatalf("CustomerOverride %q, want lowercase true/false", m[1])
		}
	}
}

func TestRawDescribeByGETAndPOST(t *testing.T) {
	t.Parallel()
	s := rawServer(t)
	describe := form("Action", "DescribeCertificates", "Version", "2014-10-31")
	cases := map[string]*http.Request{
		"GET query string": newRequest(t, http.MethodGet, s.URL+"/?"+describe, ""),
	}
	for _, ct := range []string{
		"application/x-www-form-urlencoded",
		"application/x-www-form-urlencoded; charset=utf-8",
		"application/x-www-form-urlencoded; charset=UTF-8",
	} {
		r := newRequest(t, http.MethodPost, s.URL+"/", describe)
		r.Header.Set("Content-Type", ct)
		cases["POST "+ct] = r
	}
	shuffled := newRequest(t, http.MethodPost, s.URL+"/", form("MaxRecords", "20", "Version", "2014-10-31", "Action", "DescribeCertificates"))
	shuffled.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cases["POST shuffled order"] = shuffled
	ignored := newRequest(t, http.MethodPost, s.URL+"/", form("Action", "DescribeCertificates", "Version", "2014-10-31",
		"Filters.Filter.1.Name", "certificate-id", "Filters.Filter.1.Values.Value.1", rsa2048, "NoSuchParameter", "x"))
	ignored.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cases["POST with Filters and an unknown parameter"] = ignored
	pathed := newRequest(t, http.MethodPost, s.URL+"/some/prefix", describe)
	pathed.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cases["POST to an endpoint URL with a path"] = pathed

	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			r := do(t, req)
			d := wantDescribe(t, r)
			if got := wireIDs(d.Result.Certificates); strings.Join(got, ",") != ecc384+","+rsa2048+","+rsa4096 {
				t.Fatalf("identifiers %v", got)
			}
			if d.Result.DefaultCertificateForNewLaunches != rsa2048 {
				t.Fatalf("DefaultCertificateForNewLaunches %q", d.Result.DefaultCertificateForNewLaunches)
			}
			if d.Result.Marker != "" {
				t.Fatalf("Marker %q", d.Result.Marker)
			}
			for _, c := range d.Result.Certificates {
				if c.CustomerOverride != "false" || c.CustomerOverrideValidTill != nil {
					t.Fatalf("%s: CustomerOverride %q, CustomerOverrideValidTill %v", c.CertificateIdentifier, c.CustomerOverride, c.CustomerOverrideValidTill)
				}
				if !thumbprintRe.MatchString(c.Thumbprint) || c.CertificateType != "CA" {
					t.Fatalf("%s: %+v", c.CertificateIdentifier, c)
				}
			}
			checkWireFormats(t, r.Body, 3)
		})
	}
}

func TestRawModifyWireFormat(t *testing.T) {
	t.Parallel()
	s := rawServer(t)
	// Shuffled order, mixed-case identifier.
	r := postForm(t, s.URL, form("CertificateIdentifier", "Rds-Ca-Rsa4096-G1", "Version", "2014-10-31", "Action", "ModifyCertificates"))
	m := wantModify(t, r)
	c := m.Result.Certificate
	if c.CertificateIdentifier != rsa4096 || c.CustomerOverride != "true" || c.CustomerOverrideValidTill == nil || *c.CustomerOverrideValidTill != c.ValidTill {
		t.Fatalf("set: %+v", c)
	}
	checkWireFormats(t, r.Body, 1)

	r = do(t, newRequest(t, http.MethodGet, s.URL+"/?Action=DescribeCertificates&Version=2014-10-31", ""))
	d := wantDescribe(t, r)
	checkWireFormats(t, r.Body, 3)
	if strings.Count(r.Body, "<CustomerOverride>true</CustomerOverride>") != 1 || strings.Count(r.Body, "<CustomerOverrideValidTill>") != 1 {
		t.Fatalf("want exactly one overridden certificate:\n%s", r.Body)
	}
	if d.Result.DefaultCertificateForNewLaunches != rsa4096 {
		t.Fatalf("DefaultCertificateForNewLaunches %q", d.Result.DefaultCertificateForNewLaunches)
	}

	// Booleans are read case-insensitively.
	r = postForm(t, s.URL, form("Action", "ModifyCertificates", "Version", "2014-10-31", "RemoveCustomerOverride", "TRUE"))
	c = wantModify(t, r).Result.Certificate
	if c.CertificateIdentifier != rsa2048 || c.CustomerOverride != "false" || c.CustomerOverrideValidTill != nil {
		t.Fatalf("remove: %+v", c)
	}
	if strings.Contains(r.Body, "CustomerOverrideValidTill") {
		t.Fatalf("CustomerOverrideValidTill on a removed override:\n%s", r.Body)
	}
	checkWireFormats(t, r.Body, 1)
}

func TestRawErrors(t *testing.T) {
	t.Parallel()
	s := rawServer(t)
	post := func(body string) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			r := newRequest(t, http.MethodPost, s.URL+"/", body)
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}
	}
	signed := func(auth, body string) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			r := post(body)(t)
			r.Header.Set("Authorization", auth)
			r.Header.Set("X-Amz-Date", "20261204T000000Z")
			return r
		}
	}
	method := func(m string) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			r := newRequest(t, m, s.URL+"/", form("Action", "DescribeCertificates"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}
	}
	describe := form("Action", "DescribeCertificates", "Version", "2014-10-31")
	cases := []struct {
		name    string
		req     func(t *testing.T) *http.Request
		status  int
		code    string
		message string
	}{
		{"missing Action", post(form("Version", "2014-10-31")), 400, "MissingAction", ""},
		{"empty Action", post(form("Action", "", "Version", "2014-10-31")), 400, "MissingAction", ""},
		{"empty body", post(""), 400, "MissingAction", ""},
		{"unknown Action", post(form("Action", "DescribeNothing", "Version", "2014-10-31")), 400, "InvalidAction", ""},
		{"MaxRecords=abc", post(describe + "&MaxRecords=abc"), 400, "InvalidParameterValue", ""},
		{"MaxRecords overflow", post(describe + "&MaxRecords=99999999999999999999"), 400, "InvalidParameterValue", ""},
		{"MaxRecords=19", post(describe + "&MaxRecords=19"), 400, "InvalidParameterValue", "Invalid value 19 for MaxRecords. Must be between 20 and 100."},
		{"MaxRecords=101", post(describe + "&MaxRecords=101"), 400, "InvalidParameterValue", "Invalid value 101 for MaxRecords. Must be between 20 and 100."},
		{"bad Marker", post(describe + "&Marker=not-a-marker%21"), 400, "InvalidParameterValue", ""},
		{"RemoveCustomerOverride=maybe", post(form("Action", "ModifyCertificates", "RemoveCustomerOverride", "maybe")), 400, "InvalidParameterValue", ""},
		{"both parameters", post(form("Action", "ModifyCertificates", "CertificateIdentifier", rsa2048, "RemoveCustomerOverride", "true")), 400, "InvalidParameterCombination", ""},
		{"neither parameter", post(form("Action", "ModifyCertificates")), 400, "InvalidParameterCombination", ""},
		{"empty CertificateIdentifier", post(form("Action", "ModifyCertificates", "CertificateIdentifier", "")), 400, "InvalidParameterCombination", ""},
		{"RemoveCustomerOverride=false alone", post(form("Action", "ModifyCertificates", "RemoveCustomerOverride", "false")), 400, "InvalidParameterCombination", ""},
		{"unknown certificate", post(form("Action", "ModifyCertificates", "CertificateIdentifier", "rds-ca-nope")), 404, "CertificateNotFound", "Certificate rds-ca-nope not found"},
		{"describe unknown certificate", post(describe + "&CertificateIdentifier=rds-ca-nope"), 404, "CertificateNotFound", "Certificate rds-ca-nope not found"},
		{"Authorization Credential=x", signed("AWS4-HMAC-SHA256 Credential=x", describe), 400, "IncompleteSignature", ""},
		{"Authorization without Signature", signed("AWS4-HMAC-SHA256 Credential=111111111111/20261204/us-east-1/rds/aws4_request, SignedHeaders=host;x-amz-date", describe), 400, "IncompleteSignature", ""},
		{"Authorization algorithm only", signed("AWS4-HMAC-SHA256", describe), 400, "IncompleteSignature", ""},
		{"Authorization other scheme", signed("Bearer abc", describe), 400, "IncompleteSignature", ""},
		{"Authorization short scope", signed("AWS4-HMAC-SHA256 Credential=111111111111/20261204/us-east-1, SignedHeaders=host, Signature=00", describe), 400, "IncompleteSignature", ""},
		{"Authorization other service", signed("AWS4-HMAC-SHA256 Credential=111111111111/20261204/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00", describe), 403, "SignatureDoesNotMatch", ""},
		{"percent-encoding %zz in body", post("Action=DescribeCertificates&MaxRecords=%zz"), 400, "", ""},
		{"percent-encoding %zz in query", func(t *testing.T) *http.Request {
			return newRequest(t, http.MethodGet, s.URL+"/?Action=DescribeCertificates&x=%zz", "")
		}, 400, "", ""},
		{"PUT", method(http.MethodPut), 405, "", ""},
		{"DELETE", method(http.MethodDelete), 405, "", ""},
		{"PATCH", method(http.MethodPatch), 405, "", ""},
		{"body over 1 MiB", post(describe + "&Pad=" + strings.Repeat("a", 1<<20)), 413, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, tc.req(t))
			e := wantErrorResponse(t, r, tc.status, tc.code)
			if tc.message != "" && e.Error.Message != tc.message {
				t.Fatalf("Message %q, want %q", e.Error.Message, tc.message)
			}
		})
	}
}

// TestRawGarbageNeverFails500 sends random bodies and query strings: every
// answer is a 4xx ErrorResponse (or a 200 when the garbage happens to be a
// valid request), never a 5xx.
func TestRawGarbageNeverFails500(t *testing.T) {
	t.Parallel()
	s := rawServer(t)
	rng := rand.New(rand.NewSource(20261204))
	alphabet := []byte("%&=+;ActionDescribeCertificatesModify\x00\xff\xfe<>\"'\n\r\t zZ09")
	gen := func() string {
		b := make([]byte, rng.Intn(200))
		for i := range b {
			if rng.Intn(3) == 0 {
				b[i] = byte(rng.Intn(256))
			} else {
				b[i] = alphabet[rng.Intn(len(alphabet))]
			}
		}
		return string(b)
	}
	bodies := []string{
		"%zz", "%", "%%", "Action=%zz", "Action=DescribeCertificates%zz", "=&=&=", "Action=Describe\x00Certificates",
		"Action=" + strings.Repeat("\xff", 100), "Action=<x>&Version=]]>", "Action=ModifyCertificates&CertificateIdentifier=%00",
		"Action=DescribeCertificates&CertificateIdentifier=%ff%fe", "Action=DescribeCertificates&Marker=%ff",
		"Action=DescribeCertificates&MaxRecords=%2B20", "Action=DescribeCertificates&MaxRecords=+20",
		"Action=DescribeCertificates;MaxRecords=20",
	}
	for i := 0; i < 300; i++ {
		bodies = append(bodies, gen())
	}
	for i, body := range bodies {
		r := postForm(t, s.URL, body)
		if r.Status == http.StatusOK {
			continue
		}
		if r.Status < 400 || r.Status >= 500 {
			t.Fatalf("body %d %q: status %d\n%s", i, body, r.Status, r.Body)
		}
		wantErrorResponse(t, r, r.Status, "")
	}
	for i := 0; i < 100; i++ {
		q := gen()
		req, err := http.NewRequest(http.MethodGet, s.URL+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		// RawQuery bypasses client-side escaping; drop what HTTP/1.1 cannot carry.
		req.URL.RawQuery = strings.Map(func(r rune) rune {
			if r <= ' ' || r == 0x7f || r == '#' || r >= 0x80 {
				return -1
			}
			return r
		}, q)
		r := do(t, req)
		if r.Status == http.StatusOK {
			continue
		}
		if r.Status < 400 || r.Status >= 500 {
			t.Fatalf("query %q: status %d\n%s", req.URL.RawQuery, r.Status, r.Body)
		}
		wantErrorResponse(t, r, r.Status, "")
	}
}

// TestRawSignedHeaderSetsScope hand-writes SigV4 Authorization headers: the
// credential scope alone picks account and region (signatures are not checked).
func TestRawSignedHeaderSetsScope(t *testing.T) {
	t.Parallel()
	s := rawServer(t)
	auth := func(key, region string) string {
		return "AWS4-HMAC-SHA256 Credential=" + key + "/20261204/" + region + "/rds/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=" + strings.Repeat("0", 64)
	}
	req := newRequest(t, http.MethodPost, s.URL+"/", form("Action", "ModifyCertificates", "Version", "2014-10-31", "CertificateIdentifier", ecc384))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Authorization", auth("333333333333", "eu-west-1"))
	req.Header.Set("X-Amz-Date", "20261204T000000Z")
	m := wantModify(t, do(t, req))
	if m.Result.Certificate.CertificateArn != "arn:aws:rds:eu-west-1::cert:"+ecc384 {
		t.Fatalf("ARN %q", m.Result.Certificate.CertificateArn)
	}
	wantOverride(t, describeAll(t, newClient(t, s.URL, "333333333333", "eu-west-1")), ecc384, ecc384)
	wantOverride(t, describeAll(t, newClient(t, s.URL, "333333333333", "us-east-1")), "", rsa2048)
	wantOverride(t, describeAll(t, newClient(t, s.URL, defaultAccount, "eu-west-1")), "", rsa2048)

	// Presigned query-string credentials scope the same way.
	q := form("Action", "DescribeCertificates", "Version", "2014-10-31",
		"X-Amz-Algorithm", "AWS4-HMAC-SHA256",
		"X-Amz-Credential", "333333333333/20261204/eu-west-1/rds/aws4_request",
		"X-Amz-Date", "20261204T000000Z", "X-Amz-SignedHeaders", "host",
		"X-Amz-Signature", strings.Repeat("0", 64))
	d := wantDescribe(t, do(t, newRequest(t, http.MethodGet, s.URL+"/?"+q, "")))
	if d.Result.DefaultCertificateForNewLaunches != ecc384 {
		t.Fatalf("presigned: default %q, want %s", d.Result.DefaultCertificateForNewLaunches, ecc384)
	}
}
