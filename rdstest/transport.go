package rdstest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// ErrClosed is the error of a request to a closed server without a
// listener.
var ErrClosed = errors.New("rdstest: the server is closed")

// inProcess is an http.RoundTripper that serves each request by calling
// the handler on the caller's goroutine, as a server would see it: no
// socket, no copy of the response beyond a buffer.
type inProcess struct {
	handler http.Handler

	mu       sync.RWMutex // held for reading by requests in flight
	closed   bool
	inFlight sync.WaitGroup
}

// RoundTrip implements http.RoundTripper.
func (rt *inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.mu.RLock()
	if rt.closed {
		rt.mu.RUnlock()
		closeBody(req)
		return nil, ErrClosed
	}
	rt.inFlight.Add(1)
	rt.mu.RUnlock()
	defer rt.inFlight.Done()
	defer closeBody(req)

	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	rt.handler.ServeHTTP(rec, serverRequest(req))
	resp := rec.Result()
	if resp.ContentLength < 0 {
		resp.ContentLength = int64(rec.Body.Len())
		resp.Header.Set("Content-Length", strconv.Itoa(rec.Body.Len()))
	}
	if req.Method == http.MethodHead {
		resp.Body = http.NoBody
	}
	resp.Request = req
	return resp, nil
}

// close refuses new requests and waits for those in flight.
func (rt *inProcess) close() {
	rt.mu.Lock()
	rt.closed = true
	rt.mu.Unlock()
	rt.inFlight.Wait()
}

// serverRequest returns req as net/http's server would hand it to a
// handler: RequestURI, Host and RemoteAddr set, the URL only a path and a
// query, a non-nil body.
func serverRequest(req *http.Request) *http.Request {
	r := req.Clone(req.Context())
	r.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	r.RequestURI = req.URL.RequestURI()
	if r.Host == "" {
		r.Host = req.URL.Host
	}
	r.Header.Del("Host")
	r.RemoteAddr = "192.0.2.1:1234"
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	r.Close = false
	if r.Body == nil {
		r.Body = http.NoBody
	}
	if r.Body == http.NoBody {
		r.ContentLength = 0
	} else if r.ContentLength == 0 {
		r.ContentLength = -1 // unknown length, as a chunked request
	}
	r.GetBody = nil
	return r
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// ownBodyClient gives the transport a request body of its own. smithy-go
// closes http.Request.Body as soon as Do returns, which can race the
// transport's end-of-body probe when the server answers before the write
// loop is done; the transport then closes the connection and the response
// read fails with "use of closed network connection" (aws-sdk-go-v2#2737).
// The SDK retries that, after a backoff of up to a second or two; with a
// buffered body it does not happen.
type ownBodyClient struct{ c aws.HTTPClient }

func (o ownBodyClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return o.c.Do(r)
	}
	b, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.ContentLength = int64(len(b))
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return o.c.Do(r)
}
