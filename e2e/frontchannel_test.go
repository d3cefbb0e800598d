package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

const redirectURI2 = "https://app.example.test/other-callback"

// TestPushedRequestIgnoresFrontChannelParameters: with request_uri, only
// client_id and request_uri are read from the browser (RFC 9126 §4); every
// other parameter comes from the push, whether the push set it (the browser
// cannot override it) or not (the browser cannot add it).
func TestPushedRequestIgnoresFrontChannelParameters(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code")
	c.RedirectURIs = []string{redirectURI, redirectURI2}
	c.ResponseTypes = []string{"code", "code id_token"}
	secret := e.createClient(c)
	other := webClient("authorization_code")
	e.createClient(other)

	// A browser with a session and a remembered consent to openid: a pushed
	// request the browser did not rewrite is answered at once, with no page.
	b := newBrowser(t)
	e.tokensFor(t, b, c, secret, true, "openid")

	verifier, challenge := pkcePair()
	_, otherChallenge := pkcePair()
	const state, nonce = "pushed-state-123", "pushed-nonce-123"
	push := func(t *testing.T, omit string) string {
		t.Helper()
		p := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {"openid"},
			"state": {state}, "nonce": {nonce}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		p.Del(omit)
		code, m := postForm(t, e.issuer+"/oauth2/par", p, c.ID, secret)
		if code != http.StatusCreated {
			t.Fatalf("PAR: %d %v", code, m)
		}
		return m["request_uri"].(string)
	}
	front := func(requestURI string, extra url.Values) string {
		q := url.Values{"client_id": {c.ID}, "request_uri": {requestURI}}
		for k, v := range extra {
			q[k] = v
		}
		return e.issuer + "/oauth2/authorize?" + q.Encode()
	}
	// answered checks the response is the pushed one: the pushed redirect_uri,
	// query mode, pushed state, a code (no ID token) that the pushed PKCE
	// verifier redeems for the pushed scope and nonce only.
	answered := func(t *testing.T, resp *http.Response, body string, wantScope, wantNonce string) {
		t.Helper()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, redirectURI+"?") {
			t.Fatalf("expected the pushed request answered at %s: %d at %s Location=%q %s", redirectURI, resp.StatusCode, resp.Request.URL, loc, body)
		}
		u, _ := url.Parse(loc)
		q := u.Query()
		if u.Fragment != "" || q.Get("state") != state || q.Get("code") == "" || q.Has("id_token") {
			t.Fatalf("authorization response is not the pushed one: %s", loc)
		}
		conf := oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: redirectURI,
			Endpoint: oauth2.Endpoint{TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
		tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("the pushed code_verifier does not redeem the code: %v", err)
		}
		if got, _ := tok.Extra("scope").(string); got != wantScope {
			t.Fatalf("granted scope %q, want %q", got, wantScope)
		}
		if wantScope == "" {
			return
		}
		idToken, _ := tok.Extra("id_token").(string)
		claims := idTokenClaims(t, idToken)
		if got, _ := claims["nonce"].(string); got != wantNonce {
			t.Fatalf("ID token nonce %q, want %q", got, wantNonce)
		}
		if claims["email"] != nil {
			t.Fatalf("the ID token carries claims the push did not ask for: %v", claims)
		}
	}

	for _, tc := range []struct {
		name  string
		omit  string // the parameter the push leaves out
		extra url.Values
	}{
		{"scope", "scope", url.Values{"scope": {"openid profile email offline_access"}}},
		{"scope-overridden", "", url.Values{"scope": {"openid profile email offline_access"}}},
		{"response_mode", "", url.Values{"response_mode": {"fragment"}}},
		{"redirect_uri", "", url.Values{"redirect_uri": {redirectURI2}}},
		{"state", "", url.Values{"state": {"attacker-state-1"}}},
		{"nonce", "nonce", url.Values{"nonce": {"attacker-nonce"}}},
		{"nonce-overridden", "", url.Values{"nonce": {"attacker-nonce"}}},
		{"code_challenge", "", url.Values{"code_challenge": {otherChallenge}, "code_challenge_method": {"S256"}}},
		{"prompt", "", url.Values{"prompt": {"login"}}},
		{"prompt-consent", "", url.Values{"prompt": {"consent"}}},
		{"max_age", "", url.Values{"max_age": {"0"}}},
		{"claims", "", url.Values{"claims": {`{"id_token":{"email":{"essential":true}}}`}}},
		{"response_type", "", url.Values{"response_type": {"code id_token"}}},
		{"all-at-once", "", url.Values{"scope": {"openid email"}, "response_mode": {"form_post"}, "redirect_uri": {redirectURI2},
			"state": {"attacker-state-1"}, "nonce": {"x"}, "prompt": {"consent"}, "max_age": {"0"}, "response_type": {"code id_token"}}},
	} {
		t.Run("ignored/"+tc.name, func(t *testing.T) {
			wantScope, wantNonce := "openid", nonce
			switch tc.omit {
			case "scope":
				wantScope = ""
			case "nonce":
				wantNonce = ""
			}
			// answered at once from the browser session
			resp, body := b.get(front(push(t, tc.omit), tc.extra))
			answered(t, resp, body, wantScope, wantNonce)
			// through the login page: the flow stored for the pages holds the
			// pushed parameters only
			nb := newBrowser(t)
			resp, body = nb.get(front(push(t, tc.omit), tc.extra))
			if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" {
				t.Fatalf("expected the login page: %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
			}
			f := formFields(t, body)
			f.Set("username", "alice")
			f.Set("password", testPassword)
			resp, body = nb.post(e.issuer+"/login", f)
			answered(t, resp, body, wantScope, wantNonce)
		})
	}

	t.Run("fail/client_id-differs", func(t *testing.T) {
		resp, body := b.get(e.issuer + "/oauth2/authorize?" + url.Values{"client_id": {other.ID}, "request_uri": {push(t, "")}}.Encode())
		loc := resp.Header.Get("Location")
		if resp.StatusCode == http.StatusSeeOther && strings.Contains(loc, "code=") || resp.StatusCode == http.StatusOK {
			t.Fatalf("a request_uri used with another client_id was answered: %d %q %s", resp.StatusCode, loc, body)
		}
		if !strings.Contains(loc, "error=invalid_request") && !strings.Contains(body, "invalid_request") {
			t.Fatalf("want invalid_request: %d %q %s", resp.StatusCode, loc, body)
		}
	})
	t.Run("fail/client_id-missing", func(t *testing.T) {
		resp, body := b.get(e.issuer + "/oauth2/authorize?" + url.Values{"request_uri": {push(t, "")}}.Encode())
		if loc := resp.Header.Get("Location"); strings.Contains(loc, "code=") || resp.StatusCode == http.StatusOK {
			t.Fatalf("a request_uri without client_id was answered: %d %q %s", resp.StatusCode, loc, body)
		}
	})
}

// TestConfidentialClientErrorsNeverRedirectToUnregisteredLoopback: fosite's
// RFC 8252 loopback rule (any port on http://127.0.0.1) applies to public
// clients only. A confidential client's authorization errors — whichever
// check fails, fosite's or ours — go only to an exactly registered URI;
// otherwise the user sees an error page.
func TestConfidentialClientErrorsNeverRedirectToUnregisteredLoopback(t *testing.T) {
	e := start(t)
	const registered, loopback = "https://127.0.0.1/cb", "http://127.0.0.1:9999/cb"
	c := webClient("authorization_code")
	c.RedirectURIs = []string{registered}
	secret := e.createClient(c)
	_, challenge := pkcePair()
	base := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {loopback}, "scope": {"openid"},
		"state": {randString()}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	cases := map[string]url.Values{
		"valid-otherwise":           {},
		"invalid_scope":             {"scope": {"openid not-allowed"}},
		"unsupported_response_type": {"response_type": {"token"}},
		"short-state":               {"state": {"abc"}},
		"unsupported_response_mode": {"response_mode": {"bogus"}},
		"plain-pkce":                {"code_challenge_method": {"plain"}},
		"prompt-none":               {"prompt": {"none"}},
		"bad-max_age":               {"max_age": {"-1"}},
	}
	for name, change := range cases {
		t.Run("page/"+name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range base {
				q[k] = v
			}
			for k, v := range change {
				q[k] = v
			}
			resp, body := newBrowser(t).get(e.issuer + "/oauth2/authorize?" + q.Encode())
			if loc := resp.Header.Get("Location"); strings.Contains(loc, "127.0.0.1:9999") || resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("error for an unregistered loopback URI: %d Location=%q", resp.StatusCode, loc)
			}
			if !strings.Contains(body, "<html") {
				t.Fatalf("expected an error page: %s", body)
			}
		})
	}
	t.Run("control/registered-uri-gets-the-error", func(t *testing.T) {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("redirect_uri", registered)
		q.Set("scope", "openid not-allowed")
		resp, _ := newBrowser(t).get(e.issuer + "/oauth2/authorize?" + q.Encode())
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, registered+"?error=invalid_scope") {
			t.Fatalf("error for the registered URI: %d %q", resp.StatusCode, loc)
		}
	})
	t.Run("par", func(t *testing.T) {
		code, m := postForm(t, e.issuer+"/oauth2/par", base, c.ID, secret)
		if code != http.StatusBadRequest || m["error"] != "invalid_request" {
			t.Fatalf("PAR with an unregistered loopback URI: %d %v", code, m)
		}
	})
	t.Run("logout", func(t *testing.T) {
		lc := webClient("authorization_code")
		lc.PostLogoutRedirectURIs = []string{"https://127.0.0.1/bye"}
		e.createClient(lc)
		resp, _ := newBrowser(t).get(logoutURL(e, url.Values{"client_id": {lc.ID}, "post_logout_redirect_uri": {"http://127.0.0.1:9999/bye"}}))
		if loc := resp.Header.Get("Location"); loc != "" || resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("logout to an unregistered loopback URI: %d %q", resp.StatusCode, loc)
		}
	})
}
