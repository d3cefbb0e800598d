package httpmw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

type ctxKey struct{}

// logBuffer collects JSON log lines (the handlers run on the test's
// goroutine: no lock needed).
type logBuffer struct{ bytes.Buffer }

// lines decodes every JSON log line.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, raw := range bytes.Split(bytes.TrimSpace(l.Bytes()), []byte("\n")) {
		if len(raw) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("log line %q: %v", raw, err)
		}
		out = append(out, m)
	}
	return out
}

// testServer is an Echo with the common middleware (logging to logs, the
// request id carried under ctxKey, the caller read from "caller") and the
// given routes.
func testServer(logs *logBuffer, routes func(e *echo.Echo)) *echo.Echo {
	e := echo.New()
	Use(e, Options{
		Log: slog.New(slog.NewJSONHandler(logs, nil)),
		WithRequestID: func(ctx context.Context, id string) context.Context {
			return context.WithValue(ctx, ctxKey{}, id)
		},
		AccessLogMessage: "request",
		PanicMessage:     "panic in handler",
		Caller: func(c echo.Context) slog.Attr {
			id, _ := c.Get("caller").(string)
			return slog.String("client_id", id)
		},
	})
	routes(e)
	return e
}

// do serves req through e and returns the answer.
func do(e *echo.Echo, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func accessLines(t *testing.T, logs *logBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range logs.lines(t) {
		if l["msg"] == "request" {
			out = append(out, l)
		}
	}
	return out
}

// The request id is answered in X-Request-Id, carried in the handler's
// context and named by the access-log line; an id the client sent is kept.
func TestRequestIDPropagates(t *testing.T) {
	for name, sent := range map[string]string{"generated": "", "client's": "req-from-the-proxy"} {
		t.Run(name, func(t *testing.T) {
			var logs logBuffer
			var inHandler string
			e := testServer(&logs, func(e *echo.Echo) {
				e.GET("/x", func(c echo.Context) error {
					inHandler, _ = c.Request().Context().Value(ctxKey{}).(string)
					return c.NoContent(http.StatusNoContent)
				})
			})
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			if sent != "" {
				req.Header.Set(echo.HeaderXRequestID, sent)
			}
			id := do(e, req).Header().Get(echo.HeaderXRequestID)
			switch {
			case id == "":
				t.Fatal("no X-Request-Id in the answer")
			case sent != "" && id != sent:
				t.Fatalf("X-Request-Id %q, the client sent %q", id, sent)
			case inHandler != id:
				t.Fatalf("the handler's context carries %q, the answer %q", inHandler, id)
			}
			lines := accessLines(t, &logs)
			if len(lines) != 1 || lines[0]["request_id"] != id {
				t.Fatalf("access log %v, want one line with request_id %q", lines, id)
			}
		})
	}
}

// A panic becomes a plain 500: neither the panic's text nor a stack reaches
// the client or the log (only its type does), and the access log records
// the 500 with the request id.
func TestRecovererAnswersACleanInternalError(t *testing.T) {
	const secret = "s3cr3t-in-the-panic-value"
	var logs logBuffer
	e := testServer(&logs, func(e *echo.Echo) {
		e.GET("/boom", func(echo.Context) error { panic("leaked " + secret) })
	})
	rec := do(e, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	body := rec.Body.String()
	for _, leak := range []string{secret, "leaked", "goroutine", ".go:"} {
		if strings.Contains(body, leak) {
			t.Errorf("the answer carries %q: %s", leak, body)
		}
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the log carries the panic's value:\n%s", logs.String())
	}
	id := rec.Header().Get(echo.HeaderXRequestID)
	var panicLine, accessLine map[string]any
	for _, l := range logs.lines(t) {
		switch l["msg"] {
		case "panic in handler":
			panicLine = l
		case "request":
			accessLine = l
		}
	}
	if panicLine == nil || panicLine["panic_type"] != "string" || panicLine["request_id"] != id || panicLine["path"] != "/boom" {
		t.Errorf("panic line %v, want its type, path and request id %q", panicLine, id)
	}
	if accessLine == nil || accessLine["status"] != float64(http.StatusInternalServerError) {
		t.Errorf("access line %v, want status 500", accessLine)
	}
}

// The access log has one line per request with its fields, and never a
// query string, header value or body: codes, tokens, secrets and passwords
// travel there.
func TestAccessLogNeverLogsCredentials(t *testing.T) {
	secrets := []string{"the-code-value", "bearer-token-value", "proxy-credential-value", "client-secret-value",
		"user-password-value", "cookie-value", "refresh-token-value"}
	var logs logBuffer
	e := testServer(&logs, func(e *echo.Echo) {
		e.POST("/oauth2/token", func(c echo.Context) error {
			if err := c.Request().ParseForm(); err != nil {
				return err
			}
			c.Set("caller", "client-a")
			return c.JSON(http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		})
	})
	form := url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {"refresh-token-value"},
		"client_secret": {"client-secret-value"}, "password": {"user-password-value"},
	}
	req := httptest.NewRequest(http.MethodPost, "/oauth2/token?code=the-code-value", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer bearer-token-value")
	req.Header.Set("Cookie", "session=cookie-value")
	req.Header.Set("X-Forwarded-Authorization", "Basic "+"proxy-credential-value")
	if rec := do(e, req); rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d", rec.Code)
	}
	out := logs.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log carries %q:\n%s", s, out)
		}
	}
	lines := accessLines(t, &logs)
	if len(lines) != 1 {
		t.Fatalf("%d access lines, want 1:\n%s", len(lines), out)
	}
	l := lines[0]
	want := map[string]any{"method": "POST", "path": "/oauth2/token", "status": float64(http.StatusBadRequest), "client_id": "client-a"}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("access line %s = %v, want %v", k, l[k], v)
		}
	}
	if _, ok := l["duration"]; !ok {
		t.Errorf("access line without duration: %v", l)
	}
}

// A handler's error is rendered before the access line is written, so the
// line has the status the client got (here Echo's 404 for an unknown route).
func TestAccessLogRecordsTheRenderedStatus(t *testing.T) {
	var logs logBuffer
	e := testServer(&logs, func(e *echo.Echo) {
		e.GET("/teapot", func(echo.Context) error { return echo.NewHTTPError(http.StatusTeapot) })
	})
	for path, want := range map[string]int{"/teapot": http.StatusTeapot, "/nowhere": http.StatusNotFound} {
		if rec := do(e, httptest.NewRequest(http.MethodGet, path, nil)); rec.Code != want {
			t.Fatalf("%s: status %d, want %d", path, rec.Code, want)
		}
	}
	got := map[any]any{}
	for _, l := range accessLines(t, &logs) {
		got[l["path"]] = l["status"]
	}
	if got["/teapot"] != float64(http.StatusTeapot) || got["/nowhere"] != float64(http.StatusNotFound) {
		t.Fatalf("access lines' statuses %v", got)
	}
}

// LimitBody refuses a declared length over the cap with the listener's
// answer before the handler, and fails a read past the cap.
func TestLimitBody(t *testing.T) {
	const limit = 16
	e := echo.New()
	var readErr error
	e.POST("/x", func(c echo.Context) error {
		_, readErr = io.ReadAll(c.Request().Body)
		return c.NoContent(http.StatusNoContent)
	}, LimitBody(limit, func(c echo.Context) error { return c.String(http.StatusRequestEntityTooLarge, "too large") }))

	if rec := do(e, httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(strings.Repeat("a", limit)))); rec.Code != http.StatusNoContent || readErr != nil {
		t.Fatalf("at the cap: %d, read error %v", rec.Code, readErr)
	}
	readErr = nil
	rec := do(e, httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(strings.Repeat("a", limit+1))))
	if rec.Code != http.StatusRequestEntityTooLarge || rec.Body.String() != "too large" {
		t.Fatalf("declared over the cap: %d %q", rec.Code, rec.Body)
	}
	req := httptest.NewRequest(http.MethodPost, "/x", io.NopCloser(strings.NewReader(strings.Repeat("a", limit+1))))
	req.ContentLength = -1
	do(e, req)
	var mbe *http.MaxBytesError
	if !errors.As(readErr, &mbe) || mbe.Limit != limit {
		t.Fatalf("undeclared over the cap: read error %v, want *http.MaxBytesError", readErr)
	}
}
