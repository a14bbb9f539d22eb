package rdsapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"

	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/rds"
)

// The XML round trip: wire shapes built from domain values holding
// arbitrary strings, encoded by the converters and the awsquery envelope,
// then decoded by aws-sdk-go-v2's rds client. A string that is valid UTF-8
// made of XML characters comes back exactly; any other comes back with each
// invalid byte or non-XML character replaced by U+FFFD (encoding/xml's
// escaping), and never breaks parsing. Seeds: testdata/fuzz/FuzzDBInstanceXML
// and testdata/fuzz/FuzzShapesXML; grow them with
//
//	go test -run '^$' -fuzz '^FuzzDBInstanceXML$' -fuzztime 60s ./rdsapi

// wireText is what an XML parser reads back for s once encoded.
func wireText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && w == 1) || !xmlChar(r) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
		i += w
	}
	return b.String()
}

// xmlChar reports whether r is a Char of XML 1.0.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// payload is what the fuzzed operation answers, carried in the context
// of the SDK call; body receives the response body for failure messages.
type payload struct {
	result any
	err    error
	body   []byte
}

type payloadKey struct{}

// handlerClient is an aws.HTTPClient that serves requests with h in process.
type handlerClient struct{ h http.Handler }

func (c handlerClient) Do(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, r)
	if p, ok := r.Context().Value(payloadKey{}).(*payload); ok {
		p.body = rec.Body.Bytes()
	}
	return rec.Result(), nil
}

// roundTripClient returns an SDK client whose calls of the given actions
// are answered with the payload in their context, through a real
// awsquery.Server with the RDS namespace and status table.
func roundTripClient(actions ...string) *rdssdk.Client {
	s := awsquery.NewServer(awsquery.Config{
		Namespace: Namespace,
		Version:   Version,
		Identify: func(*http.Request, []byte) (awsquery.Caller, error) {
			return awsquery.Caller{Account: "111111111111", Region: "us-east-1"}, nil
		},
		Statuses:  Statuses,
		RequestID: func() string { return "00000000-0000-4000-8000-000000000000" },
	})
	for _, a := range actions {
		awsquery.Handle(s, a, func(awsquery.Params) (struct{}, error) { return struct{}{}, nil },
			func(ctx context.Context, _ awsquery.Caller, _ struct{}) (any, error) {
				p := ctx.Value(payloadKey{}).(*payload)
				return p.result, p.err
			})
	}
	return rdssdk.NewFromConfig(aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "111111111111", SecretAccessKey: "secret"}, nil
		}),
		BaseEndpoint:     aws.String("http://rdsapi.fuzz.invalid"),
		HTTPClient:       handlerClient{s},
		RetryMaxAttempts: 1,
		Retryer:          func() aws.Retryer { return aws.NopRetryer{} },
	})
}

func withPayload(p *payload) context.Context {
	return context.WithValue(context.Background(), payloadKey{}, p)
}

// fuzzTime maps n onto the instants a timestamp can show: whole
// milliseconds from 1970 to 9999.
func fuzzTime(n int64) time.Time {
	const max = 253402300799999 // 9999-12-31T23:59:59.999Z
	if n < 0 {
		n = -(n + 1)
	}
	return time.UnixMilli(n % (max + 1)).UTC()
}

// comparer fails the test on the first difference, showing the body.
type comparer struct {
	t *testing.T
	p *payload
}

func (c comparer) str(what string, got *string, sent string) {
	c.t.Helper()
	if g, w := aws.ToString(got), wireText(sent); g != w {
		c.t.Fatalf("%s: sent %q, SDK read %q, want %q\nbody:\n%s", what, sent, g, w, c.p.body)
	}
}

func (c comparer) time(what string, got *time.Time, want *time.Time) {
	c.t.Helper()
	switch {
	case want == nil && got != nil:
		c.t.Fatalf("%s: SDK read %v, sent none\nbody:\n%s", what, got, c.p.body)
	case want != nil && (got == nil || !got.Equal(*want)):
		c.t.Fatalf("%s: SDK read %v, want %v\nbody:\n%s", what, got, *want, c.p.body)
	}
}

func (c comparer) int(what string, got *int32, want int) {
	c.t.Helper()
	if got == nil || int(*got) != want {
		c.t.Fatalf("%s: SDK read %v, want %d\nbody:\n%s", what, got, want, c.p.body)
	}
}

func (c comparer) bool(what string, got *bool, want bool) {
	c.t.Helper()
	if got == nil || *got != want {
		c.t.Fatalf("%s: SDK read %v, want %v\nbody:\n%s", what, got, want, c.p.body)
	}
}

// FuzzDBInstanceXML round-trips DBInstance, the shape written by
// awsquery.Builder, through DescribeDBInstances (two instances and a
// Marker) and CreateDBInstance.
func FuzzDBInstanceXML(f *testing.F) {
	f.Add("mydb", "db.t3.micro", "postgres", int32(5432), int64(1780531200123), uint8(0))
	f.Add("", "", "", int32(0), int64(0), uint8(0xff))
	f.Add("<a&b>'\"", "\t\n\r x ", "]]>", int32(-1), int64(-1), uint8(1))
	f.Add("\x00\x1f\xff\xfe", "\uFFFE\uFFFF\U0010FFFF", "é€𝄞\ufffd", int32(2147483647), int64(253402300799999), uint8(2))
	f.Add("\ud7ff\ue000", "a\u2028b\u0085c", "</DBInstance><x>", int32(-2147483648), int64(9e18), uint8(0x55))
	client := roundTripClient("DescribeDBInstances", "CreateDBInstance")
	statuses := []string{rds.StatusAvailable, rds.StatusCreating, "deleting", "modifying"}
	f.Fuzz(func(t *testing.T, a, b, c string, n int32, ms int64, flags uint8) {
		at := fuzzTime(ms)
		mk := func(a, b, c string, flags uint8) rds.InstanceView {
			v := rds.InstanceView{
				Instance: rds.Instance{
					Identifier: a, Class: b, Engine: c, MasterUsername: b, AllocatedStorage: int(n),
					AvailabilityZone: c, MaintenanceWindow: a, EngineVersion: b, ResourceID: c,
				},
				ARN: a + ":" + b, Status: statuses[int(flags)%len(statuses)],
				CACertificateIdentifier: c, CertificateCA: a, PendingCA: b,
				PendingMasterUserPassword: flags&4 != 0,
			}
			if flags&8 != 0 {
				v.Status = a
			}
			if flags&16 == 0 {
				v.Endpoint = &rds.Endpoint{Address: c + "." + a, Port: int(n), HostedZoneID: b}
			}
			if flags&32 == 0 {
				t := at.Truncate(time.Millisecond)
				v.CreateTime = &t
			}
			if flags&64 == 0 {
				t := fuzzTime(ms / 3)
				v.CertificateValidTill = &t
			}
			return v
		}
		views := []rds.InstanceView{mk(a, b, c, flags), mk(c, a, b, flags>>1|flags<<7)}
		marker := ""
		if flags&128 != 0 {
			marker = a + b
		}
		p := &payload{result: toDescribeDBInstancesResult(&rds.DescribeInstancesOutput{Instances: views, Marker: marker})}
		out, err := client.DescribeDBInstances(withPayload(p), &rdssdk.DescribeDBInstancesInput{})
		if err != nil {
			t.Fatalf("DescribeDBInstances: %v\nbody:\n%s", err, p.body)
		}
		cmp := comparer{t, p}
		cmp.str("Marker", out.Marker, marker)
		if len(out.DBInstances) != len(views) {
			t.Fatalf("%d instances, want %d\nbody:\n%s", len(out.DBInstances), len(views), p.body)
		}
		for i := range views {
			checkDBInstance(cmp, &out.DBInstances[i], &views[i])
		}

		p = &payload{result: toDBInstanceResult(&views[1])}
		one, err := client.CreateDBInstance(withPayload(p), &rdssdk.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String("x"), DBInstanceClass: aws.String("db.t3.micro"), Engine: aws.String("postgres")})
		if err != nil {
			t.Fatalf("CreateDBInstance: %v\nbody:\n%s", err, p.body)
		}
		if one.DBInstance == nil {
			t.Fatalf("CreateDBInstance: no DBInstance\nbody:\n%s", p.body)
		}
		checkDBInstance(comparer{t, p}, one.DBInstance, &views[1])
	})
}

func checkDBInstance(c comparer, got *types.DBInstance, v *rds.InstanceView) {
	c.t.Helper()
	c.str("DBInstanceIdentifier", got.DBInstanceIdentifier, v.Identifier)
	c.str("DBInstanceClass", got.DBInstanceClass, v.Class)
	c.str("Engine", got.Engine, v.Engine)
	c.str("DBInstanceStatus", got.DBInstanceStatus, v.Status)
	c.str("MasterUsername", got.MasterUsername, v.MasterUsername)
	if v.Endpoint == nil {
		if got.Endpoint != nil {
			c.t.Fatalf("an Endpoint %+v, sent none\nbody:\n%s", got.Endpoint, c.p.body)
		}
	} else {
		if got.Endpoint == nil {
			c.t.Fatalf("no Endpoint\nbody:\n%s", c.p.body)
		}
		c.str("Endpoint.Address", got.Endpoint.Address, v.Endpoint.Address)
		c.int("Endpoint.Port", got.Endpoint.Port, v.Endpoint.Port)
		c.str("Endpoint.HostedZoneId", got.Endpoint.HostedZoneId, v.Endpoint.HostedZoneID)
	}
	c.int("AllocatedStorage", got.AllocatedStorage, v.AllocatedStorage)
	c.time("InstanceCreateTime", got.InstanceCreateTime, v.CreateTime)
	az := v.AvailabilityZone
	if v.Status == rds.StatusCreating {
		az = ""
	}
	c.str("AvailabilityZone", got.AvailabilityZone, az)
	c.str("PreferredMaintenanceWindow", got.PreferredMaintenanceWindow, v.MaintenanceWindow)
	if got.PendingModifiedValues == nil {
		c.t.Fatalf("no PendingModifiedValues\nbody:\n%s", c.p.body)
	}
	pw := ""
	if v.PendingMasterUserPassword {
		pw = "****"
	}
	c.str("PendingModifiedValues.MasterUserPassword", got.PendingModifiedValues.MasterUserPassword, pw)
	c.str("PendingModifiedValues.CACertificateIdentifier", got.PendingModifiedValues.CACertificateIdentifier, v.PendingCA)
	c.str("EngineVersion", got.EngineVersion, v.EngineVersion)
	c.str("DbiResourceId", got.DbiResourceId, v.ResourceID)
	c.str("CACertificateIdentifier", got.CACertificateIdentifier, v.CACertificateIdentifier)
	c.str("DBInstanceArn", got.DBInstanceArn, v.ARN)
	if v.CertificateCA == "" {
		if got.CertificateDetails != nil {
			c.t.Fatalf("CertificateDetails %+v, sent none\nbody:\n%s", got.CertificateDetails, c.p.body)
		}
	} else {
		if got.CertificateDetails == nil {
			c.t.Fatalf("no CertificateDetails\nbody:\n%s", c.p.body)
		}
		c.str("CertificateDetails.CAIdentifier", got.CertificateDetails.CAIdentifier, v.CertificateCA)
		var till *time.Time
		if v.CertificateValidTill != nil {
			t := v.CertificateValidTill.Truncate(time.Second)
			till = &t
		}
		c.time("CertificateDetails.ValidTill", got.CertificateDetails.ValidTill, till)
	}
	c.bool("MultiAZ", got.MultiAZ, false)
	c.bool("StorageEncrypted", got.StorageEncrypted, false)
}

// FuzzShapesXML round-trips the shapes written by encoding/xml: Certificate
// (DescribeCertificates through the certificate cache, ModifyCertificates),
// the pending maintenance shapes, DBEngineVersion, and the ErrorResponse.
func FuzzShapesXML(f *testing.F) {
	f.Add("rds-ca-rsa2048-g1", "CA", "arn:aws:rds:us-east-1::cert:rds-ca-rsa2048-g1", int64(2884032000000), uint8(0))
	f.Add("", "", "", int64(0), uint8(0xff))
	f.Add("<x>&amp;'\"", "\t\n\r  ", "]]><!--", int64(-5), uint8(3))
	f.Add("\x00\xc3\x28", "\uFFFE\U0001F600", "CertificateNotFound", int64(253402300799000), uint8(0x81))
	f.Add("CertificateNotFound", "", "R", int64(86400000), uint8(0x40))
	f.Add("InvalidParameterValue", "The parameter Marker is not valid: \xff", "InternalFailure", int64(1), uint8(0x80))
	client := roundTripClient("DescribeCertificates", "ModifyCertificates", "DescribePendingMaintenanceActions", "DescribeDBEngineVersions")
	f.Fuzz(func(t *testing.T, a, b, c string, ms int64, flags uint8) {
		from := fuzzTime(ms).Truncate(time.Second)
		till := fuzzTime(ms / 2).Truncate(time.Second)
		certs := []rds.Certificate{
			{Identifier: a, Type: b, Thumbprint: c, ValidFrom: from, ValidTill: till, ARN: c + "#0", CustomerOverride: flags&1 != 0},
			{Identifier: c, Type: a, Thumbprint: b, ValidFrom: till, ValidTill: from, ARN: a + "#1", CustomerOverride: flags&2 != 0},
			{Identifier: b, Type: c, Thumbprint: a, ValidFrom: from, ValidTill: from, ARN: b + "#2"},
		}
		for i := range certs {
			if certs[i].CustomerOverride {
				t := certs[i].ValidTill
				certs[i].CustomerOverrideValidTill = &t
			}
		}
		marker := ""
		if flags&4 != 0 {
			marker = b + a
		}
		cc := &certificateCache{}
		res, err := cc.toDescribeCertificatesResult(&rds.DescribeCertificatesOutput{Certificates: certs, Marker: marker, DefaultCertificateForNewLaunches: c})
		if err != nil {
			t.Fatal(err)
		}
		p := &payload{result: res}
		out, err := client.DescribeCertificates(withPayload(p), &rdssdk.DescribeCertificatesInput{})
		if err != nil {
			t.Fatalf("DescribeCertificates: %v\nbody:\n%s", err, p.body)
		}
		cmp := comparer{t, p}
		cmp.str("DefaultCertificateForNewLaunches", out.DefaultCertificateForNewLaunches, c)
		cmp.str("Marker", out.Marker, marker)
		if len(out.Certificates) != len(certs) {
			t.Fatalf("%d certificates, want %d\nbody:\n%s", len(out.Certificates), len(certs), p.body)
		}
		for i := range certs {
			checkCertificate(cmp, &out.Certificates[i], &certs[i])
		}

		p = &payload{result: modifyCertificatesResult{Certificate: toCertificate(certs[1])}}
		mod, err := client.ModifyCertificates(withPayload(p), &rdssdk.ModifyCertificatesInput{})
		if err != nil {
			t.Fatalf("ModifyCertificates: %v\nbody:\n%s", err, p.body)
		}
		if mod.Certificate == nil {
			t.Fatalf("ModifyCertificates: no Certificate\nbody:\n%s", p.body)
		}
		checkCertificate(comparer{t, p}, mod.Certificate, &certs[1])

		checkMaintenance(t, client, a, b, c, from, till, flags)
		checkEngineVersions(t, client, a, b, c, flags)
		checkError(t, client, a, b, c)
	})
}

func checkCertificate(c comparer, got *types.Certificate, want *rds.Certificate) {
	c.t.Helper()
	c.str("CertificateIdentifier", got.CertificateIdentifier, want.Identifier)
	c.str("CertificateType", got.CertificateType, want.Type)
	c.str("Thumbprint", got.Thumbprint, want.Thumbprint)
	c.time("ValidFrom", got.ValidFrom, &want.ValidFrom)
	c.time("ValidTill", got.ValidTill, &want.ValidTill)
	c.str("CertificateArn", got.CertificateArn, want.ARN)
	c.bool("CustomerOverride", got.CustomerOverride, want.CustomerOverride)
	c.time("CustomerOverrideValidTill", got.CustomerOverrideValidTill, want.CustomerOverrideValidTill)
}

func checkMaintenance(t *testing.T, client *rdssdk.Client, a, b, c string, from, till time.Time, flags uint8) {
	t.Helper()
	opt := func(bit uint8, tm time.Time) *time.Time {
		if flags&bit == 0 {
			return nil
		}
		return &tm
	}
	in := &rds.DescribePendingMaintenanceOutput{Resources: []rds.ResourcePendingActions{
		{ResourceIdentifier: a, Actions: []rds.PendingMaintenanceAction{
			{Action: b, Description: c, OptInStatus: a, CurrentApplyDate: opt(8, from), AutoAppliedAfterDate: opt(16, till), ForcedApplyDate: opt(32, from)},
			{Action: c, Description: a, OptInStatus: b},
		}},
		{ResourceIdentifier: c},
	}}
	if flags&64 != 0 {
		in.Marker = c + a
	}
	p := &payload{result: toDescribePendingMaintenanceActionsResult(in)}
	out, err := client.DescribePendingMaintenanceActions(withPayload(p), &rdssdk.DescribePendingMaintenanceActionsInput{})
	if err != nil {
		t.Fatalf("DescribePendingMaintenanceActions: %v\nbody:\n%s", err, p.body)
	}
	cmp := comparer{t, p}
	cmp.str("Marker", out.Marker, in.Marker)
	if len(out.PendingMaintenanceActions) != len(in.Resources) {
		t.Fatalf("%d resources, want %d\nbody:\n%s", len(out.PendingMaintenanceActions), len(in.Resources), p.body)
	}
	for i, r := range in.Resources {
		got := out.PendingMaintenanceActions[i]
		cmp.str("ResourceIdentifier", got.ResourceIdentifier, r.ResourceIdentifier)
		if len(got.PendingMaintenanceActionDetails) != len(r.Actions) {
			t.Fatalf("%d actions, want %d\nbody:\n%s", len(got.PendingMaintenanceActionDetails), len(r.Actions), p.body)
		}
		for j, act := range r.Actions {
			g := got.PendingMaintenanceActionDetails[j]
			cmp.str("Action", g.Action, act.Action)
			cmp.str("Description", g.Description, act.Description)
			cmp.str("OptInStatus", g.OptInStatus, act.OptInStatus)
			cmp.time("CurrentApplyDate", g.CurrentApplyDate, act.CurrentApplyDate)
			cmp.time("AutoAppliedAfterDate", g.AutoAppliedAfterDate, act.AutoAppliedAfterDate)
			cmp.time("ForcedApplyDate", g.ForcedApplyDate, act.ForcedApplyDate)
		}
	}
}

func checkEngineVersions(t *testing.T, client *rdssdk.Client, a, b, c string, flags uint8) {
	t.Helper()
	in := &rds.DescribeEngineVersionsOutput{Versions: []rds.EngineVersionView{
		{EngineVersion: rds.EngineVersion{Engine: a, Version: b, Family: a + c, EngineDescription: c, VersionDescription: b + c, RotatesWithoutRestart: flags&1 != 0},
			SupportedCAs: []string{a, b, "", c}},
		{EngineVersion: rds.EngineVersion{Engine: c, Family: b}},
	}}
	p := &payload{result: toDescribeDBEngineVersionsResult(in)}
	out, err := client.DescribeDBEngineVersions(withPayload(p), &rdssdk.DescribeDBEngineVersionsInput{})
	if err != nil {
		t.Fatalf("DescribeDBEngineVersions: %v\nbody:\n%s", err, p.body)
	}
	cmp := comparer{t, p}
	if len(out.DBEngineVersions) != len(in.Versions) {
		t.Fatalf("%d engine versions, want %d\nbody:\n%s", len(out.DBEngineVersions), len(in.Versions), p.body)
	}
	for i, v := range in.Versions {
		g := out.DBEngineVersions[i]
		cmp.str("Engine", g.Engine, v.Engine)
		cmp.str("MajorEngineVersion", g.MajorEngineVersion, strings.TrimPrefix(v.Family, v.Engine))
		cmp.str("EngineVersion", g.EngineVersion, v.Version)
		cmp.str("DBParameterGroupFamily", g.DBParameterGroupFamily, v.Family)
		cmp.str("DBEngineDescription", g.DBEngineDescription, v.EngineDescription)
		cmp.str("DBEngineVersionDescription", g.DBEngineVersionDescription, v.VersionDescription)
		cmp.bool("SupportsCertificateRotationWithoutRestart", g.SupportsCertificateRotationWithoutRestart, v.RotatesWithoutRestart)
		if len(g.SupportedCACertificateIdentifiers) != len(v.SupportedCAs) {
			t.Fatalf("SupportedCACertificateIdentifiers %q, want %q\nbody:\n%s", g.SupportedCACertificateIdentifiers, v.SupportedCAs, p.body)
		}
		for j, ca := range v.SupportedCAs {
			cmp.str("SupportedCACertificateIdentifiers", &g.SupportedCACertificateIdentifiers[j], ca)
		}
	}
}

// checkError sends an ErrorResponse with code a and message b (c is the
// fault): the SDK reads the same code and message, whatever the status.
func checkError(t *testing.T, client *rdssdk.Client, a, b, c string) {
	t.Helper()
	fault := rds.Sender
	if strings.HasPrefix(c, "R") {
		fault = rds.Receiver
	}
	p := &payload{err: &rds.Error{Code: a, Message: b, Fault: fault}}
	_, err := client.DescribeCertificates(withPayload(p), &rdssdk.DescribeCertificatesInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an API error\nbody:\n%s", err, err, p.body)
	}
	wantCode, wantMsg := wireText(a), wireText(b)
	if wantCode == "" {
		wantCode = "UnknownError" // the SDK's name for an error without a code
	}
	if wantMsg == "" {
		wantMsg = "UnknownError" // and for one without a message
	}
	if ae.ErrorCode() != wantCode {
		t.Fatalf("error code: sent %q, SDK read %q, want %q\nbody:\n%s", a, ae.ErrorCode(), wantCode, p.body)
	}
	var generic *smithy.GenericAPIError
	if errors.As(err, &generic) && ae.ErrorMessage() != wantMsg {
		t.Fatalf("error message: sent %q, SDK read %q, want %q\nbody:\n%s", b, ae.ErrorMessage(), wantMsg, p.body)
	}
}
