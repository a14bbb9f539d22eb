package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/server"
)

// Instance-test constants.
const (
	usEast1HostedZone = "Z2R2ITUGPM61AM"
	ca2019Expiry      = "2024-08-22T17:08:50Z"
)

var (
	resourceIDRe = regexp.MustCompile(`^db-[A-Z2-7]{26}$`)
	windowRe     = regexp.MustCompile(`^(sun|mon|tue|wed|thu|fri|sat):\d\d:\d\d-(sun|mon|tue|wed|thu|fri|sat):\d\d:\d\d$`)
)

// settableClock is a clock the admin endpoints (and tests) can move.
type settableClock interface {
	Now() time.Time
	server.SettableClock
}

// instanceServer is an in-process rdsca with a memory store, the given
// clock and transition delay.
type instanceServer struct {
	URL   string
	Clock settableClock
}

func startInstanceServer(t *testing.T, clk settableClock, delay time.Duration) *instanceServer {
	t.Helper()
	store := memory.New()
	srv, err := server.New(server.Config{Store: store, Clock: clk, Generator: keys, Delay: delay})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		_ = store.Close()
	})
	return &instanceServer{URL: hs.URL, Clock: clk}
}

// createInput is a valid CreateDBInstance input; mutate what the test needs.
func createInput(id, engine string) *rdssdk.CreateDBInstanceInput {
	return &rdssdk.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(id),
		DBInstanceClass:      aws.String("db.t3.micro"),
		Engine:               aws.String(engine),
		MasterUsername:       aws.String("admin"),
		MasterUserPassword:   aws.String("secret-password"),
		AllocatedStorage:     aws.Int32(20),
	}
}

// createDB creates an instance and returns the response's DBInstance.
func createDB(t *testing.T, c *rdssdk.Client, in *rdssdk.CreateDBInstanceInput) *types.DBInstance {
	t.Helper()
	out, err := c.CreateDBInstance(ctx(t), in)
	if err != nil {
		t.Fatalf("CreateDBInstance %s: %v", aws.ToString(in.DBInstanceIdentifier), err)
	}
	if out.DBInstance == nil {
		t.Fatalf("CreateDBInstance %s: no DBInstance", aws.ToString(in.DBInstanceIdentifier))
	}
	return out.DBInstance
}

// describeDB describes one instance by identifier or ARN.
func describeDB(t *testing.T, c *rdssdk.Client, id string) types.DBInstance {
	t.Helper()
	out, err := c.DescribeDBInstances(ctx(t), &rdssdk.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeDBInstances %s: %v", id, err)
	}
	if len(out.DBInstances) != 1 {
		t.Fatalf("DescribeDBInstances %s: %d instances", id, len(out.DBInstances))
	}
	if out.Marker != nil {
		t.Fatalf("DescribeDBInstances %s: Marker %q", id, *out.Marker)
	}
	return out.DBInstances[0]
}

// pendingActions returns the pending maintenance actions of every resource
// of the caller, keyed by ARN, through the SDK paginator.
func pendingActions(t *testing.T, c *rdssdk.Client, in *rdssdk.DescribePendingMaintenanceActionsInput) map[string][]types.PendingMaintenanceAction {
	t.Helper()
	if in == nil {
		in = &rdssdk.DescribePendingMaintenanceActionsInput{}
	}
	m := map[string][]types.PendingMaintenanceAction{}
	p := rdssdk.NewDescribePendingMaintenanceActionsPaginator(c, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("DescribePendingMaintenanceActions: %v", err)
		}
		for _, r := range out.PendingMaintenanceActions {
			arn := aws.ToString(r.ResourceIdentifier)
			if _, dup := m[arn]; dup {
				t.Fatalf("DescribePendingMaintenanceActions lists %s twice", arn)
			}
			m[arn] = r.PendingMaintenanceActionDetails
		}
	}
	return m
}

// wantCARotationPending checks that arn has exactly the ca-certificate-rotation
// action, with optIn ("" for none) and, when given, CurrentApplyDate.
func wantCARotationPending(t *testing.T, acts map[string][]types.PendingMaintenanceAction, arn, optIn string, applyDate time.Time) {
	t.Helper()
	a, ok := acts[arn]
	if !ok {
		t.Fatalf("no pending maintenance for %s; have %v", arn, keysOf(acts))
	}
	checkCARotationAction(t, a, optIn, applyDate)
}

func checkCARotationAction(t *testing.T, a []types.PendingMaintenanceAction, optIn string, applyDate time.Time) {
	t.Helper()
	if len(a) != 1 {
		t.Fatalf("%d pending actions, want 1 (ca-certificate-rotation)", len(a))
	}
	got := a[0]
	if aws.ToString(got.Action) != "ca-certificate-rotation" {
		t.Fatalf("Action %q", aws.ToString(got.Action))
	}
	if aws.ToString(got.Description) != "CA certificate rotation" {
		t.Fatalf("Description %q", aws.ToString(got.Description))
	}
	if got.AutoAppliedAfterDate != nil || got.ForcedApplyDate != nil {
		t.Fatalf("AutoAppliedAfterDate %v / ForcedApplyDate %v: RDS does not force CA rotation", got.AutoAppliedAfterDate, got.ForcedApplyDate)
	}
	if aws.ToString(got.OptInStatus) != optIn {
		t.Fatalf("OptInStatus %q, want %q", aws.ToString(got.OptInStatus), optIn)
	}
	switch {
	case optIn == "" && got.CurrentApplyDate != nil:
		t.Fatalf("CurrentApplyDate %v without an opt-in", got.CurrentApplyDate)
	case optIn != "" && got.CurrentApplyDate == nil:
		t.Fatalf("no CurrentApplyDate with OptInStatus %s", optIn)
	case !applyDate.IsZero() && !got.CurrentApplyDate.Equal(applyDate):
		t.Fatalf("CurrentApplyDate %v, want %v", got.CurrentApplyDate, applyDate)
	}
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func instanceARN(account, region, id string) string {
	return "arn:aws:rds:" + region + ":" + account + ":db:" + id
}

// checkCommon checks the members every state carries.
func checkCommon(t *testing.T, d *types.DBInstance, account, id, engine, status string) {
	t.Helper()
	if got := aws.ToString(d.DBInstanceIdentifier); got != id {
		t.Fatalf("DBInstanceIdentifier %q, want %q", got, id)
	}
	if got := aws.ToString(d.DBInstanceStatus); got != status {
		t.Fatalf("%s: DBInstanceStatus %q, want %q", id, got, status)
	}
	if got := aws.ToString(d.Engine); got != engine {
		t.Fatalf("%s: Engine %q, want %q", id, got, engine)
	}
	if got, want := aws.ToString(d.DBInstanceArn), instanceARN(account, "us-east-1", id); got != want {
		t.Fatalf("%s: DBInstanceArn %q, want %q", id, got, want)
	}
	if got := aws.ToString(d.DbiResourceId); !resourceIDRe.MatchString(got) {
		t.Fatalf("%s: DbiResourceId %q", id, got)
	}
	if got := aws.ToString(d.PreferredMaintenanceWindow); !windowRe.MatchString(got) {
		t.Fatalf("%s: PreferredMaintenanceWindow %q", id, got)
	}
	if aws.ToString(d.DBInstanceClass) != "db.t3.micro" || aws.ToString(d.MasterUsername) != "admin" || aws.ToInt32(d.AllocatedStorage) != 20 {
		t.Fatalf("%s: class %q user %q storage %d", id, aws.ToString(d.DBInstanceClass), aws.ToString(d.MasterUsername), aws.ToInt32(d.AllocatedStorage))
	}
	if d.PendingModifiedValues == nil {
		t.Fatalf("%s: no PendingModifiedValues", id)
	}
}

// checkCreating checks a creating instance: no Endpoint, no
// InstanceCreateTime, CertificateDetails with CAIdentifier only.
func checkCreating(t *testing.T, d *types.DBInstance, account, id, engine, ca string) {
	t.Helper()
	checkCommon(t, d, account, id, engine, "creating")
	if d.Endpoint != nil {
		t.Fatalf("%s creating: Endpoint %+v", id, *d.Endpoint)
	}
	if d.InstanceCreateTime != nil {
		t.Fatalf("%s creating: InstanceCreateTime %v", id, d.InstanceCreateTime)
	}
	if d.AvailabilityZone != nil {
		t.Fatalf("%s creating: AvailabilityZone %q", id, *d.AvailabilityZone)
	}
	if got := aws.ToString(d.CACertificateIdentifier); got != ca {
		t.Fatalf("%s creating: CACertificateIdentifier %q, want %q", id, got, ca)
	}
	cd := d.CertificateDetails
	if cd == nil || aws.ToString(cd.CAIdentifier) != ca || cd.ValidTill != nil {
		t.Fatalf("%s creating: CertificateDetails %s, want CAIdentifier %s only", id, showDetails(cd), ca)
	}
	if aws.ToString(d.PendingModifiedValues.MasterUserPassword) != "****" {
		t.Fatalf("%s creating: PendingModifiedValues.MasterUserPassword %q, want ****", id, aws.ToString(d.PendingModifiedValues.MasterUserPassword))
	}
}

// checkAvailable checks an available (or rebooting, modifying) instance:
// Endpoint, InstanceCreateTime, CertificateDetails with ValidTill.
func checkAvailable(t *testing.T, d *types.DBInstance, account, id, engine, status, ca string, validTill time.Time) {
	t.Helper()
	checkCommon(t, d, account, id, engine, status)
	e := d.Endpoint
	if e == nil {
		t.Fatalf("%s %s: no Endpoint", id, status)
	}
	addrRe := regexp.MustCompile(`^` + regexp.QuoteMeta(id) + `\.c[a-z0-9]{11}\.us-east-1\.rds\.amazonaws\.com$`)
	if !addrRe.MatchString(aws.ToString(e.Address)) {
		t.Fatalf("%s: Endpoint.Address %q", id, aws.ToString(e.Address))
	}
	wantPort := map[string]int32{"postgres": 5432, "mysql": 3306, "mariadb": 3306}[engine]
	if aws.ToInt32(e.Port) != wantPort {
		t.Fatalf("%s: Endpoint.Port %d, want %d", id, aws.ToInt32(e.Port), wantPort)
	}
	if aws.ToString(e.HostedZoneId) != usEast1HostedZone {
		t.Fatalf("%s: HostedZoneId %q", id, aws.ToString(e.HostedZoneId))
	}
	if d.InstanceCreateTime == nil || d.InstanceCreateTime.IsZero() {
		t.Fatalf("%s %s: no InstanceCreateTime", id, status)
	}
	if az := aws.ToString(d.AvailabilityZone); !regexp.MustCompile(`^us-east-1[a-c]$`).MatchString(az) {
		t.Fatalf("%s: AvailabilityZone %q", id, az)
	}
	if got := aws.ToString(d.CACertificateIdentifier); got != ca {
		t.Fatalf("%s %s: CACertificateIdentifier %q, want %q", id, status, got, ca)
	}
	cd := d.CertificateDetails
	if cd == nil || aws.ToString(cd.CAIdentifier) != ca || cd.ValidTill == nil {
		t.Fatalf("%s %s: CertificateDetails %s, want CAIdentifier %s with ValidTill", id, status, showDetails(cd), ca)
	}
	if !validTill.IsZero() && !cd.ValidTill.Equal(validTill) {
		t.Fatalf("%s %s: CertificateDetails.ValidTill %v, want %v", id, status, cd.ValidTill.UTC(), validTill)
	}
	if aws.ToString(d.PendingModifiedValues.MasterUserPassword) != "" {
		t.Fatalf("%s %s: PendingModifiedValues.MasterUserPassword %q", id, status, aws.ToString(d.PendingModifiedValues.MasterUserPassword))
	}
}

// checkDeleting: empty CACertificateIdentifier, no CertificateDetails.
func checkDeleting(t *testing.T, d *types.DBInstance, account, id, engine string) {
	t.Helper()
	checkCommon(t, d, account, id, engine, "deleting")
	if d.CACertificateIdentifier == nil || *d.CACertificateIdentifier != "" {
		t.Fatalf("%s deleting: CACertificateIdentifier %v, want present and empty", id, showPtr(d.CACertificateIdentifier))
	}
	if d.CertificateDetails != nil {
		t.Fatalf("%s deleting: CertificateDetails %s, want none", id, showDetails(d.CertificateDetails))
	}
	if d.Endpoint == nil || aws.ToString(d.Endpoint.Address) == "" {
		t.Fatalf("%s deleting: no Endpoint", id)
	}
}

// wantPendingCA checks PendingModifiedValues.CACertificateIdentifier ("" for none).
func wantPendingCA(t *testing.T, d *types.DBInstance, ca string) {
	t.Helper()
	if d.PendingModifiedValues == nil {
		t.Fatalf("%s: no PendingModifiedValues", aws.ToString(d.DBInstanceIdentifier))
	}
	got := d.PendingModifiedValues.CACertificateIdentifier
	switch {
	case ca == "" && got != nil:
		t.Fatalf("%s: PendingModifiedValues.CACertificateIdentifier %q, want none", aws.ToString(d.DBInstanceIdentifier), *got)
	case ca != "" && aws.ToString(got) != ca:
		t.Fatalf("%s: PendingModifiedValues.CACertificateIdentifier %v, want %q", aws.ToString(d.DBInstanceIdentifier), showPtr(got), ca)
	}
}

func showPtr(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return strconv.Quote(*s)
}

func showDetails(cd *types.CertificateDetails) string {
	if cd == nil {
		return "<nil>"
	}
	till := "<nil>"
	if cd.ValidTill != nil {
		till = cd.ValidTill.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("{CAIdentifier:%s ValidTill:%s}", showPtr(cd.CAIdentifier), till)
}

// nextWindowStart is the first start of window ("ddd:hh:mm-ddd:hh:mm")
// strictly after t, computed independently of rdsca.
func nextWindowStart(t *testing.T, window string, after time.Time) time.Time {
	t.Helper()
	days := map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}
	start, _, _ := strings.Cut(window, "-")
	p := strings.Split(start, ":")
	if len(p) != 3 {
		t.Fatalf("window %q", window)
	}
	wd, ok := days[p[0]]
	h, err1 := strconv.Atoi(p[1])
	m, err2 := strconv.Atoi(p[2])
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("window %q", window)
	}
	after = after.UTC()
	for d := 0; d <= 7; d++ {
		day := time.Date(after.Year(), after.Month(), after.Day()+d, h, m, 0, 0, time.UTC)
		if day.Weekday() == wd && day.After(after) {
			return day
		}
	}
	t.Fatalf("no start of %q after %v", window, after)
	return time.Time{}
}

// statusRecorder records the DBInstanceStatus values a waiter saw.
type statusRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (r *statusRecorder) option() func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("e2eRecordStatus",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				r.mu.Lock()
				defer r.mu.Unlock()
				if o, ok := out.Result.(*rdssdk.DescribeDBInstancesOutput); ok && err == nil {
					for _, d := range o.DBInstances {
						r.seen = append(r.seen, aws.ToString(d.DBInstanceStatus))
					}
				} else if err != nil {
					r.seen = append(r.seen, "error:"+errCode(err))
				}
				return out, md, err
			}), middleware.After)
	}
}

func (r *statusRecorder) statuses() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

func errCode(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return err.Error()
}

// waitAvailable runs the SDK's DBInstanceAvailable waiter with short delays
// and returns the statuses it saw.
func waitAvailable(t *testing.T, c *rdssdk.Client, id string) []string {
	t.Helper()
	rec := &statusRecorder{}
	w := rdssdk.NewDBInstanceAvailableWaiter(c, func(o *rdssdk.DBInstanceAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
		o.APIOptions = append(o.APIOptions, rec.option())
	})
	if err := w.Wait(ctx(t), &rdssdk.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}, 30*time.Second); err != nil {
		t.Fatalf("DBInstanceAvailable waiter %s: %v (saw %v)", id, err, rec.statuses())
	}
	return rec.statuses()
}

// waitDeleted runs the SDK's DBInstanceDeleted waiter with short delays.
func waitDeleted(t *testing.T, c *rdssdk.Client, id string) []string {
	t.Helper()
	rec := &statusRecorder{}
	w := rdssdk.NewDBInstanceDeletedWaiter(c, func(o *rdssdk.DBInstanceDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
		o.APIOptions = append(o.APIOptions, rec.option())
	})
	if err := w.Wait(ctx(t), &rdssdk.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)}, 30*time.Second); err != nil {
		t.Fatalf("DBInstanceDeleted waiter %s: %v (saw %v)", id, err, rec.statuses())
	}
	return rec.statuses()
}

// adminCall sends one request to an admin endpoint and returns the status
// and the clock reading of the answer (zero on an error answer).
func adminCall(t *testing.T, baseURL, method, path, body string) (int, time.Time) {
	t.Helper()
	r := do(t, newRequest(t, method, baseURL+path, body))
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q; body %s", method, path, ct, r.Body)
	}
	var v struct {
		Now   string `json:"now"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v\n%s", method, path, err, r.Body)
	}
	if r.Status != http.StatusOK {
		if v.Error == "" {
			t.Fatalf("%s %s: status %d without an error message: %s", method, path, r.Status, r.Body)
		}
		return r.Status, time.Time{}
	}
	now, err := time.Parse(time.RFC3339Nano, v.Now)
	if err != nil {
		t.Fatalf("%s %s: now %q: %v", method, path, v.Now, err)
	}
	return r.Status, now
}

// mustAdmin is adminCall that requires 200.
func mustAdmin(t *testing.T, baseURL, method, path, body string) time.Time {
	t.Helper()
	status, now := adminCall(t, baseURL, method, path, body)
	if status != http.StatusOK {
		t.Fatalf("%s %s %s: status %d", method, path, body, status)
	}
	return now
}

// years is a server certificate's expiry n calendar years after at, in
// whole seconds.
func years(at time.Time, n int) time.Time {
	return at.UTC().AddDate(n, 0, 0).Truncate(time.Second)
}

// near reports whether a and b are within d of each other.
func near(a, b time.Time, d time.Duration) bool {
	x := a.Sub(b)
	return x <= d && x >= -d
}
