package browser

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/strongroom/strongroom/storage"
)

// longCreditor must wrap inside the card, never be cut.
const longCreditor = "ACME Holdings International Payments and Settlements Services for Small Businesses Ltd"

// pushPayment pushes an authorization request (RFC 9126) carrying one
// payment_initiation and returns the authorization URL naming it.
func (r *rp) pushPayment(amount string) authRequest {
	r.t.Helper()
	ar := r.authURL()
	u, err := url.Parse(ar.URL)
	if err != nil {
		r.t.Fatal(err)
	}
	form := u.Query()
	form.Set("authorization_details", `[{"type":"payment_initiation","instructedAmount":{"amount":"`+amount+`","currency":"EUR"},`+
		`"creditorName":"`+longCreditor+`","creditorAccount":{"iban":"DE89370400440532013000"},`+
		`"debtorAccount":{"iban":"GB82WEST12345698765432"},"remittanceInformationUnstructured":"Invoice 2026-042, March rent"}]`)
	req, _ := http.NewRequest(http.MethodPost, r.env.Issuer+"/oauth2/par", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(r.oauth.ClientID), url.QueryEscape(r.oauth.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode != http.StatusCreated {
		r.t.Fatalf("PAR: %d %v", resp.StatusCode, m)
	}
	ar.URL = r.env.Issuer + "/oauth2/authorize?" + url.Values{"client_id": {r.oauth.ClientID}, "request_uri": {m["request_uri"].(string)}}.Encode()
	return ar
}

// The payment consent page says what is paid, to whom, from and to which
// account, in plain words, with the amount (cents included) in the user's
// locale; a long creditor name wraps inside the card on a desktop, in dark
// mode and on a phone. Screenshots: testdata/out/*-payment-consent.png.
func TestPaymentConsentPage(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	e.createUser("carol", carolPassword)
	rp := newRP(t, e, func(c *storage.Client) { c.Metadata.AuthorizationDetailsTypes = []string{"payment_initiation"} })
	b := newChrome(t)

	fits := func(what string) {
		t.Helper()
		if !get(b, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)) {
			t.Errorf("%s: the page scrolls sideways", what)
		}
		// every line of the payment is inside the card and shown whole
		if !get(b, chromedp.Evaluate[bool](`(() => { const c = document.querySelector(".card").getBoundingClientRect();
			return [...document.querySelectorAll(".detail-summary, .detail dd")].every(el => { const r = el.getBoundingClientRect();
				return r.left >= c.left && r.right <= c.right && el.scrollWidth <= el.clientWidth }) })()`)) {
			t.Errorf("%s: a payment line overflows the card or is cut", what)
		}
	}

	ar := rp.pushPayment("1234.56")
	b.run(chromedp.Navigate(ar.URL))
	b.signIn("carol", carolPassword)
	b.run(chromedp.WaitVisible(chromedp.CSS(".detail-summary")))
	if got, want := b.text(".detail-summary"), "Pay €1,234.56 to "+longCreditor; got != want {
		t.Fatalf("summary %q, want %q", got, want)
	}
	page := b.text(".details")
	for _, want := range []string{"DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32", "Invoice 2026-042, March rent"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if lines := get(b, chromedp.Evaluate[int](`Math.round(document.querySelector(".detail-summary").getBoundingClientRect().height /
		parseFloat(getComputedStyle(document.querySelector(".detail-summary")).lineHeight))`)); lines < 2 {
		t.Errorf("the long creditor name takes %d line(s): it should wrap", lines)
	}
	b.screenshot("30-light-payment-consent")
	fits("light")
	consentURL := b.location()

	t.Run("ok/dark", func(t *testing.T) {
		b.run(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
			})
			return err
		}), chromedp.Navigate(consentURL), chromedp.WaitVisible(chromedp.CSS(".detail-summary")))
		b.screenshot("31-dark-payment-consent")
		if bg := get(b, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".detail")).backgroundColor`)); bg == "rgb(255, 255, 255)" || bg == "rgb(243, 245, 248)" {
			t.Errorf("dark mode left the payment box light: %s", bg)
		}
		fits("dark")
		b.run(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
			return err
		}))
	})

	t.Run("ok/phone", func(t *testing.T) {
		b.run(chromedp.EmulateViewport(390, 844), chromedp.Navigate(consentURL), chromedp.WaitVisible(chromedp.CSS(".detail-summary")))
		b.screenshot("32-phone-payment-consent")
		fits("phone")
		b.run(chromedp.EmulateViewport(1024, 900))
	})

	t.Run("ok/german-locale", func(t *testing.T) {
		b.run(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "de-DE,de;q=0.9"}})
			return err
		}), chromedp.Navigate(consentURL), chromedp.WaitVisible(chromedp.CSS(".detail-summary")))
		if got, want := b.text(".detail-summary"), "Pay 1.234,56\u00a0€ to "+longCreditor; got != want {
			t.Errorf("German summary %q, want %q", got, want)
		}
		b.run(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{}})
			return err
		}))
	})

	// approving sends the code; the token carries the payment
	b.run(chromedp.Navigate(consentURL), chromedp.WaitVisible(chromedp.CSS(".detail-summary")),
		chromedp.Click(chromedp.CSS(`button[value="allow"]`)), chromedp.WaitVisible(chromedp.CSS("#rp-done")))
	var code string
	select {
	case code = <-rp.codes:
	default:
		t.Fatal("no authorization code after approval")
	}
	tok, err := rp.oauth.Exchange(context.Background(), code, oauth2.VerifierOption(ar.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	details, _ := json.Marshal(tok.Extra("authorization_details"))
	if !strings.Contains(string(details), `"amount":"1234.56"`) || !strings.Contains(string(details), longCreditor) {
		t.Fatalf("token authorization_details %s", details)
	}
}
