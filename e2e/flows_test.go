package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/strongroom/strongroom/storage"
)

func TestDiscoveryAcceptedByOIDCLibrary(t *testing.T) {
	e := start(t)
	p, err := oidc.NewProvider(context.Background(), e.issuer)
	if err != nil {
		t.Fatalf("go-oidc rejected discovery: %v", err)
	}
	var claims struct {
		ISS   bool     `json:"authorization_response_iss_parameter_supported"`
		PAR   string   `json:"pushed_authorization_request_endpoint"`
		PKCE  []string `json:"code_challenge_methods_supported"`
		Intro string   `json:"introspection_endpoint"`
	}
	if err := p.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if !claims.ISS || claims.PAR != e.issuer+"/oauth2/par" || len(claims.PKCE) != 1 || claims.PKCE[0] != "S256" || claims.Intro == "" {
		t.Errorf("discovery incomplete: %+v", claims)
	}
	resp, err := http.Get(e.issuer + "/.well-known/oauth-authorization-server")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("RFC 8414 metadata: %v %v", err, resp)
	}
	resp.Body.Close()
}

func TestClientCredentials(t *testing.T) {
	e := start(t)
	c := webClient("client_credentials")
	secret := e.createClient(c)
	cc := clientcredentials.Config{ClientID: c.ID, ClientSecret: secret, TokenURL: e.issuer + "/oauth2/token", Scopes: []string{"payments"}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	if tok.AccessToken == "" || tok.TokenType != "bearer" && tok.TokenType != "Bearer" {
		t.Fatalf("bad token %+v", tok)
	}
	code, m := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, c.ID, secret)
	if code != 200 || m["active"] != true || m["client_id"] != c.ID || m["scope"] != "payments" {
		t.Fatalf("introspection: %d %v", code, m)
	}
	// wrong secret
	cc.ClientSecret = secret + "x"
	if _, err := cc.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestAuthorizationCodePKCEWithRefreshRotationIntrospectionAndRevocation(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	c := webClient("authorization_code", "refresh_token")
	secret := e.createClient(c)
	provider, err := oidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: c.ID, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: redirectURI,
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}}
	verifier := oauth2.GenerateVerifier()
	state, nonce := randString(), randString()
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))

	b := newBrowser(t)
	loc := e.login(b, authURL, "alice", testPassword, true)
	q := loc.Query()
	if q.Get("state") != state || q.Get("iss") != e.issuer || q.Get("code") == "" {
		t.Fatalf("authorization response %s", loc)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: c.ID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != nonce || idt.Subject != e.userID {
		t.Errorf("nonce/sub: %q %q", idt.Nonce, idt.Subject)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims map[string]any
	_ = idt.Claims(&claims)
	for _, k := range []string{"auth_time", "sid", "at_hash", "iat", "exp", "amr", "email"} {
		if claims[k] == nil {
			t.Errorf("ID token lacks %s: %v", k, claims)
		}
	}

	// userinfo, GET and POST, bearer header only
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != e.userID || ui.Email != "alice@example.test" {
		t.Fatalf("userinfo: %v %+v", err, ui)
	}
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("userinfo POST: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, _ = http.Get(e.issuer + "/userinfo?access_token=" + url.QueryEscape(tok.AccessToken))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("userinfo with token in query: %d", resp.StatusCode)
	}
	resp.Body.Close()

	// the code works once only; a second use revokes the grant's tokens
	if _, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("second code use: %v", err)
	}
	if _, m := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, c.ID, secret); m["active"] != false {
		t.Fatalf("tokens of a reused code still active: %v", m)
	}
}

func (e *env) codeFlowTokens(t *testing.T, c *storage.Client, secret string, consent bool) (*oauth2.Config, *oauth2.Token) {
	t.Helper()
	ctx := context.Background()
	conf := &oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: e.issuer + "/oauth2/authorize", TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "offline_access"}}
	verifier := oauth2.GenerateVerifier()
	loc := e.login(newBrowser(t), conf.AuthCodeURL("state-"+randString(), oauth2.S256ChallengeOption(verifier)), "alice", testPassword, consent)
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return conf, tok
}

func TestRefreshRotationAndRevocation(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	c := webClient("authorization_code", "refresh_token")
	secret := e.createClient(c)
	conf, tok := e.codeFlowTokens(t, c, secret, true)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}
	expired := *tok
	expired.Expiry = expired.Expiry.Add(-24 * 3600 * 1e9)
	next, err := conf.TokenSource(ctx, &expired).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh token not rotated")
	}
	// the old access token died with the rotation; the new one lives
	intro := func(token string) any {
		_, m := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {token}}, c.ID, secret)
		return m["active"]
	}
	if intro(tok.AccessToken) != false || intro(next.AccessToken) != true {
		t.Fatal("rotation did not revoke the old access token")
	}
	// the old refresh token stops working at once
	code, m := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, c.ID, secret)
	if code != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("old refresh token: %d %v", code, m)
	}
	// revoking a refresh token revokes the grant's access tokens (a fresh grant: reuse above revoked the family)
	_, tok2 := e.codeFlowTokens(t, c, secret, false)
	code, _ = postForm(t, e.issuer+"/oauth2/revoke", url.Values{"token": {tok2.RefreshToken}, "token_type_hint": {"refresh_token"}}, c.ID, secret)
	if code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	if intro(tok2.AccessToken) != false || intro(tok2.RefreshToken) != false {
		t.Fatal("revoking the refresh token left the grant's tokens active")
	}
	// unknown tokens revoke fine (RFC 7009 §2.2)
	if code, _ := postForm(t, e.issuer+"/oauth2/revoke", url.Values{"token": {"nonsense"}}, c.ID, secret); code != 200 {
		t.Fatalf("revoke unknown token: %d", code)
	}
}

func TestPushedAuthorizationRequest(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code")
	c.RequirePAR = true
	secret := e.createClient(c)
	verifier, challenge := pkcePair()
	state := randString()
	params := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid"},
		"state": {state}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	// a PAR-required client cannot use a plain authorization request
	resp, _ := newBrowser(t).get(e.issuer + "/oauth2/authorize?" + params.Encode())
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "error=invalid_request") {
		t.Fatalf("plain request from PAR-required client: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	code, m := postForm(t, e.issuer+"/oauth2/par", params, c.ID, secret)
	if code != http.StatusCreated || m["request_uri"] == nil {
		t.Fatalf("PAR: %d %v", code, m)
	}
	authURL := e.issuer + "/oauth2/authorize?" + url.Values{"client_id": {c.ID}, "request_uri": {m["request_uri"].(string)}}.Encode()
	loc := e.login(newBrowser(t), authURL, "alice", testPassword, true)
	if loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
		t.Fatalf("PAR authorization response: %s", loc)
	}
	conf := oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	if _, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange after PAR: %v", err)
	}
	// the request_uri is single-use
	resp, body := newBrowser(t).get(authURL)
	if resp.StatusCode < 400 {
		t.Fatalf("request_uri reuse: %d %s", resp.StatusCode, body)
	}
	// PAR with GET is 405
	resp, _ = newBrowser(t).get(e.issuer + "/oauth2/par")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /oauth2/par: %d", resp.StatusCode)
	}
}
