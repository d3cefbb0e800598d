package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/ory/fosite/token/jwt"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/backchannel"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

const postLogoutURI = "https://app.example.test/logged-out"

// relyingParty is a test client's back-channel logout endpoint: it records
// the logout tokens it receives and answers 500 to the first fail requests.
type relyingParty struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits int
	fail int
	got  []string // logout tokens answered 200
}

func newRelyingParty(t *testing.T, fail int) *relyingParty {
	rp := &relyingParty{fail: fail}
	rp.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		defer rp.mu.Unlock()
		rp.hits++
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if rp.hits <= rp.fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		rp.got = append(rp.got, r.PostForm.Get("logout_token"))
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rp.srv.Close)
	return rp
}

func (rp *relyingParty) state() (hits int, tokens []string) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.hits, append([]string(nil), rp.got...)
}

// waitTokens waits until the relying party holds n logout tokens.
func (rp *relyingParty) waitTokens(t *testing.T, n int) []string {
	t.Helper()
	var hits int
	var got []string
	if !poll(10*time.Second, func() bool { hits, got = rp.state(); return len(got) >= n }) {
		t.Fatalf("%d logout tokens after %d requests, want %d", len(got), hits, n)
	}
	return got
}

// fastBackchannel makes the logout worker poll and retry quickly.
func fastBackchannel(c *server.Config) {
	c.Backchannel = backchannel.Config{PollInterval: 50 * time.Millisecond, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
}

// logoutClient is a web client with a registered post-logout redirect URI
// and back-channel logout endpoint.
func (e *env) logoutClient(rp *relyingParty) (*storage.Client, string) {
	c := webClient("authorization_code")
	c.PostLogoutRedirectURIs = []string{postLogoutURI}
	if rp != nil {
		c.Metadata.BackchannelLogoutURI = rp.srv.URL + "/backchannel"
	}
	return c, e.createClient(c)
}

// checkLogoutToken verifies a logout token with the server's published keys
// (go-oidc's remote key set) and checks its header and claims
// (OIDC Back-Channel Logout 1.0 §2.4).
func (e *env) checkLogoutToken(t *testing.T, token, clientID, sub, sid string) {
	t.Helper()
	ctx := context.Background()
	payload, err := oidc.NewRemoteKeySet(ctx, e.issuer+"/.well-known/jwks.json").VerifySignature(ctx, token)
	if err != nil {
		t.Fatalf("logout token signature: %v", err)
	}
	rawHeader, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	var header map[string]any
	if err := json.Unmarshal(rawHeader, &header); err != nil || header["typ"] != "logout+jwt" || header["kid"] == nil {
		t.Fatalf("logout token header %s", rawHeader)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	events, _ := claims["events"].(map[string]any)
	_, hasEvent := events["http://schemas.openid.net/event/backchannel-logout"]
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	now := float64(time.Now().Unix())
	switch {
	case claims["iss"] != e.issuer, claims["aud"] != clientID, claims["sub"] != sub, sid != "" && claims["sid"] != sid:
		t.Fatalf("logout token claims %v", claims)
	case !hasEvent || claims["nonce"] != nil || claims["jti"] == "" || claims["jti"] == nil:
		t.Fatalf("logout token claims %v", claims)
	case iat < now-60 || iat > now+5 || exp <= iat || exp-iat > 300:
		t.Fatalf("logout token times iat=%v exp=%v (now %v)", iat, exp, now)
	}
}

// idTokenClaims decodes an ID token's payload (already verified by the exchange).
func idTokenClaims(t *testing.T, idToken string) map[string]any {
	t.Helper()
	parts := strings.Split(idToken, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

func logoutURL(e *env, params url.Values) string {
	return e.issuer + "/oauth2/logout?" + params.Encode()
}

func TestDiscoveryAdvertisesLogout(t *testing.T) {
	e := start(t)
	p, err := oidc.NewProvider(context.Background(), e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		EndSession     string `json:"end_session_endpoint"`
		Backchannel    *bool  `json:"backchannel_logout_supported"`
		BackchannelSID *bool  `json:"backchannel_logout_session_supported"`
		Frontchannel   *bool  `json:"frontchannel_logout_supported"`
	}
	if err := p.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if d.EndSession != e.issuer+"/oauth2/logout" || d.Backchannel == nil || !*d.Backchannel || d.BackchannelSID == nil || !*d.BackchannelSID ||
		d.Frontchannel == nil || *d.Frontchannel {
		t.Fatalf("discovery: %+v", d)
	}
}

func TestRPInitiatedLogout(t *testing.T) {
	rp := newRelyingParty(t, 0)
	e := startWith(t, fastBackchannel)
	c, secret := e.logoutClient(rp)

	t.Run("ok/hint-registered-redirect-and-state", func(t *testing.T) {
		b := newBrowser(t)
		tok := e.tokensFor(t, b, c, secret, true, "openid")
		idToken, _ := tok.Extra("id_token").(string)
		sid, _ := idTokenClaims(t, idToken)["sid"].(string)
		if sid == "" {
			t.Fatal("the ID token has no sid")
		}
		resp, _ := b.get(logoutURL(e, url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"st-123"}}))
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != postLogoutURI+"?state=st-123" {
			t.Fatalf("logout: %d Location=%q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("logout redirect headers %v", resp.Header)
		}
		if e.sessionCookie(b) != "" {
			t.Fatal("the session cookie was not cleared")
		}
		if n := e.count(t, "SELECT count(*) FROM browser_sessions"); n != 0 {
			t.Fatalf("%d sessions left after logout", n)
		}
		tokens := rp.waitTokens(t, 1)
		e.checkLogoutToken(t, tokens[0], c.ID, e.userID, sid)
		if n := e.count(t, "SELECT count(*) FROM audit_events WHERE action = 'session.end' AND actor = $1", "user:"+e.userID); n != 1 {
			t.Fatalf("%d session.end audit events", n)
		}
	})
	t.Run("ok/expired-hint-accepted", func(t *testing.T) {
		b := newBrowser(t)
		e.tokensFor(t, b, c, secret, false, "openid")
		sessions, err := e.srv.Store.ListBrowserSessions(context.Background(), e.userID)
		if err != nil || len(sessions) != 1 {
			t.Fatalf("sessions %v %v", sessions, err)
		}
		hint := e.signIDToken(t, c.ID, e.userID, e.srv.OAuth.Authorizer.SessionSID(sessions[0].ID), -time.Hour)
		resp, _ := b.get(logoutURL(e, url.Values{"id_token_hint": {hint}}))
		if resp.StatusCode != http.StatusOK || e.count(t, "SELECT count(*) FROM browser_sessions") != 0 {
			t.Fatalf("logout with an expired hint: %d", resp.StatusCode)
		}
	})
	t.Run("ok/no-session-redirects-with-client-id", func(t *testing.T) {
		resp, _ := newBrowser(t).get(logoutURL(e, url.Values{"client_id": {c.ID}, "post_logout_redirect_uri": {postLogoutURI}}))
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != postLogoutURI {
			t.Fatalf("logout without a session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("ok/without-hint-asks-to-confirm", func(t *testing.T) {
		b := newBrowser(t)
		e.tokensFor(t, b, c, secret, false, "openid")
		before := e.allRows(t)
		resp, body := b.get(logoutURL(e, url.Values{"client_id": {c.ID}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"<b>x</b>"}}))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/logout"`) || !strings.Contains(body, "Test App") {
			t.Fatalf("want the confirmation page, got %d: %s", resp.StatusCode, body)
		}
		if strings.Contains(body, "<b>x</b>") {
			t.Fatal("the confirmation page reflects state unescaped")
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "form-action 'self' https://app.example.test") || strings.Contains(csp, "script") {
			t.Fatalf("CSP %q", csp)
		}
		if after := e.allRows(t); !equalCounts(before, after) {
			t.Fatalf("showing the confirmation changed the database: %v -> %v", before, after)
		}
		f := formFields(t, body)
		// a forged form (no or wrong CSRF token) changes nothing
		forged := url.Values{"decision": {"logout"}, "client_id": {c.ID}, "csrf_token": {"forged"}}
		if resp, _ := b.post(e.issuer+"/logout", forged); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("forged confirmation: %d", resp.StatusCode)
		}
		if !e.promptNone(t, b, c) {
			t.Fatal("a forged confirmation ended the session")
		}
		f.Set("decision", "logout")
		resp, _ = b.post(e.issuer+"/logout", f)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != postLogoutURI+"?state=%3Cb%3Ex%3C%2Fb%3E" {
			t.Fatalf("confirmed logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if e.promptNone(t, b, c) {
			t.Fatal("the session survived a confirmed logout")
		}
	})
	t.Run("ok/hint-of-another-user-asks-to-confirm", func(t *testing.T) {
		b := newBrowser(t)
		e.tokensFor(t, b, c, secret, false, "openid")
		hint := e.signIDToken(t, c.ID, "someone-else", "", time.Hour)
		resp, body := b.get(logoutURL(e, url.Values{"id_token_hint": {hint}}))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="csrf_token"`) {
			t.Fatalf("want the confirmation page, got %d", resp.StatusCode)
		}
		f := formFields(t, body)
		f.Set("decision", "stay")
		if resp, _ := b.post(e.issuer+"/logout", f); resp.StatusCode != http.StatusOK || !e.promptNone(t, b, c) {
			t.Fatalf("stay signed in: %d", resp.StatusCode)
		}
	})

	// Refused requests: an error page, no redirect, nothing changed.
	b := newBrowser(t)
	tok := e.tokensFor(t, b, c, secret, false, "openid")
	idToken, _ := tok.Extra("id_token").(string)
	tampered := idToken[:len(idToken)-4] + flip(idToken[len(idToken)-4:])
	parts := strings.Split(idToken, ".")
	claims := idTokenClaims(t, idToken)
	claims["sub"] = "mallory"
	forgedPayload, _ := json.Marshal(claims)
	swapped := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forgedPayload) + "." + parts[2]
	other := webClient("authorization_code")
	other.PostLogoutRedirectURIs = []string{"https://other.example.test/bye"}
	e.createClient(other)
	atJWT := e.signToken(t, map[string]any{"iss": e.issuer, "sub": e.userID, "aud": c.ID, "exp": time.Now().Add(time.Hour).Unix()}, "at+jwt")
	before := e.allRows(t)
	for _, tc := range []struct {
		name   string
		params url.Values
		raw    string
	}{
		{"fail/unregistered-post-logout-redirect-uri", url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://evil.example/bye"}}, ""},
		{"fail/another-clients-redirect-uri", url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://other.example.test/bye"}}, ""},
		{"fail/redirect-uri-without-client", url.Values{"post_logout_redirect_uri": {postLogoutURI}}, ""},
		{"fail/tampered-signature", url.Values{"id_token_hint": {tampered}, "post_logout_redirect_uri": {postLogoutURI}}, ""},
		{"fail/swapped-payload", url.Values{"id_token_hint": {swapped}}, ""},
		{"fail/garbage-hint", url.Values{"id_token_hint": {"not.a.jwt"}}, ""},
		{"fail/access-token-as-hint", url.Values{"id_token_hint": {atJWT}}, ""},
		{"fail/client-id-not-in-aud", url.Values{"id_token_hint": {idToken}, "client_id": {other.ID}}, ""},
		{"fail/unknown-client-id", url.Values{"client_id": {"nope"}}, ""},
		{"fail/oversized-state", url.Values{"id_token_hint": {idToken}, "state": {strings.Repeat("s", 3000)}}, ""},
		{"fail/oversized-hint", url.Values{"id_token_hint": {strings.Repeat("a", 9000)}}, ""},
		{"fail/duplicated-parameter", nil, "id_token_hint=" + url.QueryEscape(idToken) + "&state=a&state=b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := logoutURL(e, tc.params)
			if tc.raw != "" {
				u = e.issuer + "/oauth2/logout?" + tc.raw
			}
			resp, body := b.get(u)
			if len(u)-len(e.issuer) > server.MaxRequestURIBytes {
				// Issue 7: a query over 8 KiB is refused before any handler (414).
				if resp.StatusCode != http.StatusRequestURITooLong || resp.Header.Get("Location") != "" {
					t.Fatalf("want 414 for a %d-byte target, got %d Location=%q", len(u)-len(e.issuer), resp.StatusCode, resp.Header.Get("Location"))
				}
			} else if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, "invalid_request") {
				t.Fatalf("want a 400 error page, got %d Location=%q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
			if strings.Contains(body, "evil.example") || resp.Header.Get("Content-Security-Policy") == "" {
				t.Fatal("the error page reflects input or lacks its CSP")
			}
			// POST is refused the same way
			form := tc.params
			if form == nil {
				form, _ = url.ParseQuery(tc.raw)
			}
			if resp, _ := b.post(e.issuer+"/oauth2/logout", form); resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("POST: %d", resp.StatusCode)
			}
		})
	}
	if after := e.allRows(t); !equalCounts(before, after) {
		t.Fatalf("refused logout requests changed the database: %v -> %v", before, after)
	}
	if !e.promptNone(t, b, c) {
		t.Fatal("a refused logout request ended the session")
	}
}

func TestBackchannelLogoutRetriedAndDeliveredOnce(t *testing.T) {
	rp := newRelyingParty(t, 2) // the first two attempts get 500
	e := startWith(t, fastBackchannel)
	c, secret := e.logoutClient(rp)
	noBC, noBCSecret := e.logoutClient(nil) // registered no back-channel URI
	b := newBrowser(t)
	tok := e.tokensFor(t, b, c, secret, true, "openid")
	e.tokensFor(t, b, noBC, noBCSecret, true, "openid")
	idToken, _ := tok.Extra("id_token").(string)
	sid, _ := idTokenClaims(t, idToken)["sid"].(string)
	if n := e.count(t, "SELECT count(*) FROM browser_session_clients"); n != 2 {
		t.Fatalf("%d session clients recorded, want 2", n)
	}
	resp, _ := b.get(logoutURL(e, url.Values{"id_token_hint": {idToken}}))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	tokens := rp.waitTokens(t, 1)
	e.checkLogoutToken(t, tokens[0], c.ID, e.userID, sid)
	// Delivered and audited: the row leaves the outbox in that transaction,
	// so no attempt can follow; every attempt made has reached rp.
	eventually(t, 10*time.Second, "the delivered row to leave the outbox", func() bool {
		return e.count(t, "SELECT count(*) FROM logout_deliveries") == 0
	})
	hits, tokens := rp.state()
	if hits != 3 || len(tokens) != 1 {
		t.Fatalf("%d requests and %d deliveries, want 3 and 1", hits, len(tokens))
	}
	if n := e.count(t, "SELECT count(*) FROM logout_deliveries"); n != 0 {
		t.Fatalf("%d deliveries left in the outbox", n)
	}
	if n := e.count(t, "SELECT count(*) FROM audit_events WHERE action = 'logout.backchannel' AND outcome = 'success' AND target = $1 AND details->>'attempts' = '3'", c.ID); n != 1 {
		t.Fatalf("%d audit events for the delivery", n)
	}
}

func TestOperatorSessionRevocationSendsBackchannelLogout(t *testing.T) {
	rp := newRelyingParty(t, 0)
	e := startWith(t, fastBackchannel)
	c, secret := e.logoutClient(rp)
	b1, b2 := newBrowser(t), newBrowser(t)
	e.tokensFor(t, b1, c, secret, true, "openid")
	e.tokensFor(t, b2, c, secret, false, "openid")
	sm := e.srv.OAuth.Sessions
	sessions, err := sm.ListSessions(context.Background(), e.userID)
	if err != nil || len(sessions) != 2 || len(sessions[0].Clients) != 1 || sessions[0].Clients[0] != c.ID {
		t.Fatalf("sessions %+v %v", sessions, err)
	}
	t.Run("ok/one", func(t *testing.T) {
		if err := sm.EndSession(context.Background(), e.userID, sessions[0].ID, authz.ActorOperator, "operator"); err != nil {
			t.Fatal(err)
		}
		e.checkLogoutToken(t, rp.waitTokens(t, 1)[0], c.ID, e.userID, e.srv.OAuth.Authorizer.SessionSID(sessions[0].ID))
	})
	t.Run("fail/unknown-or-foreign-session", func(t *testing.T) {
		if err := sm.EndSession(context.Background(), e.userID, "nope", authz.ActorOperator, "x"); err != authz.ErrSessionNotFound {
			t.Fatalf("unknown session: %v", err)
		}
		if err := sm.EndSession(context.Background(), "someone-else", sessions[1].ID, authz.ActorOperator, "x"); err != authz.ErrSessionNotFound {
			t.Fatalf("another user's session: %v", err)
		}
	})
	t.Run("ok/all", func(t *testing.T) {
		n, err := sm.EndUserSessions(context.Background(), e.userID, authz.ActorOperator, "operator")
		if err != nil || n != 1 {
			t.Fatalf("end all: %d %v", n, err)
		}
		rp.waitTokens(t, 2)
		if e.promptNone(t, b1, c) || e.promptNone(t, b2, c) {
			t.Fatal("a revoked session still works")
		}
	})
}

// signToken signs claims with the server's active RS256 key.
func (e *env) signToken(t *testing.T, claims map[string]any, typ string) string {
	t.Helper()
	tok, _, err := e.srv.Keys.Signer("RS256").Generate(context.Background(), claims, &jwt.Headers{Extra: map[string]any{"typ": typ}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signIDToken signs an ID token for clientID that expires after ttl (negative: already expired).
func (e *env) signIDToken(t *testing.T, clientID, sub, sid string, ttl time.Duration) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{"iss": e.issuer, "sub": sub, "aud": []string{clientID}, "iat": now.Add(ttl - time.Hour).Unix(), "exp": now.Add(ttl).Unix()}
	if sid != "" {
		claims["sid"] = sid
	}
	return e.signToken(t, claims, "JWT")
}

func flip(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
