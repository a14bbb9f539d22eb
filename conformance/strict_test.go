package conformance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// strictKey is one line of the strict servers' credentials file: each client gets a key
// (AKIA-style, not its account id) mapped to an account of its own.
type strictKey struct{ key, secret, account string }

var (
	strictCLIv1      = strictKey{"AKIARDSCACLIV1000001", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYCLIv1KEY01", "310000000001"}
	strictCLIv2      = strictKey{"AKIARDSCACLIV2000002", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYCLIv2KEY02", "320000000002"}
	strictBoto3      = strictKey{"AKIARDSCABOTO3000003", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYBOTO3KEY03", "330000000003"}
	strictBoto3Other = strictKey{"AKIARDSCABOTO3000004", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYBOTO3KEY04", "340000000004"}
	strictJS         = strictKey{"AKIARDSCAJSJSJS00005", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYJSJSJSKEY05", "350000000005"}
	strictGo         = strictKey{"AKIARDSCAGOGOGO00006", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYGOGOGOKEY06", "360000000006"}
	strictReBoto3    = strictKey{"AKIARDSCAREBOTO00007", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYREBOTOKEY07", "370000000007"}
	strictReJS       = strictKey{"AKIARDSCAREJSJS00008", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYREJSJSKEY08", "380000000008"}
	strictClock2024  = strictKey{"AKIARDSCACLOCK200011", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYCLOCK2KEY11", "392000000011"}
)

// writeCredentials writes the strict servers' credentials file, comments and all.
func writeCredentials(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# rdsca --auth strict credentials for the conformance clients\n")
	b.WriteString("# ACCESS_KEY_ID          SECRET_ACCESS_KEY                         ACCOUNT_ID\n\n")
	for _, k := range []strictKey{strictCLIv1, strictCLIv2, strictBoto3, strictBoto3Other, strictJS, strictGo,
		strictReBoto3, strictReJS, strictClock2024} {
		fmt.Fprintf(&b, "%s   %s   %s   # %s\n", k.key, k.secret, k.account, k.account)
	}
	p := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// strictEnv is clientEnv signing with k (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY come
// last, so they win), telling the client that the server is strict and k's account.
func strictEnv(t *testing.T, k strictKey, extra ...string) []string {
	env := clientEnv(t, k.key, extra...)
	return append(env, "AWS_SECRET_ACCESS_KEY="+k.secret, "RDSCA_STRICT=1", "RDSCA_ACCOUNT="+k.account)
}

// strictClients runs the clients' checks against servers started with --auth strict and
// a credentials file: the ordinary checks (one server shared by all, each client with
// an account of its own) plus each client's refusals (wrong secret, unknown key, unsigned),
// the boto3 and JS rehearsals (a server each, as they move its clock; they sign their admin
// calls and check that unsigned ones are refused), boto3 at a 2024 clock (the
// signature window follows the real clock) and raw aws-sdk-go-v2 requests for what the
// other clients cannot send (an expired signature, presigned URLs, signed admin calls).
func strictClients(t *testing.T) {
	t.Parallel()
	creds := writeCredentials(t)
	strict := []string{"--auth", "strict", "--credentials", creds}
	base := startServer(t, strict...)

	t.Run("cli-v1", func(t *testing.T) {
		t.Parallel()
		aws := awsCLIs()["1"]
		if aws == "" {
			missing(t, "AWS CLI v1 not found (no `aws --version` says aws-cli/1.*): install it with `pip install awscli`, or set RDSCA_AWS_CLI_V1")
		}
		runClient(t, strictEnv(t, strictCLIv1, "RDSCA_ENDPOINT="+base), "bash", absPath(t, "cli.sh"), aws)
	})
	t.Run("cli-v2", func(t *testing.T) {
		t.Parallel()
		aws := awsCLIs()["2"]
		if aws == "" {
			missing(t, "AWS CLI v2 not found (no `aws --version` says aws-cli/2.*): install it with `apt-get install -y awscli` (Debian), or set RDSCA_AWS_CLI_V2")
		}
		runClient(t, strictEnv(t, strictCLIv2, "RDSCA_ENDPOINT="+base), "bash", absPath(t, "cli.sh"), aws)
	})
	t.Run("boto3", func(t *testing.T) {
		t.Parallel()
		py, ok := hasBoto3()
		if !ok {
			missing(t, "boto3 client: python3 with boto3 not found: install it with `pip install boto3`")
		}
		env := strictEnv(t, strictBoto3, "AWS_ENDPOINT_URL_RDS="+base,
			"RDSCA_SECOND_ACCOUNT="+strictBoto3Other.key, "RDSCA_SECOND_SECRET_ACCESS_KEY="+strictBoto3Other.secret)
		runClient(t, env, py, absPath(t, "boto3_check.py"))
	})
	t.Run("js", func(t *testing.T) {
		t.Parallel()
		node := needJS(t, "JS client")
		runClient(t, strictEnv(t, strictJS, "RDSCA_ENDPOINT="+base), node, absPath(t, filepath.Join("js", "check.mjs")))
	})
	t.Run("go-sdk", func(t *testing.T) {
		t.Parallel()
		strictGoChecks(t, base)
	})
	t.Run("clock-2024", func(t *testing.T) {
		t.Parallel()
		py, ok := hasBoto3()
		if !ok {
			missing(t, "clock-2024 check uses boto3: python3 with boto3 not found: install it with `pip install boto3`")
		}
		base := startServer(t, append([]string{"--clock", "2024-01-01T00:00:00Z"}, strict...)...)
		runClient(t, strictEnv(t, strictClock2024, "AWS_ENDPOINT_URL_RDS="+base), py, absPath(t, "boto3_check.py"), "--clock-2024")
	})
	// The rehearsals check the instance ARN's account: the credentials file's, not the key.
	// The CLI rehearsals are not run strict: they take longest, and cli-v1 and cli-v2 above
	// already sign with the CLIs (rehearsal_cli.sh takes RDSCA_ACCOUNT for a run by hand).
	t.Run("rehearsal-boto3", func(t *testing.T) {
		t.Parallel()
		py, ok := hasBoto3()
		if !ok {
			missing(t, "boto3 rehearsal: python3 with boto3 not found: install it with `pip install boto3`")
		}
		base := startServer(t, append(append([]string{}, rehearsalFlags...), strict...)...)
		runClient(t, strictEnv(t, strictReBoto3, rehearsalEnv("AWS_ENDPOINT_URL_RDS="+base)...), py, absPath(t, "rehearsal_boto3.py"))
	})
	t.Run("rehearsal-js", func(t *testing.T) {
		t.Parallel()
		node := needJS(t, "JS rehearsal")
		base := startServer(t, append(append([]string{}, rehearsalFlags...), strict...)...)
		runClient(t, strictEnv(t, strictReJS, rehearsalEnv("RDSCA_ENDPOINT="+base)...), node, absPath(t, filepath.Join("js", "rehearsal.mjs")))
	})
}

// needJS returns node, or skips (fails under RDSCA_REQUIRE_CLIENTS=1) without it or the
// JS client's packages.
func needJS(t *testing.T, what string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "%s: node not found: install Node.js 20 or later, then `npm ci --prefix conformance/js`", what)
	}
	if _, err := os.Stat(filepath.Join("js", "node_modules", "@aws-sdk", "client-rds", "package.json")); errors.Is(err, os.ErrNotExist) {
		missing(t, "%s: conformance/js/node_modules is not installed: run `npm ci --prefix conformance/js`", what)
	}
	return node
}

var (
	codeRe    = regexp.MustCompile(`<Code>([^<]*)</Code>`)
	messageRe = regexp.MustCompile(`<Message>([^<]*)</Message>`)
)

// strictGoChecks sends requests signed with aws-sdk-go-v2's signer (the reference
// signer), including what the other clients cannot send: expired and future signatures
// and presigned URLs.
func strictGoChecks(t *testing.T, base string) {
	const form = "Action=DescribeCertificates&Version=2014-10-31"
	k := strictGo
	send := func(name string, req *http.Request, status int, code, message string) {
		t.Helper()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		gotCode, gotMsg := "", ""
		if m := codeRe.FindSubmatch(b); m != nil {
			gotCode = string(m[1])
		}
		if m := messageRe.FindSubmatch(b); m != nil {
			gotMsg = html.UnescapeString(string(m[1]))
		}
		if res.StatusCode != status || gotCode != code || !strings.HasPrefix(gotMsg, message) {
			t.Errorf("%s: got %d %s %q, want %d %s %q...", name, res.StatusCode, gotCode, gotMsg, status, code, message)
			return
		}
		t.Logf("ok: %s -> %d %s %s", name, res.StatusCode, gotCode, gotMsg)
	}
	post := func(key, secret string, at time.Time) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		sum := sha256.Sum256([]byte(form))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, r, hex.EncodeToString(sum[:]), "rds", "us-east-1", at); err != nil {
			t.Fatal(err)
		}
		return r
	}
	presign := func(query string, at time.Time) string {
		r, _ := http.NewRequest(http.MethodGet, base+"/?"+query, nil)
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: k.key, SecretAccessKey: k.secret}, r,
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "rds", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	get := func(u string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, u, nil)
		return r
	}
	now := time.Now()
	send("header-signed", post(k.key, k.secret, now), 200, "", "")
	send("signed 14 minutes ago", post(k.key, k.secret, now.Add(-14*time.Minute)), 200, "", "")
	send("signed 20 minutes ago", post(k.key, k.secret, now.Add(-20*time.Minute)), 403, "SignatureDoesNotMatch", "Signature expired: ")
	send("signed 20 minutes ahead", post(k.key, k.secret, now.Add(20*time.Minute)), 403, "SignatureDoesNotMatch", "Signature not yet current: ")
	send("wrong secret", post(k.key, "wrong", now), 403, "SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	send("unknown key", post("AKIARDSCANOSUCHKEY00", k.secret, now), 403, "InvalidClientTokenId", "The security token included in the request is invalid.")
	unsigned, _ := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(form))
	unsigned.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	send("unsigned", unsigned, 403, "MissingAuthenticationToken", "Request is missing Authentication Token")
	noSig := post(k.key, k.secret, now)
	noSig.Header.Set("Authorization", strings.Split(noSig.Header.Get("Authorization"), ", Signature=")[0])
	send("Authorization without Signature", noSig, 400, "IncompleteSignature", "Authorization header requires 'Signature' parameter.")
	send("presigned GET", get(presign("Action=DescribeCertificates&Version=2014-10-31&X-Amz-Expires=300", now)), 200, "", "")
	send("presigned GET, X-Amz-Expires passed", get(presign("Action=DescribeCertificates&Version=2014-10-31&X-Amz-Expires=60", now.Add(-2*time.Minute))),
		403, "SignatureDoesNotMatch", "Signature expired: ")
	tampered := strings.Replace(presign("Action=DescribeCertificates&Version=2014-10-31&MaxRecords=20", now), "MaxRecords=20", "MaxRecords=21", 1)
	send("presigned GET, query changed", get(tampered), 403, "SignatureDoesNotMatch", "The request signature we calculated does not match")

	strictGoAdmin(t, base)
}

// strictGoAdmin checks that the admin endpoints take the API's signatures (service rds,
// any key of the file) and refuse what the API refuses, as JSON. The server is shared:
// nothing here changes it (the clock is read, or advanced by 0 days).
func strictGoAdmin(t *testing.T, base string) {
	const body = `{"days":0}`
	k := strictGo
	send := func(name string, req *http.Request, status int, code string) {
		t.Helper()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("admin %s: %v", name, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("admin %s: %d %s %q, want JSON", name, res.StatusCode, res.Header.Get("Content-Type"), b)
			return
		}
		ok := res.StatusCode == status
		if code == "" {
			ok = ok && m["now"] != nil && m["code"] == nil
		} else {
			ok = ok && m["code"] == code && m["error"] != nil
		}
		if !ok {
			t.Errorf("admin %s: got %d %s, want %d %s", name, res.StatusCode, b, status, code)
			return
		}
		t.Logf("ok: admin %s -> %d %s", name, res.StatusCode, code)
	}
	advance := func(key, secret, service string) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, base+"/_rdsca/clock/advance", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if key != "" {
			sum := sha256.Sum256([]byte(body))
			if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, r, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	send("POST /_rdsca/clock/advance signed", advance(k.key, k.secret, "rds"), 200, "")
	send("POST /_rdsca/clock/advance signed by another client's key", advance(strictCLIv1.key, strictCLIv1.secret, "rds"), 200, "")
	send("POST /_rdsca/clock/advance unsigned", advance("", "", ""), 403, "MissingAuthenticationToken")
	send("POST /_rdsca/clock/advance wrong secret", advance(k.key, "wrong", "rds"), 403, "SignatureDoesNotMatch")
	send("POST /_rdsca/clock/advance unknown key", advance("AKIARDSCANOSUCHKEY00", k.secret, "rds"), 403, "InvalidClientTokenId")
	send("POST /_rdsca/clock/advance scoped to another service", advance(k.key, k.secret, "s3"), 403, "SignatureDoesNotMatch")
	r, _ := http.NewRequest(http.MethodGet, base+"/_rdsca/clock?X-Amz-Expires=60", nil)
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: k.key, SecretAccessKey: k.secret}, r,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "rds", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r, _ = http.NewRequest(http.MethodGet, u, nil)
	send("GET /_rdsca/clock presigned", r, 200, "")
	r, _ = http.NewRequest(http.MethodGet, base+"/_rdsca/clock", nil)
	send("GET /_rdsca/clock unsigned", r, 403, "MissingAuthenticationToken")
	r, _ = http.NewRequest(http.MethodGet, base+"/moto-api/reset", nil)
	send("GET /moto-api/reset unsigned", r, 403, "MissingAuthenticationToken")
}
