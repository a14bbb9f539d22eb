package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFlagsAndEnvironmentTwins(t *testing.T) {
	m := &Main{Stderr: &bytes.Buffer{}, Getenv: env(map[string]string{
		"RDSCA_LISTEN": "127.0.0.1:1", "RDSCA_DATA_DIR": "/d", "RDSCA_STORE": "memory",
		"RDSCA_REGION": "eu-west-1", "RDSCA_CLOCK": "2024-01-01T00:00:00Z", "RDSCA_TRANSITION_DELAY": "90s",
	})}
	if err := m.ParseFlags([]string{"--region", "ap-south-1"}); err != nil {
		t.Fatal(err)
	}
	if m.Listen != "127.0.0.1:1" || m.DataDir != "/d" || m.Store != "memory" || m.Clock != "2024-01-01T00:00:00Z" || m.TransitionDelay != 90*time.Second {
		t.Errorf("environment twins not read: %+v", m)
	}
	if m.Region != "ap-south-1" {
		t.Errorf("flag did not win over environment: %s", m.Region)
	}
	m = &Main{Stderr: &bytes.Buffer{}, Getenv: env(map[string]string{"RDSCA_TRANSITION_DELAY": "90s"})}
	if err := m.ParseFlags([]string{"--transition-delay", "0"}); err != nil || m.TransitionDelay != 0 {
		t.Errorf("--transition-delay 0 over the environment: %v %s", err, m.TransitionDelay)
	}
}

func TestDefaults(t *testing.T) {
	m := &Main{Stderr: &bytes.Buffer{}, Getenv: env(map[string]string{"HOME": "/home/u"})}
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if m.Listen != DefaultListen || m.Store != "sqlite" || m.Region != "us-east-1" || m.DataDir != "/home/u/.local/share/rdsca" || m.Clock != "" || m.TransitionDelay != 3*time.Second {
		t.Errorf("defaults: %+v", m)
	}
	m = &Main{Stderr: &bytes.Buffer{}, Getenv: env(map[string]string{"HOME": "/home/u", "XDG_DATA_HOME": "/x"})}
	_ = m.ParseFlags(nil)
	if m.DataDir != "/x/rdsca" {
		t.Errorf("XDG data dir: %s", m.DataDir)
	}
}

func TestStartErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--store", "memory", "--clock", "yesterday"}, "--clock"},
		{[]string{"--store", "disk"}, "--store"},
		{[]string{"--store", "memory", "--region", "moon"}, "region"},
		{[]string{"--data-dir", filepath.Join(file, "sub")}, "data dir"},
		{[]string{"--store", "memory", "--listen", busy.Addr().String()}, busy.Addr().String()},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"--store", "memory", "--transition-delay", "-1s"}, "--transition-delay"},
		{[]string{"--store", "memory", "--transition-delay", "soon"}, "transition-delay"},
	} {
		m := &Main{Stderr: &bytes.Buffer{}, Getenv: env(nil)}
		err := m.Run(context.Background(), c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: err = %v, want one line mentioning %q", c.args, err, c.want)
		}
	}
}

func TestRunServesAndStops(t *testing.T) {
	ready := make(chan string, 1)
	m := &Main{Stderr: &bytes.Buffer{}, Getenv: env(nil), Ready: func(a string) { ready <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"--listen", "127.0.0.1:0", "--data-dir", t.TempDir()})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("healthz %d", res.StatusCode)
	}
	// Without --clock the clock still follows real time and can be moved.
	req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/_rdsca/clock", strings.NewReader(`{"now":"2030-01-01T00:00:00Z"}`))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"now":"2030-01-01T00:00:0`) {
		t.Fatalf("PUT /_rdsca/clock: %d %s", res.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestBadTransitionDelayEnvironment(t *testing.T) {
	m := &Main{Stderr: &bytes.Buffer{}, Getenv: env(map[string]string{"RDSCA_TRANSITION_DELAY": "3"})}
	err := m.ParseFlags(nil)
	if err == nil || !strings.Contains(err.Error(), "RDSCA_TRANSITION_DELAY") {
		t.Fatalf("err = %v", err)
	}
}
