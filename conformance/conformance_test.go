// Package conformance runs real AWS clients against a real rdsca server.
//
// TestMain builds ./cmd/rdsca once. Each subtest starts its own server (sqlite store, own
// data directory, free 127.0.0.1 port), waits for /healthz and runs one client program:
//
//	cli-v1      conformance/cli.sh with AWS CLI v1 (--endpoint-url)
//	cli-v2      conformance/cli.sh with AWS CLI v2 (--endpoint-url)
//	boto3       conformance/boto3_check.py, configured only through AWS_ENDPOINT_URL_RDS
//	js          conformance/js/check.mjs with @aws-sdk/client-rds (endpoint option)
//	clock-2024  boto3_check.py --clock-2024 against a server started with --clock 2024-01-01T00:00:00Z
//
// and the CA rotation rehearsals, each against a server of its own started with
// --transition-delay 1s (they move its clock through the admin endpoint):
//
//	rehearsal-cli-v1  conformance/rehearsal_cli.sh with AWS CLI v1
//	rehearsal-cli-v2  conformance/rehearsal_cli.sh with AWS CLI v2
//	rehearsal-boto3   conformance/rehearsal_boto3.py (AWS_ENDPOINT_URL_RDS only)
//	rehearsal-js      conformance/js/rehearsal.mjs
//
// and, under strict/, the same against servers started with --auth strict --credentials FILE
// (strict_test.go): cli-v1, cli-v2, boto3 and js share one server, each with a key of its own
// mapped to an account of its own, and also check that a wrong secret, an unknown key and an
// unsigned request are refused (SignatureDoesNotMatch, InvalidClientTokenId,
// MissingAuthenticationToken, 403); go-sdk sends aws-sdk-go-v2-signed requests the others
// cannot (expired, presigned, admin calls); clock-2024 and the boto3 and JS rehearsals get a
// strict server each (the rehearsals check that the instance ARN names the credentials file's
// account, sign their admin calls and check that unsigned ones are refused).
//
// A client that is not installed is skipped with a message saying how to install it,
// unless RDSCA_REQUIRE_CLIENTS=1, which turns the skip into a failure (CI sets it).
//
// Under go test -race the server is built with -race too, and a data race it reports fails
// the subtest.
//
// Other environment: RDSCA_BIN uses a prebuilt server binary instead of building one;
// RDSCA_AWS_CLI_V1 / RDSCA_AWS_CLI_V2 name the aws executables to use.
package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rdsca/rdsca/internal/testenv"
)

// serverBin is the rdsca binary built by TestMain.
var serverBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if bin := os.Getenv("RDSCA_BIN"); bin != "" {
		serverBin = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "rdsca-conformance-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Under go test -race the server is built with the race detector too, so the
	// clients' traffic also hunts for data races in it (a race fails the subtest).
	if serverBin, err = testenv.BuildRdsca(dir, raceEnabled); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		return 1
	}
	return m.Run()
}

func requireClients() bool { return os.Getenv("RDSCA_REQUIRE_CLIENTS") == "1" }

// missing skips the test because a client is absent, or fails it under RDSCA_REQUIRE_CLIENTS=1.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if requireClients() {
		t.Fatalf("RDSCA_REQUIRE_CLIENTS=1 but %s", msg)
	}
	t.Skip(msg)
}

// lineLogger writes each complete line to t.Log as it arrives.
type lineLogger struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    []byte
	done   bool
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		if !l.done {
			l.t.Log(l.prefix + string(l.buf[:i]))
		}
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 && !l.done {
		l.t.Log(l.prefix + string(l.buf))
	}
	l.buf = nil
	l.done = true
}

// startServer starts rdsca with a sqlite store in its own data directory and returns its
// base URL once /healthz answers 200. The server is stopped (SIGTERM, then SIGKILL) on cleanup.
func startServer(t *testing.T, extra ...string) string {
	t.Helper()
	addr := testenv.FreeAddr(t)
	args := append([]string{
		"--listen", addr,
		"--data-dir", t.TempDir(),
		"--store", "sqlite",
		"--region", "us-east-1",
	}, extra...)
	cmd := exec.Command(serverBin, args...)
	cmd.Env = serverEnv()
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", serverBin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Errorf("rdsca did not stop within 10s of SIGTERM; killing it")
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		if strings.Contains(out.String(), "WARNING: DATA RACE") {
			t.Errorf("the race detector found a data race in rdsca")
		}
		if t.Failed() {
			t.Logf("rdsca %s output:\n%s", strings.Join(args, " "), out.String())
		}
	})

	base := "http://" + addr
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // let cleanup see it too
			t.Fatalf("rdsca exited before becoming healthy: %v\n%s", err, out.String())
		default:
		}
		resp, err := hc.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("rdsca at %s not healthy after 60s (last: %v)\n%s", base, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("rdsca %s is healthy", strings.Join(args, " "))
	return base
}

// serverEnv is the environment without any RDSCA_* variable, so the flags alone configure it.
func serverEnv() []string {
	return testenv.Environ([]string{"RDSCA_"})
}

// clientEnv is the environment without any AWS_* or RDSCA_* variable, plus the given ones
// and a config that points nowhere (no shared config or credentials file, no IMDS).
func clientEnv(t *testing.T, account string, extra ...string) []string {
	env := testenv.Environ([]string{"AWS_", "RDSCA_"})
	home := t.TempDir()
	env = append(env,
		"AWS_ACCESS_KEY_ID="+account,
		"AWS_SECRET_ACCESS_KEY=rdsca-conformance-secret",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	)
	return append(env, extra...)
}

// runClient runs one client program, streams its output into the test log and fails the
// test if it exits non-zero.
func runClient(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	lw := &lineLogger{t: t, prefix: "| "}
	cmd.Stdout, cmd.Stderr = lw, lw
	start := time.Now()
	err := cmd.Run()
	lw.flush()
	if ctx.Err() != nil {
		t.Fatalf("%s %s timed out after %v", name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	}
	if err != nil {
		t.Fatalf("%s %s failed after %v: %v", name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond), err)
	}
	t.Logf("%s %s passed in %v", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
}

func absPath(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// awsCLIs finds the installed AWS CLIs by major version ("1", "2") -> executable path.
var awsCLIs = sync.OnceValue(func() map[string]string {
	found := map[string]string{}
	var candidates []string
	for _, env := range []string{"RDSCA_AWS_CLI_V1", "RDSCA_AWS_CLI_V2"} {
		if p := os.Getenv(env); p != "" {
			candidates = append(candidates, p)
		}
	}
	if p, err := exec.LookPath("aws"); err == nil {
		candidates = append(candidates, p)
	}
	// Debian's awscli package (v2) installs /usr/bin/aws, which a v1 earlier on PATH hides.
	candidates = append(candidates, "/usr/bin/aws", "/usr/local/bin/aws")
	if out, err := exec.Command("dpkg", "-L", "awscli").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasSuffix(line, "bin/aws") {
				candidates = append(candidates, line)
			}
		}
	}
	seen := map[string]bool{}
	for _, c := range candidates {
		if seen[c] {
			continue
		}
		seen[c] = true
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, c, "--version").CombinedOutput()
		cancel()
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(out))
		for _, major := range []string{"1", "2"} {
			if strings.HasPrefix(v, "aws-cli/"+major+".") && found[major] == "" {
				found[major] = c
			}
		}
	}
	return found
})

func hasBoto3() (string, bool) {
	py, err := exec.LookPath("python3")
	if err != nil {
		return "", false
	}
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		return py, false
	}
	return py, true
}

func TestClients(t *testing.T) {
	t.Run("cli-v1", func(t *testing.T) {
		t.Parallel()
		aws := awsCLIs()["1"]
		if aws == "" {
			missing(t, "AWS CLI v1 not found (no `aws --version` says aws-cli/1.*): install it with `pip install awscli`, or set RDSCA_AWS_CLI_V1")
		}
		base := startServer(t)
		runClient(t, clientEnv(t, "333333333333", "RDSCA_ENDPOINT="+base), "bash", absPath(t, "cli.sh"), aws)
	})
	t.Run("cli-v2", func(t *testing.T) {
		t.Parallel()
		aws := awsCLIs()["2"]
		if aws == "" {
			missing(t, "AWS CLI v2 not found (no `aws --version` says aws-cli/2.*): install it with `apt-get install -y awscli` (Debian), or set RDSCA_AWS_CLI_V2")
		}
		base := startServer(t)
		runClient(t, clientEnv(t, "444444444444", "RDSCA_ENDPOINT="+base), "bash", absPath(t, "cli.sh"), aws)
	})
	t.Run("boto3", func(t *testing.T) {
		t.Parallel()
		py, ok := hasBoto3()
		if !ok {
			missing(t, "boto3 client: python3 with boto3 not found: install it with `pip install boto3`")
		}
		base := startServer(t)
		// Configured only through AWS_ENDPOINT_URL_RDS.
		env := clientEnv(t, "111111111111", "AWS_ENDPOINT_URL_RDS="+base, "RDSCA_SECOND_ACCOUNT=222222222222")
		runClient(t, env, py, absPath(t, "boto3_check.py"))
	})
	t.Run("js", func(t *testing.T) {
		t.Parallel()
		node, err := exec.LookPath("node")
		if err != nil {
			missing(t, "JS client: node not found: install Node.js 20 or later, then `npm ci --prefix conformance/js`")
		}
		if _, err := os.Stat(filepath.Join("js", "node_modules", "@aws-sdk", "client-rds", "package.json")); errors.Is(err, os.ErrNotExist) {
			missing(t, "JS client: conformance/js/node_modules is not installed: run `npm ci --prefix conformance/js`")
		}
		base := startServer(t)
		runClient(t, clientEnv(t, "555555555555", "RDSCA_ENDPOINT="+base), node, absPath(t, filepath.Join("js", "check.mjs")))
	})
	// The rotation rehearsals: one server each, as each moves its server's clock.
	t.Run("rehearsal-cli-v1", func(t *testing.T) {
		t.Parallel()
		aws := awsCLIs()["1"]
		if aws == "" {
			missing(t, "AWS CLI v1 not found (no `aws --version` says aws-cli/1.*): install it with `pip install awscli`, or set RDSCA_AWS_CLI_V1")
		}
		base := startServer(t, rehearsalFlags...)
		runClient(t, clientEnv(t, "303030303030", rehearsalEnv("RDSCA_ENDPOINT="+base)...), "bash", absPath(t, "rehearsal_cli.sh"), aws)
	})
	t.Run("rehearsal-cli-v2", func(t *testing.T) {
		t.Parallel()
		aws := awsCLIs()["2"]
		if aws == "" {
			missing(t, "AWS CLI v2 not found (no `aws --version` says aws-cli/2.*): install it with `apt-get install -y awscli` (Debian), or set RDSCA_AWS_CLI_V2")
		}
		base := startServer(t, rehearsalFlags...)
		runClient(t, clientEnv(t, "404040404040", rehearsalEnv("RDSCA_ENDPOINT="+base)...), "bash", absPath(t, "rehearsal_cli.sh"), aws)
	})
	t.Run("rehearsal-boto3", func(t *testing.T) {
		t.Parallel()
		py, ok := hasBoto3()
		if !ok {
			missing(t, "boto3 rehearsal: python3 with boto3 not found: install it with `pip install boto3`")
		}
		base := startServer(t, rehearsalFlags...)
		runClient(t, clientEnv(t, "101010101010", rehearsalEnv("AWS_ENDPOINT_URL_RDS="+base)...), py, absPath(t, "rehearsal_boto3.py"))
	})
	t.Run("rehearsal-js", func(t *testing.T) {
		t.Parallel()
		node, err := exec.LookPath("node")
		if err != nil {
			missing(t, "JS rehearsal: node not found: install Node.js 20 or later, then `npm ci --prefix conformance/js`")
		}
		if _, err := os.Stat(filepath.Join("js", "node_modules", "@aws-sdk", "client-rds", "package.json")); errors.Is(err, os.ErrNotExist) {
			missing(t, "JS rehearsal: conformance/js/node_modules is not installed: run `npm ci --prefix conformance/js`")
		}
		base := startServer(t, rehearsalFlags...)
		runClient(t, clientEnv(t, "202020202020", rehearsalEnv("RDSCA_ENDPOINT="+base)...), node, absPath(t, filepath.Join("js", "rehearsal.mjs")))
	})
	t.Run("clock-2024", func(t *testing.T) {
		t.Parallel()
		py, ok := hasBoto3()
		if !ok {
			missing(t, "clock-2024 check uses boto3: python3 with boto3 not found: install it with `pip install boto3`")
		}
		base := startServer(t, "--clock", "2024-01-01T00:00:00Z")
		env := clientEnv(t, "666666666666", "AWS_ENDPOINT_URL_RDS="+base)
		runClient(t, env, py, absPath(t, "boto3_check.py"), "--clock-2024")
	})
	// The same clients against servers started with --auth strict (strict_test.go).
	t.Run("strict", strictClients)
}

// rehearsalDelay is the rehearsal servers' --transition-delay: long enough for the
// clients' waiters to see each transitional status, short enough to keep them quick.
const rehearsalDelay = "1s"

// rehearsalFlags start a rehearsal's server.
var rehearsalFlags = []string{"--transition-delay", rehearsalDelay}

// rehearsalEnv tells a rehearsal client the server's transition delay, in seconds.
func rehearsalEnv(extra ...string) []string {
	return append([]string{"RDSCA_TRANSITION_DELAY=" + strings.TrimSuffix(rehearsalDelay, "s")}, extra...)
}
