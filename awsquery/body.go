package awsquery

import (
	"bytes"
	"io"
	"net/http"
)

// readBody reads r.Body to the end and replaces it with a reader of the
// same bytes, so r.ParseForm still sees the form and the caller keeps the
// exact bytes (SigV4 signs the SHA-256 of the body as sent).
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, err
}
