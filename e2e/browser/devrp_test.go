package browser

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/strongroom/strongroom/server"
)

// TestDevDemoAppToDecodedIDToken: on a dev server, the built-in demo
// relying party the banner links to takes a real browser from its start
// page through sign-in and consent to its callback, which shows the decoded
// ID token, and its refresh button rotates the tokens.
func TestDevDemoAppToDecodedIDToken(t *testing.T) {
	e := startEnv(t, func(c *server.Config) { c.Dev = true })
	demo, err := e.Server.SeedDemo(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if demo.DemoAppURL != e.Issuer+"/demo" {
		t.Fatalf("demo app URL %q", demo.DemoAppURL)
	}
	b := newChrome(t)
	b.run(chromedp.Navigate(demo.DemoAppURL), chromedp.WaitVisible(chromedp.CSS("#sign-in")))
	b.screenshot("30-dev-demo-home")
	b.run(chromedp.Click(chromedp.CSS("#sign-in")))
	b.signIn(demo.Username, demo.Password)
	b.run(chromedp.WaitVisible(chromedp.CSS("button[value=allow]")), chromedp.Click(chromedp.CSS("button[value=allow]")),
		chromedp.WaitVisible(chromedp.CSS("#id-token-claims")))
	claims := b.text("#id-token-claims")
	for _, want := range []string{`"iss": "` + e.Issuer + `"`, `"demo-confidential"`, `"email": "demo@example.com"`} {
		if !strings.Contains(claims, want) {
			t.Errorf("decoded ID token lacks %s:\n%s", want, claims)
		}
	}
	if got := b.text("#introspection"); !strings.Contains(got, `"active": true`) {
		t.Errorf("introspection shown: %s", got)
	}
	b.screenshot("31-dev-callback")
	before := b.text("#access-token")
	b.run(chromedp.Click(chromedp.CSS("#refresh")), chromedp.WaitVisible(chromedp.CSS("#signed-in")))
	if !strings.Contains(b.text("#signed-in"), "tokens refreshed") || b.text("#access-token") == before {
		t.Fatal("the refresh button did not rotate the tokens")
	}
}
