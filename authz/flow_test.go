package authz

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/storage"
)

func TestCSRF(t *testing.T) {
	p := newTestProvider(t, newMemoryStore(t))
	other := newTestProvider(t, newMemoryStore(t))
	other.csrfKey = []byte("another-csrf-key-0123456789abcdef")
	const cookie, challenge = "csrf-cookie-value", "flow-challenge"
	token := p.CSRFToken(cookie, challenge)
	tampered := []byte(token)
	tampered[3] ^= 1
	tests := []struct {
		name                     string
		cookie, challenge, token string
		ok                       bool
	}{
		{"ok/same-cookie-and-challenge", cookie, challenge, token, true},
		{"fail/other-cookie", "another-cookie", challenge, token, false},
		{"fail/other-challenge", cookie, "another-challenge", token, false},
		{"fail/tampered", cookie, challenge, string(tampered), false},
		{"fail/truncated", cookie, challenge, token[:len(token)-1], false},
		{"fail/empty-token", cookie, challenge, "", false},
		{"fail/empty-cookie", "", challenge, p.CSRFToken("", challenge), false},
		{"fail/other-server-key", cookie, challenge, other.CSRFToken(cookie, challenge), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.CheckCSRF(tc.cookie, tc.challenge, tc.token); got != tc.ok {
				t.Fatalf("CheckCSRF = %v, want %v", got, tc.ok)
			}
		})
	}
	if p.CSRFToken(cookie, challenge) != token {
		t.Fatal("CSRF token is not deterministic")
	}
}

func TestSessionSID(t *testing.T) {
	p := newTestProvider(t, newMemoryStore(t))
	a, b := p.SessionSID("session-a"), p.SessionSID("session-b")
	if a == b || a != p.SessionSID("session-a") {
		t.Fatalf("sid not stable per session: %q %q", a, b)
	}
	if strings.Contains(a, "session-a") || a == p.CSRFToken("", "session-a") {
		t.Fatalf("sid %q reveals or reuses its input", a)
	}
}

// flowFixture is a provider with user u1, client c1 and a consent of u1 to
// c1 for "openid profile".
type flowFixture struct {
	p      *Provider
	store  storage.Store
	client *Client
}

func newFlowFixture(t *testing.T) *flowFixture {
	t.Helper()
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	ctx := t.Context()
	must(t, store.CreateClient(ctx, testClient("c1")))
	must(t, store.CreateUser(ctx, &storage.User{ID: "u1", Username: "alice", Email: "alice@example.com", EmailVerified: true, Name: "Alice", UpdatedAt: testNow}))
	must(t, store.SaveConsent(ctx, &storage.Consent{UserID: "u1", ClientID: "c1", Scopes: []string{"openid", "profile"}, GrantedAt: testNow}))
	c, err := p.Clients.Get(ctx, "c1")
	must(t, err)
	return &flowFixture{p: p, store: store, client: c}
}

// session is a browser session of u1 that logged in age ago.
func session(age time.Duration) *storage.BrowserSession {
	return &storage.BrowserSession{ID: "bs-1", UserID: "u1", AuthTime: testNow.Add(-age), ExpiresAt: testNow.Add(time.Hour)}
}

func TestNextStep(t *testing.T) {
	f := newFlowFixture(t)
	tests := []struct {
		name  string
		form  string
		bs    *storage.BrowserSession
		want  Step
		err   string // OAuth error code, "" for none
		hint  string
		after func(t *testing.T)
	}{
		{"ok/no-session-login", "scope=openid", nil, StepLogin, "", "", nil},
		{"ok/remembered-consent-issues", "scope=openid+profile", session(time.Minute), StepIssue, "", "", nil},
		{"ok/remembered-consent-subset-issues", "scope=openid", session(time.Minute), StepIssue, "", "", nil},
		{"ok/grown-scopes-consent", "scope=openid+profile+email", session(time.Minute), StepConsent, "", "", nil},
		{"ok/prompt-login", "scope=openid&prompt=login", session(time.Minute), StepLogin, "", "", nil},
		{"ok/prompt-login-consent", "scope=openid&prompt=login+consent", session(time.Minute), StepLogin, "", "", nil},
		{"ok/prompt-consent-remembered", "scope=openid&prompt=consent", session(time.Minute), StepConsent, "", "", nil},
		{"ok/max-age-exceeded", "scope=openid&max_age=60", session(2 * time.Minute), StepLogin, "", "", nil},
		{"ok/max-age-zero", "scope=openid&max_age=0", session(time.Second), StepLogin, "", "", nil},
		{"ok/max-age-within", "scope=openid&max_age=600", session(2 * time.Minute), StepIssue, "", "", nil},
		{"ok/max-age-boundary", "scope=openid&max_age=120", session(2 * time.Minute), StepIssue, "", "", nil},
		{"ok/prompt-none-logged-in-consented", "scope=openid&prompt=none", session(time.Minute), StepIssue, "", "", nil},
		{"fail/prompt-none-no-session", "scope=openid&prompt=none", nil, 0, "login_required", "", nil},
		{"fail/prompt-none-max-age-exceeded", "scope=openid&prompt=none&max_age=10", session(time.Minute), 0, "login_required", "", nil},
		{"fail/prompt-none-consent-needed", "scope=openid+email&prompt=none", session(time.Minute), 0, "consent_required", "", nil},
		{"fail/prompt-none-with-login", "scope=openid&prompt=none+login", session(time.Minute), 0, "invalid_request", "prompt=none", nil},
		{"fail/max-age-negative", "scope=openid&max_age=-1", session(time.Minute), 0, "invalid_request", "max_age", nil},
		{"fail/max-age-garbage", "scope=openid&max_age=soon", session(time.Minute), 0, "invalid_request", "max_age", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form, err := url.ParseQuery(tc.form)
			must(t, err)
			step, err := f.p.nextStep(t.Context(), authorizeRequest(f.client, form), tc.bs)
			if tc.err != "" {
				rfc := fosite.ErrorToRFC6749Error(err)
				if err == nil || rfc.ErrorField != tc.err {
					t.Fatalf("NextStep = %v, %v; want error %s", step, err, tc.err)
				}
				if !strings.Contains(rfc.HintField, tc.hint) {
					t.Fatalf("hint %q does not mention %q", rfc.HintField, tc.hint)
				}
				return
			}
			must(t, err)
			if step != tc.want {
				t.Fatalf("NextStep = %v, want %v", step, tc.want)
			}
		})
	}
	t.Run("fail/other-user-consent-does-not-count", func(t *testing.T) {
		bs := session(time.Minute)
		bs.UserID = "u2"
		step, err := f.p.nextStep(t.Context(), authorizeRequest(f.client, url.Values{"scope": {"openid"}}), bs)
		must(t, err)
		if step != StepConsent {
			t.Fatalf("NextStep = %v, want StepConsent (u2 never consented)", step)
		}
	})
}

func TestSaveConsentMerges(t *testing.T) {
	f := newFlowFixture(t)
	flow := &storage.AuthFlow{Subject: "u1", ClientID: "c1", Form: []byte("scope=openid+email")}
	must(t, f.p.SaveConsent(t.Context(), &Flow{rec: flow, form: url.Values{"scope": {"openid email"}}}))
	for _, tc := range []struct {
		scopes []string
		need   bool
	}{
		{[]string{"openid", "profile", "email"}, false}, // old and new scopes both remembered
		{[]string{"openid", "offline_access"}, true},
	} {
		need, err := f.p.needsConsent(t.Context(), "u1", "c1", tc.scopes, false)
		must(t, err)
		if need != tc.need {
			t.Errorf("NeedsConsent(%v) = %v, want %v", tc.scopes, need, tc.need)
		}
	}
}

func TestCheckAuthorizePolicy(t *testing.T) {
	f := newFlowFixture(t)
	clientWith := func(mutate func(c *storage.Client)) *Client {
		sc := testClient("c1")
		mutate(sc)
		return mustClient(t, sc)
	}
	confidential := f.client
	public := clientWith(func(c *storage.Client) {
		c.Public = true
		c.RedirectURIs = []string{"http://127.0.0.1/callback", "com.example.app:/cb"}
	})
	par := clientWith(func(c *storage.Client) { c.RequirePAR = true })
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	tests := []struct {
		name   string
		client fosite.Client
		form   url.Values
		pushed bool
		err    error // nil: allowed
		hint   string
	}{
		{"ok/confidential-exact-redirect", confidential, url.Values{"response_type": {"code"}, "redirect_uri": {"https://c1.example/cb2"}}, false, nil, ""},
		{"ok/confidential-no-redirect-param", confidential, url.Values{"response_type": {"code"}}, false, nil, ""},
		{"ok/confidential-pkce-optional", confidential, url.Values{"response_type": {"code"}, "redirect_uri": {"https://c1.example/cb"}}, false, nil, ""},
		{"ok/confidential-pkce-s256", confidential, url.Values{"response_type": {"code"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}, false, nil, ""},
		{"fail/confidential-redirect-extra-path", confidential, url.Values{"response_type": {"code"}, "redirect_uri": {"https://c1.example/cb/evil"}}, false, ErrRedirectNotRegistered, "exactly"},
		{"fail/confidential-redirect-extra-query", confidential, url.Values{"response_type": {"code"}, "redirect_uri": {"https://c1.example/cb?x=1"}}, false, ErrRedirectNotRegistered, "exactly"},
		{"fail/confidential-loopback-port", clientWith(func(c *storage.Client) { c.RedirectURIs = []string{"http://127.0.0.1/cb"} }),
			url.Values{"response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:8080/cb"}}, false, ErrRedirectNotRegistered, "exactly"},
		{"ok/public-loopback-port", public, url.Values{"response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:51234/callback"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}, false, nil, ""},
		{"ok/public-s256", public, url.Values{"response_type": {"code"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}, false, nil, ""},
		{"fail/public-without-pkce", public, url.Values{"response_type": {"code"}}, false, fosite.ErrInvalidRequest, "PKCE"},
		{"fail/public-hybrid-without-pkce", public, url.Values{"response_type": {"code id_token"}}, false, fosite.ErrInvalidRequest, "PKCE"},
		{"fail/pkce-plain", confidential, url.Values{"response_type": {"code"}, "code_challenge": {challenge}, "code_challenge_method": {"plain"}}, false, fosite.ErrInvalidRequest, "S256"},
		{"fail/pkce-plain-public", public, url.Values{"response_type": {"code"}, "code_challenge": {challenge}, "code_challenge_method": {"plain"}}, false, fosite.ErrInvalidRequest, "S256"},
		{"fail/pkce-challenge-without-method", confidential, url.Values{"response_type": {"code"}, "code_challenge": {challenge}}, false, fosite.ErrInvalidRequest, "code_challenge_method"},
		{"fail/require-par-not-pushed", par, url.Values{"response_type": {"code"}}, false, fosite.ErrInvalidRequest, "pushed"},
		{"fail/require-par-foreign-request-uri", par, url.Values{"response_type": {"code"}, "request_uri": {"https://evil.example/req"}}, false, fosite.ErrInvalidRequest, "pushed"},
		{"ok/require-par-at-par-endpoint", par, url.Values{"response_type": {"code"}}, true, nil, ""},
		{"ok/require-par-with-request-uri", par, url.Values{"response_type": {"code"}, "request_uri": {"urn:ietf:params:oauth:request_uri:abc"}}, false, nil, ""},
		{"fail/foreign-client-type", &fosite.DefaultClient{ID: "x"}, url.Values{"response_type": {"code"}}, false, fosite.ErrServerError, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := f.p.checkAuthorizePolicy(t.Context(), authorizeRequest(tc.client, tc.form), tc.pushed)
			if tc.err == nil {
				must(t, err)
				return
			}
			wantErr(t, err, tc.err)
			if tc.err == ErrRedirectNotRegistered {
				wantErr(t, err, fosite.ErrInvalidRequest)
			} else if errors.Is(err, ErrRedirectNotRegistered) {
				t.Fatal("only redirect mismatches may suppress the redirect")
			}
			if rfc := fosite.ErrorToRFC6749Error(err); !strings.Contains(rfc.HintField, tc.hint) {
				t.Fatalf("hint %q does not mention %q", rfc.HintField, tc.hint)
			}
		})
	}
}

func TestStartFlow(t *testing.T) {
	f := newFlowFixture(t)
	ctx := t.Context()
	form := url.Values{
		"response_type": {"code"}, "scope": {"openid profile"}, "state": {"st-123"},
		"client_secret": {"SECRET"}, "request_uri": {"urn:ietf:params:oauth:request_uri:abc"},
	}
	challenge, err := f.p.startFlow(ctx, authorizeRequest(f.client, form), nil, testBinding)
	must(t, err)
	flow, c, err := f.p.loadFlow(ctx, challenge, testBinding)
	must(t, err)
	if c.GetID() != "c1" || flow.ClientID != "c1" {
		t.Fatalf("flow of client %q / %q", c.GetID(), flow.ClientID)
	}
	if flow.ID == challenge || strings.Contains(flow.ID, challenge) {
		t.Fatal("the challenge itself is stored")
	}
	stored, err := url.ParseQuery(string(flow.Form))
	must(t, err)
	if stored.Has("client_secret") || stored.Has("request_uri") {
		t.Fatalf("stored form %v keeps a secret or the single-use request_uri", stored)
	}
	if stored.Get("state") != "st-123" || !slices.Equal(flowScopes(flow), []string{"openid", "profile"}) {
		t.Fatalf("stored form %v lost parameters", stored)
	}
	if flow.Subject != "" || flow.AuthTime != nil {
		t.Fatal("a flow without a session records a login")
	}
	if !flow.ExpiresAt.Equal(testNow.Add(f.p.Config.LoginFlowLifespan)) {
		t.Fatalf("flow expires at %v", flow.ExpiresAt)
	}

	for _, bad := range []string{"", "unknown", strings.Repeat("x", 129), challenge + "x"} {
		if _, _, err := f.p.loadFlow(ctx, bad, testBinding); !errors.Is(err, ErrFlowNotFound) {
			t.Errorf("Flow(%.10q...) = %v, want ErrFlowNotFound", bad, err)
		}
	}

	t.Run("ok/session-recorded-when-no-login-needed", func(t *testing.T) {
		bs := session(time.Minute)
		ar := authorizeRequest(f.client, url.Values{"response_type": {"code"}, "scope": {"openid email"}})
		step, err := f.p.nextStep(ctx, ar, bs)
		must(t, err)
		if step != StepConsent {
			t.Fatalf("step = %v, want StepConsent", step)
		}
		ch, err := f.p.startFlow(ctx, ar, bs, testBinding)
		must(t, err)
		flow, _, err := f.p.loadFlow(ctx, ch, testBinding)
		must(t, err)
		if flow.Subject != "u1" || flow.SessionID != "bs-1" || flow.AuthTime == nil || !flow.AuthTime.Equal(bs.AuthTime) {
			t.Fatalf("flow = %+v, want the session's login recorded", flow)
		}
	})
	t.Run("ok/session-not-recorded-for-prompt-login", func(t *testing.T) {
		ar := authorizeRequest(f.client, url.Values{"response_type": {"code"}, "scope": {"openid"}, "prompt": {"login"}})
		ch, err := f.p.startFlow(ctx, ar, session(time.Minute), testBinding)
		must(t, err)
		flow, _, err := f.p.loadFlow(ctx, ch, testBinding)
		must(t, err)
		if flow.Subject != "" {
			t.Fatal("prompt=login flow carries the old login: the user is not asked again")
		}
	})
	// Whenever nextStep asks for a login, the flow must not carry the old
	// one: the login page refuses a flow with a subject ("already
	// completed") and the consent page accepts it, which would issue with
	// the stale auth_time. (startFlow once recognised only prompt exactly
	// "login", missing max_age and prompt lists.)
	for _, tc := range []struct{ name, form string }{
		{"ok/max-age-exceeded-drops-old-login", "response_type=code&scope=openid&max_age=60"},
		{"ok/prompt-login-consent-drops-old-login", "response_type=code&scope=openid&prompt=login+consent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form, err := url.ParseQuery(tc.form)
			must(t, err)
			ar := authorizeRequest(f.client, form)
			bs := session(10 * time.Minute)
			step, err := f.p.nextStep(ctx, ar, bs)
			must(t, err)
			if step != StepLogin {
				t.Fatalf("step = %v, want StepLogin", step)
			}
			ch, err := f.p.startFlow(ctx, ar, bs, testBinding)
			must(t, err)
			flow, _, err := f.p.loadFlow(ctx, ch, testBinding)
			must(t, err)
			if flow.Subject != "" || flow.AuthTime != nil {
				t.Fatalf("flow sent to login carries the old login (subject %q, auth_time %v)", flow.Subject, flow.AuthTime)
			}
		})
	}
}

func TestCompleteLoginAndBrowserSession(t *testing.T) {
	f := newFlowFixture(t)
	ctx := t.Context()
	ch, err := f.p.startFlow(ctx, authorizeRequest(f.client, url.Values{"response_type": {"code"}, "scope": {"openid"}}), nil, testBinding)
	must(t, err)
	flow, _, err := f.p.loadFlow(ctx, ch, testBinding)
	must(t, err)
	user, err := f.store.GetUser(ctx, "u1")
	must(t, err)
	bs, cookie, err := f.p.loginOnFlow(ctx, flow, user, []string{"pwd"})
	must(t, err)
	if bs.ID == cookie || bs.ID != hashID(cookie) {
		t.Fatal("the session is stored under the cookie value, not its hash")
	}
	got, err := f.p.BrowserSession(ctx, cookie)
	must(t, err)
	if got == nil || got.UserID != "u1" || !slices.Equal(got.AMR, []string{"pwd"}) {
		t.Fatalf("browser session = %+v", got)
	}
	flow, _, err = f.p.loadFlow(ctx, ch, testBinding)
	must(t, err)
	if flow.Subject != "u1" || flow.SessionID != bs.ID || flow.AuthTime == nil {
		t.Fatalf("login not recorded on the flow: %+v", flow)
	}
	for _, bad := range []string{"", "unknown-cookie", bs.ID, strings.Repeat("x", 129)} {
		got, err := f.p.BrowserSession(ctx, bad)
		if err != nil || got != nil {
			t.Errorf("BrowserSession(%.10q...) = %v, %v; want none", bad, got, err)
		}
	}
}

func TestUserClaims(t *testing.T) {
	u := &storage.User{ID: "u1", Username: "alice", Email: "alice@example.com", EmailVerified: true, Name: "Alice A", GivenName: "Alice", UpdatedAt: testNow}
	tests := []struct {
		name   string
		scopes fosite.Arguments
		want   []string
	}{
		{"ok/openid-only", fosite.Arguments{"openid"}, nil},
		{"ok/profile", fosite.Arguments{"openid", "profile"}, []string{"given_name", "name", "preferred_username", "updated_at"}},
		{"ok/email", fosite.Arguments{"openid", "email"}, []string{"email", "email_verified"}},
		{"ok/both", fosite.Arguments{"profile", "email"}, []string{"email", "email_verified", "given_name", "name", "preferred_username", "updated_at"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := UserClaims(u, tc.scopes)
			var keys []string
			for k := range c {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, tc.want) {
				t.Fatalf("claims %v, want keys %v", c, tc.want)
			}
		})
	}
}

// TestWriteAuthorizeErrorDoesNotRedirectUnregistered: fosite accepts a
// loopback redirect URI on any port (RFC 8252 §7.3); for a confidential
// client Strongroom refuses it and must not send the error there either.
func TestWriteAuthorizeErrorDoesNotRedirectUnregistered(t *testing.T) {
	f := newFlowFixture(t)
	sc := testClient("c1")
	sc.RedirectURIs = []string{"http://127.0.0.1/cb"}
	client := mustClient(t, sc)
	newAR := func(redirect string) *fosite.AuthorizeRequest {
		ar := authorizeRequest(client, url.Values{"response_type": {"code"}, "redirect_uri": {redirect}})
		ar.RedirectURI, _ = url.Parse(redirect)
		ar.State = "st"
		return ar
	}
	other := newAR("http://127.0.0.1:8080/cb")
	if !other.IsRedirectURIValid() {
		t.Fatal("test setup: fosite should accept the loopback port")
	}
	policyErr := f.p.checkAuthorizePolicy(t.Context(), other, false)
	for _, tc := range []struct {
		name     string
		ar       *fosite.AuthorizeRequest
		err      error
		redirect bool
	}{
		{"fail/unregistered-loopback-port-rendered", other, policyErr, false},
		{"ok/registered-redirected", newAR("http://127.0.0.1/cb"), fosite.ErrAccessDenied, true},
		// issue 7 item 14: every error, not only the policy's, stays off the unregistered port
		{"fail/loopback-port-other-error-rendered", other, fosite.ErrInvalidScope, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("no error to write")
			}
			resp, err := f.p.authorizeError(t.Context(), tc.ar, tc.err)
			loc, status := "", 0
			if resp != nil {
				loc = resp.RedirectURL
			}
			var page *UnredirectableError
			if errors.As(err, &page) {
				status = page.Status
			}
			if tc.redirect != (loc != "") {
				t.Fatalf("Location = %q (status %d), want redirect: %v", loc, status, tc.redirect)
			}
			if tc.redirect && (!strings.HasPrefix(loc, tc.ar.RedirectURI.String()) || !strings.Contains(loc, "state=st") || !strings.Contains(loc, "iss=")) {
				t.Fatalf("redirect %q: wrong target or lacks state or iss", loc)
			}
			if !tc.redirect && status != http.StatusBadRequest {
				t.Fatalf("rendered with status %d, want 400", status)
			}
		})
	}
}

// recorder is a minimal http.ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(s int)           { r.status = s }

// A login completed in the same second as its authorization request must not
// look older than the request: fosite refuses prompt=login when auth_time is
// before requested_at, and auth_time has whole seconds.
func TestSessionTimesAreWholeSeconds(t *testing.T) {
	p := newTestProvider(t, newMemoryStore(t))
	c, err := newClient(testClient("c1"))
	must(t, err)
	second := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	requested := second.Add(700 * time.Millisecond)          // the authorization request
	bs := &storage.BrowserSession{ID: "s", AuthTime: second} // login at .900, stored truncated
	s := p.newUserSession(c, &storage.User{ID: "u1", Username: "carol"}, bs, requested, fosite.Arguments{"openid"})
	claims := s.IDTokenClaims()
	if claims.AuthTime.Before(claims.RequestedAt) {
		t.Fatalf("auth_time %v before requested_at %v: prompt=login would fail", claims.AuthTime, claims.RequestedAt)
	}
	if !claims.RequestedAt.Equal(second) {
		t.Fatalf("requested_at %v, want %v", claims.RequestedAt, second)
	}
}
