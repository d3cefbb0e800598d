// Package oauth is Strongroom's token service over fosite: the composition
// (fosite's config and the explicit handler list: provider.go, over the
// grant handlers, PKCE, token strategy and grant policy of
// authz/oauth/grant), client authentication (secrets, private_key_jwt,
// client_secret_jwt), sender-constrained tokens (binding.go: DPoP proofs
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
// Client authentication (clientauth.go, the one strategy every endpoint
// that authenticates clients uses): client secrets through fosite,
// private_key_jwt with the client's registered algorithm
// (clientassertion.go), tls_client_auth and self_signed_tls_client_auth
// by the presented certificate (mtlsauth.go, over authz/mtls; New's options
// WithClientCertificates and WithClientCAs, options.go; a separate mTLS
// host's mtls_endpoint_aliases: WithMTLSEndpointAliases). client_secret_jwt
// is refused: only a keyed hash of a secret is stored, so an HMAC over it
// cannot be verified. The FAPI 2.0 profile's run-time rules for profile
// fapi2 clients (PAR, PKCE S256, response_type code, client authentication,
// code lifetime, refresh tokens not rotated) are in fapi2.go.
//
// Operations take parsed requests (fosite's *http.Request passes through
// to fosite) and return values (authz.AuthorizeResponse,
// *authz.UnredirectableError, OAuth errors, authz.Introspection, claims,
// token bodies) that api and web render.
//
// Never here: an http.ResponseWriter, Echo, the web package, HTML, SQL, or
// the browser flow (authz/login).
package oauth
