package server

import (
	"crypto/tls"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"
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

// newHTTPServer is the http.Server of both listeners: timeouts, size limits
// (limitRequest), Retry-After on every 503 and the error log.
func newHTTPServer(h http.Handler, tlsCfg *tls.Config, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           limitRequest(h),
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
