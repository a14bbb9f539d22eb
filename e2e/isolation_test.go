package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/rdsca/rdsca/clock"

	"github.com/rdsca/rdsca/internal/testenv"
)

// Isolation through aws-sdk-go-v2: what one (account, region) writes (its
// override, its instances, their pending maintenance and opt-ins) is
// invisible to, and out of reach of, every other account and region, even
// under the same instance identifiers and with the other scope's ARNs. In
// open mode the account is the access key id; in strict mode
// (TestStrictModeIsolation) it is the account the credentials file gives
// the key, and a key cannot be used without its secret.

// jul2024 lists rds-ca-2019 (it expires 2024-08-22) but defaults new
// instances to rds-ca-rsa2048-g1; an instance on rds-ca-2019 is within the
// 90 days' notice, so it has a pending ca-certificate-rotation.
var jul2024 = time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)

// isoScope is one caller of an isolation test.
type isoScope struct {
	name            string
	account, region string
	c               *rdssdk.Client
}

func (s isoScope) arn(id string) string { return instanceARN(s.account, s.region, id) }

// listIDs lists the scope's instances through the paginator.
func listIDs(t *testing.T, s isoScope) []string {
	t.Helper()
	var ids []string
	p := rdssdk.NewDescribeDBInstancesPaginator(s.c, &rdssdk.DescribeDBInstancesInput{MaxRecords: aws.Int32(20)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("%s: DescribeDBInstances: %v", s.name, err)
		}
		for _, d := range out.DBInstances {
			ids = append(ids, aws.ToString(d.DBInstanceIdentifier))
		}
	}
	return ids
}

func wantIDs(t *testing.T, s isoScope, want ...string) {
	t.Helper()
	if got := listIDs(t, s); !slices.Equal(got, want) {
		t.Fatalf("%s lists %v, want %v", s.name, got, want)
	}
}

// wantPending checks the scope's pending maintenance is exactly on arns.
func wantPending(t *testing.T, s isoScope, arns ...string) map[string][]types.PendingMaintenanceAction {
	t.Helper()
	acts := pendingActions(t, s.c, nil)
	got := keysOf(acts)
	slices.Sort(got)
	slices.Sort(arns)
	if !slices.Equal(got, arns) {
		t.Fatalf("%s: pending maintenance on %v, want %v", s.name, got, arns)
	}
	return acts
}

// checkScopeIsolation runs the isolation story against a server at
// jul2024 with transition delay 0. a and b are two accounts in us-east-1,
// aWest is a's account in eu-west-1; the scopes start empty.
func checkScopeIsolation(t *testing.T, a, b, aWest isoScope) {
	t.Helper()
	// Overrides.
	modify(t, a.c, rsa4096)
	wantOverride(t, describeAll(t, a.c), rsa4096, rsa4096)
	wantOverride(t, describeAll(t, b.c), "", rsa2048)
	wantOverride(t, describeAll(t, aWest.c), "", rsa2048)

	// Instances: the same identifier in three scopes, plus one of a's own.
	const same, own = "same-name", "only-a"
	for _, s := range []isoScope{a, b, aWest} {
		d := createDB(t, s.c, createInput(same, "postgres"))
		if got := aws.ToString(d.DBInstanceArn); got != s.arn(same) {
			t.Fatalf("%s: ARN %s, want %s", s.name, got, s.arn(same))
		}
	}
	createDB(t, a.c, createInput(own, "postgres"))
	wantIDs(t, a, own, same)
	wantIDs(t, b, same)
	wantIDs(t, aWest, same)
	// Each got its own scope's default CA: only a has an override.
	for _, tc := range []struct {
		s  isoScope
		ca string
	}{{a, rsa4096}, {b, rsa2048}, {aWest, rsa2048}} {
		if got := aws.ToString(describeDB(t, tc.s.c, same).CACertificateIdentifier); got != tc.ca {
			t.Fatalf("%s: %s has CA %s, want %s (its own default)", tc.s.name, same, got, tc.ca)
		}
	}
	ra, rb := aws.ToString(describeDB(t, a.c, same).DbiResourceId), aws.ToString(describeDB(t, b.c, same).DbiResourceId)
	if ra == rb {
		t.Fatalf("%s in two accounts shares DbiResourceId %s", same, ra)
	}

	// Nothing of a's is reachable from b or from a's other region: not by
	// identifier, not by ARN, not through a filter, not for writing.
	for _, s := range []isoScope{b, aWest} {
		for _, id := range []string{own, a.arn(own), a.arn(same)} {
			_, err := s.c.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
			wantAPIError(t, err, "DBInstanceNotFound", http.StatusNotFound)
		}
		out, err := s.c.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{Filters: []types.Filter{
			{Name: aws.String("db-instance-id"), Values: []string{a.arn(own), a.arn(same)}}}})
		if err != nil || len(out.DBInstances) != 0 {
			t.Fatalf("%s: filtering on %s's ARNs: %v, %d instances", s.name, a.name, err, len(out.DBInstances))
		}
		out, err = s.c.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{Filters: []types.Filter{
			{Name: aws.String("dbi-resource-id"), Values: []string{ra}}}})
		if err != nil || len(out.DBInstances) != 0 {
			t.Fatalf("%s: filtering on %s's resource id: %v, %d instances", s.name, a.name, err, len(out.DBInstances))
		}
		for _, id := range []string{own, a.arn(own)} {
			_, err = s.c.ModifyDBInstance(ctx(t), &rdssdk.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(id),
				CACertificateIdentifier: aws.String(ecc384), ApplyImmediately: aws.Bool(true)})
			wantAPIError(t, err, "DBInstanceNotFound", http.StatusNotFound)
			_, err = s.c.RebootDBInstance(ctx(t), &rdssdk.RebootDBInstanceInput{DBInstanceIdentifier: aws.String(id)})
			wantAPIError(t, err, "DBInstanceNotFound", http.StatusNotFound)
			_, err = s.c.DeleteDBInstance(ctx(t), &rdssdk.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(id), SkipFinalSnapshot: aws.Bool(true)})
			wantAPIError(t, err, "DBInstanceNotFound", http.StatusNotFound)
		}
	}
	if d := describeDB(t, a.c, own); aws.ToString(d.DBInstanceStatus) != "available" || aws.ToString(d.CACertificateIdentifier) != rsa4096 {
		t.Fatalf("%s's %s after the others' writes: %s, CA %s", a.name, own, aws.ToString(d.DBInstanceStatus), aws.ToString(d.CACertificateIdentifier))
	}

	// Writes to the same identifier elsewhere leave a's alone.
	if _, err := b.c.ModifyDBInstance(ctx(t), &rdssdk.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(same),
		CACertificateIdentifier: aws.String(ecc384), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatalf("%s: ModifyDBInstance: %v", b.name, err)
	}
	if _, err := aWest.c.DeleteDBInstance(ctx(t), &rdssdk.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(same), SkipFinalSnapshot: aws.Bool(true)}); err != nil {
		t.Fatalf("%s: DeleteDBInstance: %v", aWest.name, err)
	}
	if got := aws.ToString(describeDB(t, b.c, same).CACertificateIdentifier); got != ecc384 {
		t.Fatalf("%s: %s has CA %s after its rotation to %s", b.name, same, got, ecc384)
	}
	if got := aws.ToString(describeDB(t, a.c, same).CACertificateIdentifier); got != rsa4096 {
		t.Fatalf("%s: %s has CA %s after %s rotated its own %s", a.name, same, got, b.name, same)
	}
	wantIDs(t, a, own, same)
	wantIDs(t, aWest)

	// Pending maintenance: instances on rds-ca-2019 in each scope.
	const old = "on-2019"
	for _, s := range []isoScope{a, b, aWest} {
		in := createInput(old, "postgres")
		in.CACertificateIdentifier = aws.String(ca2019)
		createDB(t, s.c, in)
	}
	for _, s := range []isoScope{a, b, aWest} {
		acts := wantPending(t, s, s.arn(old))
		checkCARotationAction(t, acts[s.arn(old)], "", time.Time{})
	}
	for _, s := range []isoScope{b, aWest} {
		out, err := s.c.DescribePendingMaintenanceActions(ctx(t), &rdssdk.DescribePendingMaintenanceActionsInput{ResourceIdentifier: aws.String(a.arn(old))})
		if err != nil || len(out.PendingMaintenanceActions) != 0 {
			t.Fatalf("%s: pending maintenance of %s's %s: %v, %+v", s.name, a.name, old, err, out)
		}
		for _, optIn := range []string{"immediate", "next-maintenance", "undo-opt-in"} {
			_, err = s.c.ApplyPendingMaintenanceAction(ctx(t), &rdssdk.ApplyPendingMaintenanceActionInput{
				ResourceIdentifier: aws.String(a.arn(old)), ApplyAction: aws.String("ca-certificate-rotation"), OptInType: aws.String(optIn)})
			wantAPIError(t, err, "ResourceNotFoundFault", http.StatusNotFound)
		}
	}
	// a opts in for the next window: only a's action shows it.
	if _, err := a.c.ApplyPendingMaintenanceAction(ctx(t), &rdssdk.ApplyPendingMaintenanceActionInput{
		ResourceIdentifier: aws.String(a.arn(old)), ApplyAction: aws.String("ca-certificate-rotation"), OptInType: aws.String("next-maintenance")}); err != nil {
		t.Fatalf("%s: ApplyPendingMaintenanceAction: %v", a.name, err)
	}
	checkCARotationAction(t, wantPending(t, a, a.arn(old))[a.arn(old)], "next-maintenance", time.Time{})
	checkCARotationAction(t, wantPending(t, b, b.arn(old))[b.arn(old)], "", time.Time{})
	checkCARotationAction(t, wantPending(t, aWest, aWest.arn(old))[aWest.arn(old)], "", time.Time{})
	// b applies its rotation now: it moves to b's default, not to a's
	// override, and a's instance keeps its CA and its opt-in.
	if _, err := b.c.ApplyPendingMaintenanceAction(ctx(t), &rdssdk.ApplyPendingMaintenanceActionInput{
		ResourceIdentifier: aws.String(b.arn(old)), ApplyAction: aws.String("ca-certificate-rotation"), OptInType: aws.String("immediate")}); err != nil {
		t.Fatalf("%s: ApplyPendingMaintenanceAction: %v", b.name, err)
	}
	if got := aws.ToString(describeDB(t, b.c, old).CACertificateIdentifier); got != rsa2048 {
		t.Fatalf("%s: %s rotated to %s, want its own default %s", b.name, old, got, rsa2048)
	}
	wantPending(t, b)
	if got := aws.ToString(describeDB(t, a.c, old).CACertificateIdentifier); got != ca2019 {
		t.Fatalf("%s: %s has CA %s after %s's rotation", a.name, old, got, b.name)
	}
	checkCARotationAction(t, wantPending(t, a, a.arn(old))[a.arn(old)], "next-maintenance", time.Time{})
	wantPending(t, aWest, aWest.arn(old))

	// The overrides are still each scope's own.
	wantOverride(t, describeAll(t, a.c), rsa4096, rsa4096)
	wantOverride(t, describeAll(t, b.c), "", rsa2048)
	wantOverride(t, describeAll(t, aWest.c), "", rsa2048)
}

func TestScopeIsolationOpenMode(t *testing.T) {
	t.Parallel()
	s := startInstanceServer(t, clock.NewFixed(jul2024), 0)
	checkScopeIsolation(t,
		isoScope{"111111111111/us-east-1", "111111111111", "us-east-1", newClient(t, s.URL, "111111111111", "us-east-1")},
		isoScope{"222222222222/us-east-1", "222222222222", "us-east-1", newClient(t, s.URL, "222222222222", "us-east-1")},
		isoScope{"111111111111/eu-west-1", "111111111111", "eu-west-1", newClient(t, s.URL, "111111111111", "eu-west-1")})
}

// TestScopeIsolationOpenModeProcess runs the story against the binary on
// the SQLite store, across a restart.
func TestScopeIsolationOpenModeProcess(t *testing.T) {
	t.Parallel()
	home, data := t.TempDir(), t.TempDir()
	p := startRdsca(t, home, "", nil, "--data-dir", data, "--clock", "2024-07-01T00:00:00Z", "--transition-delay", "0")
	a := isoScope{"333333333333/us-east-1", "333333333333", "us-east-1", newClient(t, p.URL(), "333333333333", "us-east-1")}
	b := isoScope{"444444444444/us-east-1", "444444444444", "us-east-1", newClient(t, p.URL(), "444444444444", "us-east-1")}
	aWest := isoScope{"333333333333/eu-west-1", "333333333333", "eu-west-1", newClient(t, p.URL(), "333333333333", "eu-west-1")}
	checkScopeIsolation(t, a, b, aWest)
	stopGracefully(t, p)

	p2 := startRdsca(t, home, "", nil, "--data-dir", data, "--clock", "2024-07-01T00:00:00Z", "--transition-delay", "0")
	a.c = newClient(t, p2.URL(), a.account, a.region)
	b.c = newClient(t, p2.URL(), b.account, b.region)
	aWest.c = newClient(t, p2.URL(), aWest.account, aWest.region)
	wantIDs(t, a, "on-2019", "only-a", "same-name")
	wantIDs(t, b, "on-2019", "same-name")
	wantIDs(t, aWest, "on-2019")
	wantOverride(t, describeAll(t, a.c), rsa4096, rsa4096)
	wantOverride(t, describeAll(t, b.c), "", rsa2048)
	checkCARotationAction(t, wantPending(t, a, a.arn("on-2019"))[a.arn("on-2019")], "next-maintenance", time.Time{})
	wantPending(t, b)
	wantPending(t, aWest, aWest.arn("on-2019"))
}

// Strict mode credentials: two keys, two accounts.
const (
	alphaKey, alphaSecret, alphaAccount = "AKIAISOLATIONALPHA01", "alpha-secret-key", "555555555555"
	bravoKey, bravoSecret, bravoAccount = "AKIAISOLATIONBRAVO02", "bravo-secret-key", "666666666666"
)

// strictSupported reports whether the binary has --auth (the strict mode
// of issue 4, item 1).
var strictSupported = sync.OnceValues(func() (bool, error) {
	<-built
	if buildErr != nil {
		return false, buildErr
	}
	out, _ := exec.Command(rdscaBin, "--help").CombinedOutput()
	return strings.Contains(string(out), "-auth") && strings.Contains(string(out), "-credentials"), nil
})

// newSecretClient is newClient with a secret of the caller's choosing.
func newSecretClient(t *testing.T, baseURL, accessKey, secret, region string) *rdssdk.Client {
	t.Helper()
	return rdssdk.NewFromConfig(aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secret, Source: "e2e"}, nil
		}),
		BaseEndpoint:     aws.String(baseURL),
		HTTPClient:       testenv.OwnBodyClient{C: awshttp.NewBuildableClient()},
		RetryMaxAttempts: 1,
		Retryer:          func() aws.Retryer { return aws.NopRetryer{} },
	})
}

// TestStrictModeIsolation runs the story against the binary in strict mode
// (--auth strict --credentials FILE), where the accounts come from the
// credentials file, and checks that a key is no use without its secret.
func TestStrictModeIsolation(t *testing.T) {
	t.Parallel()
	needBinary(t)
	if ok, err := strictSupported(); err != nil {
		t.Fatal(err)
	} else if !ok {
		t.Skip("rdsca has no --auth flag yet (issue 4, item 1)")
	}
	home := t.TempDir()
	creds := filepath.Join(t.TempDir(), "credentials")
	file := "# isolation test keys\n" +
		alphaKey + " " + alphaSecret + " " + alphaAccount + "\n" +
		"\t" + bravoKey + "\t" + bravoSecret + "  " + bravoAccount + "   # the other account\n"
	if err := os.WriteFile(creds, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startRdsca(t, home, "", nil, "--store", "memory", "--auth", "strict", "--credentials", creds,
		"--clock", "2024-07-01T00:00:00Z", "--transition-delay", "0")
	a := isoScope{"alpha/us-east-1", alphaAccount, "us-east-1", newSecretClient(t, p.URL(), alphaKey, alphaSecret, "us-east-1")}
	b := isoScope{"bravo/us-east-1", bravoAccount, "us-east-1", newSecretClient(t, p.URL(), bravoKey, bravoSecret, "us-east-1")}
	aWest := isoScope{"alpha/eu-west-1", alphaAccount, "eu-west-1", newSecretClient(t, p.URL(), alphaKey, alphaSecret, "eu-west-1")}
	checkScopeIsolation(t, a, b, aWest)

	// bravo cannot act as alpha with alpha's key id and its own secret, nor
	// claim alpha's account with an access key id that is the account id.
	for _, c := range []*rdssdk.Client{
		newSecretClient(t, p.URL(), alphaKey, bravoSecret, "us-east-1"),
		newSecretClient(t, p.URL(), alphaKey, alphaSecret+"x", "us-east-1"),
	} {
		_, err := c.ModifyCertificates(ctx(t), &rdssdk.ModifyCertificatesInput{RemoveCustomerOverride: aws.Bool(true)})
		wantAPIError(t, err, "SignatureDoesNotMatch", http.StatusForbidden)
		_, err = c.DeleteDBInstance(ctx(t), &rdssdk.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("only-a"), SkipFinalSnapshot: aws.Bool(true)})
		wantAPIError(t, err, "SignatureDoesNotMatch", http.StatusForbidden)
	}
	for _, key := range []string{alphaAccount, bravoAccount} {
		_, err := newSecretClient(t, p.URL(), key, bravoSecret, "us-east-1").DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{})
		wantAPIError(t, err, "InvalidClientTokenId", http.StatusForbidden)
	}
	r := postForm(t, p.URL(), form("Action", "DescribeDBInstances", "Version", "2014-10-31"))
	wantErrorResponse(t, r, http.StatusForbidden, "MissingAuthenticationToken")
	// alpha's state is untouched.
	wantOverride(t, describeAll(t, a.c), rsa4096, rsa4096)
	wantIDs(t, a, "on-2019", "only-a", "same-name")
}
