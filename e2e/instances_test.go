package e2e

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/rdsca/rdsca/clock"
)

// A whole life through the SDK's waiters, on a clock that runs with real
// time and a short transition delay, so the waiters poll through every
// transitional status.
func TestInstanceLifecycleThroughWaiters(t *testing.T) {
	t.Parallel()
	const delay = 500 * time.Millisecond
	srv := startInstanceServer(t, clock.NewOffset(jan2024), delay)
	const acct = "121212121212"
	c := newClient(t, srv.URL, acct, "us-east-1")
	ca2019Till := mustTime(t, ca2019Expiry)

	// Create: the answer is the creating state.
	created := createDB(t, c, createInput("life", "postgres"))
	checkCreating(t, created, acct, "life", "postgres", ca2019)
	if v := aws.ToString(created.EngineVersion); !strings.HasPrefix(v, "17.") {
		t.Fatalf("EngineVersion %q, want the newest postgres (17.x)", v)
	}

	saw := waitAvailable(t, c, "life")
	if !slices.Contains(saw, "creating") || saw[len(saw)-1] != "available" {
		t.Fatalf("DBInstanceAvailable waiter saw %v, want creating ... available", saw)
	}
	d := describeDB(t, c, "life")
	// Created on 2024-01-01 with rds-ca-2019: a year would pass the CA's expiry.
	checkAvailable(t, &d, acct, "life", "postgres", "available", ca2019, ca2019Till)
	wantPendingCA(t, &d, "")
	if !d.InstanceCreateTime.Before(srv.Clock.Now()) || d.InstanceCreateTime.Before(jan2024) {
		t.Fatalf("InstanceCreateTime %v not in [%v, now]", d.InstanceCreateTime, jan2024)
	}
	if d.InstanceCreateTime.Nanosecond()%int(time.Millisecond) != 0 {
		t.Fatalf("InstanceCreateTime %v has more than millisecond precision", d.InstanceCreateTime)
	}

	// Immediate rotation: the answer shows the old CA and the new one pending.
	mod, err := c.ModifyDBInstance(ctx(t), &rdssdk.ModifyDBInstanceInput{
		DBInstanceIdentifier:    aws.String("life"),
		CACertificateIdentifier: aws.String(rsa2048),
		ApplyImmediately:        aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("ModifyDBInstance: %v", err)
	}
	checkAvailable(t, mod.DBInstance, acct, "life", "postgres", "available", ca2019, ca2019Till)
	wantPendingCA(t, mod.DBInstance, rsa2048)
	before := srv.Clock.Now()
	saw = waitAvailable(t, c, "life")
	if !slices.Contains(saw, "modifying") || slices.Contains(saw, "rebooting") {
		t.Fatalf("waiter after an immediate postgres rotation saw %v, want modifying (and no rebooting)", saw)
	}
	d = describeDB(t, c, "life")
	checkAvailable(t, &d, acct, "life", "postgres", "available", rsa2048, time.Time{})
	wantPendingCA(t, &d, "")
	// Rotated one delay after the request: a one-year server certificate.
	if till := *d.CertificateDetails.ValidTill; !near(till, years(before.Add(delay), 1), 5*time.Second) {
		t.Fatalf("ValidTill %v, want about %v (one year after the rotation)", till, years(before.Add(delay), 1))
	}

	// Reboot: rebooting, then available; nothing changes.
	rb, err := c.RebootDBInstance(ctx(t), &rdssdk.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("life")})
	if err != nil {
		t.Fatalf("RebootDBInstance: %v", err)
	}
	checkAvailable(t, rb.DBInstance, acct, "life", "postgres", "rebooting", rsa2048, *d.CertificateDetails.ValidTill)
	saw = waitAvailable(t, c, "life")
	if !slices.Contains(saw, "rebooting") {
		t.Fatalf("waiter after reboot saw %v, want rebooting", saw)
	}

	// Delete: deleting (empty CA, no CertificateDetails), then gone.
	del, err := c.DeleteDBInstance(ctx(t), &rdssdk.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("life"), SkipFinalSnapshot: aws.Bool(true)})
	if err != nil {
		t.Fatalf("DeleteDBInstance: %v", err)
	}
	checkDeleting(t, del.DBInstance, acct, "life", "postgres")
	saw = waitDeleted(t, c, "life")
	if !slices.Contains(saw, "deleting") || saw[len(saw)-1] != "error:DBInstanceNotFound" {
		t.Fatalf("DBInstanceDeleted waiter saw %v, want deleting ... DBInstanceNotFound", saw)
	}
	_, err = c.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("life")})
	var nf *types.DBInstanceNotFoundFault
	if !errors.As(err, &nf) {
		t.Fatalf("describe after deletion: %v, want DBInstanceNotFoundFault", err)
	}
	wantAPIError(t, err, "DBInstanceNotFound", 404)
	// The identifier is free again.
	createDB(t, c, createInput("life", "mysql"))
}

// Every member by state on a clock that stands still: creating lasts until
// the test moves the clock.
func TestInstanceMembersByState(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 3, 5, 10, 20, 30, 123456789, time.UTC)
	clk := clock.NewFixed(start)
	srv := startInstanceServer(t, clk, time.Hour)
	const acct = "131313131313"
	c := newClient(t, srv.URL, acct, "us-east-1")

	in := createInput("Members-1", "mysql")
	in.EngineVersion = aws.String("5.7")
	in.CACertificateIdentifier = aws.String("RDS-CA-ECC384-G1")
	created := createDB(t, c, in)
	// Stored lowercase; the CA canonical.
	checkCreating(t, created, acct, "members-1", "mysql", ecc384)
	if v := aws.ToString(created.EngineVersion); !strings.HasPrefix(v, "5.7.") {
		t.Fatalf("EngineVersion %q, want 5.7.x", v)
	}
	for _, id := range []string{"members-1", "MEMBERS-1", instanceARN(acct, "us-east-1", "members-1")} {
		d := describeDB(t, c, id)
		checkCreating(t, &d, acct, "members-1", "mysql", ecc384)
	}

	// Still creating: Modify and Reboot are refused.
	_, err := c.ModifyDBInstance(ctx(t), &rdssdk.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("members-1"), CACertificateIdentifier: aws.String(rsa2048), ApplyImmediately: aws.Bool(true)})
	var bad *types.InvalidDBInstanceStateFault
	if !errors.As(err, &bad) {
		t.Fatalf("modify while creating: %v, want InvalidDBInstanceStateFault", err)
	}
	wantAPIError(t, err, "InvalidDBInstanceState", 400)
	_, err = c.RebootDBInstance(ctx(t), &rdssdk.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("members-1")})
	if !errors.As(err, &bad) {
		t.Fatalf("reboot while creating: %v, want InvalidDBInstanceStateFault", err)
	}

	// An hour later: available, created at the request's millisecond.
	clk.Advance(time.Hour)
	d := describeDB(t, c, "members-1")
	// mysql 5.7 cannot rotate without a restart: a 3-year server certificate.
	checkAvailable(t, &d, acct, "members-1", "mysql", "available", ecc384, years(start, 3))
	if want := start.Truncate(time.Millisecond); !d.InstanceCreateTime.Equal(want) {
		t.Fatalf("InstanceCreateTime %v, want %v (milliseconds kept)", d.InstanceCreateTime.UTC().Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
	if d.Endpoint.Port == nil || *d.Endpoint.Port != 3306 {
		t.Fatalf("mysql port %v", d.Endpoint.Port)
	}

	// Immediate rotation of a mysql 5.7 instance: modifying, then rebooting
	// (it restarts to rotate), then available with the new CA.
	mod, err := c.ModifyDBInstance(ctx(t), &rdssdk.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("members-1"), CACertificateIdentifier: aws.String(rsa4096), ApplyImmediately: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	checkAvailable(t, mod.DBInstance, acct, "members-1", "mysql", "available", ecc384, time.Time{})
	wantPendingCA(t, mod.DBInstance, rsa4096)
	rotateAt := clk.Now()
	d = describeDB(t, c, "members-1")
	checkAvailable(t, &d, acct, "members-1", "mysql", "modifying", ecc384, time.Time{})
	wantPendingCA(t, &d, rsa4096)
	clk.Advance(time.Hour)
	d = describeDB(t, c, "members-1")
	checkAvailable(t, &d, acct, "members-1", "mysql", "rebooting", ecc384, time.Time{})
	clk.Advance(time.Hour)
	d = describeDB(t, c, "members-1")
	checkAvailable(t, &d, acct, "members-1", "mysql", "available", rsa4096, years(rotateAt.Add(2*time.Hour), 3))
	wantPendingCA(t, &d, "")

	// Delete while creating is allowed; deleting shows no CA.
	createDB(t, c, createInput("members-2", "mariadb"))
	del, err := c.DeleteDBInstance(ctx(t), &rdssdk.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("members-2"), SkipFinalSnapshot: aws.Bool(true)})
	if err != nil {
		t.Fatalf("delete while creating: %v", err)
	}
	if got := aws.ToString(del.DBInstance.DBInstanceStatus); got != "deleting" {
		t.Fatalf("delete while creating answered %q", got)
	}
	del, err = c.DeleteDBInstance(ctx(t), &rdssdk.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("members-1"), SkipFinalSnapshot: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	checkDeleting(t, del.DBInstance, acct, "members-1", "mysql")
	d = describeDB(t, c, "members-1")
	checkDeleting(t, &d, acct, "members-1", "mysql")
	// A second delete, and a modify, are refused while deleting.
	_, err = c.DeleteDBInstance(ctx(t), &rdssdk.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("members-1"), SkipFinalSnapshot: aws.Bool(true)})
	if !errors.As(err, &bad) {
		t.Fatalf("second delete: %v, want InvalidDBInstanceStateFault", err)
	}
	clk.Advance(time.Hour)
	out, err := c.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.DBInstances) != 0 {
		t.Fatalf("after deletion: %d instances listed", len(out.DBInstances))
	}
}

// 150 instances over two pages of DescribeDBInstances with MaxRecords 100,
// and the filters.
func TestDescribeDBInstancesPaginatorAndFilters(t *testing.T) {
	t.Parallel()
	srv := startInstanceServer(t, clock.NewFixed(dec2026), 0)
	const acct = "141414141414"
	c := newClient(t, srv.URL, acct, "us-east-1")
	engines := []string{"postgres", "mysql", "mariadb"}
	const n = 150
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		work     = make(chan int)
	)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				_, err := c.CreateDBInstance(ctx(t), createInput(fmt.Sprintf("page-%03d", i), engines[i%3]))
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("create page-%03d: %w", i, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}

	// The paginator with MaxRecords 100: two pages, in identifier order.
	p := rdssdk.NewDescribeDBInstancesPaginator(c, &rdssdk.DescribeDBInstancesInput{}, func(o *rdssdk.DescribeDBInstancesPaginatorOptions) { o.Limit = 100 })
	var pages []int
	var got []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("page %d: %v", len(pages)+1, err)
		}
		pages = append(pages, len(out.DBInstances))
		for _, d := range out.DBInstances {
			got = append(got, aws.ToString(d.DBInstanceIdentifier))
			if aws.ToString(d.DBInstanceStatus) != "available" {
				t.Fatalf("%s: status %q with --transition-delay 0", aws.ToString(d.DBInstanceIdentifier), aws.ToString(d.DBInstanceStatus))
			}
		}
	}
	if fmt.Sprint(pages) != "[100 50]" {
		t.Fatalf("page sizes %v, want [100 50]", pages)
	}
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("page-%03d", i)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d identifiers (sorted: %v), want page-000..page-149 in order", len(got), sort.StringsAreSorted(got))
	}

	// MaxRecords bounds.
	for _, m := range []int32{19, 101} {
		_, err := c.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{MaxRecords: aws.Int32(m)})
		wantAPIError(t, err, "InvalidParameterValue", 400)
	}
	out, err := c.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{MaxRecords: aws.Int32(20)})
	if err != nil || len(out.DBInstances) != 20 || out.Marker == nil {
		t.Fatalf("MaxRecords 20: %v, %d instances, marker %v", err, len(out.DBInstances), out.Marker)
	}
	// The default page is 100.
	if out, err = c.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{}); err != nil || len(out.DBInstances) != 100 || out.Marker == nil {
		t.Fatalf("default MaxRecords: %v, %d instances", err, len(out.DBInstances))
	}
	_, err = c.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{Marker: aws.String("not-a-marker")})
	wantAPIError(t, err, "InvalidParameterValue", 400)

	filter := func(fs ...types.Filter) []string {
		t.Helper()
		var ids []string
		p := rdssdk.NewDescribeDBInstancesPaginator(c, &rdssdk.DescribeDBInstancesInput{Filters: fs}, func(o *rdssdk.DescribeDBInstancesPaginatorOptions) { o.Limit = 20 })
		for p.HasMorePages() {
			out, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatalf("filters %+v: %v", fs, err)
			}
			for _, d := range out.DBInstances {
				ids = append(ids, aws.ToString(d.DBInstanceIdentifier))
			}
		}
		return ids
	}
	byID := types.Filter{Name: aws.String("db-instance-id"), Values: []string{instanceARN(acct, "us-east-1", "page-007"), "page-042", "PAGE-100", "page-999"}}
	if ids := filter(byID); fmt.Sprint(ids) != "[page-007 page-042 page-100]" {
		t.Fatalf("db-instance-id (ARN, id, upper-case id, unknown): %v", ids)
	}
	if ids := filter(types.Filter{Name: aws.String("engine"), Values: []string{"mysql"}}); len(ids) != 50 || ids[0] != "page-001" {
		t.Fatalf("engine mysql: %d instances starting %v", len(ids), ids[:min(1, len(ids))])
	}
	if ids := filter(types.Filter{Name: aws.String("engine"), Values: []string{"postgres", "mariadb"}}); len(ids) != 100 {
		t.Fatalf("engine postgres,mariadb: %d instances", len(ids))
	}
	if ids := filter(byID, types.Filter{Name: aws.String("engine"), Values: []string{"mysql"}}); fmt.Sprint(ids) != "[page-007 page-100]" {
		t.Fatalf("db-instance-id and engine mysql: %v", ids)
	}
	// Another account's ARN names nothing of this caller.
	if ids := filter(types.Filter{Name: aws.String("db-instance-id"), Values: []string{instanceARN("999999999999", "us-east-1", "page-007")}}); len(ids) != 0 {
		t.Fatalf("other account's ARN: %v", ids)
	}
	_, err = c.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{Filters: []types.Filter{{Name: aws.String("db-instance-status"), Values: []string{"available"}}}})
	wantAPIError(t, err, "InvalidParameterValue", 400)

	// Another account, and another region, see none of them.
	for _, oc := range []*rdssdk.Client{newClient(t, srv.URL, "151515151515", "us-east-1"), newClient(t, srv.URL, acct, "eu-west-1")} {
		out, err := oc.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{})
		if err != nil || len(out.DBInstances) != 0 {
			t.Fatalf("other scope: %v, %d instances", err, len(out.DBInstances))
		}
		_, err = oc.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("page-000")})
		wantAPIError(t, err, "DBInstanceNotFound", 404)
	}
}

// The typed errors of the instance operations, as the SDK sees them.
func TestInstanceTypedErrors(t *testing.T) {
	t.Parallel()
	srv := startInstanceServer(t, clock.NewFixed(dec2026), 0)
	const acct = "161616161616"
	c := newClient(t, srv.URL, acct, "us-east-1")
	createDB(t, c, createInput("errs", "postgres"))

	notFound := func(what string, err error) {
		t.Helper()
		var nf *types.DBInstanceNotFoundFault
		if !errors.As(err, &nf) {
			t.Fatalf("%s: %v (%T), want *types.DBInstanceNotFoundFault", what, err, err)
		}
		wantAPIError(t, err, "DBInstanceNotFound", 404)
	}
	_, err := c.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("nope")})
	notFound("describe", err)
	_, err = c.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(instanceARN("999999999999", "us-east-1", "errs"))})
	notFound("describe another account's ARN", err)
	_, err = c.ModifyDBInstance(ctx(t), &rdssdk.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("nope"), CACertificateIdentifier: aws.String(rsa4096)})
	notFound("modify", err)
	_, err = c.RebootDBInstance(ctx(t), &rdssdk.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("nope")})
	notFound("reboot", err)
	_, err = c.DeleteDBInstance(ctx(t), &rdssdk.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("nope"), SkipFinalSnapshot: aws.Bool(true)})
	notFound("delete", err)

	for _, id := range []string{"errs", "ERRS"} {
		_, err = c.CreateDBInstance(ctx(t), createInput(id, "mysql"))
		var ae *types.DBInstanceAlreadyExistsFault
		if !errors.As(err, &ae) {
			t.Fatalf("create %s again: %v, want *types.DBInstanceAlreadyExistsFault", id, err)
		}
		wantAPIError(t, err, "DBInstanceAlreadyExists", 400)
	}

	in := createInput("errs-ca", "postgres")
	in.CACertificateIdentifier = aws.String("rds-ca-nope-g9")
	_, err = c.CreateDBInstance(ctx(t), in)
	var cnf *types.CertificateNotFoundFault
	if !errors.As(err, &cnf) {
		t.Fatalf("create with an unknown CA: %v, want *types.CertificateNotFoundFault", err)
	}
	if ae := wantAPIError(t, err, "CertificateNotFound", 404); ae.ErrorMessage() != "Certificate not found: rds-ca-nope-g9" {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	// rds-ca-2019 is no longer listed in December 2026.
	in.CACertificateIdentifier = aws.String(ca2019)
	_, err = c.CreateDBInstance(ctx(t), in)
	if !errors.As(err, &cnf) {
		t.Fatalf("create with rds-ca-2019 in 2026: %v, want *types.CertificateNotFoundFault", err)
	}
	_, err = c.ModifyDBInstance(ctx(t), &rdssdk.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("errs"), CACertificateIdentifier: aws.String("rds-ca-nope-g9")})
	if !errors.As(err, &cnf) {
		t.Fatalf("modify to an unknown CA: %v, want *types.CertificateNotFoundFault", err)
	}

	_, err = c.ApplyPendingMaintenanceAction(ctx(t), &rdssdk.ApplyPendingMaintenanceActionInput{
		ResourceIdentifier: aws.String(instanceARN(acct, "us-east-1", "nope")),
		ApplyAction:        aws.String("ca-certificate-rotation"),
		OptInType:          aws.String("immediate"),
	})
	var rnf *types.ResourceNotFoundFault
	if !errors.As(err, &rnf) {
		t.Fatalf("apply to an unknown ARN: %v, want *types.ResourceNotFoundFault", err)
	}
	if ae := wantAPIError(t, err, "ResourceNotFoundFault", 404); ae.ErrorMessage() != "The specified resource ID was not found." {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	// An action that is not pending (rsa2048 does not expire soon).
	_, err = c.ApplyPendingMaintenanceAction(ctx(t), &rdssdk.ApplyPendingMaintenanceActionInput{
		ResourceIdentifier: aws.String(instanceARN(acct, "us-east-1", "errs")),
		ApplyAction:        aws.String("ca-certificate-rotation"),
		OptInType:          aws.String("immediate"),
	})
	if ae := wantAPIError(t, err, "InvalidParameterCombination", 400); ae.ErrorMessage() != "There is no pending ca-certificate-rotation action for "+instanceARN(acct, "us-east-1", "errs") {
		t.Fatalf("message %q", ae.ErrorMessage())
	}

	_, err = c.ModifyDBInstance(ctx(t), &rdssdk.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("errs"), CertificateRotationRestart: aws.Bool(false), ApplyImmediately: aws.Bool(true)})
	if ae := wantAPIError(t, err, "InvalidParameterCombination", 400); ae.ErrorMessage() != "CACertificateIdentifier is required to use the NoCertificateRotationRestart option." {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	_, err = c.DeleteDBInstance(ctx(t), &rdssdk.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("errs")})
	if ae := wantAPIError(t, err, "InvalidParameterCombination", 400); ae.ErrorMessage() != "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified." {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	bad := createInput("errs-engine", "oracle-ee")
	_, err = c.CreateDBInstance(ctx(t), bad)
	wantAPIError(t, err, "InvalidParameterValue", 400)
	bad = createInput("errs-version", "postgres")
	bad.EngineVersion = aws.String("9.6")
	_, err = c.CreateDBInstance(ctx(t), bad)
	wantAPIError(t, err, "InvalidParameterCombination", 400)
	bad = createInput("1-bad-id", "postgres")
	_, err = c.CreateDBInstance(ctx(t), bad)
	wantAPIError(t, err, "InvalidParameterValue", 400)

	// None of the failed calls changed anything.
	d := describeDB(t, c, "errs")
	checkAvailable(t, &d, acct, "errs", "postgres", "available", rsa2048, years(dec2026, 1))
	wantPendingCA(t, &d, "")
}

// Deferred and restart-held rotations; DescribeDBEngineVersions.
func TestDeferredRotationAndEngineVersions(t *testing.T) {
	t.Parallel()
	// Wednesday 2024-06-05 12:00 UTC.
	clk := clock.NewFixed(time.Date(2024, 6, 5, 12, 0, 0, 0, time.UTC))
	srv := startInstanceServer(t, clk, time.Minute)
	const acct = "171717171717"
	c := newClient(t, srv.URL, acct, "us-east-1")

	in := createInput("deferred", "postgres")
	in.PreferredMaintenanceWindow = aws.String("Mon:03:00-Mon:03:30")
	in.EngineVersion = aws.String("16")
	d := createDB(t, c, in)
	// Since 2024-01-25 new instances get rds-ca-rsa2048-g1.
	if got := aws.ToString(d.CACertificateIdentifier); got != rsa2048 {
		t.Fatalf("CACertificateIdentifier %q in June 2024", got)
	}
	if got := aws.ToString(d.PreferredMaintenanceWindow); got != "mon:03:00-mon:03:30" {
		t.Fatalf("PreferredMaintenanceWindow %q", got)
	}
	clk.Advance(time.Minute)

	// No ApplyImmediately: pending until the window; the answer shows it.
	mod, err := c.ModifyDBInstance(ctx(t), &rdssdk.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("deferred"), CACertificateIdentifier: aws.String(ecc384)})
	if err != nil {
		t.Fatal(err)
	}
	checkAvailable(t, mod.DBInstance, acct, "deferred", "postgres", "available", rsa2048, time.Time{})
	wantPendingCA(t, mod.DBInstance, ecc384)
	// No pending maintenance action: a deferred change is not one.
	if acts := pendingActions(t, c, nil); len(acts) != 0 {
		t.Fatalf("pending actions %v, want none", acts)
	}
	// A reboot does not apply it.
	if _, err := c.RebootDBInstance(ctx(t), &rdssdk.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("deferred")}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	d2 := describeDB(t, c, "deferred")
	checkAvailable(t, &d2, acct, "deferred", "postgres", "available", rsa2048, time.Time{})
	wantPendingCA(t, &d2, ecc384)

	// Monday 2024-06-10 03:00 is the window start: one minute of modifying.
	clk.Set(time.Date(2024, 6, 10, 3, 0, 30, 0, time.UTC))
	d2 = describeDB(t, c, "deferred")
	checkAvailable(t, &d2, acct, "deferred", "postgres", "modifying", rsa2048, time.Time{})
	clk.Set(time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC))
	d2 = describeDB(t, c, "deferred")
	checkAvailable(t, &d2, acct, "deferred", "postgres", "available", ecc384, time.Date(2025, 6, 10, 3, 1, 0, 0, time.UTC))
	wantPendingCA(t, &d2, "")

	// ApplyImmediately with CertificateRotationRestart=false: held until a reboot.
	mod, err = c.ModifyDBInstance(ctx(t), &rdssdk.ModifyDBInstanceInput{
		DBInstanceIdentifier: aws.String("deferred"), CACertificateIdentifier: aws.String(rsa4096),
		ApplyImmediately: aws.Bool(true), CertificateRotationRestart: aws.Bool(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	wantPendingCA(t, mod.DBInstance, rsa4096)
	clk.Advance(8 * 24 * time.Hour) // past another window: not applied there
	d2 = describeDB(t, c, "deferred")
	checkAvailable(t, &d2, acct, "deferred", "postgres", "available", ecc384, time.Time{})
	wantPendingCA(t, &d2, rsa4096)
	rebootAt := clk.Now()
	if _, err := c.RebootDBInstance(ctx(t), &rdssdk.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("deferred")}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	d2 = describeDB(t, c, "deferred")
	checkAvailable(t, &d2, acct, "deferred", "postgres", "available", rsa4096, years(rebootAt.Add(time.Minute), 1))
	wantPendingCA(t, &d2, "")

	// Modifying to the current CA is a no-op that drops a pending change.
	if _, err := c.ModifyDBInstance(ctx(t), &rdssdk.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("deferred"), CACertificateIdentifier: aws.String(rsa2048)}); err != nil {
		t.Fatal(err)
	}
	mod, err = c.ModifyDBInstance(ctx(t), &rdssdk.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("deferred"), CACertificateIdentifier: aws.String(rsa4096), ApplyImmediately: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	wantPendingCA(t, mod.DBInstance, "")
	if got := aws.ToString(mod.DBInstance.DBInstanceStatus); got != "available" {
		t.Fatalf("same-CA modify: status %q", got)
	}

	// DescribeDBEngineVersions.
	type ev struct {
		engine, version string
		noRestart       bool
	}
	for _, e := range []ev{{"postgres", "16", true}, {"mysql", "5.7", false}, {"mysql", "8.0", true}, {"mariadb", "10.6", true}} {
		out, err := c.DescribeDBEngineVersions(ctx(t), &rdssdk.DescribeDBEngineVersionsInput{Engine: aws.String(e.engine), EngineVersion: aws.String(e.version)})
		if err != nil {
			t.Fatalf("DescribeDBEngineVersions %s %s: %v", e.engine, e.version, err)
		}
		if len(out.DBEngineVersions) == 0 {
			t.Fatalf("%s %s: no versions", e.engine, e.version)
		}
		for _, v := range out.DBEngineVersions {
			if aws.ToString(v.Engine) != e.engine || !strings.HasPrefix(aws.ToString(v.EngineVersion), e.version) {
				t.Fatalf("%s %s: got %s %s", e.engine, e.version, aws.ToString(v.Engine), aws.ToString(v.EngineVersion))
			}
			if aws.ToBool(v.SupportsCertificateRotationWithoutRestart) != e.noRestart || v.SupportsCertificateRotationWithoutRestart == nil {
				t.Fatalf("%s %s: SupportsCertificateRotationWithoutRestart %v, want %v", e.engine, aws.ToString(v.EngineVersion), v.SupportsCertificateRotationWithoutRestart, e.noRestart)
			}
			// In June 2024 rds-ca-2019 is still listed.
			if got := strings.Join(v.SupportedCACertificateIdentifiers, ","); got != strings.Join([]string{ca2019, ecc384, rsa2048, rsa4096}, ",") {
				t.Fatalf("%s %s: SupportedCACertificateIdentifiers %s", e.engine, aws.ToString(v.EngineVersion), got)
			}
		}
	}
	clk.Set(dec2026)
	out, err := c.DescribeDBEngineVersions(ctx(t), &rdssdk.DescribeDBEngineVersionsInput{Engine: aws.String("postgres")})
	if err != nil {
		t.Fatal(err)
	}
	majors := map[string]bool{}
	for _, v := range out.DBEngineVersions {
		majors[aws.ToString(v.MajorEngineVersion)] = true
		if got := strings.Join(v.SupportedCACertificateIdentifiers, ","); got != strings.Join([]string{ecc384, rsa2048, rsa4096}, ",") {
			t.Fatalf("postgres %s in 2026: SupportedCACertificateIdentifiers %s", aws.ToString(v.EngineVersion), got)
		}
	}
	for _, m := range []string{"12", "13", "14", "15", "16", "17"} {
		if !majors[m] {
			t.Fatalf("postgres major %s missing: %v", m, majors)
		}
	}
	_, err = c.DescribeDBEngineVersions(ctx(t), &rdssdk.DescribeDBEngineVersionsInput{Engine: aws.String("nosuchdb")})
	wantAPIError(t, err, "InvalidParameterValue", 400)
}
