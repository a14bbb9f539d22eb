// Package testenv holds the helpers the process-level test packages (e2e,
// conformance, stress) share: building ./cmd/rdsca, free ports, a
// goroutine-safe output buffer, the environment of a subprocess, the
// /healthz probe and the SDK HTTP client with the body-buffering workaround.
// Only tests import it.
package testenv

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// ModuleRoot is the directory of the module, found from this file's path.
func ModuleRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "../.." // fallback: a package one level below the root runs tests from its dir
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// BuildRdsca runs `go build -o DIR/rdsca [-race] ./cmd/rdsca` in the module
// root and returns the binary's path.
func BuildRdsca(dir string, race bool) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go tool is not on PATH; it is needed to build ./cmd/rdsca: %v", err)
	}
	bin := filepath.Join(dir, "rdsca")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command(goTool, append(args, "./cmd/rdsca")...)
	cmd.Dir = ModuleRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/rdsca: %v\n%s", err, out)
	}
	return bin, nil
}

// FreeAddr returns a 127.0.0.1 address whose port was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Environ is os.Environ without the variables that start with one of the
// prefixes (e.g. "RDSCA_", "HOME="), followed by extra.
func Environ(dropPrefixes []string, extra ...string) []string {
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, p := range dropPrefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// Healthy reports whether GET base/healthz answers 200.
func Healthy(hc *http.Client, base string) bool {
	resp, err := hc.Get(base + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// SyncBuffer is a bytes.Buffer safe for a subprocess's output goroutine and
// the test to share.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// OwnBodyClient gives the transport a request body of its own. smithy-go
// closes http.Request.Body as soon as Do returns, which can race the
// transport's end-of-body probe when the server answers before the write
// loop is done: the transport then closes the connection and the response
// read fails with "use of closed network connection" (aws-sdk-go-v2#2737; the
// SDK's default retryer hides it, and the tests turn retries off). Seen
// against a static handler too, so it is not the server's doing.
type OwnBodyClient struct{ C aws.HTTPClient }

func (o OwnBodyClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return o.C.Do(r)
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.ContentLength = int64(len(b))
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return o.C.Do(r)
}
