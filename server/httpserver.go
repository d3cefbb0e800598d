package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/strongroom/strongroom/api/httpmw"
)

// Request size limits of both listeners (the public one and the admin API).
// Bodies are capped per endpoint (api.Options.MaxBodyBytes, the pages).
const (
	// MaxRequestURIBytes caps the request target (path and query): longer
	// is 414 URI Too Long.
	MaxRequestURIBytes = 8 << 10
	// MaxHeaderBytes caps the header fields (names, values, separators; the
	// request line not included): more is 431 Request Header Fields Too
	// Large.
	MaxHeaderBytes = 16 << 10
)

// RetryAfterSeconds is the Retry-After of every 503 the server sends
// (database outage, draining before shutdown): a client or proxy waits
// this long before it retries, instead of hammering a node that cannot
// answer.
const RetryAfterSeconds = 5

// shutdownTimeout bounds how long a listener waits, once it has closed, for
// the requests in flight to finish.
const shutdownTimeout = 20 * time.Second

// httpListener is one HTTP listener the server runs (the public one, the
// admin API) with what its shutdown needs.
type httpListener struct {
	// name names the listener in errors and log lines.
	name    string
	handler http.Handler
	// tls, when set, serves HTTPS with it; nil serves plain HTTP.
	tls *tls.Config
	// drain is how long the listener keeps serving, keep-alives off, once
	// shutdown begins (Config.ShutdownDrain).
	drain time.Duration
	// draining, when set, is raised when shutdown begins, so that readiness
	// (/readyz) answers 503 through the drain.
	draining *atomic.Bool
	// hsts sends Strict-Transport-Security on every response, the
	// listener's own refusals (414, 431) included: the public listener of
	// an https issuer.
	hsts bool
	log  *slog.Logger
}

// serve runs the listener on ln until ctx ends, then shuts it down
// gracefully: it drains (draining raised, keep-alives off, every request
// still served for l.drain), closes the listener and waits up to
// shutdownTimeout for the requests in flight. It returns when the listener
// has stopped; an error if it stopped on its own or could not finish them.
func (l httpListener) serve(ctx context.Context, ln net.Listener) error {
	h := limitRequest(l.handler)
	if l.hsts {
		h = httpmw.StrictTransportSecurity(h)
	}
	srv := newHTTPServer(h, l.tls, l.log)
	errc := make(chan error, 1)
	go func() {
		if l.tls != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("%s: %w", l.name, err)
	case <-ctx.Done():
	}
	l.drainBeforeClose(srv)
	l.log.Info("shutting down; waiting for in-flight requests", "listener", l.name)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("%s: graceful shutdown: %w", l.name, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: %w", l.name, err)
	}
	return nil
}

// drainBeforeClose marks the listener not ready and keeps serving for the
// drain period, so that a load balancer polling /readyz takes the node out
// of rotation before the listener closes.
func (l httpListener) drainBeforeClose(srv *http.Server) {
	if l.draining != nil {
		l.draining.Store(true)
	}
	if l.drain <= 0 {
		return
	}
	srv.SetKeepAlivesEnabled(false) // clients reconnect, to another node
	l.log.Info("draining: not ready, still serving, before the listener closes", "listener", l.name, "drain", l.drain)
	time.Sleep(l.drain)
}

// newHTTPServer is the http.Server of both listeners: timeouts and the
// error log. h comes wrapped in limitRequest (size limits, Retry-After on
// every 503).
func newHTTPServer(h http.Handler, tlsCfg *tls.Config, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		// net/http reads at most this (plus 4 KiB) of request line and
		// headers together and answers 431 beyond; limitRequest then applies
		// the two limits apart, so a long URI gets its 414.
		MaxHeaderBytes: MaxRequestURIBytes + MaxHeaderBytes,
		TLSConfig:      tlsCfg,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// limitRequest refuses a request target over MaxRequestURIBytes (414) and
// header fields over MaxHeaderBytes (431) before any handler runs, and adds
// Retry-After to every 503 the handler sends.
func limitRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case len(r.RequestURI) > MaxRequestURIBytes:
			writeLimitError(w, http.StatusRequestURITooLong, "The request URI is too long (at most 8 KiB).")
			return
		case headerBytes(r) > MaxHeaderBytes:
			writeLimitError(w, http.StatusRequestHeaderFieldsTooLarge, "The request header fields are too large (at most 16 KiB).")
			return
		}
		next.ServeHTTP(&retryAfterWriter{ResponseWriter: w}, r)
	})
}

// headerBytes is the size of r's header fields as sent on HTTP/1.1
// ("Name: value\r\n" each, Host included).
func headerBytes(r *http.Request) int {
	n := len("Host: \r\n") + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + len(": \r\n")
		}
	}
	return n
}

func writeLimitError(w http.ResponseWriter, status int, desc string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	// Browsers reach these limits at the page endpoints too: nothing in the
	// answer may run, be framed or be sniffed as HTML.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Connection", "close") // the rest of an oversize request is not worth reading
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": desc})
}

// retryAfterWriter sets Retry-After on a 503 response that has none.
type retryAfterWriter struct {
	http.ResponseWriter
}

// WriteHeader implements http.ResponseWriter.
func (w *retryAfterWriter) WriteHeader(status int) {
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
	}
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection's writer (flush, deadlines).
func (w *retryAfterWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
