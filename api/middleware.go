package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/api/httpmw"
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

// clientAttr is the access log's caller: the authenticated client, else the
// client id the request claims (never its secret).
func clientAttr(c echo.Context) slog.Attr {
	client, _ := c.Get(ctxClientID).(string)
	if client == "" && c.Request().PostForm != nil {
		client = claimedClientID(c.Request())
	}
	return slog.String("client_id", client)
}

// limitBody caps the request body (Options.MaxBodyBytes); fosite would
// otherwise accept up to 10 MB.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return httpmw.LimitBody(s.opts.MaxBodyBytes, func(c echo.Context) error {
		return s.writeOAuthError(c, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is too large.")
	})(next)
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
		// ParseForm first: ParseMultipartForm drops ParseForm's error when
		// the body is not multipart, and an unreadable or over-cap form must
		// be refused here, not reach the handler as an empty form.
		if err := r.ParseForm(); err != nil {
			return s.badRequest(c, "The request body could not be parsed as a form (or is too large).")
		}
		if mayBeMultipart(r) {
			if err := r.ParseMultipartForm(64 << 10); err != nil && err != http.ErrNotMultipart {
				return s.badRequest(c, "The request body could not be parsed as a form (or is too large).")
			}
		}
		q := r.URL.Query()
		for _, vals := range []url.Values{q, r.PostForm} {
			for k, v := range vals {
				if len(v) > 1 && !repeatable[k] {
					return s.badRequest(c, fmt.Sprintf("The parameter %q was sent more than once.", truncate(k, 64)))
				}
			}
		}
		if r.Method == http.MethodPost {
			for k := range r.PostForm {
				if q.Has(k) {
					return s.badRequest(c, fmt.Sprintf("The parameter %q was sent more than once.", truncate(k, 64)))
				}
			}
		}
		return next(c)
	}
}

// mayBeMultipart reports whether r's Content-Type could name a multipart
// body: ParseMultipartForm answers http.ErrNotMultipart for every other
// (it parses the media type, lower-cased, and wants multipart/form-data),
// so the form requests of the token and introspection endpoints skip a
// second parse of their media type.
func mayBeMultipart(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	for i := 0; i+len("multipart") <= len(ct); i++ {
		if strings.EqualFold(ct[i:i+len("multipart")], "multipart") {
			return true
		}
	}
	return false
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
