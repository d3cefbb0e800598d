// Package gateway decides forward-auth requests of API gateways (nginx
// auth_request, Envoy ext_authz over HTTP, Traefik ForwardAuth): is the
// access token of a request to an API behind the gateway valid, bound to
// the caller (DPoP proof over the original method and URI, client
// certificate), meant for this API (aud) and granted the scopes its route
// requires (Routes, serve --gateway-routes)? The HTTP side (reading the
// gateway's X-Forwarded-* / X-Original-* headers, writing 200 with the
// identity headers or 401/403 with WWW-Authenticate) is api/gateway.
//
// Token checks are authz/oauth's, the ones userinfo runs: opaque tokens
// are looked up through storage, with a short in-memory cache
// (DefaultCacheTTL, 5 s): a revocation takes effect at the gateway within
// that TTL. JWT access tokens are verified locally with the published
// signing keys, without storage: revoking one does not stop it before it
// expires (access token lifetime); deployments that need revocation to
// bite within seconds issue opaque tokens to the clients of those APIs.
package gateway
