// Package httpmw is the Echo middleware that both of Strongroom's listeners
// share: the public OAuth/OIDC server (package api) and the admin API
// (package api/admin). Use puts the set every route of both has in front:
// the request id (answered in X-Request-Id and, through the listener's
// WithRequestID, carried in the request context for authz's server-error
// log lines), one access-log line per request and a panic recoverer that
// answers a plain 500. LimitBody is the body cap both mount per route, each
// with its own cap and its own refusal.
//
// What lives here must hold alike for both listeners and know nothing of
// either: no protocol or endpoint rule (duplicate parameters,
// authentication, audit, error documents), which belong to the listener
// that needs them, and no import of authz, storage or web. Never anything
// that reads a header value, a body or a query string into a log line:
// those carry codes, tokens and secrets.
package httpmw
