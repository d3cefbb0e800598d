package e2e

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

// cutProxy forwards TCP to PostgreSQL until cut, then refuses and drops everything.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cut    bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.Cut)
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			up.Close()
			return
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// Cut closes the listener and every forwarded connection: the database is gone.
func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return
	}
	p.cut = true
	_ = p.ln.Close()
	for _, c := range p.conns {
		_ = c.Close()
	}
}

func TestDatabaseUnavailable(t *testing.T) {
	var proxy *cutProxy
	env := servertest.Start(t, func(c *server.Config) {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		proxy = newCutProxy(t, u.Host)
		u.Host = proxy.ln.Addr().String()
		q := u.Query()
		q.Set("connect_timeout", "2")
		u.RawQuery = q.Encode()
		c.DatabaseURL = u.String()
	})
	c := &storage.Client{Name: "svc", GrantTypes: []string{"client_credentials", "authorization_code"}, Scopes: []string{"openid"},
		RedirectURIs: []string{redirectURI}, TokenEndpointAuthMethod: storage.AuthMethodSecretBasic,
		Metadata: storage.ClientMetadata{Introspect: true}}
	secret := env.CreateClient(t, c)
	resp, err := http.Get(env.Issuer + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz before the cut: %v %v", err, resp)
	}
	resp.Body.Close()

	proxy.Cut()

	check := func(name string, code int, m map[string]any) {
		t.Helper()
		if code != http.StatusServiceUnavailable || m["error"] != "temporarily_unavailable" {
			t.Errorf("%s with the database down: %d %v (want 503 temporarily_unavailable)", name, code, m)
		}
	}
	code, m := postForm(t, env.Issuer+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, secret)
	check("token", code, m)
	code, m = postForm(t, env.Issuer+"/oauth2/introspect", url.Values{"token": {"ory_at_x.y"}}, c.ID, secret)
	check("introspect", code, m)
	code, m = postForm(t, env.Issuer+"/oauth2/par", url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid"}, "state": {randString()}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}, c.ID, secret)
	check("par", code, m)
	req, _ := http.NewRequest(http.MethodGet, env.Issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer ory_at_abc.def")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "temporarily_unavailable") {
		t.Errorf("userinfo with the database down: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(env.Issuer + "/readyz")
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz with the database down: %v %v", err, resp)
	}
	resp.Body.Close()
	// discovery and JWKS are served from memory
	for _, p := range []string{"/.well-known/openid-configuration", "/.well-known/jwks.json", "/healthz"} {
		resp, err := http.Get(env.Issuer + p)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s with the database down: %v %v", p, err, resp)
		}
		resp.Body.Close()
	}
}

// TestEvery503CarriesRetryAfter: with the database gone, every endpoint
// that answers 503 temporarily_unavailable (token, PAR, introspection,
// userinfo, revocation, the authorization endpoint's page, the login page,
// /readyz and the admin API) tells the client when to retry.
func TestEvery503CarriesRetryAfter(t *testing.T) {
	var proxy *cutProxy
	se := servertest.Start(t, func(c *server.Config) {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		proxy = newCutProxy(t, u.Host)
		u.Host = proxy.ln.Addr().String()
		q := u.Query()
		q.Set("connect_timeout", "2")
		u.RawQuery = q.Encode()
		c.DatabaseURL = u.String()
	})
	e := &env{Env: se, t: t, srv: se.Server, issuer: se.Issuer}
	c := &storage.Client{Name: "svc", GrantTypes: []string{"client_credentials", "authorization_code"}, Scopes: []string{"openid"},
		RedirectURIs: []string{redirectURI}, TokenEndpointAuthMethod: storage.AuthMethodSecretBasic}
	secret := se.CreateClient(t, c)
	adm := e.startAdmin()

	proxy.Cut()

	form := func(v url.Values) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest(http.MethodPost, "", strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(c.ID, secret)
			return req
		}
	}
	get := func(auth string) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, "", nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			return req
		}
	}
	authorize := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid"},
		"state": {randString()}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	for _, tc := range []struct {
		name, url string
		req       func() *http.Request
	}{
		{"token", e.issuer + "/oauth2/token", form(url.Values{"grant_type": {"client_credentials"}})},
		{"par", e.issuer + "/oauth2/par", form(authorize)},
		{"introspect", e.issuer + "/oauth2/introspect", form(url.Values{"token": {"ory_at_x.y"}})},
		{"revoke", e.issuer + "/oauth2/revoke", form(url.Values{"token": {"ory_at_x.y"}})},
		{"userinfo", e.issuer + "/userinfo", get("Bearer ory_at_abc.def")},
		{"authorize", e.issuer + "/oauth2/authorize?" + authorize.Encode(), get("")},
		{"login-page", e.issuer + "/login?login_challenge=" + randString(), get("")},
		{"readyz", e.issuer + "/readyz", get("")},
		{"admin", adm.url + "/admin/v1/clients", get("Bearer " + adm.token)},
	} {
		req := tc.req()
		req.URL, _ = url.Parse(tc.url)
		req.Host = req.URL.Host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != strconv.Itoa(server.RetryAfterSeconds) {
			t.Errorf("%s with the database down: %d Retry-After=%q (want 503 with Retry-After: %d)",
				tc.name, resp.StatusCode, resp.Header.Get("Retry-After"), server.RetryAfterSeconds)
		}
	}
}
