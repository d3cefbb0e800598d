package clientauth

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/storage"
)

// Deps are what an Authenticator reads. Values that options or tests may
// replace after construction (the clock, the certificate source, the client
// CAs, the logger) are functions, read on every request.
type Deps struct {
	// Clients looks clients up and records assertion jtis (fosite's store).
	Clients fosite.ClientManager
	// Fallback authenticates client_secret_basic and client_secret_post
	// (fosite's DefaultClientAuthenticationStrategy).
	Fallback fosite.ClientAuthenticationStrategy
	// JWKS is fosite's JWK Set fetcher (with its cache) for jwks_uri.
	JWKS func(context.Context) fosite.JWKSFetcherStrategy
	// Config is the token service's configuration (issuer, endpoint URLs,
	// ClientAssertionMaxLifetime).
	Config *authz.Config
	// Now is the token service's clock.
	Now func() time.Time
	// Certificates is where client certificates come from (TLS or a
	// trusted proxy's header).
	Certificates func() *mtls.CertificateSource
	// ClientCAs are the tls_client_auth trust anchors (nil: none).
	ClientCAs func() *x509.CertPool
	// Log receives warnings (a certificate header from an untrusted peer).
	Log func() *slog.Logger
	// Secrets recomputes the secrets of client_secret_jwt clients to check
	// their HMAC assertions (keyed like the stored hashes); nil refuses
	// client_secret_jwt.
	Secrets *authz.SecretHasher
	// MTLSBaseURL is the separate mTLS host's base URL (RFC 8705 §5
	// mtls_endpoint_aliases), "" when none: its token and PAR URLs are
	// accepted as assertion audiences too. nil means none.
	MTLSBaseURL func() string
}

// Authenticator authenticates clients (Authenticate) for fosite.
type Authenticator struct {
	clients     fosite.ClientManager
	fallback    fosite.ClientAuthenticationStrategy
	jwks        func(context.Context) fosite.JWKSFetcherStrategy
	cfg         *authz.Config
	now         func() time.Time
	certs       func() *mtls.CertificateSource
	clientCAs   func() *x509.CertPool
	log         func() *slog.Logger
	mtlsBaseURL func() string
	secrets     *authz.SecretHasher
	refresh     *jwksRefreshLimiter
}

// New returns an Authenticator over d; every field of d is required.
func New(d Deps) *Authenticator {
	return &Authenticator{
		clients: d.Clients, fallback: d.Fallback, jwks: d.JWKS, cfg: d.Config, now: d.Now,
		certs: d.Certificates, clientCAs: d.ClientCAs, log: d.Log, mtlsBaseURL: d.MTLSBaseURL,
		secrets: d.Secrets, refresh: newJWKSRefreshLimiter(jwksRefreshInterval),
	}
}

// Authenticate is fosite's client authentication strategy (every
// endpoint that authenticates clients goes through it: token, PAR,
// introspection, revocation). It adds the rules fosite v0.49 lacks:
//   - one authentication method per request (RFC 6749 §2.3): a Basic header
//     next to body credentials, or a secret next to an assertion, is
//     invalid_request, as is a body client_id that differs from Basic's;
//   - private_key_jwt and client_secret_jwt assertions are verified here,
//     not by fosite (verifyClientAssertion: audience, clock skew, lifetime
//     cap, algorithm, replay);
//   - tls_client_auth and self_signed_tls_client_auth (RFC 8705 §2) by the
//     client certificate (authenticateTLSClient);
//   - replay is 401 invalid_client (not fosite's 400 jti_known), and database
//     failures are 503 instead of invalid_client.
func (p *Authenticator) Authenticate(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	if err := checkOneClientAuthMethod(r, form); err != nil {
		return nil, err
	}
	var (
		c   fosite.Client
		err error
	)
	handled := false
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		c, err = p.verifyClientAssertion(ctx, r, form)
	} else if c, handled, err = p.authenticateTLSClient(ctx, r, form); !handled {
		c, err = p.fallback(ctx, r, form)
	}
	if err != nil {
		err = authz.MapError(err)
		var rfc *fosite.RFC6749Error
		switch {
		case !errors.As(err, &rfc):
			// e.g. a bare error from fosite's secret check
			err = fosite.ErrInvalidClient.WithWrap(err).WithHint("The client could not be authenticated.")
		case rfc.ErrorField == fosite.ErrInvalidRequest.ErrorField:
			// Missing or malformed credentials are invalid_client (RFC 6749 §5.2), 401.
			err = fosite.ErrInvalidClient.WithWrap(err).WithHint(rfc.HintField)
		}
		return nil, err
	}
	if err := checkFAPI2ClientAuth(c); err != nil {
		return nil, err
	}
	return c, nil
}

// checkOneClientAuthMethod refuses a request that authenticates its client
// in more than one way (RFC 6749 §2.3: "The client MUST NOT use more than one
// authentication method in each request"): an HTTP Basic header, a
// client_secret in the body (client_secret_post) and a client assertion
// (private_key_jwt) exclude one another, and a body client_id must name the
// client the Basic header names. Otherwise the server would have to pick one
// method and ignore the other, and which one it picks decides which client
// the request acts as.
//
// Credentials in the URL query are refused too (RFC 6749 §2.3.1: "MUST NOT be
// included in the request URI"): URLs end up in proxy logs and browser history.
func checkOneClientAuthMethod(r *http.Request, form url.Values) error {
	q := r.URL.Query()
	for _, k := range []string{"client_secret", "client_assertion", "client_assertion_type"} {
		if q.Has(k) {
			return authz.BadClientAuthRequest("Client credentials must be sent in the request body, never in the URL (RFC 6749 §2.3.1).")
		}
	}
	auth := r.Header.Values("Authorization")
	if len(auth) > 1 {
		return authz.BadClientAuthRequest("The request carries more than one Authorization header.")
	}
	hasBasic := false
	if len(auth) == 1 {
		scheme, _, _ := strings.Cut(strings.TrimSpace(auth[0]), " ")
		hasBasic = strings.EqualFold(scheme, "Basic")
	}
	hasSecret := form.Has("client_secret")
	hasAssertion := form.Has("client_assertion") || form.Has("client_assertion_type")
	methods := 0
	for _, used := range []bool{hasBasic, hasSecret, hasAssertion} {
		if used {
			methods++
		}
	}
	if methods > 1 {
		return authz.BadClientAuthRequest("The client must use exactly one authentication method (RFC 6749 §2.3): HTTP Basic, client_secret in the body or client_assertion.")
	}
	if !hasBasic {
		return nil
	}
	user, _, ok := r.BasicAuth()
	if !ok {
		return fosite.ErrInvalidClient.WithHint("The HTTP Basic Authorization header is malformed.")
	}
	id, err := url.QueryUnescape(user)
	if err != nil {
		return fosite.ErrInvalidClient.WithHint("The client id in the HTTP Basic Authorization header is not form-encoded.")
	}
	if form.Has("client_id") && form.Get("client_id") != id {
		return authz.BadClientAuthRequest("The client_id in the body differs from the client the HTTP Basic Authorization header authenticates.")
	}
	return nil
}

// fapi2AuthMethods are the client authentication methods of a FAPI 2.0
// client (SP §5.3.2.1): private_key_jwt and mutual TLS.
var fapi2AuthMethods = []string{storage.AuthMethodPrivateKeyJWT, storage.AuthMethodTLSClientAuth, storage.AuthMethodSelfSignedTLSClientAuth}

// isFAPI2 reports whether c registered the FAPI 2.0 profile.
func isFAPI2(c fosite.Client) bool {
	sc, ok := c.(*authz.Client)
	return ok && sc.Registration().Metadata.IsFAPI2()
}

// checkFAPI2ClientAuth refuses a FAPI 2.0 client that authenticated with
// anything but private_key_jwt or mutual TLS (a registration made before
// the profile rules, or edited in the database).
func checkFAPI2ClientAuth(c fosite.Client) error {
	if !isFAPI2(c) {
		return nil
	}
	oc, ok := c.(fosite.OpenIDConnectClient)
	if !ok || !slices.Contains(fapi2AuthMethods, oc.GetTokenEndpointAuthMethod()) {
		return fosite.ErrInvalidClient.WithHint("FAPI 2.0 clients must authenticate with private_key_jwt, tls_client_auth or self_signed_tls_client_auth.")
	}
	return nil
}

// truncate cuts s to at most n bytes (for untrusted values in hints).
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// mtlsBase is the mTLS alias base URL, "" when none is configured.
func (p *Authenticator) mtlsBase() string {
	if p.mtlsBaseURL == nil {
		return ""
	}
	return p.mtlsBaseURL()
}
