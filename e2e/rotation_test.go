package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/rdsca/rdsca/clock"
)

// The story: an instance created on 2024-01-01 in us-east-1 gets
// rds-ca-2019; once the clock passes 2024-08-22 the CA is gone from
// DescribeCertificates while the instance still names it and has a pending
// ca-certificate-rotation, which ApplyPendingMaintenanceAction immediate
// carries out.
func TestRDSCA2019ExpiryStory(t *testing.T) {
	t.Parallel()
	clk := clock.NewFixed(jan2024)
	srv := startInstanceServer(t, clk, 0)
	const acct = "181818181818"
	c := newClient(t, srv.URL, acct, "us-east-1")
	arn := instanceARN(acct, "us-east-1", "legacy")
	ca2019Till := mustTime(t, ca2019Expiry)

	wantOverride(t, describeAll(t, c), "", ca2019)
	created := createDB(t, c, createInput("legacy", "postgres"))
	checkCreating(t, created, acct, "legacy", "postgres", ca2019)
	// An instance on a G1 CA, which never needs rotating here.
	in := createInput("modern", "mysql")
	in.CACertificateIdentifier = aws.String(ecc384)
	createDB(t, c, in)
	d := describeDB(t, c, "legacy")
	checkAvailable(t, &d, acct, "legacy", "postgres", "available", ca2019, ca2019Till)
	window := aws.ToString(d.PreferredMaintenanceWindow)
	if acts := pendingActions(t, c, nil); len(acts) != 0 {
		t.Fatalf("pending actions on 2024-01-01: %v, want none", keysOf(acts))
	}

	// 90 days before the CA expires the rotation becomes pending, while the
	// CA is still listed.
	clk.Set(time.Date(2024, 5, 20, 0, 0, 0, 0, time.UTC))
	if acts := pendingActions(t, c, nil); len(acts) != 0 {
		t.Fatalf("pending actions on 2024-05-20: %v, want none", keysOf(acts))
	}
	clk.Set(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	if !slices.Contains(ids(describeAll(t, c).Certificates), ca2019) {
		t.Fatal("rds-ca-2019 not listed on 2024-06-01")
	}
	acts := pendingActions(t, c, nil)
	if len(acts) != 1 {
		t.Fatalf("pending actions on 2024-06-01 for %v, want legacy only", keysOf(acts))
	}
	wantCARotationPending(t, acts, arn, "", time.Time{})

	// Past the expiry.
	sep := time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)
	clk.Set(sep)
	listing := describeAll(t, c)
	if got := ids(listing.Certificates); slices.Contains(got, ca2019) {
		t.Fatalf("rds-ca-2019 still listed on 2024-09-01: %v", got)
	}
	wantOverride(t, listing, "", rsa2048)
	_, err := c.DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{CertificateIdentifier: aws.String(ca2019)})
	wantAPIError(t, err, "CertificateNotFound", 404)
	d = describeDB(t, c, "legacy")
	checkAvailable(t, &d, acct, "legacy", "postgres", "available", ca2019, ca2019Till)
	wantPendingCA(t, &d, "")
	// Through each way of asking.
	wantCARotationPending(t, pendingActions(t, c, nil), arn, "", time.Time{})
	wantCARotationPending(t, pendingActions(t, c, &rdssdk.DescribePendingMaintenanceActionsInput{ResourceIdentifier: aws.String(arn)}), arn, "", time.Time{})
	for _, v := range []string{"legacy", arn} {
		byFilter := pendingActions(t, c, &rdssdk.DescribePendingMaintenanceActionsInput{Filters: []types.Filter{{Name: aws.String("db-instance-id"), Values: []string{v}}}})
		if len(byFilter) != 1 {
			t.Fatalf("filter db-instance-id %s: %v", v, keysOf(byFilter))
		}
		wantCARotationPending(t, byFilter, arn, "", time.Time{})
	}
	if got := pendingActions(t, c, &rdssdk.DescribePendingMaintenanceActionsInput{Filters: []types.Filter{{Name: aws.String("db-instance-id"), Values: []string{"modern"}}}}); len(got) != 0 {
		t.Fatalf("modern has pending actions: %v", got)
	}
	// Not forced: a month later nothing has changed by itself.
	clk.Set(sep.AddDate(0, 1, 0))
	d = describeDB(t, c, "legacy")
	checkAvailable(t, &d, acct, "legacy", "postgres", "available", ca2019, ca2019Till)
	clk.Set(sep)

	apply := func(action, optIn string) (*rdssdk.ApplyPendingMaintenanceActionOutput, error) {
		return c.ApplyPendingMaintenanceAction(ctx(t), &rdssdk.ApplyPendingMaintenanceActionInput{
			ResourceIdentifier: aws.String(arn), ApplyAction: aws.String(action), OptInType: aws.String(optIn),
		})
	}
	_, err = apply("db-upgrade", "immediate")
	wantAPIError(t, err, "InvalidParameterCombination", 400)
	_, err = apply("ca-certificate-rotation", "undo-opt-in")
	wantAPIError(t, err, "InvalidParameterCombination", 400)

	// next-maintenance, then undone.
	out, err := apply("ca-certificate-rotation", "next-maintenance")
	if err != nil {
		t.Fatalf("next-maintenance: %v", err)
	}
	windowStart := nextWindowStart(t, window, sep)
	if got := aws.ToString(out.ResourcePendingMaintenanceActions.ResourceIdentifier); got != arn {
		t.Fatalf("ResourceIdentifier %q", got)
	}
	checkCARotationAction(t, out.ResourcePendingMaintenanceActions.PendingMaintenanceActionDetails, "next-maintenance", windowStart)
	wantCARotationPending(t, pendingActions(t, c, nil), arn, "next-maintenance", windowStart)
	out, err = apply("ca-certificate-rotation", "undo-opt-in")
	if err != nil {
		t.Fatalf("undo-opt-in: %v", err)
	}
	checkCARotationAction(t, out.ResourcePendingMaintenanceActions.PendingMaintenanceActionDetails, "", time.Time{})
	wantCARotationPending(t, pendingActions(t, c, nil), arn, "", time.Time{})

	// immediate: rotates to the default for new launches (rsa2048) now.
	clk.Set(sep.Add(90 * time.Minute))
	out, err = apply("ca-certificate-rotation", "immediate")
	if err != nil {
		t.Fatalf("immediate: %v", err)
	}
	checkCARotationAction(t, out.ResourcePendingMaintenanceActions.PendingMaintenanceActionDetails, "immediate", sep.Add(90*time.Minute))
	d = describeDB(t, c, "legacy")
	checkAvailable(t, &d, acct, "legacy", "postgres", "available", rsa2048, years(sep.Add(90*time.Minute), 1))
	wantPendingCA(t, &d, "")
	if acts := pendingActions(t, c, nil); len(acts) != 0 {
		t.Fatalf("pending actions after the rotation: %v", keysOf(acts))
	}
	_, err = apply("ca-certificate-rotation", "immediate")
	if ae := wantAPIError(t, err, "InvalidParameterCombination", 400); ae.ErrorMessage() != "There is no pending ca-certificate-rotation action for "+arn {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	// New instances now get rsa2048; rds-ca-2019 cannot be asked for.
	created = createDB(t, c, createInput("newer", "mariadb"))
	checkCreating(t, created, acct, "newer", "mariadb", rsa2048)
	in = createInput("older", "postgres")
	in.CACertificateIdentifier = aws.String(ca2019)
	_, err = c.CreateDBInstance(ctx(t), in)
	if ae := wantAPIError(t, err, "CertificateNotFound", 404); ae.ErrorMessage() != "Certificate not found: rds-ca-2019" {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
}

// The admin clock endpoints move time for the instances of an in-process
// server on a clock that otherwise runs with real time.
func TestAdminClockEndpointsDriveInstances(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := startInstanceServer(t, clock.NewOffset(start), 0)
	const acct = "191919191919"
	c := newClient(t, srv.URL, acct, "us-east-1")
	arn := instanceARN(acct, "us-east-1", "admin-clock")

	now := mustAdmin(t, srv.URL, http.MethodGet, "/_rdsca/clock", "")
	if !near(now, start, 10*time.Second) {
		t.Fatalf("GET clock %v, want about %v", now, start)
	}
	in := createInput("admin-clock", "postgres")
	in.PreferredMaintenanceWindow = aws.String("sun:05:00-sun:05:30")
	createDB(t, c, in)
	d := describeDB(t, c, "admin-clock")
	checkAvailable(t, &d, acct, "admin-clock", "postgres", "available", ca2019, mustTime(t, ca2019Expiry))

	// A deferred rotation to ecc384; the window is Sunday 2024-01-07 05:00.
	if _, err := c.ModifyDBInstance(ctx(t), &rdssdk.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("admin-clock"), CACertificateIdentifier: aws.String(ecc384)}); err != nil {
		t.Fatal(err)
	}
	now = mustAdmin(t, srv.URL, http.MethodPost, "/_rdsca/clock/advance", `{"duration":"72h"}`)
	if !near(now, start.Add(72*time.Hour), 10*time.Second) {
		t.Fatalf("advance 72h: %v", now)
	}
	d = describeDB(t, c, "admin-clock")
	checkAvailable(t, &d, acct, "admin-clock", "postgres", "available", ca2019, time.Time{})
	wantPendingCA(t, &d, ecc384)
	now = mustAdmin(t, srv.URL, http.MethodPost, "/_rdsca/clock/advance", `{"days":8}`)
	if !near(now, start.Add(11*24*time.Hour), 10*time.Second) {
		t.Fatalf("advance 8 days: %v", now)
	}
	d = describeDB(t, c, "admin-clock")
	// Applied at the window start, dated then: the certificate runs a year from it.
	checkAvailable(t, &d, acct, "admin-clock", "postgres", "available", ecc384, time.Date(2025, 1, 7, 5, 0, 0, 0, time.UTC))
	wantPendingCA(t, &d, "")

	// Bad admin requests leave the clock alone.
	for _, r := range []struct{ method, path, body string }{
		{http.MethodPost, "/_rdsca/clock/advance", `{"duration":"3 days"}`},
		{http.MethodPost, "/_rdsca/clock/advance", `{}`},
		{http.MethodPut, "/_rdsca/clock", `{"now":"yesterday"}`},
		{http.MethodDelete, "/_rdsca/clock", ``},
	} {
		if status, _ := adminCall(t, srv.URL, r.method, r.path, r.body); status < 400 || status >= 500 {
			t.Fatalf("%s %s %s: status %d, want 4xx", r.method, r.path, r.body, status)
		}
	}
	if now := mustAdmin(t, srv.URL, http.MethodGet, "/_rdsca/clock", ""); !near(now, start.Add(11*24*time.Hour), 10*time.Second) {
		t.Fatalf("clock moved by bad requests: %v", now)
	}

	// A second instance still on rds-ca-2019; PUT jumps past its expiry.
	createDB(t, c, createInput("admin-late", "mysql"))
	if got := describeDB(t, c, "admin-late"); aws.ToString(got.CACertificateIdentifier) != ca2019 {
		t.Fatalf("admin-late CA %q on 2024-01-12", aws.ToString(got.CACertificateIdentifier))
	}
	now = mustAdmin(t, srv.URL, http.MethodPut, "/_rdsca/clock", `{"now":"2024-09-01T00:00:00Z"}`)
	if !near(now, time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC), 10*time.Second) {
		t.Fatalf("PUT clock: %v", now)
	}
	if slices.Contains(ids(describeAll(t, c).Certificates), ca2019) {
		t.Fatal("rds-ca-2019 listed after PUT 2024-09-01")
	}
	lateARN := instanceARN(acct, "us-east-1", "admin-late")
	acts := pendingActions(t, c, nil)
	if _, ok := acts[arn]; ok || len(acts) != 1 {
		t.Fatalf("pending actions for %v, want admin-late only", keysOf(acts))
	}
	wantCARotationPending(t, acts, lateARN, "", time.Time{})

}

// State follows the clock across restarts: an instance created on
// 2024-01-01 by one process is, for a process started on the same data dir
// with --clock 2024-09-01, on an expired CA with a pending rotation.
func TestProcessInstanceFollowsClockAcrossRestart(t *testing.T) {
	t.Parallel()
	home, data := t.TempDir(), t.TempDir()
	const acct = "202020202020"
	arn := instanceARN(acct, "us-east-1", "persisted")
	p := startRdsca(t, home, "", nil, "--data-dir", data, "--store", "sqlite", "--clock", "2024-01-01T00:00:00Z", "--transition-delay", "0")
	c := newClient(t, p.URL(), acct, "us-east-1")
	created := createDB(t, c, createInput("persisted", "postgres"))
	// --transition-delay 0: the answer still shows creating, as RDS does.
	checkCreating(t, created, acct, "persisted", "postgres", ca2019)
	d := describeDB(t, c, "persisted")
	checkAvailable(t, &d, acct, "persisted", "postgres", "available", ca2019, mustTime(t, ca2019Expiry))
	before := d
	if acts := pendingActions(t, c, nil); len(acts) != 0 {
		t.Fatalf("pending on 2024-01-01: %v", keysOf(acts))
	}
	stopGracefully(t, p)

	p2 := startRdsca(t, home, "", nil, "--data-dir", data, "--clock", "2024-09-01T00:00:00Z", "--transition-delay", "0")
	c2 := newClient(t, p2.URL(), acct, "us-east-1")
	d = describeDB(t, c2, "persisted")
	checkAvailable(t, &d, acct, "persisted", "postgres", "available", ca2019, mustTime(t, ca2019Expiry))
	for _, f := range []struct{ name, a, b string }{
		{"DbiResourceId", aws.ToString(before.DbiResourceId), aws.ToString(d.DbiResourceId)},
		{"Endpoint.Address", aws.ToString(before.Endpoint.Address), aws.ToString(d.Endpoint.Address)},
		{"PreferredMaintenanceWindow", aws.ToString(before.PreferredMaintenanceWindow), aws.ToString(d.PreferredMaintenanceWindow)},
		{"AvailabilityZone", aws.ToString(before.AvailabilityZone), aws.ToString(d.AvailabilityZone)},
		{"InstanceCreateTime", before.InstanceCreateTime.String(), d.InstanceCreateTime.String()},
	} {
		if f.a != f.b {
			t.Fatalf("%s changed across the restart: %q -> %q", f.name, f.a, f.b)
		}
	}
	listing := describeAll(t, c2)
	if got := ids(listing.Certificates); slices.Contains(got, ca2019) {
		t.Fatalf("rds-ca-2019 listed on 2024-09-01: %v", got)
	}
	wantCARotationPending(t, pendingActions(t, c2, nil), arn, "", time.Time{})

	// Rotate, restart again: the rotation persisted.
	if _, err := c2.ApplyPendingMaintenanceAction(ctx(t), &rdssdk.ApplyPendingMaintenanceActionInput{
		ResourceIdentifier: aws.String(arn), ApplyAction: aws.String("ca-certificate-rotation"), OptInType: aws.String("immediate"),
	}); err != nil {
		t.Fatal(err)
	}
	stopGracefully(t, p2)
	p3 := startRdsca(t, home, "", nil, "--data-dir", data, "--clock", "2024-09-02T00:00:00Z")
	c3 := newClient(t, p3.URL(), acct, "us-east-1")
	d = describeDB(t, c3, "persisted")
	if got := aws.ToString(d.CACertificateIdentifier); got != rsa2048 {
		t.Fatalf("after rotation and restart: CA %q, want %s", got, rsa2048)
	}
	if till := d.CertificateDetails.ValidTill; till == nil || !strings.HasPrefix(till.UTC().Format(time.RFC3339), "2025-09-01T00:00:0") {
		t.Fatalf("after rotation and restart: ValidTill %v, want about 2025-09-01", till)
	}
	if acts := pendingActions(t, c3, nil); len(acts) != 0 {
		t.Fatalf("pending after rotation and restart: %v", keysOf(acts))
	}
	stopGracefully(t, p3)
}
