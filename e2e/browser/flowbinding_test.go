package browser

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestLeakedSignInLinksFailInAnotherBrowser: the login and consent links of
// a flow opened in a second Chromium (its own profile: no cookies of the
// first) show a clear error page; the first browser then signs in, consents
// and the relying party gets its code.
func TestLeakedSignInLinksFailInAnotherBrowser(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	e.createUser("carol", carolPassword)
	rp := newRP(t, e, nil)
	victim, other := newChrome(t), newChrome(t)

	ar := rp.authURL()
	victim.run(chromedp.Navigate(ar.URL), chromedp.WaitVisible(chromedp.CSS("#username")))
	loginURL := victim.location()
	wantOtherBrowserPage := func(link, shot string) {
		t.Helper()
		other.run(chromedp.Navigate(link), chromedp.WaitReady(chromedp.CSS("body")))
		if msg := other.text("body"); !strings.Contains(msg, "started in another browser") {
			t.Fatalf("the leaked link shows %q", msg)
		}
		other.screenshot(shot)
	}
	wantOtherBrowserPage(loginURL, "20-leaked-login-link")

	victim.signIn("carol", carolPassword)
	victim.run(chromedp.WaitVisible(chromedp.CSS("button[value=allow]")))
	consentURL := victim.location()
	if !strings.Contains(consentURL, "consent_challenge=") {
		t.Fatalf("consent page at %s", consentURL)
	}
	wantOtherBrowserPage(consentURL, "21-leaked-consent-link")

	victim.run(chromedp.Click(chromedp.CSS("button[value=allow]")), chromedp.WaitVisible(chromedp.CSS("#rp-done")))
	rp.idToken(ar)
}
