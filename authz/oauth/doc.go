// Package oauth is Strongroom's token service over fosite: the composition
// (fosite's config and the explicit handler list: provider.go, over the
// grant handlers, PKCE, token strategy and grant policy of
// authz/oauth/grant), client authentication (installed from
// authz/oauth/clientauth), sender-constrained tokens (binding.go: DPoP proofs
// and certificate binding at the token endpoint, PAR and userinfo, over
// authz/dpop and authz/mtls), discovery, and the answers of the OAuth
// endpoints.
//
// New composes it (options: WithDPoP, WithClientCertificates) and returns a Service, a composition with no behaviour
// of its own, whose two faces the composition root (server) hands out:
//
//	Tokens      token, PAR, introspection, revocation, userinfo, discovery,
//	            JWKS and the admin API's bearer tokens (api, api/admin)
//	Authorizer  authorization requests: parse, apply Strongroom's policy,
//	            issue the response or the error (authz/login)
//
// The fosite storage adapter lives in oauth/fositestore; which scopes and
// audiences a grant gets, in oauth/grant (authorizeAudience here applies it
// to an authorization request).
//
// Client authentication (the one strategy every endpoint that
// authenticates clients uses: client secrets through fosite,
// private_key_jwt, client_secret_jwt, tls_client_auth and self_signed_tls_client_auth) is
// authz/oauth/clientauth's Authenticator, built in provider.go over this
// package's store, clock and New's options WithClientCertificates and
// WithClientCAs (options.go), with a separate mTLS host's
// mtls_endpoint_aliases (WithMTLSEndpointAliases). The FAPI 2.0 profile's run-time rules for
// profile fapi2 clients (PAR, PKCE S256, response_type code, code lifetime,
// refresh tokens not rotated) are in fapi2.go; its client authentication
// rule is clientauth's.
//
// Signed requests and responses (FAPI 2.0 Message Signing): jar.go verifies
// request objects (RFC 9101, the request parameter at PAR and at the
// authorization endpoint) with the client's keys through clientauth, and
// replaces the request's parameters with the object's claims (fosite would
// merge them); jarm.go signs authorization responses and their errors
// (JARM response modes, accepted by fosite through its response mode
// extension); introspectjwt.go signs introspection answers (RFC 9701).
//
// Operations take parsed requests (fosite's *http.Request passes through
// to fosite) and return values (authz.AuthorizeResponse,
// *authz.UnredirectableError, OAuth errors, authz.Introspection, claims,
// token bodies) that api and web render.
//
// Never here: an http.ResponseWriter, Echo, the web package, HTML, SQL, or
// the browser flow (authz/login).
package oauth
