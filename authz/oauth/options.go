package oauth

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/oauth/clientauth"
)

// WithClientCAs sets the trust anchors of tls_client_auth client
// certificates (serve --tls-client-ca). Without it no CA-issued certificate
// is trusted: tls_client_auth always fails, self_signed_tls_client_auth
// still works. Discovery lists the two RFC 8705 methods only when client
// CAs are set or WithClientCertificates reads a header: otherwise no client
// certificate can reach the server.
func WithClientCAs(pool *x509.CertPool) Option {
	return func(c *core) { c.clientCAs = pool }
}

// WithMTLSEndpointAliases names a separate host that serves the
// client-authenticating endpoints with mutual TLS (serve --mtls-base-url):
// discovery then lists the token, PAR, introspection, revocation and
// userinfo endpoints under it as mtls_endpoint_aliases (RFC 8705 §5), DPoP
// proofs of requests that arrive on that host name it in htu, and client
// assertions may name its token (or PAR) endpoint as audience. baseURL must
// pass ParseMTLSBaseURL (New refuses it otherwise); "" changes nothing.
func WithMTLSEndpointAliases(baseURL string) Option {
	return func(c *core) { c.mtlsBaseURL = baseURL }
}

// ParseMTLSBaseURL checks the base URL of the mTLS endpoint aliases: an
// absolute https URL with a host, no user info, query or fragment. It
// returns it without a trailing slash.
func ParseMTLSBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("mTLS base URL %q is not a URL", raw)
	case u.Scheme != "https" || u.Host == "":
		return "", fmt.Errorf("mTLS base URL %q must be an absolute https URL, e.g. https://mtls.auth.example.com", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#"):
		return "", errors.New("mTLS base URL must have no user info, query or fragment")
	}
	return strings.TrimRight(raw, "/"), nil
}

// mtlsURL is path under the mTLS base URL; "" when none is configured.
func (p *core) mtlsURL(path string) string {
	if p.mtlsBaseURL == "" {
		return ""
	}
	return p.mtlsBaseURL + path
}

// mtlsEndpointAliases is discovery's mtls_endpoint_aliases (RFC 8705 §5):
// the endpoints that authenticate clients or take bound tokens, under the
// mTLS base URL; nil when none is configured.
func (p *core) mtlsEndpointAliases() map[string]string {
	if p.mtlsBaseURL == "" {
		return nil
	}
	return map[string]string{
		"token_endpoint":                        p.mtlsURL(authz.PathToken),
		"pushed_authorization_request_endpoint": p.mtlsURL(authz.PathPAR),
		"introspection_endpoint":                p.mtlsURL(authz.PathIntrospect),
		"revocation_endpoint":                   p.mtlsURL(authz.PathRevoke),
		"userinfo_endpoint":                     p.mtlsURL(authz.PathUserinfo),
	}
}

// requestOrigin is the origin of r's target URI for DPoP htu: the mTLS
// alias host's when r arrived on it (its Host names it), else the issuer's.
// Either is one of the server's own configured origins, never the Host
// header itself.
func (p *core) requestOrigin(host string) string {
	if p.mtlsOrigin != "" && strings.EqualFold(host, p.mtlsHost) {
		return p.mtlsOrigin
	}
	return p.origin
}

// WithJWKSFetchPolicy sets how clients' jwks_uri are fetched (serve
// --jwks-uri-allow-private). Without it: https only (http too when the
// issuer is http), public addresses only, clientauth's default timeout and
// size cap.
func WithJWKSFetchPolicy(policy clientauth.JWKSFetchPolicy) Option {
	return func(c *core) { c.fositeConfig.JWKSFetcherStrategy = clientauth.NewJWKSFetcher(policy) }
}

// WithClock sets the token service's clock (default time.Now): the refresh
// reuse grace, sessions, client assertion times. fosite's own expiry checks
// keep the system clock.
func WithClock(now func() time.Time) Option {
	return func(c *core) {
		if now != nil {
			c.now = now
		}
	}
}
