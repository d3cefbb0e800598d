package metrics

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Path is where the admin listener serves the metrics.
const Path = "/metrics"

// Handler serves the registry in the Prometheus exposition formats. With
// a token (serve --metrics-token-file) every scrape must present it as
// "Authorization: Bearer <token>": anything else is 401 with a
// WWW-Authenticate challenge, compared in constant time, and the token is
// never logged. Without one the metrics are readable by whoever reaches
// the admin listener, as scrapers expect of an internal listener.
//
// A collector that fails (the database is down) drops its own series; the
// rest of the scrape is still served.
func (m *Metrics) Handler(token []byte, log *slog.Logger) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:     promhttp.ContinueOnError,
		ErrorLog:          promLogger{log},
		Registry:          m.reg, // promhttp_metric_handler_errors_total
		EnableOpenMetrics: true,
	})
	h = promhttp.InstrumentMetricHandler(m.reg, h)
	if len(token) == 0 {
		return h
	}
	want := sha256.Sum256(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !bearerMatches(r.Header.Get("Authorization"), want) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="strongroom-metrics"`)
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "a bearer token is required to read the metrics", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// bearerMatches reports whether header is "Bearer <token>" with the token
// whose SHA-256 is want. Comparing the hashes in constant time reveals
// neither the token's bytes nor its length.
func bearerMatches(header string, want [sha256.Size]byte) bool {
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// ReadTokenFile reads the bearer token that protects /metrics (serve
// --metrics-token-file): the file's content without surrounding white
// space, at least 16 bytes. Errors never quote the content.
func ReadTokenFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path) // #nosec G304 -- the operator names the file (serve --metrics-token-file)
	if err != nil {
		return nil, fmt.Errorf("metrics token file: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	switch {
	case tok == "":
		return nil, errors.New("metrics token file: the file is empty")
	case len(tok) < 16:
		return nil, errors.New("metrics token file: the token is shorter than 16 bytes")
	case strings.ContainsAny(tok, " \t\r\n"):
		return nil, errors.New("metrics token file: the token must be one line without spaces")
	}
	return []byte(tok), nil
}

// promLogger sends promhttp's error lines to the server's log.
type promLogger struct{ log *slog.Logger }

// Println implements promhttp.Logger.
func (l promLogger) Println(v ...any) {
	if l.log != nil {
		l.log.Warn("metrics: " + fmt.Sprint(v...))
	}
}
