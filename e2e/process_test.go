package e2e

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsca/rdsca/internal/testenv"
)

// rdscaBin is the rdsca binary that TestMain builds once, in the background
// while the in-process tests run; built is closed when the build is over and
// buildErr says why it failed.
var (
	rdscaBin string
	buildErr error
	built    = make(chan struct{})
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		dir, err := os.MkdirTemp("", "rdsca-e2e-")
		if err != nil {
			buildErr = err
			close(built)
			return m.Run()
		}
		defer os.RemoveAll(dir)
		if testing.Short() {
			buildErr = errors.New("not built in -short mode")
			close(built)
		} else {
			go func() {
				defer close(built)
				rdscaBin, buildErr = testenv.BuildRdsca(dir, false)
			}()
		}
		defer func() { <-built }() // before RemoveAll
		return m.Run()
	}()
	os.Exit(code)
}

// needBinary skips in -short mode, waits for the build and fails if it failed.
func needBinary(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("process tests build and run the rdsca binary; skipped with -short")
	}
	<-built
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// proc is a running (or exited) rdsca subprocess.
type proc struct {
	cmd    *exec.Cmd
	addr   string
	stderr *testenv.SyncBuffer
	done   chan struct{}
	err    error // Wait's result, valid once done is closed
}

func (p *proc) URL() string { return "http://" + p.addr }

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits up to d for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("rdsca did not exit within %v; stderr:\n%s", d, p.stderr)
	}
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		t.Fatalf("wait: %v", p.err)
	}
	return p.cmd.ProcessState.ExitCode()
}

// procEnv is the environment of a subprocess: no inherited RDSCA_*
// settings, and HOME / XDG_DATA_HOME inside home so defaults touch nothing real.
func procEnv(home string, extra ...string) []string {
	env := testenv.Environ([]string{"RDSCA_", "HOME=", "XDG_DATA_HOME="},
		"HOME="+filepath.Join(home, "home"), "XDG_DATA_HOME="+filepath.Join(home, "xdg"))
	return append(env, extra...)
}

// spawn starts rdsca with args; it does not wait for readiness. The process
// is killed at cleanup if still running.
func spawn(t *testing.T, home string, env []string, args ...string) *proc {
	t.Helper()
	needBinary(t)
	p := &proc{cmd: exec.Command(rdscaBin, args...), stderr: &testenv.SyncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = procEnv(home, env...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start rdsca: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("rdsca %v stderr:\n%s", args, p.stderr)
		}
	})
	return p
}

// startRdsca starts rdsca on addr ("" for a free port) and waits for /healthz.
func startRdsca(t *testing.T, home, addr string, env []string, args ...string) *proc {
	t.Helper()
	if addr == "" {
		addr = testenv.FreeAddr(t)
	}
	p := spawn(t, home, env, append([]string{"--listen", addr}, args...)...)
	p.addr = addr
	waitHealthy(t, p)
	return p
}

func waitHealthy(t *testing.T, p *proc) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			t.Fatalf("rdsca exited before serving (%v); stderr:\n%s", p.err, p.stderr)
		}
		if testenv.Healthy(client, p.URL()) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("rdsca not healthy on %s after 30s; stderr:\n%s", p.addr, p.stderr)
}

// stopGracefully sends SIGTERM and expects exit code 0.
func stopGracefully(t *testing.T, p *proc) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0; stderr:\n%s", code, p.stderr)
	}
}

// oneLine checks s is a single non-empty line and returns it.
func oneLine(t *testing.T, s string) string {
	t.Helper()
	line := strings.TrimSuffix(s, "\n")
	if line == "" || strings.Contains(line, "\n") {
		t.Fatalf("stderr is not one line:\n%q", s)
	}
	return line
}

func TestProcessRestartKeepsOverrideAndThumbprints(t *testing.T) {
	t.Parallel()
	home, data := t.TempDir(), t.TempDir()
	p := startRdsca(t, home, "", nil, "--data-dir", data, "--store", "sqlite")
	c := newClient(t, p.URL(), "111111111111", "us-east-1")
	before := describeAll(t, c)
	modify(t, c, rsa4096)
	other := describeAll(t, newClient(t, p.URL(), "111111111111", "eu-west-1"))
	stopGracefully(t, p)
	if !strings.Contains(p.stderr.String(), "rdsca stopped") {
		t.Fatalf("no 'rdsca stopped' log line:\n%s", p.stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "rdsca.db")); err != nil {
		t.Fatalf("database file: %v", err)
	}

	// Same data dir, new port.
	p2 := startRdsca(t, home, "", nil, "--data-dir", data)
	c2 := newClient(t, p2.URL(), "111111111111", "us-east-1")
	after := describeAll(t, c2)
	wantOverride(t, after, rsa4096, rsa4096)
	if fmt.Sprint(thumbprints(after.Certificates)) != fmt.Sprint(thumbprints(before.Certificates)) {
		t.Fatalf("us-east-1 thumbprints changed across restart:\n%v\n%v", thumbprints(before.Certificates), thumbprints(after.Certificates))
	}
	otherAfter := describeAll(t, newClient(t, p2.URL(), "111111111111", "eu-west-1"))
	if fmt.Sprint(thumbprints(otherAfter.Certificates)) != fmt.Sprint(thumbprints(other.Certificates)) {
		t.Fatal("eu-west-1 thumbprints changed across restart")
	}
	wantOverride(t, otherAfter, "", rsa2048)
	stopGracefully(t, p2)
}

func TestProcessSIGKILLAfterAnswerLosesNothing(t *testing.T) {
	t.Parallel()
	home, data := t.TempDir(), t.TempDir()
	p := startRdsca(t, home, "", nil, "--data-dir", data)
	type scope struct{ key, region, want string }
	scopes := []scope{
		{"111111111111", "us-east-1", ecc384},
		{"222222222222", "us-east-1", rsa4096},
		{"333333333333", "eu-west-1", rsa4096},
		{exampleKey, "us-east-1", rsa2048},
		{"444444444444", "us-east-1", ""}, // set, then removed
		{"555555555555", "eu-west-1", ecc384},
	}
	var thumbs string
	for i, s := range scopes {
		c := newClient(t, p.URL(), s.key, s.region)
		switch {
		case s.want == "":
			modify(t, c, rsa4096)
			removeOverride(t, c)
		case i == len(scopes)-1:
			// Change an override twice; the last answer is the one to keep.
			modify(t, c, rsa2048)
			modify(t, c, s.want)
		default:
			modify(t, c, s.want)
		}
		if i == 0 {
			thumbs = fmt.Sprint(thumbprints(describeAll(t, c).Certificates))
		}
	}
	// kill -9 right after the last 200.
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 10*time.Second)

	p2 := startRdsca(t, home, "", nil, "--data-dir", data)
	for i, s := range scopes {
		def := s.want
		if def == "" {
			def = rsa2048
		}
		out := describeAll(t, newClient(t, p2.URL(), s.key, s.region))
		wantOverride(t, out, s.want, def)
		if i == 0 && fmt.Sprint(thumbprints(out.Certificates)) != thumbs {
			t.Fatal("thumbprints changed across kill -9")
		}
	}
	// The default account (non-numeric key) is the unsigned caller's.
	d := wantDescribe(t, postForm(t, p2.URL(), form("Action", "DescribeCertificates", "Version", "2014-10-31")))
	if d.Result.DefaultCertificateForNewLaunches != rsa2048 {
		t.Fatalf("unsigned default %q", d.Result.DefaultCertificateForNewLaunches)
	}
}

func TestProcessBusyPort(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	first := startRdsca(t, home, "", nil, "--store", "memory")
	start := time.Now()
	second := spawn(t, home, nil, "--listen", first.addr, "--data-dir", t.TempDir())
	code := second.wait(t, 10*time.Second)
	if code == 0 {
		t.Fatalf("second rdsca on a busy port exited 0; stderr:\n%s", second.stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v to give up on a busy port", d)
	}
	line := oneLine(t, second.stderr.String())
	if !strings.Contains(line, first.addr) {
		t.Fatalf("stderr %q does not name %s", line, first.addr)
	}
	// The first one is unharmed.
	resp, err := http.Get(first.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first rdsca /healthz %d", resp.StatusCode)
	}
}

func TestProcessUnusableDataDir(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	file := filepath.Join(t.TempDir(), "regular-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(file, "data")
	for _, tc := range []struct {
		name string
		args []string
		env  []string
	}{
		{"flag", []string{"--data-dir", dataDir}, nil},
		{"env", nil, []string{"RDSCA_DATA_DIR=" + dataDir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := spawn(t, home, tc.env, append([]string{"--listen", testenv.FreeAddr(t)}, tc.args...)...)
			if code := p.wait(t, 10*time.Second); code == 0 {
				t.Fatalf("exit code 0 with an unusable data dir; stderr:\n%s", p.stderr)
			}
			line := oneLine(t, p.stderr.String())
			if !strings.Contains(line, dataDir) {
				t.Fatalf("stderr %q does not name %s", line, dataDir)
			}
		})
	}
}

func TestProcessClockFlagAndEnv(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		env  []string
	}{
		{"flag", []string{"--clock", "2024-01-01T00:00:00Z"}, nil},
		{"env", nil, []string{"RDSCA_CLOCK=2024-01-01T00:00:00Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			p := startRdsca(t, home, "", tc.env, append([]string{"--store", "memory"}, tc.args...)...)
			out := describeAll(t, newClient(t, p.URL(), "111111111111", "us-east-1"))
			if got := strings.Join(ids(out.Certificates), ","); got != strings.Join([]string{ca2019, ecc384, rsa2048, rsa4096}, ",") {
				t.Fatalf("identifiers %s", got)
			}
			checkCertificate(t, out.Certificates[0], "us-east-1", usEast1CA2019, false)
			wantOverride(t, out, "", ca2019)
		})
	}
	t.Run("bad clock", func(t *testing.T) {
		t.Parallel()
		p := spawn(t, t.TempDir(), nil, "--listen", testenv.FreeAddr(t), "--store", "memory", "--clock", "yesterday")
		if code := p.wait(t, 10*time.Second); code == 0 {
			t.Fatal("exit code 0 with --clock yesterday")
		}
		if line := oneLine(t, p.stderr.String()); !strings.Contains(line, "yesterday") {
			t.Fatalf("stderr %q does not quote the bad value", line)
		}
	})
}

func TestProcessMemoryStoreLeavesDataDirAlone(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	dataDir := filepath.Join(t.TempDir(), "never-created")
	p := startRdsca(t, home, "", nil, "--store", "memory", "--data-dir", dataDir)
	c := newClient(t, p.URL(), "111111111111", "us-east-1")
	modify(t, c, ecc384)
	wantOverride(t, describeAll(t, c), ecc384, ecc384)
	out, err := c.DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{CertificateIdentifier: aws.String("rds-ca-2019")})
	if err == nil {
		t.Fatalf("rds-ca-2019 listed today: %v", ids(out.Certificates))
	}
	stopGracefully(t, p)
	for _, dir := range []string{dataDir, filepath.Join(home, "home"), filepath.Join(home, "xdg")} {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s exists after a memory-store run (%v)", dir, err)
		}
	}
	// And a memory store forgets on restart.
	p2 := startRdsca(t, home, "", nil, "--store", "memory", "--data-dir", dataDir)
	wantOverride(t, describeAll(t, newClient(t, p2.URL(), "111111111111", "us-east-1")), "", rsa2048)
}
