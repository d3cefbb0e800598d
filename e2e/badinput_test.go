package e2e

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/strongroom/strongroom/storage"
)

// rowCounts counts what a failed request must never leave behind.
func (e *env) rowCounts(t *testing.T) map[string]int {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), e.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	out := map[string]int{}
	for _, table := range []string{"oauth2_requests", "auth_flows", "browser_sessions", "consents", "client_assertion_jtis", "clients", "users"} {
		var n int
		if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

func rawPost(t *testing.T, u, contentType, body string, header http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestBadInputAtJSONEndpoints(t *testing.T) {
	e := start(t)
	c := webClient("client_credentials", "authorization_code", "refresh_token")
	secret := e.createClient(c)
	pub := webClient("authorization_code")
	pub.Public, pub.TokenEndpointAuthMethod = true, storage.AuthMethodNone
	e.createClient(pub)
	basic := http.Header{"Authorization": {"Basic " + basicAuth(c.ID, secret)}}
	form := "application/x-www-form-urlencoded"
	before := e.rowCounts(t)

	cases := []struct {
		name, path, ctype, body string
		header                  http.Header
		status                  int
		errCode                 string
	}{
		{"fail/token-no-grant-type", "/oauth2/token", form, "scope=openid", basic, 400, "invalid_request"},
		{"fail/token-unknown-grant-type", "/oauth2/token", form, "grant_type=password&username=a&password=b", basic, 400, "unsupported_grant_type"},
		{"fail/token-duplicate-parameter", "/oauth2/token", form, "grant_type=client_credentials&grant_type=client_credentials", basic, 400, "invalid_request"},
		{"fail/token-parameter-in-query-and-body", "/oauth2/token?grant_type=client_credentials", form, "grant_type=client_credentials", basic, 400, "invalid_request"},
		{"fail/token-no-client-auth", "/oauth2/token", form, "grant_type=client_credentials", nil, 401, "invalid_client"},
		{"fail/token-unknown-client", "/oauth2/token", form, "grant_type=client_credentials", http.Header{"Authorization": {"Basic " + basicAuth("nope", "x")}}, 401, "invalid_client"},
		{"fail/token-garbage-basic-auth", "/oauth2/token", form, "grant_type=client_credentials", http.Header{"Authorization": {"Basic !!!"}}, 401, "invalid_client"},
		{"fail/token-unknown-scope", "/oauth2/token", form, "grant_type=client_credentials&scope=admin", basic, 400, "invalid_scope"},
		{"fail/token-bad-code", "/oauth2/token", form, "grant_type=authorization_code&code=nonsense&redirect_uri=" + url.QueryEscape(redirectURI), basic, 400, "invalid_grant"},
		{"fail/token-bad-refresh-token", "/oauth2/token", form, "grant_type=refresh_token&refresh_token=ory_rt_nonsense.x", basic, 400, "invalid_grant"},
		{"fail/token-oversized-body", "/oauth2/token", form, "grant_type=client_credentials&scope=" + strings.Repeat("a", 70<<10), basic, 413, "invalid_request"},
		{"fail/token-json-body", "/oauth2/token", "application/json", `{"grant_type":"client_credentials"}`, basic, 400, "invalid_request"},
		{"fail/token-binary-garbage", "/oauth2/token", form, "\x00\xff%zz&&==", basic, 400, "invalid_request"},
		{"fail/introspect-no-auth", "/oauth2/introspect", form, "token=abc", nil, 401, "invalid_client"},
		{"fail/introspect-public-client", "/oauth2/introspect", form, "token=abc&client_id=" + pub.ID, nil, 401, "invalid_client"},
		{"fail/introspect-no-token", "/oauth2/introspect", form, "token_type_hint=access_token", basic, 400, "invalid_request"},
		{"fail/introspect-duplicate-token", "/oauth2/introspect", form, "token=a&token=b", basic, 400, "invalid_request"},
		{"fail/revoke-no-auth", "/oauth2/revoke", form, "token=abc", nil, 401, "invalid_client"},
		{"fail/revoke-no-token", "/oauth2/revoke", form, "token_type_hint=access_token", basic, 400, "invalid_request"},
		{"fail/par-no-auth", "/oauth2/par", form, "response_type=code&client_id=" + c.ID, nil, 401, "invalid_client"},
		{"fail/par-bad-redirect", "/oauth2/par", form, "response_type=code&client_id=" + c.ID + "&redirect_uri=https://evil.example/&scope=openid&state=abcdefghijk", basic, 400, "invalid_request"},
		{"fail/par-with-request-uri", "/oauth2/par", form, "response_type=code&client_id=" + c.ID + "&request_uri=urn:ietf:params:oauth:request_uri:x", basic, 400, "invalid_request"},
		{"fail/par-plain-pkce", "/oauth2/par", form, "response_type=code&client_id=" + c.ID + "&redirect_uri=" + url.QueryEscape(redirectURI) + "&scope=openid&state=abcdefghijk&code_challenge=abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq&code_challenge_method=plain", basic, 400, "invalid_request"},
		{"fail/userinfo-not-bearer", "/userinfo", form, "", http.Header{"Authorization": {"Basic abc"}}, 400, "invalid_request"},
		{"fail/userinfo-unknown-token", "/userinfo", form, "", http.Header{"Authorization": {"Bearer nonsense"}}, 401, "invalid_token"},
		{"fail/userinfo-token-in-body", "/userinfo", form, "access_token=abc", nil, 400, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := rawPost(t, e.issuer+tc.path, tc.ctype, tc.body, tc.header)
			if status != tc.status || !strings.Contains(body, `"error":"`+tc.errCode+`"`) {
				t.Fatalf("got %d %s; want %d %s", status, body, tc.status, tc.errCode)
			}
			for _, leak := range []string{"goroutine", ".go:", "panic", secret} {
				if strings.Contains(body, leak) {
					t.Fatalf("response leaks %q: %s", leak, body)
				}
			}
		})
	}
	after := e.rowCounts(t)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("failed requests changed %s: %d -> %d", k, v, after[k])
		}
	}
	// other methods on the endpoints get 405
	for _, p := range []string{"/oauth2/token", "/oauth2/introspect", "/oauth2/revoke", "/oauth2/par"} {
		resp, err := http.Get(e.issuer + p)
		if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET %s: %v %v", p, err, resp)
		}
		resp.Body.Close()
	}
	for _, p := range []string{"/oauth2/authorize", "/userinfo", "/.well-known/jwks.json"} {
		req, _ := http.NewRequest(http.MethodDelete, e.issuer+p, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("DELETE %s: %v %v", p, err, resp)
		}
		resp.Body.Close()
	}
}

func basicAuth(id, secret string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func TestBadInputAtAuthorizeAndPages(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code")
	e.createClient(c)
	_, challenge := pkcePair()
	good := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid"},
		"state": {randString()}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	with := func(k, v string) string {
		q := url.Values{}
		for kk, vv := range good {
			q[kk] = vv
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q.Encode()
	}
	before := e.rowCounts(t)
	page := []struct{ name, query string }{
		{"fail/unknown-client", with("client_id", "nope")},
		{"fail/missing-client", with("client_id", "")},
		{"fail/unregistered-redirect", with("redirect_uri", "https://evil.example/cb")},
		{"fail/redirect-with-fragment", with("redirect_uri", redirectURI+"#frag")},
		{"fail/duplicate-parameter", good.Encode() + "&client_id=" + c.ID},
		{"fail/oversized-query", with("state", strings.Repeat("s", 70<<10))},
	}
	for _, tc := range page {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := newBrowser(t).get(e.issuer + "/oauth2/authorize?" + tc.query)
			if resp.StatusCode < 400 || resp.Header.Get("Location") != "" {
				t.Fatalf("want an error page, got %d Location=%q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if strings.Contains(body, "evil.example") && !strings.Contains(body, "&lt;") && strings.Contains(body, "<script") {
				t.Fatalf("page reflects input unsafely: %s", body)
			}
		})
	}
	redirected := []struct{ name, query, errCode string }{
		{"fail/missing-response-type", with("response_type", ""), "unsupported_response_type"},
		{"fail/unsupported-response-type", with("response_type", "token"), "unsupported_response_type"},
		{"fail/unknown-scope", with("scope", "openid admin"), "invalid_scope"},
		{"fail/plain-pkce", with("code_challenge_method", "plain"), "invalid_request"},
		{"fail/bad-prompt", with("prompt", "none login"), "invalid_request"},
		{"fail/prompt-none-without-session", with("prompt", "none"), "login_required"},
	}
	for _, tc := range redirected {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := newBrowser(t).get(e.issuer + "/oauth2/authorize?" + tc.query)
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusSeeOther || loc == nil || !strings.HasPrefix(loc.String(), redirectURI) ||
				loc.Query().Get("error") != tc.errCode || loc.Query().Get("iss") != e.issuer {
				t.Fatalf("got %d %s; want redirect with error=%s and iss", resp.StatusCode, loc, tc.errCode)
			}
		})
	}
	if after := e.rowCounts(t); after["oauth2_requests"] != before["oauth2_requests"] || after["browser_sessions"] != before["browser_sessions"] {
		t.Errorf("failed authorization requests wrote rows: %v -> %v", before, after)
	}

	// the login page: tampered CSRF, wrong password, replayed and unknown challenges
	b := newBrowser(t)
	resp, body := b.get(e.issuer + "/oauth2/authorize?" + good.Encode())
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("no login page: %d %s", resp.StatusCode, body)
	}
	f := formFields(t, body)
	f.Set("username", "alice")
	f.Set("password", testPassword)
	tampered := url.Values{}
	for k, v := range f {
		tampered[k] = v
	}
	tampered.Set("csrf_token", "forged")
	if resp, _ := b.post(e.issuer+"/login", tampered); resp.StatusCode != http.StatusForbidden {
		t.Errorf("tampered CSRF token: %d", resp.StatusCode)
	}
	noCSRF := newBrowser(t) // a different browser (no CSRF cookie) posting a valid-looking form
	if resp, _ := noCSRF.post(e.issuer+"/login", f); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site login post: %d", resp.StatusCode)
	}
	wrong := url.Values{}
	for k, v := range f {
		wrong[k] = v
	}
	wrong.Set("password", "not the password at all")
	resp, body = b.post(e.issuer+"/login", wrong)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "username or password is incorrect") {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}
	unknown := url.Values{}
	for k, v := range wrong {
		unknown[k] = v
	}
	unknown.Set("username", "mallory")
	resp2, body2 := b.post(e.issuer+"/login", unknown)
	if resp2.StatusCode != resp.StatusCode || !strings.Contains(body2, "username or password is incorrect") {
		t.Errorf("unknown user answered differently from wrong password: %d vs %d", resp2.StatusCode, resp.StatusCode)
	}
	oversized := url.Values{}
	for k, v := range f {
		oversized[k] = v
	}
	oversized.Set("username", strings.Repeat("u", 20<<10))
	if resp, _ := b.post(e.issuer+"/login", oversized); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("oversized login form: %d", resp.StatusCode)
	}
	if resp, _ := b.get(e.issuer + "/login?login_challenge=unknown"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown challenge: %d", resp.StatusCode)
	}
	if after := e.rowCounts(t); after["browser_sessions"] != before["browser_sessions"] {
		t.Errorf("failed logins created sessions")
	}
	// the good login works, then the challenge cannot be replayed
	resp, body = b.post(e.issuer+"/login", f)
	if resp.Request.URL.Path != "/consent" {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	if resp, _ := b.post(e.issuer+"/login", f); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed login challenge: %d", resp.StatusCode)
	}
	cf := formFields(t, body)
	cf.Set("decision", "deny")
	resp, _ = b.post(e.issuer+"/consent", cf)
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != "access_denied" {
		t.Fatalf("deny: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	cf.Set("decision", "allow")
	if resp, _ := b.post(e.issuer+"/consent", cf); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("consent after the flow ended: %d", resp.StatusCode)
	}
}
