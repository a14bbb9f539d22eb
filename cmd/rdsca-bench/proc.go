package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// buildRdsca runs `go build -o DIR/rdsca ./cmd/rdsca` from the module root.
func buildRdsca(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the rdsca module; run from it or pass -binary")
	}
	bin := filepath.Join(dir, "rdsca")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/rdsca")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w\n%s", err, out)
	}
	return bin, nil
}

// freeAddr returns a 127.0.0.1 address with a port free at the time of call.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// process is a child server process listening on addr.
type process struct {
	cmd     *exec.Cmd
	addr    string
	started time.Time // just before exec
	done    chan struct{}
	waitErr error
	logFile *os.File
}

// startRdsca starts rdsca on a free loopback port with extra flags; output
// is appended to logPath.
func startRdsca(bin, dataDir, store, logPath string, extra ...string) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return startProcess(addr, logPath, bin, append([]string{"--listen", addr, "--data-dir", dataDir, "--store", store}, extra...)...)
}

// startBare re-executes this binary as the bare comparison server.
func startBare(bodySize int, logPath string) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return startProcess(addr, logPath, self, "-bare-server", addr, "-body-size", strconv.Itoa(bodySize))
}

func startProcess(addr, logPath, bin string, args ...string) (*process, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(lf, "--- %s %s\n", bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	// The child writes straight to the file: no copying goroutine here.
	cmd.Stdout, cmd.Stderr = lf, lf
	// Kill the child if the bench dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &process{cmd: cmd, addr: addr, done: make(chan struct{}), logFile: lf}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stopResult describes how a process ended after SIGTERM.
type stopResult struct {
	Clean  bool          // exited with status 0 after SIGTERM
	Took   time.Duration // SIGTERM to exit
	Status string
}

func (r stopResult) String() string {
	return fmt.Sprintf("%s after %s", r.Status, r.Took.Round(time.Millisecond))
}

// stop sends SIGTERM and waits up to timeout, then SIGKILLs.
func (p *process) stop(timeout time.Duration) stopResult {
	defer p.logFile.Close()
	if p.exited() {
		return stopResult{Status: "already exited: " + exitStatus(p.waitErr)}
	}
	t := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		took := time.Since(t)
		return stopResult{Clean: p.waitErr == nil, Took: took, Status: exitStatus(p.waitErr)}
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return stopResult{Took: time.Since(t), Status: "no exit within " + timeout.String() + ", killed"}
	}
}

// kill ends the process if still running; for deferred cleanup.
func (p *process) kill() {
	if !p.exited() {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// waitHealthy polls GET /healthz until 200.
func (p *process) waitHealthy(ctx context.Context, timeout time.Duration) error {
	c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: time.Second}
	defer c.CloseIdleConnections()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := c.Get("http://" + p.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if p.exited() {
			return fmt.Errorf("process exited: %s", exitStatus(p.waitErr))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no 200 from /healthz within %s (last: %v)", timeout, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// procStatusBytes reads a kB field (VmRSS, VmHWM) of /proc/PID/status in bytes.
func procStatusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusField(b, field)
}

// parseStatusField extracts "Field:   123 kB" from /proc status text.
func parseStatusField(status []byte, field string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected %s line %q", field, sc.Text())
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, err
		}
		return n * 1024, nil
	}
	return 0, fmt.Errorf("%s not found", field)
}

// logTail returns the last lines of a log file, for error messages.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\n--- log tail " + path + "\n" + strings.Join(lines, "\n")
}
