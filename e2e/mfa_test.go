package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pquerna/otp/totp"

	"github.com/strongroom/strongroom/authz/throttle"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/server/servertest"
	"github.com/strongroom/strongroom/storage"
)

// mfaState counts and sums what a rejected second factor must not change.
func (e *env) mfaState(t *testing.T) map[string]int64 {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), e.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	out := map[string]int64{}
	for name, q := range map[string]string{
		"browser_sessions":     "SELECT count(*) FROM browser_sessions",
		"consents":             "SELECT count(*) FROM consents",
		"oauth2_requests":      "SELECT count(*) FROM oauth2_requests",
		"webauthn_credentials": "SELECT count(*) FROM webauthn_credentials",
		"totp_last_step":       "SELECT COALESCE(sum(last_step), 0) FROM totp_enrolments",
		"recovery_unused":      "SELECT count(*) FROM recovery_codes WHERE used_at IS NULL",
		"pending_logins":       "SELECT count(*) FROM pending_logins",
	} {
		var n int64
		if err := pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = n
	}
	return out
}

var totpSecretRE = regexp.MustCompile(`id="totp-secret"[^>]*>([A-Z2-7 ]+)<`)

// mfaFixture signs alice in at a client that requires MFA, enrols TOTP on the
// enrolment page and returns the secret and the page after the second
// factor page of a new sign-in (the browser b now waits for a code there).
// Enrolment uses the code of the previous 30 s step.
func (e *env) mfaFixture(t *testing.T) (b *browser, secret, page string) {
	t.Helper()
	b, secret, page, _ = e.mfaFixtureEnrolledAt(t, -30*time.Second)
	return b, secret, page
}

// mfaFixtureEnrolledAt is mfaFixture enrolling with the code of the TOTP
// step that holds time.Now()+offset; it returns that instant too.
func (e *env) mfaFixtureEnrolledAt(t *testing.T, offset time.Duration) (b *browser, secret, page string, enrolledAt time.Time) {
	t.Helper()
	c := webClient("authorization_code")
	c.Metadata.RequireMFA = true
	e.createClient(c)
	b = newBrowser(t)
	authURL := func() string {
		v := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectURI},
			"scope": {"openid"}, "state": {randString()}, "prompt": {"login"}}
		return e.issuer + "/oauth2/authorize?" + v.Encode()
	}
	_, body := b.get(authURL())
	f := formFields(t, body)
	f.Set("username", "alice")
	f.Set("password", testPassword)
	resp, body := b.post(e.issuer+"/login", f)
	if resp.Request.URL.Path != "/login/enroll" {
		t.Fatalf("expected the enrolment page, got %d at %s", resp.StatusCode, resp.Request.URL)
	}
	m := totpSecretRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no TOTP secret on the enrolment page")
	}
	secret = strings.ReplaceAll(m[1], " ", "")
	enrolledAt = time.Now().Add(offset)
	code, _ := totp.GenerateCode(secret, enrolledAt)
	f = formFields(t, body)
	f.Set("method", "totp")
	f.Set("code", code)
	resp, body = b.post(e.issuer+"/login/enroll", f)
	if !strings.Contains(body, "Save your recovery codes") {
		t.Fatalf("enrolment failed: %d %s", resp.StatusCode, body)
	}
	// A new sign-in, up to the second-factor page.
	_, body = b.get(authURL())
	f = formFields(t, body)
	f.Set("username", "alice")
	f.Set("password", testPassword)
	resp, page = b.post(e.issuer+"/login", f)
	if resp.Request.URL.Path != "/login/mfa" {
		t.Fatalf("expected the second-factor page, got %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return b, secret, page, enrolledAt
}

// Second factors that must fail, each with a clear page and no change in
// the database (no session, no consumed step or code, no credential).
func TestBadSecondFactors(t *testing.T) {
	e := startWith(t, func(c *server.Config) {
		c.Authz.Issuer = servertest.Localhost
		// no waits or locks here: every case must reach the factor check
		lax := throttle.Policy{FreeFailures: 1000, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond,
			MaxFailures: 10000, LockDuration: time.Second, Window: time.Minute}
		c.Authz.LoginThrottle = throttle.Config{Account: lax, IP: lax}
	})
	// Enrolled with the current step's code: the enrolment code stays
	// "already used" and the next step's code stays valid for at least 30 s
	// (both lie in the ±1 step window), whichever step boundaries the test
	// straddles. No waiting for a fresh step.
	b, secret, page, enrolledAt := e.mfaFixtureEnrolledAt(t, 0)
	form := formFields(t, page)
	codeOfStepAt := func(at time.Time) string {
		c, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	codeAt := func(d time.Duration) string { return codeOfStepAt(time.Now().Add(d)) }
	enrolmentCode, nextStepCode := codeOfStepAt(enrolledAt), codeOfStepAt(enrolledAt.Add(30*time.Second))
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range form {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "<delete>" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	cases := []struct {
		name   string
		form   url.Values
		status int
		text   string
	}{
		{"fail/totp-replayed-enrolment-step", with("method", "totp", "code", enrolmentCode), http.StatusUnauthorized, "already used"},
		{"fail/totp-two-steps-old", with("method", "totp", "code", codeAt(-90*time.Second)), http.StatusUnauthorized, "not valid"},
		{"fail/totp-two-steps-ahead", with("method", "totp", "code", codeAt(90*time.Second)), http.StatusUnauthorized, "not valid"},
		{"fail/totp-not-digits", with("method", "totp", "code", "12ab56"), http.StatusUnauthorized, "not valid"},
		{"fail/recovery-code-wrong", with("method", "recovery", "code", "aaaa-bbbb-cccc"), http.StatusUnauthorized, "recovery code is not valid"},
		{"fail/webauthn-garbage", with("method", "webauthn", "response", `{"id":"x","rawId":"%%%","type":"public-key","response":{}}`), http.StatusUnauthorized, "passkey could not be verified"},
		{"fail/unknown-method", with("method", "sms", "code", "123456"), http.StatusBadRequest, "Choose a way to verify"},
		{"fail/csrf-tampered", with("method", "totp", "code", codeAt(0), "csrf_token", "AAAA"), http.StatusForbidden, "tampered"},
		{"fail/csrf-missing", with("method", "totp", "code", codeAt(0), "csrf_token", "<delete>"), http.StatusForbidden, "tampered"},
		{"fail/challenge-unknown", with("method", "totp", "code", codeAt(0), "login_challenge", "nope"), http.StatusForbidden, "tampered"},
		{"fail/oversized-field", with("method", "totp", "code", strings.Repeat("1", 20<<10)), http.StatusBadRequest, "could not be read"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.mfaState(t)
			resp, body := b.post(e.issuer+"/login/mfa", tc.form)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.text) {
				t.Fatalf("status %d, want %d with %q: %s", resp.StatusCode, tc.status, tc.text, body)
			}
			if strings.Contains(body, "<script>alert") {
				t.Fatal("reflected input")
			}
			if after := e.mfaState(t); !equalMaps(before, after) {
				t.Fatalf("database changed: %v → %v", before, after)
			}
		})
	}
	// The failures are in the audit trail, without the codes.
	ev, err := e.srv.Store.ListAudit(context.Background(), storage.AuditFilter{Action: "login.totp", Target: e.userID})
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) < 4 {
		t.Fatalf("login.totp audit events: %d", len(ev))
	}
	for _, x := range ev {
		for _, v := range x.Details {
			if regexp.MustCompile(`^\d{6}$`).MatchString(v) {
				t.Fatalf("audit event carries a code: %+v", x)
			}
		}
	}
	// Finally the right code works, exactly once.
	resp, _ := b.post(e.issuer+"/login/mfa", with("method", "totp", "code", nextStepCode))
	if resp.StatusCode != http.StatusSeeOther && resp.Request.URL.Path != "/consent" {
		t.Fatalf("the valid code was refused: %d at %s", resp.StatusCode, resp.Request.URL)
	}
}

func equalMaps(a, b map[string]int64) bool {
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
