package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/authz"
)

const ctxClientID = "strongroom.client_id"

// setClient records the authenticated client for the access log.
func setClient(c echo.Context, id string) { c.Set(ctxClientID, id) }

// claimedClientID is the client id a request claims (Basic user name or
// client_id parameter), logged when authentication fails: audit needs to know
// which client was tried. Never the secret.
func claimedClientID(r *http.Request) string {
	id := r.PostForm.Get("client_id")
	if u, _, ok := r.BasicAuth(); ok {
		if un, err := url.QueryUnescape(u); err == nil {
			id = un
		}
	}
	return truncate(id, 128)
}

// accessLog writes one structured line per request: request id, method,
// path (never the query string, which may carry codes), status, duration and
// client id. No header, body or token is logged.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		client, _ := c.Get(ctxClientID).(string)
		if client == "" && c.Request().PostForm != nil {
			client = claimedClientID(c.Request())
		}
		s.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
			slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
			slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path),
			slog.Int("status", c.Response().Status),
			slog.Duration("duration", time.Since(start)),
			slog.String("client_id", client),
		)
		return nil
	}
}

// recoverer turns a panic into a 500 without a stack in the response; the
// log gets the panic value's type only (values may hold secrets).
func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					log.Error("panic in handler", "path", c.Request().URL.Path, "panic_type", fmt.Sprintf("%T", r),
						"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
					err = echo.NewHTTPError(http.StatusInternalServerError)
				}
			}()
			return next(c)
		}
	}
}

// limitBody caps the request body; fosite would otherwise accept up to 10 MB.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > s.opts.MaxBodyBytes {
			return s.writeOAuthError(c, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is too large.")
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, s.opts.MaxBodyBytes)
		return next(c)
	}
}

// repeatable parameters may be sent more than once: RFC 8707 §2 resource,
// RFC 8693 §2.1 audience.
var repeatable = map[string]bool{"resource": true, "audience": true}

// rejectDuplicates parses query and form once and refuses a parameter sent
// twice (RFC 6749 §3.1) before fosite, which would silently take the first.
// At the authorization endpoint the error is a page: the redirect URI cannot
// be trusted yet.
func (s *Server) rejectDuplicates(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if err := r.ParseMultipartForm(64 << 10); err != nil && err != http.ErrNotMultipart {
			return s.badRequest(c, "The request body could not be parsed as a form (or is too large).")
		}
		for _, vals := range []url.Values{r.URL.Query(), r.PostForm} {
			for k, v := range vals {
				if len(v) > 1 && !repeatable[k] {
					return s.badRequest(c, fmt.Sprintf("The parameter %q was sent more than once.", truncate(k, 64)))
				}
			}
		}
		if r.Method == http.MethodPost {
			q := r.URL.Query()
			for k := range r.PostForm {
				if q.Has(k) {
					return s.badRequest(c, fmt.Sprintf("The parameter %q was sent more than once.", truncate(k, 64)))
				}
			}
		}
		return next(c)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Server) badRequest(c echo.Context, desc string) error {
	return s.writeOAuthError(c, http.StatusBadRequest, "invalid_request", desc)
}

// writeOAuthError answers JSON at the API endpoints and a page at the
// authorization endpoint.
func (s *Server) writeOAuthError(c echo.Context, status int, code, desc string) error {
	if c.Path() == authz.PathAuthorize {
		s.browser.RenderError(c.Response(), status, code, desc)
		return nil
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, map[string]string{"error": code, "error_description": desc})
}
