package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/authz"
)

// pageBrowser records the error pages the authorization endpoint renders.
type pageBrowser struct{ status int }

func (b *pageBrowser) SessionCookie(*http.Request) string { return "" }
func (b *pageBrowser) FlowBinding(http.ResponseWriter, *http.Request) (string, error) {
	return "binding", nil
}
func (b *pageBrowser) RenderError(w http.ResponseWriter, status int, code, desc string) {
	b.status = status
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<p>" + code + ": " + desc + "</p>"))
}

// paramServer mounts a handler that answers 204 behind the parameter
// middleware, at the token and the authorization endpoint.
func paramServer(t *testing.T) (*echo.Echo, *pageBrowser) {
	t.Helper()
	b := &pageBrowser{}
	s := &Server{browser: b, opts: Options{MaxBodyBytes: 1 << 10}}
	e := echo.New()
	ok := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
	for _, path := range []string{authz.PathToken, authz.PathAuthorize} {
		e.Add(http.MethodPost, path, ok, s.limitBody, s.rejectDuplicates)
		e.Add(http.MethodGet, path, ok, s.limitBody, s.rejectDuplicates)
	}
	return e, b
}

func TestDuplicateParametersAnswerOAuthJSON(t *testing.T) {
	tests := map[string]struct {
		method, query, body string
		status              int
		param               string // named in the error
	}{
		"ok/single-values":          {"POST", "", "grant_type=client_credentials&scope=a+b", 204, ""},
		"ok/resource-repeated":      {"POST", "", "grant_type=client_credentials&resource=https://a.example&resource=https://b.example", 204, ""},
		"ok/audience-repeated":      {"POST", "", "audience=a&audience=b", 204, ""},
		"fail/form-twice":           {"POST", "", "grant_type=client_credentials&scope=a&scope=b", 400, "scope"},
		"fail/query-twice":          {"GET", "client_id=a&client_id=b", "", 400, "client_id"},
		"fail/query-and-form":       {"POST", "client_id=a", "client_id=a", 400, "client_id"},
		"fail/empty-value-twice":    {"POST", "", "state=&state=", 400, "state"},
		"fail/body-over-the-limit":  {"POST", "", "scope=" + strings.Repeat("a", 2<<10), 413, ""},
		"fail/client-secret-twice":  {"POST", "", "client_secret=x&client_secret=y", 400, "client_secret"},
		"ok/empty-body":             {"POST", "", "", 204, ""},
		"ok/query-only-on-post":     {"POST", "x=1", "y=2", 204, ""},
		"fail/long-name-truncated":  {"POST", "", strings.Repeat("n", 100) + "=1&" + strings.Repeat("n", 100) + "=2", 400, strings.Repeat("n", 64)},
		"ok/different-case-differs": {"POST", "", "Scope=a&scope=b", 204, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, _ := paramServer(t)
			target := authz.PathToken
			if tc.query != "" {
				target += "?" + tc.query
			}
			r := httptest.NewRequest(tc.method, target, strings.NewReader(tc.body))
			if tc.method == http.MethodPost {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.status == 204 {
				return
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || w.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("headers %v, want JSON, no-store", w.Header())
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if body["error"] != "invalid_request" {
				t.Fatalf("error %q, want invalid_request", body["error"])
			}
			if tc.param != "" && !strings.Contains(body["error_description"], `"`+tc.param+`"`) {
				t.Fatalf("description %q does not name %q", body["error_description"], tc.param)
			}
			if strings.Contains(body["error_description"], strings.Repeat("n", 65)) {
				t.Fatal("an overlong parameter name is echoed whole")
			}
		})
	}
}

// TestAuthorizeParameterErrorsArePages: at the authorization endpoint the
// redirect URI cannot be trusted before the request is parsed, so a
// duplicated parameter is an error page, never JSON and never a redirect.
func TestAuthorizeParameterErrorsArePages(t *testing.T) {
	e, b := paramServer(t)
	q := url.Values{"client_id": {"a", "b"}, "redirect_uri": {"https://evil.example/cb"}}
	r := httptest.NewRequest(http.MethodGet, authz.PathAuthorize+"?"+q.Encode(), nil)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest || b.status != http.StatusBadRequest {
		t.Fatalf("status %d (page %d), want 400 page", w.Code, b.status)
	}
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || w.Header().Get("Location") != "" {
		t.Fatalf("headers %v: want an HTML page, no redirect", w.Header())
	}
}

func TestClaimedClientID(t *testing.T) {
	tests := map[string]struct {
		form     string
		user     string
		basic    bool
		expected string
	}{
		"ok/form":               {"client_id=app", "", false, "app"},
		"ok/basic-wins":         {"client_id=form", "basic%3Aid", true, "basic:id"},
		"ok/none":               {"", "", false, ""},
		"ok/truncated":          {"client_id=" + strings.Repeat("c", 200), "", false, strings.Repeat("c", 128)},
		"ok/bad-escape-ignored": {"client_id=form", "%zz", true, "form"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, authz.PathToken, strings.NewReader(tc.form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.basic {
				r.SetBasicAuth(tc.user, "secret")
			}
			if err := r.ParseForm(); err != nil {
				t.Fatal(err)
			}
			if got := claimedClientID(r); got != tc.expected {
				t.Fatalf("claimedClientID = %q, want %q", got, tc.expected)
			}
		})
	}
}
