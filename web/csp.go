package web

import (
	"net/url"
	"slices"
	"strings"
)

// basePolicy is the pages' Content-Security-Policy: nothing but the
// stylesheet, same-origin and data: images and same-origin form posts; no
// script, no framing, no <base>.
const basePolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// pageCSP is basePolicy with extra image sources (a client's logo) and form
// targets (browsers apply form-action to the redirect that answers a form,
// e.g. to the client after consent or logout). Sources must come from origins.
func pageCSP(imgSrc, formAction []string) string {
	csp := basePolicy
	if len(imgSrc) > 0 {
		csp = strings.Replace(csp, "img-src 'self' data:", "img-src 'self' data: "+strings.Join(imgSrc, " "), 1)
	}
	if len(formAction) > 0 {
		csp = strings.Replace(csp, "form-action 'self'", "form-action 'self' "+strings.Join(formAction, " "), 1)
	}
	return csp
}

// flowCSP is the policy of the login flow's pages (sign-in, second factor,
// enrolment, recovery codes): pageCSP with the client's redirect origins as
// form targets (a step's answer may redirect to the client) and, on the
// WebAuthn pages only, script-src 'self' for /static/webauthn.js.
func flowCSP(redirectURIs []string, script bool) string {
	csp := pageCSP(nil, origins(redirectURIs...))
	if script {
		csp += "; script-src 'self'"
	}
	return csp
}

// origins returns CSP source expressions for uris, without repeats: the
// origin of an http(s) URI (any port on a loopback host, where native
// clients may pick the port, RFC 8252 §7.3), the scheme of a private-use URI
// scheme (RFC 8252 §7.1). Anything that does not parse cleanly is skipped.
func origins(uris ...string) []string {
	var out []string
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err != nil || strings.ContainsAny(u.Host, " ;,'\"\t\r\n") {
			continue
		}
		var o string
		switch {
		case u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "::1" || u.Hostname() == "localhost"):
			o = "http://" + strings.TrimSuffix(u.Host, ":"+u.Port()) + ":*"
		case (u.Scheme == "https" || u.Scheme == "http") && u.Host != "":
			o = u.Scheme + "://" + u.Host
		case u.Scheme != "" && u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "javascript" && u.Scheme != "data":
			o = u.Scheme + ":" // url.Parse allows only letters, digits, + - . in a scheme
		default:
			continue
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}
