package e2e

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/gateway"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

// Gateway enforcement (issue 11): the forward-auth endpoint on its own
// listener, behind a real nginx running deploy/gateway/nginx.conf.

// gatewayAudience is the API's audience in the test routes.
const gatewayAudience = "https://api.example.test"

// gatewayRoutes is the routes file of the tests.
const gatewayRoutes = `
audience: [` + gatewayAudience + `]
default: deny
routes:
  - path: /accounts/
    methods: [GET]
    scopes: [accounts:read]
  - path: /payments/
    methods: [POST]
    scopes: [payments:write]
`

// gatewayTestTTL is the opaque-token cache TTL of the tests.
const gatewayTestTTL = 2 * time.Second

// startGateway runs e's forward-auth listener with the test routes and
// returns its base URL.
func startGateway(t *testing.T, e *env, ttl time.Duration) string {
	t.Helper()
	routes, err := gateway.ParseRoutes([]byte(gatewayRoutes))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.ServeGateway(ctx, ln, server.GatewayOptions{Routes: routes, CacheTTL: ttl}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway listener: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// gatewayClient registers a client_credentials client for the API's
// audience with the given scopes and returns its id and secret.
func gatewayClient(t *testing.T, e *env, scopes ...string) (string, string) {
	t.Helper()
	c := webClient("client_credentials")
	c.Scopes = scopes
	c.Audience = []string{gatewayAudience}
	return c.ID, e.createClient(c)
}

// clientToken runs client_credentials for scope and returns the access token.
func clientToken(t *testing.T, e *env, id, secret, scope string, header map[string]string) string {
	t.Helper()
	a := send(t, nil, "POST", e.issuer+authz.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, id, secret, header)
	if a.status != http.StatusOK {
		t.Fatalf("token: %d %v", a.status, a.body)
	}
	return a.body["access_token"].(string)
}

// upstreamSeen is what the protected API saw of the last request.
type upstreamSeen struct {
	mu      sync.Mutex
	hits    int
	headers http.Header
}

func (u *upstreamSeen) last() (int, http.Header) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.hits, u.headers
}

// protectedAPI is the API behind nginx: it answers 200 "api" and records
// the headers it was given.
func protectedAPI(t *testing.T) (*httptest.Server, *upstreamSeen) {
	seen := &upstreamSeen{}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.mu.Lock()
		seen.hits++
		seen.headers = r.Header.Clone()
		seen.mu.Unlock()
		_, _ = io.WriteString(w, "api")
	}))
	t.Cleanup(api.Close)
	return api, seen
}

// nginxBinary finds Debian's nginx. Without it the test fails in CI
// (CI or STRONGROOM_CI set: .ci/run installs it) and is skipped elsewhere.
func nginxBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" || os.Getenv("STRONGROOM_CI") != "" {
		t.Fatal("nginx is not installed (apt-get install -y nginx; .ci/run does it)")
	}
	t.Skip("nginx is not installed: apt-get install -y nginx (this test fails instead of skipping in CI)")
	return ""
}

// startNginx runs nginx with deploy/gateway/nginx.conf in front of api,
// asking the gateway listener at gatewayAddr, on a free loopback port; it
// returns nginx's base URL.
func startNginx(t *testing.T, api, gatewayAddr string) string {
	t.Helper()
	bin := nginxBinary(t)
	tmpl, err := os.ReadFile(filepath.Join("..", "deploy", "gateway", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		site := strings.NewReplacer(
			"${LISTEN}", "127.0.0.1:"+port,
			"${UPSTREAM}", strings.TrimPrefix(api, "http://"),
			"${STRONGROOM_GATEWAY}", strings.TrimPrefix(gatewayAddr, "http://"),
		).Replace(string(tmpl))
		if strings.Contains(site, "${") {
			t.Fatal("deploy/gateway/nginx.conf has a placeholder the test does not fill")
		}
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(os.WriteFile(filepath.Join(dir, "strongroom.conf"), []byte(site), 0o600))
		main := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/strongroom.conf;
}
`, dir)
		must(os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600))
		cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf"))
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		must(cmd.Start())
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		base := "http://127.0.0.1:" + port
		if waitListening(base, exited) {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			return base
		}
		_ = cmd.Process.Kill()
		<-exited
		logged, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		if attempt == 2 {
			t.Fatalf("nginx did not start: %s %s", out.String(), logged)
		}
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// waitListening polls base until it answers (true) or the process exits
// or 10 s pass (false).
func waitListening(base string, exited <-chan error) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		conn, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 200*time.Millisecond)
		if err == nil {
			_ = conn.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// call sends method to u with the headers and returns status, headers, body.
func call(t *testing.T, method, u string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// TestNginxGatewayAdmitsValidTokensAndRefusesMissingInsufficientAndRevokedOnes
// runs deploy/gateway/nginx.conf in a real nginx in front of a protected
// API: a valid token reaches it with the identity headers (a client's own
// forged identity headers never do), a request without a token is 401 with
// the Bearer and DPoP challenges, a token without the route's scope is 403
// insufficient_scope, a token for another audience is 401, and a revoked
// opaque token is refused within the cache TTL.
func TestNginxGatewayAdmitsValidTokensAndRefusesMissingInsufficientAndRevokedOnes(t *testing.T) {
	e := start(t)
	gw := startGateway(t, e, gatewayTestTTL)
	api, seen := protectedAPI(t)
	nginx := startNginx(t, api.URL, gw)

	id, secret := gatewayClient(t, e, "accounts:read", "payments:write")
	token := clientToken(t, e, id, secret, "accounts:read", nil)

	// valid: reaches the API with the identity headers, not the client's forgeries
	status, _, body := call(t, "GET", nginx+"/accounts/42", map[string]string{
		"Authorization": "Bearer " + token, "X-Strongroom-Subject": "admin", "X-Strongroom-Scope": "payments:write",
	})
	hits, h := seen.last()
	if status != http.StatusOK || body != "api" || hits != 1 {
		t.Fatalf("valid token: %d %q (API hits %d)", status, body, hits)
	}
	if h.Get("X-Strongroom-Client") != id || h.Get("X-Strongroom-Subject") != id || h.Get("X-Strongroom-Scope") != "accounts:read" {
		t.Fatalf("identity headers at the API: subject %q client %q scope %q", h.Get("X-Strongroom-Subject"), h.Get("X-Strongroom-Client"), h.Get("X-Strongroom-Scope"))
	}
	if h.Get("Authorization") != "" {
		t.Fatal("the token was passed on to the API")
	}

	// no token: 401 with both challenges; the API is not reached
	status, hdr, _ := call(t, "GET", nginx+"/accounts/42", nil)
	if status != http.StatusUnauthorized || !strings.Contains(strings.Join(hdr.Values("WWW-Authenticate"), "\n"), "Bearer") {
		t.Fatalf("no token: %d %v", status, hdr.Values("WWW-Authenticate"))
	}
	// a token without the route's scope: 403 insufficient_scope naming it
	status, hdr, _ = call(t, "POST", nginx+"/payments/", map[string]string{"Authorization": "Bearer " + token})
	if status != http.StatusForbidden || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="insufficient_scope"`) ||
		!strings.Contains(hdr.Get("WWW-Authenticate"), `scope="payments:write"`) {
		t.Fatalf("insufficient scope: %d %q", status, hdr.Get("WWW-Authenticate"))
	}
	// dot segments cannot reach another route with this route's scope
	status, _, _ = call(t, "POST", nginx+"/accounts/../payments/", map[string]string{"Authorization": "Bearer " + token})
	if status != http.StatusForbidden {
		t.Fatalf("dot segments: %d, want 403", status)
	}
	// a route the file does not list: denied
	status, _, _ = call(t, "GET", nginx+"/admin", map[string]string{"Authorization": "Bearer " + token})
	if status != http.StatusForbidden {
		t.Fatalf("unlisted route: %d, want 403", status)
	}
	// a token of a client without the API's audience: invalid_token
	other := webClient("client_credentials")
	other.Scopes = []string{"accounts:read"}
	osecret := e.createClient(other)
	otherToken := clientToken(t, e, other.ID, osecret, "accounts:read", nil)
	status, hdr, _ = call(t, "GET", nginx+"/accounts/42", map[string]string{"Authorization": "Bearer " + otherToken})
	if status != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("foreign audience: %d %q", status, hdr.Get("WWW-Authenticate"))
	}
	hitsBefore, _ := seen.last()

	// revoked: refused within the cache TTL (polled)
	a := send(t, nil, "POST", e.issuer+authz.PathRevoke, url.Values{"token": {token}}, id, secret, nil)
	if a.status != http.StatusOK {
		t.Fatalf("revoke: %d %v", a.status, a.body)
	}
	revoked := time.Now()
	for {
		status, hdr, _ = call(t, "GET", nginx+"/accounts/42", map[string]string{"Authorization": "Bearer " + token})
		if status == http.StatusUnauthorized {
			break
		}
		if status != http.StatusOK {
			t.Fatalf("revoked token: %d", status)
		}
		if time.Since(revoked) > gatewayTestTTL+time.Second {
			t.Fatalf("revoked token still admitted %s after revocation (cache TTL %s)", time.Since(revoked), gatewayTestTTL)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("revoked token challenge: %q", hdr.Get("WWW-Authenticate"))
	}
	if hits, _ := seen.last(); hits > hitsBefore+int(gatewayTestTTL/(50*time.Millisecond))+1 {
		t.Fatalf("API reached %d times by refused requests", hits-hitsBefore)
	}
	for _, status := range []int{http.StatusUnauthorized, http.StatusUnauthorized} {
		if got, _, _ := call(t, "GET", nginx+"/accounts/42", map[string]string{"Authorization": "Bearer " + token}); got != status {
			t.Fatalf("revoked token admitted again: %d", got)
		}
	}
}

// gatewayCheck asks the forward-auth endpoint directly, as Traefik does
// (X-Forwarded-* headers).
func gatewayCheck(t *testing.T, gw, method, origin, path string, header map[string]string) (int, http.Header) {
	t.Helper()
	u, _ := url.Parse(origin)
	h := map[string]string{"X-Forwarded-Method": method, "X-Forwarded-Uri": path, "X-Forwarded-Host": u.Host, "X-Forwarded-Proto": u.Scheme}
	for k, v := range header {
		h[k] = v
	}
	status, hdr, _ := call(t, "GET", gw+"/gateway/check", h)
	return status, hdr
}

// TestGatewayDPoPBoundTokenNeedsAProofOfTheOriginalRequest: a DPoP-bound
// token passes the gateway only with the DPoP scheme and a fresh proof of
// its key over the original method and URI and the token (ath); as a
// Bearer token, with a proof of another URI or method, of another key, or
// a replayed proof, it is refused with a DPoP challenge.
func TestGatewayDPoPBoundTokenNeedsAProofOfTheOriginalRequest(t *testing.T) {
	e := start(t)
	gw := startGateway(t, e, gatewayTestTTL)
	id, secret := gatewayClient(t, e, "accounts:read")
	k := newDPoPKey(t)
	token := clientToken(t, e, id, secret, "accounts:read", map[string]string{"DPoP": k.proof("POST", e.issuer+authz.PathToken, "", "")})
	const origin, path = "https://api.example.test", "/accounts/7"
	htu := origin + path

	status, hdr := gatewayCheck(t, gw, "GET", origin, path, map[string]string{"Authorization": "Bearer " + token})
	if status != http.StatusUnauthorized || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "DPoP ") {
		t.Fatalf("DPoP-bound token as Bearer: %d %q", status, hdr.Get("WWW-Authenticate"))
	}
	proof := k.proof("GET", htu, "", token)
	status, hdr = gatewayCheck(t, gw, "GET", origin, path, map[string]string{"Authorization": "DPoP " + token, "DPoP": proof})
	if status != http.StatusOK || hdr.Get("X-Strongroom-Client") != id {
		t.Fatalf("DPoP with a proof of the original request: %d %v", status, hdr)
	}
	status, _ = gatewayCheck(t, gw, "GET", origin, path, map[string]string{"Authorization": "DPoP " + token, "DPoP": proof})
	if status != http.StatusUnauthorized {
		t.Fatalf("replayed proof: %d", status)
	}
	for name, p := range map[string]string{
		"another URI":    k.proof("GET", origin+"/accounts/8", "", token),
		"another method": k.proof("POST", htu, "", token),
		"another key":    newDPoPKey(t).proof("GET", htu, "", token),
		"no ath":         k.proof("GET", htu, "", ""),
	} {
		status, hdr = gatewayCheck(t, gw, "GET", origin, path, map[string]string{"Authorization": "DPoP " + token, "DPoP": p})
		if status != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), `DPoP error="invalid_token"`) {
			t.Fatalf("%s: %d %q", name, status, hdr.Get("WWW-Authenticate"))
		}
	}
	// a bearer token with the DPoP scheme is refused too
	bearer := clientToken(t, e, id, secret, "accounts:read", nil)
	status, _ = gatewayCheck(t, gw, "GET", origin, path, map[string]string{"Authorization": "DPoP " + bearer, "DPoP": k.proof("GET", htu, "", bearer)})
	if status != http.StatusUnauthorized {
		t.Fatalf("bearer token with the DPoP scheme: %d", status)
	}
}

// TestGatewayJWTAccessTokenVerifiedLocally: a JWT access token is
// verified with the published keys without storage; a tampered one is
// refused, and a revoked (stateless, client_credentials) one too, through
// the grant revocation list every node holds in memory.
func TestGatewayJWTAccessTokenVerifiedLocally(t *testing.T) {
	e := start(t)
	gw := startGateway(t, e, 0)
	c := webClient("client_credentials")
	c.Scopes = []string{"accounts:read"}
	c.Audience = []string{gatewayAudience}
	c.AccessTokenFormat = storage.TokenFormatJWT
	secret := e.createClient(c)
	token := clientToken(t, e, c.ID, secret, "accounts:read", nil)
	if strings.Count(token, ".") != 2 {
		t.Fatalf("want a JWT access token, got %q", token)
	}
	auth := map[string]string{"Authorization": "Bearer " + token}
	if status, hdr := gatewayCheck(t, gw, "GET", gatewayAudience, "/accounts/1", auth); status != http.StatusOK || hdr.Get("X-Strongroom-Scope") != "accounts:read" {
		t.Fatalf("JWT access token: %d %v", status, hdr)
	}
	tampered := token[:len(token)-4] + "AAAA"
	if status, _ := gatewayCheck(t, gw, "GET", gatewayAudience, "/accounts/1", map[string]string{"Authorization": "Bearer " + tampered}); status != http.StatusUnauthorized {
		t.Fatalf("tampered JWT: %d", status)
	}
	// revoked: a client_credentials JWT is stateless, and its revocation
	// reaches the gateway's local verification through the revocation list
	if a := send(t, nil, "POST", e.issuer+authz.PathRevoke, url.Values{"token": {token}}, c.ID, secret, nil); a.status != http.StatusOK {
		t.Fatalf("revoke: %d %v", a.status, a.body)
	}
	if a := send(t, nil, "POST", e.issuer+authz.PathIntrospect, url.Values{"token": {token}}, c.ID, secret, nil); a.body["active"] != false {
		t.Fatalf("introspection of the revoked JWT: %v", a.body)
	}
	if status, _ := gatewayCheck(t, gw, "GET", gatewayAudience, "/accounts/1", auth); status != http.StatusUnauthorized {
		t.Fatalf("revoked JWT at the gateway: %d, want 401 (the revocation list)", status)
	}
}

// TestGatewayDeployConfigsAreValid parses the Envoy and Traefik
// configurations of deploy/gateway as YAML and checks that they point at
// the check endpoint, fail closed and pass the identity headers on, and
// loads the example routes file.
func TestGatewayDeployConfigsAreValid(t *testing.T) {
	read := func(name string) map[string]any {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join("..", "deploy", "gateway", name))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return doc
	}
	// dig follows keys (string) and list indexes (int) through a document.
	dig := func(doc any, path ...any) any {
		t.Helper()
		for _, p := range path {
			switch k := p.(type) {
			case string:
				m, ok := doc.(map[string]any)
				if !ok {
					t.Fatalf("%v: no map at %q", path, k)
				}
				doc = m[k]
			case int:
				l, ok := doc.([]any)
				if !ok || len(l) <= k {
					t.Fatalf("%v: no list item %d", path, k)
				}
				doc = l[k]
			}
		}
		return doc
	}
	headers := func(v any) string {
		var out []string
		for _, h := range v.([]any) {
			switch x := h.(type) {
			case string:
				out = append(out, strings.ToLower(x))
			case map[string]any:
				out = append(out, strings.ToLower(fmt.Sprint(x["exact"])))
			}
		}
		return strings.Join(out, " ")
	}
	identity := []string{"x-strongroom-subject", "x-strongroom-client", "x-strongroom-scope"}

	envoy := read("envoy.yaml")
	hcm := dig(envoy, "static_resources", "listeners", 0, "filter_chains", 0, "filters", 0, "typed_config")
	extAuthz := dig(hcm, "http_filters", 0, "typed_config")
	if dig(extAuthz, "failure_mode_allow") != false || dig(extAuthz, "http_service", "path_prefix") != "/gateway/check" {
		t.Fatalf("envoy ext_authz: %v", extAuthz)
	}
	up := headers(dig(extAuthz, "http_service", "authorization_response", "allowed_upstream_headers", "patterns"))
	removed := headers(dig(hcm, "route_config", "request_headers_to_remove"))
	for _, h := range identity {
		if !strings.Contains(up, h) || !strings.Contains(removed, h) {
			t.Fatalf("envoy: %s not passed from Strongroom (%s) or not stripped from the client (%s)", h, up, removed)
		}
	}
	if req := headers(dig(extAuthz, "http_service", "authorization_request", "allowed_headers", "patterns")); !strings.Contains(req, "authorization") || !strings.Contains(req, "dpop") {
		t.Fatalf("envoy: Authorization and DPoP must reach Strongroom: %s", req)
	}

	traefik := read("traefik.yaml")
	fa := dig(traefik, "http", "middlewares", "strongroom", "forwardAuth")
	if addr, _ := dig(fa, "address").(string); !strings.HasSuffix(addr, "/gateway/check") || dig(fa, "trustForwardHeader") != false {
		t.Fatalf("traefik forwardAuth: %v", fa)
	}
	copied := headers(dig(fa, "authResponseHeaders"))
	stripped := dig(traefik, "http", "middlewares", "strip-identity", "headers", "customRequestHeaders").(map[string]any)
	for _, h := range identity {
		if !strings.Contains(copied, h) {
			t.Fatalf("traefik: %s not copied from Strongroom's answer", h)
		}
		if v, ok := stripped[http.CanonicalHeaderKey(h)]; !ok || v != "" {
			t.Fatalf("traefik: %s not stripped from the client's request", h)
		}
	}
	if mw := fmt.Sprint(dig(traefik, "http", "routers", "api", "middlewares")); mw != "[strip-identity strongroom]" {
		t.Fatalf("traefik router middlewares %s: strip the identity headers first", mw)
	}

	routes, err := gateway.LoadRoutes(filepath.Join("..", "deploy", "gateway", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if r := routes.Match("POST", "/payments/1"); r == nil || r.Scopes[0] != "payments:write" {
		t.Fatalf("routes.yaml: POST /payments/1 matched %v", r)
	}
}

// TestGatewayCertificateBoundTokenNeedsItsCertificateFromTheGateway: a
// certificate-bound token (RFC 8705 §3) passes the gateway only when the
// gateway, a --trusted-proxy peer, forwards the certificate it is bound to
// in the --client-cert-header (the same certificate source as the public
// listener's: from any other peer the header is ignored,
// authz/mtls.TestClientCertHeaderFromUntrustedPeerIgnored).
func TestGatewayCertificateBoundTokenNeedsItsCertificateFromTheGateway(t *testing.T) {
	ca := newTestCA(t, "partner CA")
	mine, other := ca.issue(t, "client one", false), ca.issue(t, "client two", false)
	e := startWith(t, func(c *server.Config) {
		trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		src, err := mtls.NewCertificateSource("X-Client-Cert", trusted)
		if err != nil {
			t.Fatal(err)
		}
		c.TrustedProxies, c.ClientCertificates, c.ClientCAs = trusted, src, ca.pool()
	})
	gw := startGateway(t, e, gatewayTestTTL)
	header := func(c tls.Certificate) string { return base64.StdEncoding.EncodeToString(c.Certificate[0]) }
	c := webClient("client_credentials")
	c.Scopes = []string{"accounts:read"}
	c.Audience = []string{gatewayAudience}
	c.Metadata.TLSClientCertificateBoundAccessTokens = true
	secret := e.createClient(c)
	token := clientToken(t, e, c.ID, secret, "accounts:read", map[string]string{"X-Client-Cert": header(mine)})
	auth := func(cert string) map[string]string {
		h := map[string]string{"Authorization": "Bearer " + token}
		if cert != "" {
			h["X-Client-Cert"] = cert
		}
		return h
	}
	if status, _ := gatewayCheck(t, gw, "GET", gatewayAudience, "/accounts/1", auth(header(mine))); status != http.StatusOK {
		t.Fatalf("bound certificate forwarded: %d", status)
	}
	for what, cert := range map[string]string{"no certificate": "", "another certificate": header(other)} {
		status, hdr := gatewayCheck(t, gw, "GET", gatewayAudience, "/accounts/1", auth(cert))
		if status != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("%s: %d %q", what, status, hdr.Get("WWW-Authenticate"))
		}
	}
}
