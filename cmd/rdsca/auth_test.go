package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/rdsca/rdsca/internal/testenv"
)

func TestAuthFlags(t *testing.T) {
	m := &Main{Stderr: &bytes.Buffer{}, Getenv: env(nil)}
	if err := m.ParseFlags(nil); err != nil || m.Auth != AuthOpen || m.Credentials != "" {
		t.Fatalf("default: %v %q %q", err, m.Auth, m.Credentials)
	}
	m = &Main{Stderr: &bytes.Buffer{}, Getenv: env(map[string]string{"RDSCA_AUTH": "strict", "RDSCA_CREDENTIALS": "/etc/rdsca/keys"})}
	if err := m.ParseFlags(nil); err != nil || m.Auth != AuthStrict || m.Credentials != "/etc/rdsca/keys" {
		t.Fatalf("environment twins: %v %q %q", err, m.Auth, m.Credentials)
	}
	m = &Main{Stderr: &bytes.Buffer{}, Getenv: env(map[string]string{"RDSCA_AUTH": "strict", "RDSCA_CREDENTIALS": "/etc/rdsca/keys"})}
	if err := m.ParseFlags([]string{"--credentials", "/k"}); err != nil || m.Credentials != "/k" {
		t.Fatalf("flag over environment: %v %q", err, m.Credentials)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAuthStartErrors(t *testing.T) {
	good := writeFile(t, "AKIAEXAMPLE secret 111111111111\n")
	bad := writeFile(t, "# keys\nAKIAEXAMPLE secret 111111111111\nAKIAOTHER secret\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--store", "memory", "--auth", "strict"}, "--auth strict needs --credentials FILE"},
		{[]string{"--store", "memory", "--auth", "closed"}, `--auth "closed": want open or strict`},
		{[]string{"--store", "memory", "--credentials", good}, "is only read with --auth strict"},
		{[]string{"--store", "memory", "--auth", "strict", "--credentials", "/no/such/file"}, "credentials file /no/such/file: no such file or directory"},
		{[]string{"--store", "memory", "--auth", "strict", "--credentials", bad}, "credentials file " + bad + " line 3: want ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID, got 2 fields"},
	} {
		m := &Main{Stderr: &bytes.Buffer{}, Getenv: env(nil)}
		err := m.Run(context.Background(), c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: err = %v, want one line with %q", c.args, err, c.want)
		}
	}
}

// serve runs Main with args until the test ends and returns its address.
func serve(t *testing.T, stderr io.Writer, args ...string) string {
	t.Helper()
	ready := make(chan string, 1)
	m := &Main{Stderr: stderr, Getenv: env(nil), Ready: func(a string) { ready <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, args) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	select {
	case addr := <-ready:
		return addr
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	return ""
}

const warning = "open mode accepts any caller"

func TestWarnsWhenOpenBeyondLoopback(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		warn bool
	}{
		{"open on all interfaces", []string{"--listen", "0.0.0.0:0"}, true},
		{"open on 127.0.0.1", []string{"--listen", "127.0.0.1:0"}, false},
		{"open on localhost", []string{"--listen", "localhost:0"}, false},
		{"strict on all interfaces", []string{"--listen", "0.0.0.0:0", "--auth", "strict", "--credentials", writeFile(t, "K S 111111111111")}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs testenv.SyncBuffer
			serve(t, &logs, append([]string{"--store", "memory"}, c.args...)...)
			out := logs.String()
			if got := strings.Contains(out, "level=WARN") && strings.Contains(out, warning) && strings.Contains(out, "--auth strict"); got != c.warn {
				t.Errorf("warned = %v, want %v:\n%s", got, c.warn, out)
			}
		})
	}
}

func TestStrictModeServes(t *testing.T) {
	creds := writeFile(t, "# test keys\nAKIATESTKEY test-secret 123456789012 # the only one\n")
	var logs testenv.SyncBuffer
	// The simulated clock is far in the past; signatures use the real one.
	addr := serve(t, &logs, "--store", "memory", "--listen", "127.0.0.1:0", "--auth", "strict", "--credentials", creds, "--clock", "2024-01-01T00:00:00Z")
	body := "Action=DescribeCertificates&Version=2014-10-31"
	send := func(key, secret string) int {
		t.Helper()
		r, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if key != "" {
			sum := sha256.Sum256([]byte(body))
			if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, r, hex.EncodeToString(sum[:]), "rds", "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if s := send("AKIATESTKEY", "test-secret"); s != 200 {
		t.Errorf("signed with the file's key: %d", s)
	}
	if s := send("AKIATESTKEY", "wrong"); s != 403 {
		t.Errorf("wrong secret: %d", s)
	}
	if s := send("", ""); s != 403 {
		t.Errorf("unsigned: %d", s)
	}
	if !strings.Contains(logs.String(), "auth=strict") {
		t.Errorf("start line does not say auth=strict:\n%s", logs.String())
	}
}
