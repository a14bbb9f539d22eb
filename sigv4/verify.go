package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// TimeFormat is the ISO 8601 basic format of X-Amz-Date.
const TimeFormat = "20060102T150405Z"

// UnsignedPayload is the payload hash of a request whose body is not signed.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// DefaultSkew is how far a request's time may be from the verifier's clock.
const DefaultSkew = 15 * time.Minute

// MaxExpires is the longest X-Amz-Expires of a presigned request: a week.
const MaxExpires = 604800

// Messages AWS sends, word for word.
const (
	MsgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	MsgHostNotSigned     = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	// MsgPayloadMismatch is what S3 says when x-amz-content-sha256 is not
	// the SHA-256 of the body.
	MsgPayloadMismatch = "The provided 'x-amz-content-sha256' header does not match what was computed."
)

// MismatchError means the request is signed but the signature cannot be
// accepted: it differs from the one computed, or its time or credential
// scope date is wrong (AWS code SignatureDoesNotMatch). CanonicalRequest and
// StringToSign are what the verifier computed, when it got that far; they
// hold no secret and help a caller debug its signer.
type MismatchError struct {
	Msg              string
	CanonicalRequest string
	StringToSign     string
}

func (e *MismatchError) Error() string { return e.Msg }

// UnknownKeyError means the access key id is not one the verifier knows
// (AWS code InvalidClientTokenId).
type UnknownKeyError struct{ AccessKeyID string }

func (e *UnknownKeyError) Error() string { return "sigv4: unknown access key id " + e.AccessKeyID }

// Verifier checks SigV4 signatures of header-signed and presigned requests.
type Verifier struct {
	// Service is the signing name the credential scope must carry.
	Service string
	// Secret returns the secret access key of an access key id, false for
	// an unknown key.
	Secret func(accessKeyID string) (string, bool)
	// Now is the clock requests' times are checked against; nil means
	// time.Now. It should be the real wall clock.
	Now func() time.Time
	// Skew is how far a request's time may be from Now; 0 means DefaultSkew.
	Skew time.Duration
}

// Verify checks r's signature. body is the request body as received. The
// errors are ErrUnsigned, *MalformedError, *ScopeError, *MismatchError and
// *UnknownKeyError, checked in about the order AWS checks them: the
// signing information, the request time, the credential scope, the access
// key, then the signature itself and the payload hash.
func (v *Verifier) Verify(r *http.Request, body []byte) (Signature, error) {
	sig, err := FromRequest(r, v.Service)
	if err != nil {
		return Signature{}, err
	}
	q := r.URL.Query()
	var stamp string
	if sig.Presigned {
		stamp = q.Get("X-Amz-Date")
		if stamp == "" {
			return Signature{}, &MalformedError{"AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."}
		}
	} else {
		stamp = r.Header.Get("X-Amz-Date")
		if stamp == "" {
			stamp = r.Header.Get("Date")
		}
		if stamp == "" {
			return Signature{}, &MalformedError{"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + r.Header.Get("Authorization")}
		}
	}
	at, ok := parseTime(stamp)
	if !ok {
		return Signature{}, &MalformedError{"Date must be in ISO-8601 'basic format'. Got '" + stamp + "'. See http://en.wikipedia.org/wiki/ISO_8601"}
	}
	if err := v.checkTime(at, sig.Presigned, q); err != nil {
		return Signature{}, err
	}
	if !signsHost(sig.SignedHeaders) {
		return Signature{}, &MismatchError{Msg: MsgHostNotSigned}
	}
	if want := at.Format("20060102"); sig.Credential.Date != want {
		return Signature{}, &MismatchError{Msg: fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", sig.Credential.Date, want, at.Format(TimeFormat))}
	}
	secret, ok := v.Secret(sig.Credential.AccessKeyID)
	if !ok {
		return Signature{}, &UnknownKeyError{AccessKeyID: sig.Credential.AccessKeyID}
	}

	bodyHash := hashHex(body)
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		payloadHash = bodyHash
	}
	creq, err := CanonicalRequest(r, sig.SignedHeaders, payloadHash, sig.Presigned)
	if err != nil {
		return Signature{}, err
	}
	sts := StringToSign(at, sig.Credential, creq)
	want := hex.EncodeToString(hmacSHA256(SigningKey(secret, sig.Credential), sts))
	if !hmac.Equal([]byte(want), []byte(sig.Signature)) {
		return Signature{}, &MismatchError{Msg: MsgSignatureMismatch, CanonicalRequest: creq, StringToSign: sts}
	}
	// The signature covers x-amz-content-sha256, not the body: the body
	// must be the one it names. An unsigned payload is only an empty one.
	if payloadHash != bodyHash && !(payloadHash == UnsignedPayload && len(body) == 0) {
		return Signature{}, &MismatchError{Msg: MsgPayloadMismatch, CanonicalRequest: creq, StringToSign: sts}
	}
	return sig, nil
}

// checkTime refuses a request time too far from the verifier's clock: more
// than Skew in the past (or, presigned with X-Amz-Expires, past its expiry)
// or more than Skew in the future.
func (v *Verifier) checkTime(at time.Time, presigned bool, q url.Values) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now().UTC().Truncate(time.Second)
	skew := v.Skew
	if skew <= 0 {
		skew = DefaultSkew
	}
	past := skew
	if presigned && q.Has("X-Amz-Expires") {
		s := q.Get("X-Amz-Expires")
		n, err := strconv.Atoi(s)
		switch {
		case err != nil || n < 0:
			return &MalformedError{"X-Amz-Expires must be a non-negative integer number of seconds, not '" + s + "'."}
		case n > MaxExpires:
			return &MalformedError{"X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds."}
		}
		past = time.Duration(n) * time.Second
	}
	if earliest := t.Add(-past); at.Before(earliest) {
		return &MismatchError{Msg: fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			at.Format(TimeFormat), earliest.Format(TimeFormat), t.Format(TimeFormat), spell(past))}
	}
	if latest := t.Add(skew); at.After(latest) {
		return &MismatchError{Msg: fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
			at.Format(TimeFormat), latest.Format(TimeFormat), t.Format(TimeFormat), spell(skew))}
	}
	return nil
}

// spell writes a window the way AWS does: "15 min", or "90 sec".
func spell(d time.Duration) string {
	s := int64(d / time.Second)
	if s%60 == 0 {
		return strconv.FormatInt(s/60, 10) + " min"
	}
	return strconv.FormatInt(s, 10) + " sec"
}

// parseTime reads X-Amz-Date (ISO 8601 basic) or, for the Date header, an
// HTTP date.
func parseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(TimeFormat, s); err == nil {
		return t, true
	}
	if t, err := http.ParseTime(s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

func signsHost(headers []string) bool {
	for _, h := range headers {
		if strings.EqualFold(h, "host") {
			return true
		}
	}
	return false
}

// CanonicalRequest builds the SigV4 canonical request of r: method,
// canonical URI, canonical query string (without X-Amz-Signature when
// presigned), the signed headers' canonical values, the signed header list
// and the payload hash.
func CanonicalRequest(r *http.Request, signedHeaders []string, payloadHash string, presigned bool) (string, error) {
	query, err := CanonicalQuery(r.URL.RawQuery, presigned)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(CanonicalURI(r.URL.EscapedPath()))
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	names := make([]string, len(signedHeaders))
	for i, h := range signedHeaders {
		names[i] = strings.ToLower(h)
		b.WriteString(names[i])
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, names[i]))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(names, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), nil
}

// canonicalHeaderValue joins a header's values with commas, each trimmed
// and with runs of white space collapsed to one space. Go's server moves
// some headers out of r.Header; they are read from where it puts them.
func canonicalHeaderValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	default:
		vals = r.Header.Values(name)
		if len(vals) == 0 {
			switch name {
			case "content-length":
				if r.ContentLength >= 0 {
					vals = []string{strconv.FormatInt(r.ContentLength, 10)}
				}
			case "transfer-encoding":
				vals = r.TransferEncoding
			}
		}
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// CanonicalURI normalizes an escaped URI path as AWS does for services other
// than S3 (dot segments and empty segments removed) and URI-encodes it once
// more: the wire form's '%' becomes "%25", as the AWS SDKs sign it.
func CanonicalURI(escapedPath string) string {
	if escapedPath == "" {
		return "/"
	}
	var out []string
	for _, seg := range strings.Split(escapedPath, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	p := "/" + strings.Join(out, "/")
	if len(out) > 0 && strings.HasSuffix(escapedPath, "/") {
		p += "/"
	}
	return uriEncode(p, false)
}

// CanonicalQuery sorts the decoded query parameters by RFC 3986-encoded
// name, then value, and joins them as name=value pairs; a presigned
// request's X-Amz-Signature is left out.
func CanonicalQuery(rawQuery string, presigned bool) (string, error) {
	if rawQuery == "" {
		return "", nil
	}
	vals, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", &MalformedError{"The request's query string is not valid URL encoding."}
	}
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range vals {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		ek := uriEncode(k, true)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, uriEncode(v, true)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String(), nil
}

// uriEncode percent-encodes every byte but the RFC 3986 unreserved ones
// (A-Z a-z 0-9 - . _ ~) with upper-case hex; '/' too when encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// StringToSign is "AWS4-HMAC-SHA256\n<time>\n<scope>\n<hex SHA-256 of the
// canonical request>".
func StringToSign(at time.Time, c Credential, canonicalRequest string) string {
	return Algorithm + "\n" + at.UTC().Format(TimeFormat) + "\n" + c.Scope() + "\n" + hashHex([]byte(canonicalRequest))
}

// Scope is the credential scope without the access key id:
// "<date>/<region>/<service>/aws4_request".
func (c Credential) Scope() string {
	return c.Date + "/" + c.Region + "/" + c.Service + "/aws4_request"
}

// SigningKey derives the signing key of a secret for a credential scope.
func SigningKey(secret string, c Credential) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), c.Date)
	k = hmacSHA256(k, c.Region)
	k = hmacSHA256(k, c.Service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
