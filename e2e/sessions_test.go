package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
)

// Helpers for the session, consent and logout tests.

// authQuery is a valid PKCE authorization request for c.
func authQuery(c *storage.Client, scope string) url.Values {
	_, challenge := pkcePair()
	return url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI}, "scope": {scope},
		"state": {randString()}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
}

// promptNone reports whether b's session answers prompt=none with a code
// (true) or login_required (false); anything else fails the test.
func (e *env) promptNone(t *testing.T, b *browser, c *storage.Client) bool {
	t.Helper()
	q := authQuery(c, "openid")
	q.Set("prompt", "none")
	resp, _ := b.get(e.issuer + "/oauth2/authorize?" + q.Encode())
	loc, _ := url.Parse(resp.Header.Get("Location"))
	switch {
	case resp.StatusCode == http.StatusSeeOther && loc.Query().Get("code") != "":
		return true
	case resp.StatusCode == http.StatusSeeOther && loc.Query().Get("error") == "login_required":
		return false
	}
	t.Fatalf("prompt=none: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	return false
}

// sessionCookie returns b's session cookie value ("" if none).
func (e *env) sessionCookie(b *browser) string {
	u, _ := url.Parse(e.issuer)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "strongroom-session" {
			return c.Value
		}
	}
	return ""
}

// browserWithCookie is a fresh browser holding only the given session cookie.
func (e *env) browserWithCookie(t *testing.T, value string) *browser {
	b := newBrowser(t)
	u, _ := url.Parse(e.issuer)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "strongroom-session", Value: value, Path: "/"}})
	return b
}

// count runs a counting query on the test database.
func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), e.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// allRows counts every table a failed request must leave alone.
func (e *env) allRows(t *testing.T) map[string]int {
	t.Helper()
	m := e.rowCounts(t)
	for _, table := range []string{"browser_session_clients", "logout_deliveries", "audit_events"} {
		m[table] = e.count(t, "SELECT count(*) FROM "+table)
	}
	return m
}

// tokensFor runs the code flow in b (logging in when b has no session) and
// exchanges the code.
func (e *env) tokensFor(t *testing.T, b *browser, c *storage.Client, secret string, consent bool, scopes ...string) *oauth2.Token {
	t.Helper()
	conf := &oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: redirectURI, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: e.issuer + "/oauth2/authorize", TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-"+randString(), oauth2.S256ChallengeOption(verifier))
	resp, body := b.get(authURL)
	consented := false
	for step := 0; resp.StatusCode != http.StatusSeeOther; step++ {
		f := formFields(t, body)
		switch path := resp.Request.URL.Path; {
		case step > 2 || resp.StatusCode != http.StatusOK:
			t.Fatalf("code flow: %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
		case path == "/login":
			f.Set("username", "alice")
			f.Set("password", testPassword)
			resp, body = b.post(e.issuer+"/login", f)
		case path == "/consent" && consent:
			f.Set("decision", "allow")
			resp, body = b.post(e.issuer+"/consent", f)
			consented = true
		default:
			t.Fatalf("code flow: unexpected page %s", resp.Request.URL)
		}
	}
	if consent && !consented {
		t.Fatal("code flow: the consent page was not shown")
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

func (e *env) active(t *testing.T, c *storage.Client, secret, token string) bool {
	t.Helper()
	_, m := postForm(t, e.issuer+"/oauth2/introspect", url.Values{"token": {token}}, c.ID, secret)
	return m["active"] == true
}

// ---------------------------------------------------------------- consent

func TestConsentRememberedGrownAndRevoked(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code", "refresh_token")
	secret := e.createClient(c)
	other := webClient("authorization_code", "refresh_token")
	otherSecret := e.createClient(other)
	ctx := context.Background()

	first := e.tokensFor(t, newBrowser(t), c, secret, true, "openid", "offline_access")
	otherTok := e.tokensFor(t, newBrowser(t), other, otherSecret, true, "openid", "offline_access")
	t.Run("ok/remembered", func(t *testing.T) {
		// a new browser logs in; consent is not asked again for the same scopes (or fewer)
		e.tokensFor(t, newBrowser(t), c, secret, false, "openid", "offline_access")
		e.tokensFor(t, newBrowser(t), c, secret, false, "openid")
	})
	t.Run("ok/asked-again-when-scopes-grow", func(t *testing.T) {
		b := newBrowser(t)
		q := authQuery(c, "openid email")
		_, body := b.get(e.issuer + "/oauth2/authorize?" + q.Encode())
		f := formFields(t, body)
		f.Set("username", "alice")
		f.Set("password", testPassword)
		resp, body := b.post(e.issuer+"/login", f)
		if resp.Request.URL.Path != "/consent" || !strings.Contains(body, "See your email address") {
			t.Fatalf("grown scopes: want the consent page naming the email scope, got %d at %s", resp.StatusCode, resp.Request.URL)
		}
		if !strings.Contains(body, "Test App") {
			t.Fatal("the consent page does not name the client")
		}
	})
	t.Run("ok/revoked-grant-revokes-tokens", func(t *testing.T) {
		if !e.active(t, c, secret, first.AccessToken) || !e.active(t, c, secret, first.RefreshToken) {
			t.Fatal("tokens not active before revocation")
		}
		n, err := e.srv.OAuth.Sessions.RevokeGrant(ctx, e.userID, c.ID, authz.ActorOperator)
		if err != nil || n < 2 {
			t.Fatalf("revoke grant: %d tokens, %v", n, err)
		}
		if e.active(t, c, secret, first.AccessToken) || e.active(t, c, secret, first.RefreshToken) {
			t.Fatal("tokens of the revoked grant still introspect as active")
		}
		if code, m := postForm(t, e.issuer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}, c.ID, secret); code != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("refresh with a revoked grant: %d %v", code, m)
		}
		// the other client's grant is untouched
		if !e.active(t, other, otherSecret, otherTok.AccessToken) {
			t.Fatal("revoking one client's grant revoked another's tokens")
		}
		// consent is asked again
		e.tokensFor(t, newBrowser(t), c, secret, true, "openid")
		if n := e.count(t, "SELECT count(*) FROM audit_events WHERE action = 'grant.revoke' AND target = $1", e.userID); n != 1 {
			t.Fatalf("%d grant.revoke audit events", n)
		}
	})
	t.Run("fail/revoke-unknown-grant", func(t *testing.T) {
		if _, err := e.srv.OAuth.Sessions.RevokeGrant(ctx, e.userID, "nope", authz.ActorOperator); err != authz.ErrGrantNotFound {
			t.Fatalf("revoke unknown grant: %v", err)
		}
	})
}

func TestFirstPartyClientSkipsConsent(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code")
	c.Metadata.SkipConsent = true
	secret := e.createClient(c)
	t.Run("ok/no-consent-page", func(t *testing.T) {
		e.tokensFor(t, newBrowser(t), c, secret, false, "openid", "email")
		if n := e.count(t, "SELECT count(*) FROM consents"); n != 0 {
			t.Fatalf("%d consents saved for a first-party client", n)
		}
	})
	t.Run("ok/prompt-consent-still-asks", func(t *testing.T) {
		b := newBrowser(t)
		q := authQuery(c, "openid")
		q.Set("prompt", "consent")
		e.login(b, e.issuer+"/oauth2/authorize?"+q.Encode(), "alice", testPassword, true)
	})
	t.Run("fail/third-party-still-asks", func(t *testing.T) {
		tp := webClient("authorization_code")
		e.createClient(tp)
		e.login(newBrowser(t), e.issuer+"/oauth2/authorize?"+authQuery(tp, "openid").Encode(), "alice", testPassword, true)
	})
}

// ---------------------------------------------------------------- sessions

func TestSessionCookieAttributes(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code")
	e.createClient(c)
	b := newBrowser(t)
	_, body := b.get(e.issuer + "/oauth2/authorize?" + authQuery(c, "openid").Encode())
	f := formFields(t, body)
	f.Set("username", "alice")
	f.Set("password", testPassword)
	noFollow := &http.Client{Jar: b.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(e.issuer+"/login", f)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "strongroom-session" {
			session = ck
		}
	}
	if session == nil {
		t.Fatalf("no session cookie set at login: %v", resp.Header["Set-Cookie"])
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Domain != "" || session.MaxAge <= 0 {
		t.Fatalf("session cookie attributes: %+v", session)
	}
	if session.Secure {
		t.Fatal("Secure set on a plain-HTTP server (test servers have no TLS)")
	}
}

// onlySession returns the user's one live session, as stored.
func (e *env) onlySession(t *testing.T) storage.BrowserSession {
	t.Helper()
	sessions, err := e.srv.Store.ListBrowserSessions(context.Background(), e.userID)
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions %+v, %v; want exactly one", sessions, err)
	}
	return sessions[0]
}

func TestSessionIdleAndAbsoluteTimeouts(t *testing.T) {
	// Timings are taken from the stored session, so a slow login (argon2id
	// under the race detector) does not shift them.
	t.Run("ok/idle-timeout-with-touch", func(t *testing.T) {
		t.Parallel()
		e := startWith(t, func(c *server.Config) { c.Authz.BrowserSessionIdleTimeout = 4 * time.Second })
		c := webClient("authorization_code")
		secret := e.createClient(c)
		b := newBrowser(t)
		e.tokensFor(t, b, c, secret, true, "openid")
		first := e.onlySession(t).LastSeenAt
		// An idle session is judged when it is next used, and using it
		// extends it: nothing to poll, so these waits are for the instants.
		waitPast(first.Add(2 * time.Second))
		if !e.promptNone(t, b, c) { // used within the idle timeout: alive, and touched
			t.Fatal("session ended before the idle timeout")
		}
		touched := e.onlySession(t).LastSeenAt
		if !touched.After(first) {
			t.Fatal("using the session did not record it")
		}
		waitPast(first.Add(5 * time.Second)) // past first+4 s, within touched+4 s
		if !e.promptNone(t, b, c) {
			t.Fatal("activity did not extend the session")
		}
		waitPast(e.onlySession(t).LastSeenAt.Add(5 * time.Second))
		if e.promptNone(t, b, c) {
			t.Fatal("session outlived its idle timeout")
		}
		if n := e.count(t, "SELECT count(*) FROM browser_sessions"); n != 0 {
			t.Fatalf("an idle session was left in the database (%d rows)", n)
		}
	})
	t.Run("ok/absolute-timeout-despite-activity", func(t *testing.T) {
		t.Parallel()
		e := startWith(t, func(c *server.Config) {
			c.Authz.BrowserSessionLifespan = 8 * time.Second
			c.Authz.BrowserSessionIdleTimeout = 3 * time.Second
		})
		c := webClient("authorization_code")
		secret := e.createClient(c)
		b := newBrowser(t)
		e.tokensFor(t, b, c, secret, true, "openid")
		expires := e.onlySession(t).ExpiresAt
		checks := 0
		everySecond := time.NewTicker(time.Second) // active often enough for the idle timeout never to strike
		defer everySecond.Stop()
		for ; time.Until(expires) > 1500*time.Millisecond; <-everySecond.C {
			if !e.promptNone(t, b, c) {
				t.Fatal("session ended before its absolute lifetime")
			}
			checks++
		}
		if checks < 2 {
			t.Fatalf("only %d uses before the session's expiry", checks)
		}
		// The database ends it at its expiry (it is no longer listed), by
		// a second after at the latest; then it no longer logs anyone in.
		poll(time.Until(expires.Add(time.Second)), func() bool {
			live, err := e.srv.Store.ListBrowserSessions(context.Background(), e.userID)
			return err == nil && len(live) == 0
		})
		if e.promptNone(t, b, c) {
			t.Fatal("session outlived its absolute lifetime")
		}
	})
}

func TestNewSessionIDAfterLogin(t *testing.T) {
	e := start(t)
	bob := e.createUser("bob", testPassword)
	c := webClient("authorization_code")
	secret := e.createClient(c)
	relogin := func(t *testing.T, b *browser, username string) {
		t.Helper()
		q := authQuery(c, "openid")
		q.Set("prompt", "login")
		e.login(b, e.issuer+"/oauth2/authorize?"+q.Encode(), username, testPassword, username != "alice")
	}
	t.Run("ok/same-user-old-session-invalid", func(t *testing.T) {
		b := newBrowser(t)
		e.tokensFor(t, b, c, secret, true, "openid")
		old := e.sessionCookie(b)
		relogin(t, b, "alice")
		renewed := e.sessionCookie(b)
		if renewed == "" || renewed == old {
			t.Fatal("login kept the pre-existing session id")
		}
		if e.promptNone(t, e.browserWithCookie(t, old), c) {
			t.Fatal("the pre-login session id still works")
		}
		if !e.promptNone(t, b, c) {
			t.Fatal("the new session does not work")
		}
		if n := e.count(t, "SELECT count(*) FROM browser_sessions WHERE user_id = $1", e.userID); n != 1 {
			t.Fatalf("%d sessions of alice, want the new one only", n)
		}
		// the old session's clients carried over (back-channel logout still reaches them)
		if n := e.count(t, "SELECT count(*) FROM browser_session_clients"); n != 1 {
			t.Fatalf("%d session clients, want 1", n)
		}
	})
	t.Run("ok/other-user-ends-old-session", func(t *testing.T) {
		b := newBrowser(t)
		e.tokensFor(t, b, c, secret, false, "openid")
		old := e.sessionCookie(b)
		relogin(t, b, "bob")
		if e.promptNone(t, e.browserWithCookie(t, old), c) {
			t.Fatal("alice's session survived bob's login in the same browser")
		}
		if n := e.count(t, "SELECT count(*) FROM browser_sessions WHERE user_id = $1", bob); n != 1 {
			t.Fatalf("bob has %d sessions", n)
		}
	})
	t.Run("fail/planted-cookie-is-not-adopted", func(t *testing.T) {
		// a cookie an attacker planted (unknown to the server) is replaced at login
		b := e.browserWithCookie(t, "attacker-chosen-value")
		e.tokensFor(t, b, c, secret, false, "openid")
		if v := e.sessionCookie(b); v == "attacker-chosen-value" || v == "" {
			t.Fatalf("session cookie after login: %q", v)
		}
	})
}
