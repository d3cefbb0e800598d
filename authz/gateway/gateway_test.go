package gateway_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/gateway"
	"github.com/strongroom/strongroom/authz/internal/authztest"
	"github.com/strongroom/strongroom/authz/oauth"
	"github.com/strongroom/strongroom/storage"
)

// fixture is the real token service over an in-memory store, one client
// with a secret, and a Checker over it with a settable clock.
type fixture struct {
	tokens  *oauth.Tokens
	clock   *authztest.Clock
	checker *gateway.Checker
	secret  string
}

const routesDoc = `
default: deny
routes:
  - path: /accounts
    methods: [GET]
    scopes: [openid]
  - path: /accounts/admin/
    scopes: [profile, email]
`

func newFixture(t *testing.T, ttl time.Duration) *fixture {
	t.Helper()
	store := authztest.NewMemoryStore(t)
	cfg := authz.Config{Issuer: "https://as.example", SystemSecret: authztest.SystemSecret}
	cfg.ApplyDefaults()
	authztest.Must(t, cfg.Validate())
	svc, err := oauth.New(cfg, store, authztest.NewKeys(t), slog.New(slog.DiscardHandler))
	authztest.Must(t, err)
	secret, err := authz.GenerateSecret()
	authztest.Must(t, err)
	hash, err := svc.Hasher.Hash(context.Background(), []byte(secret))
	authztest.Must(t, err)
	c := authztest.Client("c1")
	c.Secrets = []storage.ClientSecret{{Hash: hash, CreatedAt: authztest.Now}}
	authztest.Must(t, store.CreateClient(context.Background(), c))
	routes, err := gateway.ParseRoutes([]byte(routesDoc))
	authztest.Must(t, err)
	clock := authztest.NewClock(time.Now())
	checker, err := gateway.New(gateway.Options{Tokens: svc.Tokens, Routes: routes, CacheTTL: ttl, Now: clock.Now})
	authztest.Must(t, err)
	return &fixture{tokens: svc.Tokens, clock: clock, checker: checker, secret: secret}
}

// form sends form to one of the token service's endpoints as client c1.
func (f *fixture) form(t *testing.T, form url.Values) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "https://as.example/oauth2/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("c1", f.secret)
	authztest.Must(t, r.ParseForm())
	return r
}

func (f *fixture) token(t *testing.T, scope string) string {
	t.Helper()
	_, body, err := f.tokens.Token(context.Background(), f.form(t, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}))
	authztest.Must(t, err)
	return body["access_token"].(string)
}

func (f *fixture) check(token, method, path string) (*gateway.Decision, error) {
	r := httptest.NewRequest(http.MethodGet, "http://gw/gateway/check", nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return f.checker.Check(context.Background(), gateway.Request{HTTP: r, Method: method, Scheme: "https", Host: "api.example", EscapedPath: path})
}

func wantBearer(t *testing.T, what string, err error, status int, code string) *authz.BearerError {
	t.Helper()
	var be *authz.BearerError
	if !errors.As(err, &be) || be.Status != status || be.Code != code {
		t.Fatalf("%s: %v, want %d %s", what, err, status, code)
	}
	return be
}

// TestGatewayRevocationTakesEffectWithinTheCacheTTL: an opaque token's
// lookup is reused for the TTL and no longer: a revoked token is admitted
// at most until the TTL passes, then refused (invalid_token); with TTL 0
// it is refused at once.
func TestGatewayRevocationTakesEffectWithinTheCacheTTL(t *testing.T) {
	f := newFixture(t, 3*time.Second)
	token := f.token(t, "openid")
	d, err := f.check(token, "GET", "/accounts/1")
	authztest.Must(t, err)
	if d.Client != "c1" || d.Subject != "c1" || strings.Join(d.Scopes, " ") != "openid" || d.Route != "/accounts" {
		t.Fatalf("decision: %+v", d)
	}
	authztest.Must(t, f.tokens.Revoke(context.Background(), f.form(t, url.Values{"token": {token}})))

	f.clock.Advance(2 * time.Second)
	if _, err := f.check(token, "GET", "/accounts/1"); err != nil {
		t.Fatalf("within the TTL the cached lookup is reused: %v", err)
	}
	f.clock.Advance(time.Second)
	_, err = f.check(token, "GET", "/accounts/1")
	wantBearer(t, "revoked token after the TTL", err, http.StatusUnauthorized, "invalid_token")

	nocache := newFixture(t, 0)
	token = nocache.token(t, "openid")
	_, err = nocache.check(token, "GET", "/accounts/1")
	authztest.Must(t, err)
	authztest.Must(t, nocache.tokens.Revoke(context.Background(), nocache.form(t, url.Values{"token": {token}})))
	_, err = nocache.check(token, "GET", "/accounts/1")
	wantBearer(t, "revoked token without a cache", err, http.StatusUnauthorized, "invalid_token")
}

// TestGatewayRoutesRequireTheirScopesAndDenyUnlistedRequests: the longest
// matching prefix listing the method decides; missing scopes are 403
// insufficient_scope naming the route's scopes; an unlisted route or
// method is denied; an unknown or missing token is 401; a path that hides
// a separator is 400.
func TestGatewayRoutesRequireTheirScopesAndDenyUnlistedRequests(t *testing.T) {
	f := newFixture(t, time.Second)
	token := f.token(t, "openid profile")
	if _, err := f.check(token, "GET", "/accounts"); err != nil {
		t.Fatalf("GET /accounts: %v", err)
	}
	_, err := f.check(token, "DELETE", "/accounts/admin/x")
	be := wantBearer(t, "missing email scope", err, http.StatusForbidden, "insufficient_scope")
	if be.Scope != "profile email" || !strings.Contains(be.Challenge(), `scope="profile email"`) {
		t.Fatalf("challenge %q", be.Challenge())
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/accounts/1"},     // method not listed
		{"GET", "/accountsX"},       // not a whole segment
		{"GET", "/other"},           // no route
		{"GET", "/accounts/../etc"}, // dot segments resolved first
	} {
		_, err := f.check(token, c.method, c.path)
		wantBearer(t, c.method+" "+c.path, err, http.StatusForbidden, "insufficient_scope")
	}
	_, err = f.check(token, "GET", "/accounts%2f..%2fetc")
	wantBearer(t, "encoded slash", err, http.StatusBadRequest, "invalid_request")
	_, err = f.check("", "GET", "/accounts")
	if be := wantBearer(t, "no token", err, http.StatusUnauthorized, "invalid_token"); !be.NoToken {
		t.Fatal("no token: NoToken not set")
	}
	_, err = f.check("ory_at_unknown.token", "GET", "/accounts")
	wantBearer(t, "unknown token", err, http.StatusUnauthorized, "invalid_token")
}

// TestGatewayRoutesFileIsStrict: unknown keys, unclean paths, lower-case
// methods, repeated routes and authorization_details_types (not issued by
// this server) are refused, all problems at once.
func TestGatewayRoutesFileIsStrict(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown key":          "routes:\n  - path: /a\n    scope: [x]\n",
		"relative path":        "routes:\n  - path: a/\n",
		"dot segment":          "routes:\n  - path: /a/../b\n",
		"lower-case method":    "routes:\n  - path: /a\n    methods: [get]\n",
		"repeated":             "routes:\n  - path: /a\n    methods: [GET]\n  - path: /a\n    methods: [GET]\n",
		"authorization detail": "routes:\n  - path: /a\n    authorization_details_types: [payment_initiation]\n",
		"bad default":          "default: allow\n",
	} {
		if _, err := gateway.ParseRoutes([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, err := gateway.ParseRoutes([]byte("routes:\n  - path: x\n  - path: /y\n    methods: [post]\n"))
	if err == nil || !strings.Contains(err.Error(), "routes[0]") || !strings.Contains(err.Error(), "routes[1]") {
		t.Fatalf("every problem at once: %v", err)
	}
}

// TestCanonicalPath: percent-decoded, dot segments and repeated slashes
// resolved, a trailing slash kept; encoded separators and control
// characters refused.
func TestCanonicalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/":                 "/",
		"/a/b/":             "/a/b/",
		"/a/./b/../c":       "/a/c",
		"//a///b":           "/a/b",
		"/%61ccounts":       "/accounts",
		"/a/%2e%2e/b":       "/b",
		"/../../etc/passwd": "/etc/passwd",
	} {
		got, err := gateway.CanonicalPath(in)
		if err != nil || got != want {
			t.Errorf("CanonicalPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "a", "/a%2fb", "/a%5Cb", "/a\\b", "/a%00", "/a%0d%0a", "/a%zz"} {
		if _, err := gateway.CanonicalPath(in); !errors.Is(err, gateway.ErrBadPath) {
			t.Errorf("CanonicalPath(%q): %v, want ErrBadPath", in, err)
		}
	}
}

// FuzzCanonicalPath: never panics; an accepted path is absolute, clean
// (no dot segment, no repeated slash, no backslash or control character)
// and canonical again unchanged.
//
//	go test -run '^$' -fuzz FuzzCanonicalPath -fuzztime 30s ./authz/gateway/
func FuzzCanonicalPath(f *testing.F) {
	for _, s := range []string{"/", "/a/b/", "/a/./b/../c", "//a", "/%2e%2e/", "/a%2fb", "/a%zz", "/a\\b", "/%00", "/%C3%A9t%C3%A9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := gateway.CanonicalPath(in)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") || strings.Contains(p, "/../") || strings.Contains(p, "/./") ||
			strings.HasSuffix(p, "/..") || strings.HasSuffix(p, "/.") || strings.ContainsAny(p, "\\\x00\r\n") {
			t.Fatalf("CanonicalPath(%q) = %q is not clean", in, p)
		}
		if again, err := gateway.CanonicalPath(strings.ReplaceAll(p, "%", "%25")); err != nil || again != p {
			t.Fatalf("CanonicalPath(%q) = %q, again %q %v", in, p, again, err)
		}
	})
}
