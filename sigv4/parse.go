// Package sigv4 reads AWS Signature Version 4 credentials from requests
// and verifies their signatures.
package sigv4

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
)

// Algorithm is the only signing algorithm rdsca accepts.
const Algorithm = "AWS4-HMAC-SHA256"

// Credential is the parsed credential scope of a signed request.
type Credential struct {
	AccessKeyID string
	Date        string // yyyymmdd
	Region      string
	Service     string
}

// Signature is what a request's signing information says.
type Signature struct {
	Credential    Credential
	SignedHeaders []string
	Signature     string
	Presigned     bool
}

// MalformedError means the signing information cannot be read
// (AWS code IncompleteSignature).
type MalformedError struct{ Msg string }

func (e *MalformedError) Error() string { return e.Msg }

// ScopeError means the credential scope names a service or region that
// cannot be this endpoint (AWS code SignatureDoesNotMatch).
type ScopeError struct{ Msg string }

func (e *ScopeError) Error() string { return e.Msg }

// ErrUnsigned means the request carries no signing information.
var ErrUnsigned = errors.New("sigv4: request is not signed")

var (
	dateRe   = regexp.MustCompile(`^[0-9]{8}$`)
	regionRe = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)
)

// FromRequest reads the signature from the Authorization header or, for a
// presigned request, from the query string.
func FromRequest(r *http.Request, service string) (Signature, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		return ParseAuthorization(h, service)
	}
	q := r.URL.Query()
	if q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Signature") {
		return parsePresigned(q.Get("X-Amz-Algorithm"), q.Get("X-Amz-Credential"), q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature"), service)
	}
	return Signature{}, ErrUnsigned
}

// ParseAuthorization parses an Authorization header value of the form
// "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
// SignedHeaders=a;b, Signature=hex".
func ParseAuthorization(h, service string) (Signature, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != Algorithm {
		return Signature{}, &MalformedError{"Authorization header requires the " + Algorithm + " algorithm. Authorization=" + h}
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			if strings.TrimSpace(part) == "" {
				continue
			}
			return Signature{}, &MalformedError{"Authorization header has a malformed component '" + strings.TrimSpace(part) + "'. Authorization=" + h}
		}
		fields[k] = v
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if fields[k] == "" {
			missing = append(missing, "Authorization header requires '"+k+"' parameter.")
		}
	}
	if len(missing) > 0 {
		return Signature{}, &MalformedError{strings.Join(missing, " ") + " Authorization=" + h}
	}
	return build(fields["Credential"], fields["SignedHeaders"], fields["Signature"], false, service)
}

func parsePresigned(alg, cred, signed, sig, service string) (Signature, error) {
	if alg != Algorithm {
		return Signature{}, &MalformedError{"X-Amz-Algorithm must be " + Algorithm + "."}
	}
	var missing []string
	for _, p := range [][2]string{{"X-Amz-Credential", cred}, {"X-Amz-Signature", sig}, {"X-Amz-SignedHeaders", signed}} {
		if p[1] == "" {
			missing = append(missing, "AWS query-string parameters must include '"+p[0]+"'.")
		}
	}
	if len(missing) > 0 {
		return Signature{}, &MalformedError{strings.Join(missing, " ")}
	}
	return build(cred, signed, sig, true, service)
}

func build(cred, signed, sig string, presigned bool, service string) (Signature, error) {
	c, err := ParseCredential(cred, service)
	if err != nil {
		return Signature{}, err
	}
	return Signature{Credential: c, SignedHeaders: strings.Split(signed, ";"), Signature: sig, Presigned: presigned}, nil
}

// ParseCredential parses "AKID/yyyymmdd/region/service/aws4_request".
func ParseCredential(s, service string) (Credential, error) {
	p := strings.Split(s, "/")
	if len(p) != 5 || p[0] == "" || p[4] != "aws4_request" || !dateRe.MatchString(p[1]) {
		return Credential{}, &MalformedError{"Credential should be scoped to a valid date, region and service: '" + s + "', expected '<key>/<yyyymmdd>/<region>/" + service + "/aws4_request'."}
	}
	c := Credential{AccessKeyID: p[0], Date: p[1], Region: p[2], Service: p[3]}
	if !regionRe.MatchString(c.Region) {
		return Credential{}, &ScopeError{"Credential should be scoped to a valid region, not '" + c.Region + "'."}
	}
	if c.Service != service {
		return Credential{}, &ScopeError{"Credential should be scoped to correct service: '" + service + "'."}
	}
	return c, nil
}

// ValidRegion reports whether s has the shape of an AWS region name.
func ValidRegion(s string) bool { return regionRe.MatchString(s) }
