package login

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/internal/authztest"
	"github.com/strongroom/strongroom/storage"
)

func TestCSRF(t *testing.T) {
	p, err := NewCSRF(testSystemSecret)
	must(t, err)
	other := &CSRF{key: []byte("another-csrf-key-0123456789abcdef")}
	const cookie, challenge = "csrf-cookie-value", "flow-challenge"
	token := p.Token(cookie, challenge)
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
		{"fail/empty-cookie", "", challenge, p.Token("", challenge), false},
		{"fail/other-server-key", cookie, challenge, other.Token(cookie, challenge), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Check(tc.cookie, tc.challenge, tc.token); got != tc.ok {
				t.Fatalf("CheckCSRF = %v, want %v", got, tc.ok)
			}
		})
	}
	if p.Token(cookie, challenge) != token {
		t.Fatal("CSRF token is not deterministic")
	}
}

func TestSessionSID(t *testing.T) {
	p := newTestProvider(t, newMemoryStore(t))
	a, b := p.authorizer.SessionSID("session-a"), p.authorizer.SessionSID("session-b")
	if a == b || a != p.authorizer.SessionSID("session-a") {
		t.Fatalf("sid not stable per session: %q %q", a, b)
	}
	csrf, err := NewCSRF(testSystemSecret)
	must(t, err)
	if strings.Contains(a, "session-a") || a == csrf.Token("", "session-a") {
		t.Fatalf("sid %q reveals or reuses its input", a)
	}
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
		{"fail/prompt-none-new-authorization-details", "scope=openid&prompt=none&authorization_details=" + url.QueryEscape(`[{"type":"payment_initiation"}]`), session(time.Minute), 0, "consent_required", "", nil},
		{"ok/new-authorization-details-ask", "scope=openid&authorization_details=" + url.QueryEscape(`[{"type":"payment_initiation"}]`), session(time.Minute), StepConsent, "", "", nil},
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
		need, err := f.p.needsConsent(t.Context(), "u1", "c1", tc.scopes, nil, false)
		must(t, err)
		if need != tc.need {
			t.Errorf("NeedsConsent(%v) = %v, want %v", tc.scopes, need, tc.need)
		}
	}
}

// A consent remembers the exact authorization details approved (RFC 9396):
// the same details again need no consent, other details (a new payment)
// always do, even though every scope was consented, and even at a
// first-party client.
func TestConsentRememberedPerExactAuthorizationDetails(t *testing.T) {
	f := newFlowFixture(t)
	ctx := t.Context()
	pay := func(amount string) string {
		return `[{"instructedAmount":{"amount":"` + amount + `","currency":"EUR"},"type":"payment_initiation"}]`
	}
	flow := &storage.AuthFlow{Subject: "u1", ClientID: "c1"}
	must(t, f.p.SaveConsent(ctx, &Flow{rec: flow, form: url.Values{"scope": {"openid"}, "authorization_details": {pay("250.00")}}}))
	got, err := f.p.store.GetConsent(ctx, "u1", "c1")
	must(t, err)
	if string(got.AuthorizationDetails) != pay("250.00") {
		t.Fatalf("remembered details %s", got.AuthorizationDetails)
	}
	for _, tc := range []struct {
		name    string
		details string
		need    bool
	}{
		{"ok/same-payment", pay("250.00"), false},
		{"ok/no-details", "", false},
		{"fail/other-amount", pay("250.01"), true},
		{"fail/same-amount-written-differently", pay("250.0"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			need, err := f.p.needsConsent(ctx, "u1", "c1", []string{"openid"}, []byte(tc.details), false)
			must(t, err)
			if need != tc.need {
				t.Fatalf("needsConsent = %v, want %v", need, tc.need)
			}
		})
	}
	t.Run("fail/first-party-still-asked-for-details", func(t *testing.T) {
		must(t, f.p.store.UpdateClient(ctx, "c1", func(c *storage.Client) error { c.Metadata.SkipConsent = true; return nil }))
		f.p.clients.Invalidate("c1")
		need, err := f.p.needsConsent(ctx, "u1", "c1", []string{"openid"}, []byte(pay("9.99")), false)
		must(t, err)
		if !need {
			t.Fatal("a first-party client's new payment was not asked")
		}
		need, err = f.p.needsConsent(ctx, "u1", "c1", []string{"openid", "email"}, nil, false)
		must(t, err)
		if need {
			t.Fatal("a first-party client without details was asked")
		}
	})
	t.Run("ok/consent-without-details-forgets-them", func(t *testing.T) {
		must(t, f.p.SaveConsent(ctx, &Flow{rec: flow, form: url.Values{"scope": {"openid"}}}))
		need, err := f.p.needsConsent(ctx, "u1", "c1", []string{"openid"}, []byte(pay("250.00")), false)
		must(t, err)
		if !need {
			t.Fatal("details are remembered after a consent without them")
		}
	})
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
	if !flow.ExpiresAt.Equal(testNow.Add(f.p.cfg.LoginFlowLifespan)) {
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
	if bs.ID == cookie || bs.ID != authz.HashID(cookie) {
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

// flowFixture is a provider with user u1, client c1 and a consent of u1 to
// c1 for "openid profile".
type flowFixture struct {
	p      *Service
	store  storage.Store
	client *authz.Client
}

func newFlowFixture(t *testing.T) *flowFixture {
	t.Helper()
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	authztest.SeedConsentedUser(t, store)
	c, err := p.clients.Get(t.Context(), "c1")
	must(t, err)
	return &flowFixture{p: p, store: store, client: c}
}
