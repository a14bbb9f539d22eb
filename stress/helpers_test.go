// Package stress holds the long-running robustness tests of rdsca:
//
//	TestCrashSafety  the rdsca binary on the SQLite store under concurrent
//	                 writes, SIGKILLed mid-load and restarted on the same data
//	                 dir, RDSCA_CRASH_RUNS times (default 3): every
//	                 acknowledged write is there and the state is consistent.
//	TestLoad         64 concurrent SDK clients mixing reads and writes against
//	                 an in-process server over real TCP (SQLite and memory
//	                 stores, so -race covers the server): no unexpected error,
//	                 and each scope's final override is its last acknowledged one.
//
// TestMain builds ./cmd/rdsca once (with -race under go test -race); -short
// skips both tests.
package stress

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"

	"github.com/rdsca/rdsca/catalog"
	"github.com/rdsca/rdsca/rds"

	"github.com/rdsca/rdsca/internal/testenv"
)

// Identifiers and engines the tests use.
const (
	ecc384  = catalog.ECC384G1
	rsa2048 = catalog.RSA2048G1
	rsa4096 = catalog.RSA4096G1
)

// g1 are the CAs every region lists today.
var g1 = []string{ecc384, rsa2048, rsa4096}

// regions the tests spread scopes over.
var regions = []string{"us-east-1", "eu-west-1"}

// rdscaBin is the binary TestMain builds; buildErr says why it is missing.
var (
	rdscaBin string
	buildErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		if testing.Short() {
			buildErr = errors.New("not built in -short mode")
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "rdsca-stress-")
		if err != nil {
			buildErr = err
			return m.Run()
		}
		defer os.RemoveAll(dir)
		rdscaBin, buildErr = testenv.BuildRdsca(dir, raceEnabled)
		return m.Run()
	}())
}

func needBinary(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("stress tests are skipped with -short")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// tailBuffer keeps the last max bytes written to it, and remembers whether
// a panic or a data race report went through.
type tailBuffer struct {
	mu    sync.Mutex
	b     []byte
	max   int
	alarm string
}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	for _, s := range []string{"WARNING: DATA RACE", "panic:", "level=ERROR", `"level":"ERROR"`} {
		if w.alarm == "" && bytes.Contains(w.b, []byte(s)) {
			w.alarm = s
		}
	}
	if len(w.b) > w.max {
		// Keep a little overlap so a marker split across writes is seen.
		w.b = append(w.b[:0], w.b[len(w.b)-w.max:]...)
	}
	return len(p), nil
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}

// Alarm returns the first alarming marker seen, or "".
func (w *tailBuffer) Alarm() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.alarm
}

// proc is a running rdsca.
type proc struct {
	cmd    *exec.Cmd
	url    string
	stderr *tailBuffer
	done   chan struct{}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil && !p.exited() {
		t.Fatalf("kill: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("rdsca still running 30s after SIGKILL")
	}
}

// checkLog fails the test if the server printed a panic, a data race or an
// error-level log line.
func (p *proc) checkLog(t *testing.T) {
	t.Helper()
	if a := p.stderr.Alarm(); a != "" {
		t.Errorf("rdsca printed %q; end of its stderr:\n%s", a, p.stderr)
	}
}

// start runs rdsca with args on a free port and waits for /healthz. It is
// killed at cleanup if still running.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	needBinary(t)
	addr := testenv.FreeAddr(t)
	p := &proc{cmd: exec.Command(rdscaBin, append([]string{"--listen", addr}, args...)...), url: "http://" + addr,
		stderr: &tailBuffer{max: 64 << 10}, done: make(chan struct{})}
	p.cmd.Env = testenv.Environ([]string{"RDSCA_"})
	p.cmd.Stdout, p.cmd.Stderr = p.stderr, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start rdsca: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("rdsca %v, end of stderr:\n%s", args, p.stderr)
		}
	})
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if p.exited() {
			t.Fatalf("rdsca exited before serving; stderr:\n%s", p.stderr)
		}
		if testenv.Healthy(hc, p.url) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("rdsca not healthy after 60s; stderr:\n%s", p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sharedHTTP is the connection pool of every client of a test.
func sharedHTTP(conns int) aws.HTTPClient {
	return testenv.OwnBodyClient{C: awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = conns
		tr.MaxIdleConnsPerHost = conns
	}).WithTimeout(30 * time.Second)}
}

// newClient returns an SDK client signing as account in region, retries off
// so every error is seen.
func newClient(baseURL string, hc aws.HTTPClient, account, region string) *rdssdk.Client {
	return rdssdk.NewFromConfig(aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: account, SecretAccessKey: "secret", Source: "stress"}, nil
		}),
		BaseEndpoint:     aws.String(baseURL),
		HTTPClient:       hc,
		RetryMaxAttempts: 1,
		Retryer:          func() aws.Retryer { return aws.NopRetryer{} },
	})
}

// apiCode returns the AWS error code of err, "" if it is no API error.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus returns the HTTP status of an error response, 0 if none.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// override returns the identifier marked CustomerOverride ("" for none)
// after checking the listing is consistent with it.
func override(out *rdssdk.DescribeCertificatesOutput) (string, error) {
	var ov []string
	for _, c := range out.Certificates {
		if aws.ToBool(c.CustomerOverride) {
			ov = append(ov, aws.ToString(c.CertificateIdentifier))
		}
	}
	def := aws.ToString(out.DefaultCertificateForNewLaunches)
	switch {
	case len(ov) > 1:
		return "", fmt.Errorf("several overrides %v", ov)
	case len(ov) == 1 && def != ov[0]:
		return "", fmt.Errorf("override %s but DefaultCertificateForNewLaunches %s", ov[0], def)
	case len(ov) == 0 && def != rsa2048:
		return "", fmt.Errorf("no override but DefaultCertificateForNewLaunches %s", def)
	case len(ov) == 1:
		return ov[0], nil
	}
	return "", nil
}

// listInstances returns every instance of the client's scope through the
// paginator, by identifier.
func listInstances(ctx context.Context, c *rdssdk.Client) (map[string]types.DBInstance, error) {
	out := map[string]types.DBInstance{}
	p := rdssdk.NewDescribeDBInstancesPaginator(c, &rdssdk.DescribeDBInstancesInput{MaxRecords: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, d := range page.DBInstances {
			id := aws.ToString(d.DBInstanceIdentifier)
			if _, dup := out[id]; dup {
				return nil, fmt.Errorf("DescribeDBInstances lists %s twice", id)
			}
			out[id] = d
		}
	}
	return out, nil
}

// checkWhole checks that an instance listed as available is complete: every
// member a finished create or rotation writes, for its scope and CA.
func checkWhole(d types.DBInstance, account, region, ca string) error {
	id := aws.ToString(d.DBInstanceIdentifier)
	var problems []string
	want := func(what, got, want string) {
		if got != want {
			problems = append(problems, fmt.Sprintf("%s %q, want %q", what, got, want))
		}
	}
	want("DBInstanceStatus", aws.ToString(d.DBInstanceStatus), "available")
	want("DBInstanceArn", aws.ToString(d.DBInstanceArn), "arn:aws:rds:"+region+":"+account+":db:"+id)
	want("Engine", aws.ToString(d.Engine), "postgres")
	want("DBInstanceClass", aws.ToString(d.DBInstanceClass), "db.t3.micro")
	want("MasterUsername", aws.ToString(d.MasterUsername), "admin")
	want("CACertificateIdentifier", aws.ToString(d.CACertificateIdentifier), ca)
	if d.CertificateDetails == nil || aws.ToString(d.CertificateDetails.CAIdentifier) != ca || d.CertificateDetails.ValidTill == nil {
		problems = append(problems, fmt.Sprintf("CertificateDetails %+v, want CA %s with a ValidTill", d.CertificateDetails, ca))
	}
	if d.Endpoint == nil || aws.ToString(d.Endpoint.Address) == "" || aws.ToInt32(d.Endpoint.Port) != 5432 {
		problems = append(problems, fmt.Sprintf("Endpoint %+v", d.Endpoint))
	}
	if d.PendingModifiedValues != nil && d.PendingModifiedValues.CACertificateIdentifier != nil {
		problems = append(problems, "a pending CA "+aws.ToString(d.PendingModifiedValues.CACertificateIdentifier))
	}
	if r := aws.ToString(d.DbiResourceId); !strings.HasPrefix(r, "db-") || len(r) != 29 {
		problems = append(problems, fmt.Sprintf("DbiResourceId %q", r))
	}
	if d.InstanceCreateTime == nil || aws.ToString(d.AvailabilityZone) == "" || aws.ToString(d.PreferredMaintenanceWindow) == "" {
		problems = append(problems, "no InstanceCreateTime, AvailabilityZone or PreferredMaintenanceWindow")
	}
	if len(problems) > 0 {
		return fmt.Errorf("instance %s (%s/%s) is not whole: %s", id, account, region, strings.Join(problems, "; "))
	}
	return nil
}

// createInput is a valid CreateDBInstance with an explicit CA ("" for the
// scope's default).
func createInput(id, ca string) *rdssdk.CreateDBInstanceInput {
	in := &rdssdk.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(id),
		DBInstanceClass:      aws.String("db.t3.micro"),
		Engine:               aws.String("postgres"),
		MasterUsername:       aws.String("admin"),
		MasterUserPassword:   aws.String("secret-password"),
		AllocatedStorage:     aws.Int32(20),
	}
	if ca != "" {
		in.CACertificateIdentifier = aws.String(ca)
	}
	return in
}

// envInt reads a positive integer from the environment.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// cheapGenerator signs every certificate with one P-256 key, keeping the
// spec's validity window (all the service reads from it), so an in-process
// server needs no RSA key generation.
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
