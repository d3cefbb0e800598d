package browser

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/mfa"
	"github.com/strongroom/strongroom/storage"
)

const carolPassword = "velvet-harbour-lantern-97"

// A user created with the CLI signs in with password and TOTP (enrolled on
// the spot through the QR page because the client requires MFA), consents,
// and the relying party receives an ID token whose amr has pwd and otp. A
// second sign-in asks for a TOTP code on the second-factor page.
func TestPasswordTOTPConsentFlow(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	userID := e.createUser("carol", carolPassword)
	rp := newRP(t, e, func(c *storage.Client) { c.Metadata.RequireMFA = true })
	b := newChrome(t)

	ar := rp.authURL()
	b.run(chromedp.Navigate(ar.URL), chromedp.WaitVisible(chromedp.CSS("#username")))
	b.screenshot("01-login")
	b.signIn("carol", carolPassword)

	// Enrolment: a QR code image and the secret for manual entry.
	b.run(chromedp.WaitVisible(chromedp.CSS("img.qr")))
	qrSrc := get(b, chromedp.AttributeValue(chromedp.CSS("img.qr"), "src")).Value
	if !strings.HasPrefix(qrSrc, "data:image/png;base64,") || len(qrSrc) < 500 {
		t.Fatalf("the QR code is not a PNG image: %.60q", qrSrc)
	}
	b.screenshot("02-totp-enrolment")
	secret := strings.ReplaceAll(b.text("#totp-secret"), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.run(chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Submit(chromedp.CSS("#code")))

	// Recovery codes, shown once.
	b.run(chromedp.WaitVisible(chromedp.CSS("ul.codes")))
	if n := strings.Count(b.text("ul.codes"), "-"); n != 2*mfa.RecoveryCodeCount {
		t.Fatalf("recovery code page shows %d dashes, want %d codes", n, mfa.RecoveryCodeCount)
	}
	b.screenshot("03-recovery-codes")
	b.run(chromedp.Click(chromedp.CSS("form button[type=submit]")))

	// Consent, then the relying party.
	b.run(chromedp.WaitVisible(chromedp.CSS("button[value=allow]")))
	b.screenshot("04-consent")
	b.run(chromedp.Click(chromedp.CSS("button[value=allow]")), chromedp.WaitVisible(chromedp.CSS("#rp-done")))
	c := tokenClaims(t, rp.idToken(ar))
	wantAMR(t, c, "pwd", "otp")
	if c.ACR != authz.ACRMFA {
		t.Fatalf("acr = %q, want %q", c.ACR, authz.ACRMFA)
	}

	// Second sign-in: the second-factor page asks for a code. The step used at
	// enrolment is spent, so use the next one (inside the ±1 step window).
	ar = rp.authURL(oauth2.SetAuthURLParam("prompt", "login"))
	b.run(chromedp.Navigate(ar.URL))
	b.signIn("carol", carolPassword)
	b.run(chromedp.WaitVisible(chromedp.CSS("#code")))
	b.screenshot("05-totp-entry")
	code, err = totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	b.run(chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Submit(chromedp.CSS("#code")),
		chromedp.WaitVisible(chromedp.CSS("#rp-done")))
	wantAMR(t, tokenClaims(t, rp.idToken(ar)), "pwd", "otp", "mfa")

	for _, action := range []string{"login.password", "mfa.enrol.totp", "login.totp"} {
		ev := e.audit(action, userID)
		if len(ev) == 0 || ev[0].Outcome != storage.OutcomeSuccess || ev[0].SourceIP == "" || !strings.Contains(ev[0].UserAgent, "Chrome") {
			t.Fatalf("audit %s: %+v", action, ev)
		}
	}
}

// A passkey is registered on the enrolment page with Chromium's virtual
// authenticator, then used as the second factor of the next sign-in.
func TestPasskeyRegistrationAndLogin(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	userID := e.createUser("carol", carolPassword)
	rp := newRP(t, e, func(c *storage.Client) { c.Metadata.RequireMFA = true })
	b := newChrome(t)
	b.virtualAuthenticator()

	ar := rp.authURL()
	b.run(chromedp.Navigate(ar.URL))
	b.signIn("carol", carolPassword)
	b.run(chromedp.WaitVisible(chromedp.CSS("#passkey")), chromedp.Click(chromedp.CSS("#passkey")),
		chromedp.WaitVisible(chromedp.CSS("ul.codes")), chromedp.Click(chromedp.CSS("form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("button[value=allow]")), chromedp.Click(chromedp.CSS("button[value=allow]")),
		chromedp.WaitVisible(chromedp.CSS("#rp-done")))
	c := tokenClaims(t, rp.idToken(ar))
	wantAMR(t, c, "pwd", "hwk", "mfa")

	creds, err := e.store().ListWebAuthnCredentials(context.Background(), userID)
	if err != nil || len(creds) != 1 || len(creds[0].PublicKey) == 0 || len(creds[0].AAGUID) != 16 {
		t.Fatalf("stored credentials: %+v, %v", creds, err)
	}

	ar = rp.authURL(oauth2.SetAuthURLParam("prompt", "login"))
	b.run(chromedp.Navigate(ar.URL))
	b.signIn("carol", carolPassword)
	b.run(chromedp.WaitVisible(chromedp.CSS("#passkey")))
	b.screenshot("06-passkey-second-factor")
	b.run(chromedp.Click(chromedp.CSS("#passkey")), chromedp.WaitVisible(chromedp.CSS("#rp-done")))
	wantAMR(t, tokenClaims(t, rp.idToken(ar)), "pwd", "hwk")

	creds, _ = e.store().ListWebAuthnCredentials(context.Background(), userID)
	if creds[0].LastUsedAt == nil {
		t.Fatal("the passkey's use was not recorded")
	}
	if ev := e.audit("login.webauthn", userID); len(ev) != 1 || ev[0].Outcome != storage.OutcomeSuccess {
		t.Fatalf("audit login.webauthn: %+v", ev)
	}
}

// Five wrong passwords in a row: the first two answer at once, later ones
// must wait longer and longer (an attempt during the wait is refused
// unchecked), the fifth locks the account (even the right password is
// refused), every attempt is in the audit trail, and the operator's
// `strongroom users unlock` lets the user in again.
func TestBruteForceSlowsThenLocks(t *testing.T) {
	t.Parallel()
	e := startEnv(t, fastThrottle)
	userID := e.createUser("carol", carolPassword)
	rp := newRP(t, e, nil)
	b := newChrome(t)

	ar := rp.authURL()
	b.run(chromedp.Navigate(ar.URL))
	errorText := func() string {
		b.t.Helper()
		b.run(chromedp.WaitVisible(chromedp.CSS("body:not([data-submitted]) #form-error")))
		return b.text("#form-error")
	}
	attempt := func(password string) string {
		b.t.Helper()
		b.signIn("carol", password)
		return errorText()
	}
	refused := 0                                    // attempts refused unchecked during a wait
	retry := time.NewTicker(100 * time.Millisecond) // paces the attempts refused during a wait
	defer retry.Stop()
	for i := 1; i <= 5; i++ {
		password := fmt.Sprintf("wrong-password-%d", i)
		msg := attempt(password)
		for strings.HasPrefix(msg, "Too many failed attempts. Wait") { // the growing delay
			refused++
			<-retry.C
			msg = attempt(password)
		}
		if i < 5 && !strings.Contains(msg, "incorrect") {
			t.Fatalf("attempt %d: %q", i, msg)
		}
		if i == 5 && !strings.Contains(msg, "locked") {
			t.Fatalf("attempt 5 did not lock: %q", msg)
		}
	}
	// The waits are measured on the server's clock (the audit events of the
	// checked attempts): the browser sees each answer a variable time after
	// the server counted the failure, so client-side gaps understate them.
	var checked []time.Time
	evs := e.audit("login.password", userID)
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		if evs[i].Details["reason"] == "invalid_credentials" {
			checked = append(checked, evs[i].Time)
		}
	}
	if len(checked) != 5 {
		t.Fatalf("%d checked attempts in the audit trail, want 5", len(checked))
	}
	var gaps []time.Duration
	for i := 1; i < len(checked); i++ {
		gaps = append(gaps, checked[i].Sub(checked[i-1]).Round(time.Millisecond))
	}
	t.Logf("server time between checked attempts 1→2, 2→3, 3→4, 4→5: %v; %d attempts refused while waiting", gaps, refused)
	// Waits after failures 2, 3, 4: 400 ms, 800 ms, 1.6 s (fastThrottle); a
	// few ms of slack for the audit write that follows the count.
	const slack = 20 * time.Millisecond
	for i, min := range []time.Duration{0, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond} {
		if gaps[i] < min-slack {
			t.Fatalf("attempt %d was checked %v after the previous one, before the %v wait", i+2, gaps[i], min)
		}
	}
	if refused == 0 {
		t.Fatal("no attempt was refused during a wait")
	}
	b.screenshot("07-locked")
	if msg := attempt(carolPassword); !strings.Contains(msg, "locked") {
		t.Fatalf("the right password during the lock: %q", msg)
	}

	failures := e.audit("login.password", userID)
	reasons := map[string]int{}
	for _, ev := range failures {
		if ev.Outcome == storage.OutcomeFailure {
			reasons[ev.Details["reason"]]++
		}
		if ev.SourceIP == "" || ev.UserAgent == "" {
			t.Fatalf("audit event without source: %+v", ev)
		}
	}
	if reasons["invalid_credentials"] != 5 || reasons["locked"] != 1 || reasons["throttled"] != refused {
		t.Fatalf("audit reasons: %v", reasons)
	}
	if ev := e.audit("account.locked", userID); len(ev) != 1 {
		t.Fatalf("account.locked events: %+v", ev)
	}

	out := e.cli("", "users", "unlock", "carol")
	if !strings.Contains(out, "Unlocked carol") {
		t.Fatalf("unlock: %q", out)
	}
	b.signIn("carol", carolPassword)
	b.run(chromedp.WaitVisible(chromedp.CSS("button[value=allow]")))
	if ev := e.audit("account.unlock", userID); len(ev) != 1 || !strings.HasPrefix(ev[0].Actor, "operator:") {
		t.Fatalf("account.unlock events: %+v", ev)
	}
}
