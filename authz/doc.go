// Package authz is the kernel of Strongroom's authorization server domain,
// imported by every authz sub-package: the configuration (Config, paths),
// the fosite session (Session) and client adapter (Client, ClientCache),
// client secret hashing and key derivation (SecretHasher, DeriveKey), grant
// and authentication-class values, the result and answer types the HTTP
// layers render (AuthorizeResponse, UnredirectableError, BearerError,
// Introspection, ErrorResponse, MapError), admin-token errors, browser
// session and grant management (SessionManager) and request-id logging.
//
// The services live in sub-packages, built explicitly by the composition
// root (server):
//
//	authz/oauth        the token service over fosite: composition, strategies,
//	                   grant policy, PKCE, client authentication, the OAuth
//	                   endpoints' answers (oauth.Tokens) and authorization
//	                   responses (oauth.Authorizer)
//	authz/oauth/fositestore  the fosite storage adapter onto storage
//	authz/login        the browser flow: Authorize, pending flows, login steps,
//	                   consent, the dispatcher Advance, browser sessions
//	authz/password     argon2id hashing, password policy, HashLimiter
//	authz/throttle     brute-force throttle of login attempts
//	authz/mfa          TOTP, WebAuthn passkeys, recovery codes
//	authz/logout       RP-initiated logout (plan, confirm, end the session)
//	authz/backchannel  back-channel logout token delivery
//	authz/janitor      deletion of expired codes, tokens, flows, sessions
//	authz/keys         signing keys (states, rotation, encryption at rest)
//	authz/admin        administration: clients, users, sessions, audit views
//	authz/audit        audit trail verification, pruning, export
//	authz/registration client registration rules (profiles, FAPI 2.0)
//	authz/dpop, authz/mtls  sender-constrained tokens (RFC 9449, RFC 8705)
//
// Dependencies point one way: sub-packages import authz, never the reverse,
// except the two leaves whose settings Config carries (authz/password's
// HashLimits, authz/throttle's Config), which import nothing of authz;
// login imports oauth, oauth never imports login.
//
// Never here: an http.ResponseWriter, Echo, the web package, HTML, SQL, or
// behaviour that needs fosite composed (authz/oauth) or a browser (authz/login).
package authz
