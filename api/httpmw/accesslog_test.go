package httpmw

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestAccessLogCarriesRouteRemoteAddrAndOAuthError: the access-log line
// names the matched route (not only the path), the peer's address without
// its port, and what the handler added (the OAuth error code), and never the
// query string.
func TestAccessLogCarriesRouteRemoteAddrAndOAuthError(t *testing.T) {
	var buf bytes.Buffer
	e := echo.New()
	Use(e, Options{Log: slog.New(slog.NewJSONHandler(&buf, nil)), AccessLogMessage: "request", PanicMessage: "panic"})
	e.GET("/clients/:id", func(c echo.Context) error {
		AddLogAttrs(c.Request().Context(), slog.String("oauth_error", "invalid_client"))
		return c.NoContent(http.StatusUnauthorized)
	})
	req := httptest.NewRequest(http.MethodGet, "/clients/web?code=secret-code", nil)
	req.RemoteAddr = "192.0.2.7:51234"
	e.ServeHTTP(httptest.NewRecorder(), req)

	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("access log %q: %v", buf.String(), err)
	}
	want := map[string]any{"route": "/clients/:id", "path": "/clients/web", "remote_addr": "192.0.2.7",
		"oauth_error": "invalid_client", "status": float64(401)}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v (line %s)", k, line[k], v, buf.String())
		}
	}
	if bytes.Contains(buf.Bytes(), []byte("secret-code")) {
		t.Errorf("the query string reached the log: %s", buf.String())
	}
	// Outside a request the access log wraps, AddLogAttrs does nothing.
	AddLogAttrs(t.Context(), slog.String("x", "y"))
}

type countingObserver struct{ n int }

func (o *countingObserver) ObserveRequest(string, string, int, time.Duration) { o.n++ }

// TestAccessLogOffBuildsNoLine: with the log level above info the access
// log writes nothing and does not build its line (the caller attribute is
// not asked for), while the request is answered and still counted.
func TestAccessLogOffBuildsNoLine(t *testing.T) {
	var buf bytes.Buffer
	callerAsked := false
	obs := &countingObserver{}
	e := echo.New()
	Use(e, Options{
		Log:              slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})),
		AccessLogMessage: "request", PanicMessage: "panic", Metrics: obs,
		Caller: func(echo.Context) slog.Attr { callerAsked = true; return slog.String("client_id", "c") },
	})
	e.GET("/x", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if rec.Code != http.StatusNoContent || obs.n != 1 {
		t.Fatalf("status %d, observed %d requests", rec.Code, obs.n)
	}
	if buf.Len() != 0 || callerAsked {
		t.Fatalf("access log off, yet a line %q (caller asked: %v)", buf.String(), callerAsked)
	}
}
