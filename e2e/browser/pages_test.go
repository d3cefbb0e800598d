package browser

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/strongroom/strongroom/storage"
)

// longClientName stresses wrapping: it must break inside the card.
const longClientName = "Northwind Mobile Banking for Small Business Customers and International Partners"

// The pages hold up beyond the happy path: an error tied to its fields, a
// phone-sized screen without sideways scrolling, dark mode, the error page,
// and keyboard order. Screenshots go beside the others.
func TestPagesLayoutAndAccessibility(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	e.createUser("carol", carolPassword)
	rp := newRP(t, e, func(c *storage.Client) { c.Name = longClientName })
	b := newChrome(t)

	noSideScroll := func(page string) {
		t.Helper()
		if !get(b, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)) {
			t.Errorf("%s scrolls sideways", page)
		}
	}

	b.run(chromedp.Navigate(rp.authURL().URL), chromedp.WaitVisible(chromedp.CSS("#username")))
	loginURL := b.location() // GET /login?login_challenge=…: reloading it posts nothing
	t.Run("ok/keyboard-order", func(t *testing.T) {
		active := func() string {
			return get(b, chromedp.Evaluate[string](`document.activeElement.id || document.activeElement.tagName`))
		}
		if got := active(); got != "username" {
			t.Fatalf("focus on load: %q, want the username field", got)
		}
		b.run(chromedp.KeyEvent("\t"))
		if got := active(); got != "password" {
			t.Fatalf("focus after Tab: %q, want the password field", got)
		}
		b.run(chromedp.KeyEvent("\t"))
		if got := active(); got != "BUTTON" {
			t.Fatalf("focus after two Tabs: %q, want the sign-in button", got)
		}
	})

	b.signIn("carol", "not the password at all")
	b.run(chromedp.WaitVisible(chromedp.CSS("#form-error")))
	b.screenshot("12-login-error")
	t.Run("ok/error-tied-to-fields", func(t *testing.T) {
		for _, id := range []string{"username", "password"} {
			desc := get(b, chromedp.AttributeValue(chromedp.CSS("#"+id), "aria-describedby"))
			inv := get(b, chromedp.AttributeValue(chromedp.CSS("#"+id), "aria-invalid"))
			if desc.Value != "form-error" || inv.Value != "true" {
				t.Errorf("#%s aria-describedby %q aria-invalid %q", id, desc.Value, inv.Value)
			}
		}
		if role := get(b, chromedp.AttributeValue(chromedp.CSS("#form-error"), "role")); role.Value != "alert" {
			t.Errorf("error role %q", role.Value)
		}
	})
	noSideScroll("the login page")

	t.Run("ok/phone", func(t *testing.T) {
		b.run(chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#username")))
		b.screenshot("13-login-phone")
		noSideScroll("the login page on a phone")
		// the long client name wraps inside the card
		if !get(b, chromedp.Evaluate[bool](`(() => { const l = document.querySelector(".lead").getBoundingClientRect(),
			c = document.querySelector(".card").getBoundingClientRect(); return l.right <= c.right && l.left >= c.left })()`)) {
			t.Error("the client name overflows the card")
		}
	})

	t.Run("ok/dark", func(t *testing.T) {
		b.run(chromedp.EmulateViewport(1024, 900), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
			})
			return err
		}), chromedp.Navigate(loginURL), chromedp.WaitVisible(chromedp.CSS("#username")))
		b.screenshot("14-login-dark")
		bg := get(b, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".card")).backgroundColor`))
		if bg == "rgb(255, 255, 255)" {
			t.Error("dark mode left the card white")
		}
		b.run(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
			return err
		}))
	})

	t.Run("ok/error-page-escapes", func(t *testing.T) {
		b.run(chromedp.Navigate(e.Issuer+`/login?login_challenge=%3Cscript%3Ealert(1)%3C%2Fscript%3E`), chromedp.WaitVisible(chromedp.CSS("h2")))
		b.screenshot("15-error")
		if n := get(b, chromedp.Evaluate[int](`document.scripts.length`)); n != 0 {
			t.Errorf("the error page runs %d scripts", n)
		}
		if msg := b.text("p.error"); !strings.Contains(msg, "start again") {
			t.Errorf("error message %q", msg)
		}
		noSideScroll("the error page")
	})
}
