package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
)

// rawBrowser keeps cookies by hand, so it can send back Secure cookies over
// the plain-HTTP hop behind a TLS proxy (a cookie jar would not), and it
// records every Set-Cookie the server sends.
type rawBrowser struct {
	t       *testing.T
	base    string // where requests go (the plain-HTTP listener)
	c       *http.Client
	jar     map[string]string
	setBy   []*http.Cookie
	setPath []string // the request path that set setBy[i]
}

func newRawBrowser(t *testing.T, base string) *rawBrowser {
	return &rawBrowser{t: t, base: base, jar: map[string]string{}, c: &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends one request (path relative to the server, or absolute) and keeps
// the cookies it sets.
func (b *rawBrowser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = b.base + path
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.jar {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		b.setBy = append(b.setBy, c)
		b.setPath = append(b.setPath, req.URL.Path)
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.jar, c.Name)
		} else {
			b.jar[c.Name] = c.Value
		}
	}
	return resp, string(data)
}

// follow GETs redirects on the server until a page or a redirect elsewhere.
func (b *rawBrowser) follow(resp *http.Response, body string) (*http.Response, string) {
	b.t.Helper()
	for i := 0; i < 10 && resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/"); i++ {
		resp, body = b.do(http.MethodGet, resp.Header.Get("Location"), nil)
	}
	return resp, body
}

// TestEveryCookieSecureBehindTLSProxy: with an https issuer served as plain
// HTTP behind a TLS-terminating proxy (--insecure-http), every cookie the
// server sets — flow binding, CSRF, session, and the session's deletion at
// logout — carries Secure and the __Host- prefix (Path=/, no Domain).
func TestEveryCookieSecureBehindTLSProxy(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.Authz.Issuer = servertest.BehindTLSProxy })
	if !strings.HasPrefix(e.issuer, "https://") || e.srv.Handler == nil {
		t.Fatalf("issuer %q", e.issuer)
	}
	c := webClient("authorization_code")
	e.createClient(c)
	b := newRawBrowser(t, e.Addr)
	_, challenge := pkcePair()
	auth := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid"},
		"state": {randString()}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	resp, body := b.follow(b.do(http.MethodGet, "/oauth2/authorize?"+auth.Encode(), nil))
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" {
		t.Fatalf("expected the login page: %d %s %s", resp.StatusCode, resp.Request.URL, body)
	}
	f := formFields(t, body)
	f.Set("username", "alice")
	f.Set("password", testPassword)
	resp, body = b.follow(b.do(http.MethodPost, "/login", f))
	if resp.Request.URL.Path != "/consent" || resp.StatusCode != http.StatusOK {
		t.Fatalf("expected the consent page: %d %s %s", resp.StatusCode, resp.Request.URL, body)
	}
	f = formFields(t, body)
	f.Set("decision", "allow")
	resp, _ = b.do(http.MethodPost, "/consent", f)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, redirectURI+"?") {
		t.Fatalf("expected the code: %d %q", resp.StatusCode, loc)
	}
	resp, body = b.do(http.MethodGet, "/oauth2/logout", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("expected the logout confirmation: %d %s", resp.StatusCode, body)
	}
	f = formFields(t, body)
	f.Set("decision", "logout")
	resp, body = b.do(http.MethodPost, "/logout", f)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "signed out") {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}

	seen := map[string]int{}
	for i, ck := range b.setBy {
		seen[ck.Name]++
		raw := ck.Raw
		if !ck.Secure || !strings.HasPrefix(ck.Name, "__Host-") || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly {
			t.Errorf("cookie set at %s is not a secure host-only cookie: %s", b.setPath[i], raw)
		}
		if ck.SameSite != http.SameSiteLaxMode && ck.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie set at %s has no SameSite: %s", b.setPath[i], raw)
		}
	}
	// the test must have seen every cookie the server sets, the session twice (set, then deleted)
	for _, name := range []string{"strongroom-flow", "strongroom-csrf", "strongroom-session"} {
		if seen["__Host-"+name] == 0 && seen[name] == 0 {
			t.Errorf("cookie %s was never set (seen %v)", name, seen)
		}
	}
	if seen["__Host-strongroom-session"]+seen["strongroom-session"] < 2 {
		t.Errorf("the session cookie was not both set and deleted: %v", seen)
	}
}
