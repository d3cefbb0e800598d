package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/login"
	"github.com/strongroom/strongroom/authz/logout"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the pages.
type Options struct {
	// Product is the operator's product name shown on every page.
	Product string
	// SecureCookies sets Secure and the __Host- prefix: the composition
	// root sets it from authz.Config.CookiesSecure (served over TLS, or an
	// https issuer behind a TLS-terminating proxy).
	SecureCookies bool
	// SessionLifespan is the browser session cookie's max age
	// (authz.Config.BrowserSessionLifespan).
	SessionLifespan time.Duration
	// MaxFormBytes caps login and consent form bodies.
	MaxFormBytes int64
	// Logo is the operator's logo (PNG, JPEG, GIF, WebP or SVG, at most
	// MaxLogoBytes), shown above the product name. It is inlined as a data:
	// URL, which the pages' CSP (img-src 'self' data:) allows.
	Logo []byte
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// names the client (see clientAddr); empty: the peer is the client.
	TrustedProxies []netip.Prefix
}

// Pages serves the end-user pages: login, consent and error pages.
type Pages struct {
	flows  *login.Service
	csrf   *login.CSRF
	logout *logout.Service
	opts   Options
	log    *slog.Logger
	tpl    map[string]*template.Template
	logo   template.URL // data: URL of Options.Logo, or empty
}

// New parses every template (failing on a missing one) and returns the pages.
func New(flows *login.Service, csrf *login.CSRF, lo *logout.Service, opts Options, log *slog.Logger) (*Pages, error) {
	if opts.Product == "" {
		opts.Product = "Strongroom"
	}
	if opts.MaxFormBytes == 0 {
		opts.MaxFormBytes = 16 << 10
	}

	pg := &Pages{flows: flows, csrf: csrf, logout: lo, opts: opts, log: log, tpl: map[string]*template.Template{}}
	for _, name := range []string{"login", "consent", "error", "logout", "logged_out", "mfa", "enroll", "recovery"} {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		pg.tpl[name] = t
	}
	logo, err := logoURL(opts.Logo)
	if err != nil {
		return nil, err
	}
	pg.logo = logo
	return pg, nil
}

// Static serves the embedded stylesheet.
func (pg *Pages) Static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	return http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
}

func (pg *Pages) cookieName(base string) string {
	if pg.opts.SecureCookies {
		return "__Host-" + base
	}
	return base
}

// SessionCookieName is the name of the browser session cookie.
func (pg *Pages) SessionCookieName() string { return pg.cookieName("strongroom-session") }

func (pg *Pages) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{ // #nosec G124 -- Secure follows the issuer's scheme (SecureCookies; off only for an http dev issuer), HttpOnly and SameSite=Lax always
		Name: pg.cookieName(name), Value: value, Path: "/",
		MaxAge: int(maxAge.Seconds()), HttpOnly: true, Secure: pg.opts.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

func (pg *Pages) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(pg.cookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}

// SessionCookie returns the browser session cookie value of r ("" if none).
func (pg *Pages) SessionCookie(r *http.Request) string { return pg.cookie(r, "strongroom-session") }

// csrfCookie returns the browser's CSRF cookie, setting a new one if missing.
func (pg *Pages) csrfCookie(w http.ResponseWriter, r *http.Request) (string, error) {
	return pg.browserSecret(w, r, "strongroom-csrf")
}

// flowCookie binds pending authorization flows to the browser that started
// them (login.Service.Authorize): set at /authorize, presented at every later step.
// SameSite=Lax, so it comes back on the top-level navigations and same-site
// form posts of a login; one per browser, so flows in several tabs coexist.
const flowCookie = "strongroom-flow"

// FlowBinding returns the browser's flow-binding cookie, setting a new random
// one if missing. The authorization endpoint calls it before starting a flow.
func (pg *Pages) FlowBinding(w http.ResponseWriter, r *http.Request) (string, error) {
	return pg.browserSecret(w, r, flowCookie)
}

// flowBinding returns the flow-binding cookie r carries ("" if none).
func (pg *Pages) flowBinding(r *http.Request) string { return pg.cookie(r, flowCookie) }

// browserSecret returns the random per-browser cookie name, setting a new one
// (for the browser session) if missing or malformed.
func (pg *Pages) browserSecret(w http.ResponseWriter, r *http.Request, name string) (string, error) {
	if v := pg.cookie(r, name); v != "" && len(v) <= 64 {
		return v, nil
	}
	v, err := authz.GenerateSecret()
	if err != nil {
		return "", err
	}
	pg.setCookie(w, name, v, 0)
	return v, nil
}

// headers marks every page uncacheable, unframeable and script-free.
func headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", basePolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

func (pg *Pages) render(w http.ResponseWriter, status int, name string, data map[string]any) {
	data["Product"] = pg.opts.Product
	data["Logo"] = pg.logo
	var buf bytes.Buffer
	if err := pg.tpl[name].ExecuteTemplate(&buf, name+".html", data); err != nil {
		pg.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	headers(w)
	if csp, ok := data["CSP"].(string); ok {
		w.Header().Set("Content-Security-Policy", csp) // a page's extra sources (pageCSP)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// RenderError renders the error page (used where a redirect to the client is not safe).
func (pg *Pages) RenderError(w http.ResponseWriter, status int, code, message string) {
	pg.renderError(w, status, code, message, "")
}

func (pg *Pages) renderError(w http.ResponseWriter, status int, code, message, requestID string) {
	pg.render(w, status, "error", map[string]any{
		"Title": "Error", "Heading": "We could not complete this request",
		"Message": message, "Code": code, "RequestID": requestID,
	})
}

// parseForm caps and parses a form body and rejects duplicated parameters.
func (pg *Pages) parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, pg.opts.MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errors.New("the form could not be read")
	}
	for _, vs := range r.Form {
		if len(vs) > 1 {
			return errors.New("a form field was sent more than once")
		}
	}
	return nil
}

// scopeText describes scopes in plain words for the consent page.
func scopeText(scope string) string {
	switch scope {
	case "openid":
		return "Confirm who you are (sign you in)"
	case "profile":
		return "See your name and username"
	case "email":
		return "See your email address"
	case "offline_access":
		return "Keep access while you are not using the app"
	}
	return fmt.Sprintf("Use the %q permission", scope)
}

func redirect(w http.ResponseWriter, r *http.Request, path, param, challenge string) {
	http.Redirect(w, r, path+"?"+url.Values{param: {challenge}}.Encode(), http.StatusSeeOther)
}
