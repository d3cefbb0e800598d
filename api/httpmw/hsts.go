package httpmw

import "net/http"

// HSTS is the Strict-Transport-Security value StrictTransportSecurity sends:
// one year, the issuer's host and its subdomains. Not "preload": listing a
// domain in browsers' preload lists is the operator's decision.
const HSTS = "max-age=31536000; includeSubDomains"

// StrictTransportSecurity sets Strict-Transport-Security (RFC 6797) on every
// response of next, errors and refusals included, so that a browser that
// once reached the server over https never again sends it (its session
// cookie, a code in a redirect) in clear text. Install it only when the
// issuer is https: browsers ignore the header on plain-HTTP answers, but a
// development server on http has no TLS to pin. Behind a TLS-terminating
// proxy the listener itself is plain HTTP while the browser speaks https,
// which is why the issuer decides, not the connection.
func StrictTransportSecurity(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", HSTS)
		next.ServeHTTP(w, r)
	})
}
