package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPageCSP(t *testing.T) {
	rec := httptest.NewRecorder()
	headers(rec)
	if got := pageCSP(nil, nil); got != rec.Header().Get("Content-Security-Policy") {
		t.Fatalf("basePolicy drifted from headers():\n%s\n%s", got, rec.Header().Get("Content-Security-Policy"))
	}
	got := pageCSP([]string{"https://cdn.example"}, []string{"https://app.example", "http://127.0.0.1:*"})
	for _, want := range []string{
		"img-src 'self' data: https://cdn.example;", "form-action 'self' https://app.example http://127.0.0.1:*;",
		"frame-ancestors 'none'", "default-src 'none'",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("CSP %q lacks %q", got, want)
		}
	}
}

func TestOrigins(t *testing.T) {
	for name, tc := range map[string]struct {
		in   []string
		want string
	}{
		"ok/https":              {[]string{"https://app.example/cb?x=1", "https://app.example/other"}, "https://app.example"},
		"ok/port":               {[]string{"https://app.example:8443/cb"}, "https://app.example:8443"},
		"ok/loopback-any-port":  {[]string{"http://127.0.0.1:8400/cb"}, "http://127.0.0.1:*"},
		"ok/private-use-scheme": {[]string{"com.example.app:/cb"}, "com.example.app:"},
		"fail/javascript":       {[]string{"javascript:alert(1)"}, ""},
		"fail/injection":        {[]string{"https://a.example;script-src *"}, ""},
		"fail/garbage":          {[]string{"::::", ""}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			if got := strings.Join(origins(tc.in...), " "); got != tc.want {
				t.Fatalf("origins(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSessionCookieOverTLS(t *testing.T) {
	for name, tc := range map[string]struct {
		secure     bool
		wantName   string
		wantSecure bool
	}{
		"ok/tls":       {true, "__Host-strongroom-session", true},
		"ok/plain-dev": {false, "strongroom-session", false},
	} {
		t.Run(name, func(t *testing.T) {
			pg := &Pages{opts: Options{SecureCookies: tc.secure}}
			rec := httptest.NewRecorder()
			pg.setCookie(rec, "strongroom-session", "v", time.Hour)
			cs := (&http.Response{Header: rec.Header()}).Cookies()
			if len(cs) != 1 {
				t.Fatalf("cookies %v", rec.Header())
			}
			c := cs[0]
			if c.Name != tc.wantName || c.Secure != tc.wantSecure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
				t.Fatalf("cookie %+v", c)
			}
			if pg.SessionCookieName() != tc.wantName {
				t.Fatalf("SessionCookieName() = %q", pg.SessionCookieName())
			}
		})
	}
}
