package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// bareBody returns an XML-looking body of exactly n bytes.
func bareBody(n int) []byte {
	const head, tail = "<DescribeCertificatesResponse><!--", "--></DescribeCertificatesResponse>"
	if n < len(head)+len(tail) {
		return []byte(strings.Repeat("x", n))
	}
	return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
}

// bareHandler answers every request with 200, Content-Type text/xml and
// body; it drains the request body so connections stay reusable.
func bareHandler(body []byte) http.Handler {
	clen := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = []string{"text/xml"}
		h["Content-Length"] = []string{clen}
		_, _ = w.Write(body)
	})
}

// runBareServer serves bareHandler on a loopback addr until SIGTERM or SIGINT.
func runBareServer(addr string, size int) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host != "127.0.0.1" {
		return fmt.Errorf("bare server listens on 127.0.0.1 only, not %q", host)
	}
	if size < 0 {
		return errors.New("negative -body-size")
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: bareHandler(bareBody(size)), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
