package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// isolationFlags start an isolation server: rds-ca-2019 still listed and
// due for rotation, changes immediate.
var isolationFlags = []string{"--clock", "2024-07-01T00:00:00Z", "--transition-delay", "0"}

// serverHasStrict reports whether the server binary has --auth and --credentials.
var serverHasStrict = sync.OnceValue(func() bool {
	out, _ := exec.Command(serverBin, "--help").CombinedOutput()
	return strings.Contains(string(out), "-auth") && strings.Contains(string(out), "-credentials")
})

// TestIsolation runs isolation_boto3.py (one account's override, instances
// and pending maintenance are invisible to, and out of reach of, another
// account and another region) against a server of its own in each auth mode:
//
//	boto3-open    two 12-digit access keys are two accounts
//	boto3-strict  --auth strict --credentials FILE, two keys mapped to two
//	              accounts; A's key signed with B's secret is refused
func TestIsolation(t *testing.T) {
	t.Run("boto3-open", func(t *testing.T) {
		t.Parallel()
		py, ok := hasBoto3()
		if !ok {
			missing(t, "boto3 isolation check: python3 with boto3 not found: install it with `pip install boto3`")
		}
		base := startServer(t, isolationFlags...)
		env := clientEnv(t, "121212121212", "AWS_ENDPOINT_URL_RDS="+base,
			"RDSCA_ISO_A_KEY=121212121212", "RDSCA_ISO_B_KEY=343434343434")
		runClient(t, env, py, absPath(t, "isolation_boto3.py"))
	})
	t.Run("boto3-strict", func(t *testing.T) {
		t.Parallel()
		py, ok := hasBoto3()
		if !ok {
			missing(t, "boto3 isolation check: python3 with boto3 not found: install it with `pip install boto3`")
		}
		if !serverHasStrict() {
			t.Skip("rdsca has no --auth strict yet (issue 4, item 1)")
		}
		const (
			aKey, aSecret, aAccount = "AKIARDSCAISOLATIONA1", "isolation/A+secret/key/0000000000000001", "565656565656"
			bKey, bSecret, bAccount = "AKIARDSCAISOLATIONB2", "isolation/B+secret/key/0000000000000002", "787878787878"
		)
		creds := filepath.Join(t.TempDir(), "credentials")
		file := "# isolation: two keys, two accounts\n" + aKey + " " + aSecret + " " + aAccount + "\n" + bKey + " " + bSecret + " " + bAccount + "\n"
		if err := os.WriteFile(creds, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		base := startServer(t, append([]string{"--auth", "strict", "--credentials", creds}, isolationFlags...)...)
		env := clientEnv(t, aKey, "AWS_ENDPOINT_URL_RDS="+base, "RDSCA_ISO_STRICT=1",
			"RDSCA_ISO_A_KEY="+aKey, "RDSCA_ISO_A_SECRET="+aSecret, "RDSCA_ISO_A_ACCOUNT="+aAccount,
			"RDSCA_ISO_B_KEY="+bKey, "RDSCA_ISO_B_SECRET="+bSecret, "RDSCA_ISO_B_ACCOUNT="+bAccount)
		runClient(t, env, py, absPath(t, "isolation_boto3.py"))
	})
}
