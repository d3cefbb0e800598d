package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

func TestJWTAccessTokens(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	c := webClient("client_credentials")
	c.AccessTokenFormat = storage.TokenFormatJWT
	secret := e.createClient(c)
	tok, err := (&clientcredentials.Config{ClientID: c.ID, ClientSecret: secret, TokenURL: e.issuer + "/oauth2/token", Scopes: []string{"payments"}}).Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok.AccessToken)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]any
	_ = json.Unmarshal(hdr, &h)
	if h["typ"] != "at+jwt" || h["kid"] == nil || h["alg"] != "ES256" {
		t.Errorf("header %v (RFC 9068 wants typ at+jwt)", h)
	}
	// verifies against the published JWKS
	ks := oidc.NewRemoteKeySet(ctx, e.issuer+"/.well-known/jwks.json")
	payload, err := ks.VerifySignature(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("JWKS verification: %v", err)
	}
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	for _, k := range []string{"iss", "exp", "iat", "jti", "sub", "client_id"} {
		if claims[k] == nil {
			t.Errorf("claim %s missing: %v", k, claims)
		}
	}
	if claims["iss"] != e.issuer || claims["client_id"] != c.ID || claims["sub"] != c.ID {
		t.Errorf("claims %v", claims)
	}
	// introspection and revocation work for JWT access tokens too
	_, m := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, c.ID, secret)
	if m["active"] != true {
		t.Fatalf("introspect JWT: %v", m)
	}
	if code, _ := postForm(t, e.issuer+"/oauth2/revoke", url.Values{"token": {tok.AccessToken}}, c.ID, secret); code != 200 {
		t.Fatalf("revoke JWT: %d", code)
	}
	if _, m := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, c.ID, secret); m["active"] != false {
		t.Fatalf("revoked JWT still active: %v", m)
	}
}

func TestHybridIDTokenCarriesCHash(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	c := webClient("authorization_code")
	c.ResponseTypes = []string{"code", "code id_token"}
	c.IDTokenSignedResponseAlg = "ES256"
	e.createClient(c)
	_, challenge := pkcePair()
	nonce := randString()
	q := url.Values{"response_type": {"code id_token"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid"},
		"state": {randString()}, "nonce": {nonce}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	loc := e.login(newBrowser(t), e.issuer+"/oauth2/authorize?"+q.Encode(), "alice", testPassword, true)
	frag, _ := url.ParseQuery(loc.Fragment)
	if frag.Get("code") == "" || frag.Get("id_token") == "" || frag.Get("iss") != e.issuer {
		t.Fatalf("hybrid response %s", loc)
	}
	p, err := oidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: c.ID, SupportedSigningAlgs: []string{"ES256"}}).Verify(ctx, frag.Get("id_token"))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var claims map[string]any
	_ = idt.Claims(&claims)
	if claims["c_hash"] == nil || idt.Nonce != nonce {
		t.Fatalf("claims %v", claims)
	}
}

func TestPromptNoneAndMaxAgeWithASession(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code")
	e.createClient(c)
	b := newBrowser(t)
	_, challenge := pkcePair()
	q := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid"},
		"state": {randString()}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	e.login(b, e.issuer+"/oauth2/authorize?"+q.Encode(), "alice", testPassword, true)
	// logged in and consented: prompt=none answers at once
	q.Set("prompt", "none")
	resp, _ := b.get(e.issuer + "/oauth2/authorize?" + q.Encode())
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusSeeOther || loc.Query().Get("code") == "" {
		t.Fatalf("prompt=none with a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// prompt=login forces the login page
	q.Set("prompt", "login")
	if resp, _ := b.get(e.issuer + "/oauth2/authorize?" + q.Encode()); resp.Request.URL.Path != "/login" {
		t.Fatalf("prompt=login did not ask again: %s", resp.Request.URL)
	}
	// max_age=0 once the login's second (auth_time) has passed, as it has
	// 1.1 s from now at the latest: login again; with prompt=none that is
	// login_required. Until then the session still answers with a code.
	q.Set("prompt", "none")
	q.Set("max_age", "0")
	poll(1100*time.Millisecond, func() bool {
		resp, _ = b.get(e.issuer + "/oauth2/authorize?" + q.Encode())
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == ""
	})
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc == nil || loc.Query().Get("error") != "login_required" {
		t.Fatalf("max_age exceeded with prompt=none: %s", resp.Header.Get("Location"))
	}
	// more scopes than consented to: consent is asked again
	q.Del("prompt")
	q.Del("max_age")
	q.Set("scope", "openid email")
	if resp, _ := b.get(e.issuer + "/oauth2/authorize?" + q.Encode()); resp.Request.URL.Path != "/consent" {
		t.Fatalf("grown scopes did not ask for consent: %s", resp.Request.URL)
	}
}

// refreshInParallel presents one refresh token n times at once (released
// together) and returns each answer's status and body.
func (e *env) refreshInParallel(t *testing.T, c *storage.Client, secret, refreshToken string, n int) ([]int, []map[string]any) {
	t.Helper()
	codes, bodies := make([]int, n), make([]map[string]any, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() {
			<-start
			codes[i], bodies[i] = postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}, c.ID, secret)
		})
	}
	close(start)
	wg.Wait()
	return codes, bodies
}

func TestConcurrentRefreshExactlyOneWins(t *testing.T) {
	// With a reuse grace a concurrent loser is a retry, not reuse (without
	// one it revokes the family: TestConcurrentRefreshWithoutGraceRevokesTheFamily).
	e := startWith(t, func(c *server.Config) { c.Authz.RefreshRotationGrace = 10 * time.Second })
	c := webClient("authorization_code", "refresh_token")
	secret := e.createClient(c)
	for round := 0; round < 3; round++ {
		_, tok := e.codeFlowTokens(t, c, secret, round == 0)
		codes, bodies := e.refreshInParallel(t, c, secret, tok.RefreshToken, 4)
		wins := 0
		var winner string
		for i, code := range codes {
			switch code {
			case 200:
				wins++
				winner, _ = bodies[i]["refresh_token"].(string)
			case 400:
				if bodies[i]["error"] != "invalid_grant" {
					t.Errorf("loser: %v (want invalid_grant)", bodies[i])
				}
			default:
				t.Errorf("unexpected %d %v", code, bodies[i])
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d winners of %v", round, wins, codes)
		}
		// a concurrent loser must not have triggered reuse detection: the winner's token works
		if code, m := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {winner}}, c.ID, secret); code != 200 {
			t.Fatalf("round %d: winner's refresh token revoked by a concurrent loser: %d %v (codes %v bodies %v)", round, code, m, codes, bodies)
		}
	}
}

func TestRefreshReuseAfterGraceRevokesTheGrant(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.Authz.RefreshRotationGrace = time.Millisecond })
	c := webClient("authorization_code", "refresh_token")
	secret := e.createClient(c)
	_, tok := e.codeFlowTokens(t, c, secret, true)
	refresh := func(rt string) (int, map[string]any) {
		return postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, c.ID, secret)
	}
	code, next := refresh(tok.RefreshToken)
	if code != 200 {
		t.Fatalf("refresh: %d %v", code, next)
	}
	// Past the 1 ms grace a retry is reuse, which revokes the grant: retry
	// until it does, for no longer than the 50 ms this test allows.
	poll(50*time.Millisecond, func() bool {
		if code, m := refresh(tok.RefreshToken); code != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("reuse of a rotated refresh token: %d %v", code, m)
		}
		_, m := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {next["refresh_token"].(string)}}, c.ID, secret)
		return m["active"] == false
	})
	// reuse detected: the thief's and the client's tokens of this grant are all revoked
	if code, m := refresh(next["refresh_token"].(string)); code != 400 {
		t.Fatalf("grant survived refresh token reuse: %d %v", code, m)
	}
	if _, m := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {next["access_token"].(string)}}, c.ID, secret); m["active"] != false {
		t.Fatalf("access token survived refresh token reuse: %v", m)
	}
}
