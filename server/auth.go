package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/rdsapi"
	"github.com/rdsca/rdsca/sigv4"
)

// Error codes and messages of strict mode, as AWS sends them.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationToken"
	CodeInvalidClientTokenID       = "InvalidClientTokenId"
	CodeSignatureDoesNotMatch      = "SignatureDoesNotMatch"
	CodeIncompleteSignature        = "IncompleteSignature"

	MsgMissingAuthenticationToken = "Request is missing Authentication Token"
	MsgInvalidClientTokenID       = "The security token included in the request is invalid."
)

// Credential is one line of a credentials file.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	Account         string
}

// Credentials are the keys strict mode accepts, by access key id.
type Credentials struct {
	keys map[string]Credential
}

// NewCredentials returns Credentials holding cs; a duplicate access key id
// or an invalid field is an error.
func NewCredentials(cs ...Credential) (*Credentials, error) {
	c := &Credentials{keys: make(map[string]Credential, len(cs))}
	for _, k := range cs {
		if err := k.validate(); err != nil {
			return nil, err
		}
		if _, dup := c.keys[k.AccessKeyID]; dup {
			return nil, fmt.Errorf("access key id %s is listed twice", k.AccessKeyID)
		}
		c.keys[k.AccessKeyID] = k
	}
	return c, nil
}

func (k Credential) validate() error {
	switch {
	case k.AccessKeyID == "" || k.SecretAccessKey == "":
		return errors.New("empty access key id or secret access key")
	case strings.Contains(k.AccessKeyID, "/"):
		return fmt.Errorf("access key id %q contains '/', which cannot be signed (the credential scope is '/'-separated)", k.AccessKeyID)
	case !isAccount(k.Account):
		return fmt.Errorf("account %q is not 12 digits", k.Account)
	}
	return nil
}

// isAccount reports whether s is a 12-digit account id.
func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Len returns the number of credentials.
func (c *Credentials) Len() int { return len(c.keys) }

// Lookup returns the credential of an access key id.
func (c *Credentials) Lookup(accessKeyID string) (Credential, bool) {
	k, ok := c.keys[accessKeyID]
	return k, ok
}

// ParseCredentials reads a credentials file: one credential a line,
// "ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID" separated by white space; '#'
// starts a comment, also after a credential; blank lines are ignored. An
// error names the line (name is the file name used in it).
func ParseCredentials(r io.Reader, name string) (*Credentials, error) {
	c := &Credentials{keys: map[string]Credential{}}
	lineOf := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("%s line %d: want ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID, got %d fields", name, n, len(f))
		}
		k := Credential{AccessKeyID: f[0], SecretAccessKey: f[1], Account: f[2]}
		if err := k.validate(); err != nil {
			return nil, fmt.Errorf("%s line %d: %v", name, n, err)
		}
		if first, dup := lineOf[k.AccessKeyID]; dup {
			return nil, fmt.Errorf("%s line %d: access key id %s is already on line %d", name, n, k.AccessKeyID, first)
		}
		lineOf[k.AccessKeyID] = n
		c.keys[k.AccessKeyID] = k
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(c.keys) == 0 {
		return nil, fmt.Errorf("%s has no credentials (want lines of ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID)", name)
	}
	return c, nil
}

// LoadCredentials reads the credentials file at path.
func LoadCredentials(path string) (*Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("credentials file %s: %v", path, err)
	}
	defer f.Close()
	return ParseCredentials(f, "credentials file "+path)
}

// Auth is strict mode: every request must carry a valid SigV4 signature
// (Authorization header or presigned query) by a key of Credentials, and
// its account is that key's account.
type Auth struct {
	Credentials *Credentials
	// Now is the clock request times are checked against (within 15
	// minutes); nil means time.Now. It is the real wall clock, not the
	// server's Clock, which may have been moved (--clock, admin endpoints).
	Now func() time.Time
}

// identify verifies r and returns its caller, or the AWS error to send.
func (a *Auth) identify(r *http.Request, body []byte, log *slog.Logger) (awsquery.Caller, error) {
	v := sigv4.Verifier{
		Service: rdsapi.SigningName,
		Secret: func(id string) (string, bool) {
			k, ok := a.Credentials.Lookup(id)
			return k.SecretAccessKey, ok
		},
		Now: a.Now,
	}
	sig, err := v.Verify(r, body)
	if err != nil {
		return awsquery.Caller{}, authError(err, r, log)
	}
	key := sig.Credential.AccessKeyID
	k, _ := a.Credentials.Lookup(key)
	return awsquery.Caller{AccessKeyID: key, Account: k.Account, Region: sig.Credential.Region}, nil
}

// authError maps a verification error to the AWS error.
func authError(err error, r *http.Request, log *slog.Logger) error {
	var (
		malformed *sigv4.MalformedError
		scope     *sigv4.ScopeError
		mismatch  *sigv4.MismatchError
		unknown   *sigv4.UnknownKeyError
	)
	switch {
	case errors.Is(err, sigv4.ErrUnsigned):
		return &rds.Error{Code: CodeMissingAuthenticationToken, Message: MsgMissingAuthenticationToken, Fault: rds.Sender}
	case errors.As(err, &malformed):
		return &rds.Error{Code: CodeIncompleteSignature, Message: malformed.Msg, Fault: rds.Sender}
	case errors.As(err, &scope):
		return &rds.Error{Code: CodeSignatureDoesNotMatch, Message: scope.Msg, Fault: rds.Sender}
	case errors.As(err, &unknown):
		return &rds.Error{Code: CodeInvalidClientTokenID, Message: MsgInvalidClientTokenID, Fault: rds.Sender}
	case errors.As(err, &mismatch):
		if mismatch.CanonicalRequest != "" {
			// What the server computed, for whoever debugs a signer; the
			// response itself says no more than AWS does.
			log.Debug("signature mismatch", "remote", r.RemoteAddr, "reason", mismatch.Msg,
				"canonical_request", mismatch.CanonicalRequest, "string_to_sign", mismatch.StringToSign)
		}
		return &rds.Error{Code: CodeSignatureDoesNotMatch, Message: mismatch.Msg, Fault: rds.Sender}
	}
	return err
}

// authStatus is the HTTP status of a strict-mode refusal, the one the API
// answers with: 400 for signing information that cannot be read, 403 for
// the rest (missing, unknown key, mismatch).
func authStatus(code string) int {
	if code == CodeIncompleteSignature {
		return http.StatusBadRequest
	}
	return http.StatusForbidden
}
