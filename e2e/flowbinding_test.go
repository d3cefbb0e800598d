package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/strongroom/strongroom/authz/login"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

const otherBrowserText = "started in another browser"

// stealCookies gives thief every cookie of victim at the server except the
// flow-binding cookie: the CSRF cookie too, so the refusals below are the
// flow binding's, not CSRF's.
func (e *env) stealCookies(t *testing.T, victim, thief *browser) {
	t.Helper()
	u, _ := url.Parse(e.issuer + "/")
	for _, c := range victim.c.Jar.Cookies(u) {
		if strings.Contains(c.Name, "strongroom-flow") {
			continue
		}
		thief.c.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
	}
}

// refused checks a leaked-link attempt got the other-browser page: 403, a
// clear message, no redirect to the client.
func refused(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, otherBrowserText) || resp.Header.Get("Location") != "" {
		t.Fatalf("%s from another browser: %d Location=%q %s", what, resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// TestLeakedLoginAndConsentLinksUselessInAnotherBrowser: a flow is bound to
// the browser that sent the authorization request (a cookie set at
// /authorize). A second browser holding the login or consent challenge —
// even with the first browser's CSRF cookie — gets a clear error page at
// every step and cannot approve, deny or receive the code; the flow is not
// consumed, and the first browser finishes it.
func TestLeakedLoginAndConsentLinksUselessInAnotherBrowser(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code")
	secret := e.createClient(c)
	conf := oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: redirectURI, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: e.issuer + "/oauth2/authorize", TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	verifier := oauth2.GenerateVerifier()
	state := randString()

	victim := newBrowser(t)
	resp, loginPage := victim.get(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	if resp.Request.URL.Path != "/login" || resp.StatusCode != http.StatusOK {
		t.Fatalf("expected the login page: %d %s", resp.StatusCode, resp.Request.URL)
	}
	loginURL := resp.Request.URL.String()
	loginForm := formFields(t, loginPage)
	loginForm.Set("username", "alice")
	loginForm.Set("password", testPassword)

	// the login link in another browser
	thief := newBrowser(t)
	var body string
	resp, body = thief.get(loginURL)
	refused(t, "login page", resp, body)
	e.stealCookies(t, victim, thief)
	resp, body = thief.get(loginURL)
	refused(t, "login page", resp, body)
	resp, body = thief.post(e.issuer+"/login", loginForm)
	refused(t, "login", resp, body)
	if n := e.count(t, "SELECT count(*) FROM browser_sessions"); n != 0 {
		t.Fatalf("the other browser's login created %d sessions", n)
	}

	// the victim logs in with the same form: the flow was not consumed
	resp, consentPage := victim.post(e.issuer+"/login", loginForm)
	if resp.Request.URL.Path != "/consent" || resp.StatusCode != http.StatusOK {
		t.Fatalf("expected the consent page: %d %s %s", resp.StatusCode, resp.Request.URL, consentPage)
	}
	consentURL := resp.Request.URL.String()
	consentForm := formFields(t, consentPage)

	// the consent link in other browsers: without cookies, with the victim's
	// CSRF and session cookies, for allow and deny
	resp, body = newBrowser(t).get(consentURL)
	refused(t, "consent page", resp, body)
	thief = newBrowser(t)
	e.stealCookies(t, victim, thief)
	resp, body = thief.get(consentURL)
	refused(t, "consent page", resp, body)
	for _, decision := range []string{"allow", "deny"} {
		consentForm.Set("decision", decision)
		resp, body = thief.post(e.issuer+"/consent", consentForm)
		refused(t, "consent "+decision, resp, body)
	}

	// the victim approves and the client redeems the code
	consentForm.Set("decision", "allow")
	resp, body = victim.post(e.issuer+"/consent", consentForm)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
		t.Fatalf("the victim's consent: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if _, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange: %v", err)
	}
}

// TestLeakedSecondFactorLinkUselessInAnotherBrowser: the second-factor step
// of a bound flow refuses another browser, even with a valid TOTP code and
// the victim's CSRF cookie; nothing changes (no session, the code is not
// spent), and the victim then finishes with that same code.
func TestLeakedSecondFactorLinkUselessInAnotherBrowser(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.Authz.Issuer = servertest.Localhost })
	victim, secret, page := e.mfaFixture(t)
	before := e.mfaState(t)
	form := formFields(t, page)
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	form.Set("method", login.MethodTOTP)
	form.Set("code", code)
	mfaURL := e.issuer + "/login/mfa?" + url.Values{"login_challenge": {form.Get("login_challenge")}}.Encode()

	thief := newBrowser(t)
	e.stealCookies(t, victim, thief)
	resp, body := thief.get(mfaURL)
	refused(t, "second-factor page", resp, body)
	resp, body = thief.post(e.issuer+"/login/mfa", form)
	refused(t, "second factor", resp, body)
	if after := e.mfaState(t); !equalCounts(toInt(before), toInt(after)) {
		t.Fatalf("another browser's second factor changed the database: %v -> %v", before, after)
	}

	resp, body = victim.post(e.issuer+"/login/mfa", form)
	onward := resp.Request.URL.Path == "/consent" && resp.StatusCode == http.StatusOK ||
		resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), redirectURI+"?code=")
	if !onward {
		t.Fatalf("the victim's second factor after the attempt: %d at %s %s", resp.StatusCode, resp.Request.URL, body)
	}
	if after := e.mfaState(t); after["totp_last_step"] == before["totp_last_step"] {
		t.Fatal("the victim's code was not recorded as used")
	}
}

func toInt(m map[string]int64) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = int(v)
	}
	return out
}

// userAgentTransport sends every request with a fixed User-Agent.
type userAgentTransport string

func (ua userAgentTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", string(ua))
	return http.DefaultTransport.RoundTrip(r)
}

// TestFlowBindingRefusalsAreAudited: every refusal of a leaked login or
// consent link in another browser is an audit event (flow.other_browser,
// failure) naming the client, the flow's user once logged in, the other
// browser's address and user agent, and whether it had no flow-binding
// cookie or another one; never the challenge. The browser the flow belongs
// to leaves no such event.
func TestFlowBindingRefusalsAreAudited(t *testing.T) {
	e := start(t)
	c := webClient("authorization_code")
	secret := e.createClient(c)
	conf := oauth2.Config{ClientID: c.ID, ClientSecret: secret, RedirectURL: redirectURI, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: e.issuer + "/oauth2/authorize", TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	authURL := conf.AuthCodeURL(randString(), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	events := func() []storage.AuditEvent {
		t.Helper()
		evs, err := e.srv.Store.ListAudit(t.Context(), storage.AuditFilter{Action: login.ActionFlowOtherBrowser})
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}

	victim := newBrowser(t)
	resp, loginPage := victim.get(authURL)
	loginURL := resp.Request.URL.String()
	challenge := resp.Request.URL.Query().Get("login_challenge")
	if resp.Request.URL.Path != "/login" || challenge == "" {
		t.Fatalf("expected the login page: %d %s", resp.StatusCode, resp.Request.URL)
	}
	if n := len(events()); n != 0 {
		t.Fatalf("the flow's own browser left %d other-browser events", n)
	}

	// a browser with no flow-binding cookie, then one with its own (from
	// its own /authorize)
	const thiefUA = "ThiefBrowser/1.0"
	thief := newBrowser(t)
	thief.c.Transport = userAgentTransport(thiefUA)
	resp, body := thief.get(loginURL)
	refused(t, "login page", resp, body)
	thief.get(authURL)
	resp, body = thief.get(loginURL)
	refused(t, "login page", resp, body)

	// the victim logs in; the consent link leaks too
	form := formFields(t, loginPage)
	form.Set("username", "alice")
	form.Set("password", testPassword)
	resp, _ = victim.post(e.issuer+"/login", form)
	if resp.Request.URL.Path != "/consent" {
		t.Fatalf("expected the consent page: %d %s", resp.StatusCode, resp.Request.URL)
	}
	resp, body = thief.get(resp.Request.URL.String())
	refused(t, "consent page", resp, body)

	evs := events()
	if len(evs) != 3 {
		t.Fatalf("%d other-browser events for 3 refusals: %+v", len(evs), evs)
	}
	reasons := map[string]int{}
	for _, ev := range evs {
		reasons[ev.Details["reason"]]++
		if ev.Outcome != storage.OutcomeFailure || ev.Details["client_id"] != c.ID || ev.SourceIP != "127.0.0.1" || ev.UserAgent != thiefUA || ev.Details["flow"] == "" {
			t.Errorf("event %+v: want a failure for client %s from 127.0.0.1 with the thief's user agent and the flow", ev, c.ID)
		}
		for k, v := range ev.Details {
			if strings.Contains(v, challenge) {
				t.Errorf("event detail %s carries the challenge", k)
			}
		}
	}
	if reasons["no_binding"] != 1 || reasons["other_binding"] != 2 {
		t.Errorf("reasons %v, want 1 no_binding and 2 other_binding", reasons)
	}
	var onConsent int
	for _, ev := range evs {
		if ev.Target == e.userID {
			onConsent++
		}
	}
	if onConsent != 1 {
		t.Errorf("%d events name the user; want 1 (the consent step, after the login)", onConsent)
	}
}
