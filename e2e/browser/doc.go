// Package browser holds end-to-end tests that drive Debian's chromium
// headless through the DevTools protocol (chromedp) against a real
// Strongroom on PostgreSQL: the pages, their CSP, JavaScript (WebAuthn) and
// cookies as a person's browser meets them. Screenshots go to
// testdata/out/ (gitignored) for people to look at.
package browser
