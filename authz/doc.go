// Package authz is Strongroom's authorization server domain: fosite's
// composition (config, token strategies, the explicit handler list and our
// own handlers), the fosite storage adapter onto storage, client
// authentication (secrets, private_key_jwt) and the client cache, the grant
// policy (which scopes and audiences a grant gets: grants.go), the
// authorization responses (Issue, AuthorizeError) and session management.
// Concerns with no need of the rest live in sub-packages that authz (and
// only the composition root besides) wires together:
//
//	authz/login        the browser flow: Authorize, pending flows, login steps,
//	                   consent, the dispatcher Advance, browser sessions
//	authz/password     argon2id hashing, password policy, HashLimiter
//	authz/throttle     brute-force throttle of login attempts
//	authz/mfa          TOTP, WebAuthn passkeys, recovery codes
//	authz/logout       RP-initiated logout (plan, confirm, end the session)
//	authz/backchannel  back-channel logout token delivery
//	authz/janitor      deletion of expired codes, tokens, flows, sessions
//	authz/keys         signing keys (states, rotation, encryption at rest)
//
// Operations take parsed requests (fosite's *http.Request passes through to
// fosite) and return values: an AuthorizeResponse to redirect or form-post,
// an *UnredirectableError for a page, OAuth errors as fosite RFC6749Errors
// (ErrorResponse), a *BearerError, an Introspection, userinfo claims, token
// bodies. The HTTP layers (api, api/render,
// web) write them.
//
// Never here: an http.ResponseWriter, Echo, the web package, HTML, or SQL.
package authz
