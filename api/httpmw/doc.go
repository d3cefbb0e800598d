// Package httpmw is the Echo middleware that both of Strongroom's listeners
// put in front of every route: the public OAuth/OIDC server (package api)
// and the admin API (package api/admin). It assigns the request id (echoed
// in X-Request-Id and carried in the request context for authz's
// server-error log lines), writes one access-log line per request and turns
// a handler's panic into a plain 500.
//
// What lives here must hold for every route of both listeners alike.
// Never here: protocol or endpoint rules (body limits, duplicate
// parameters, authentication, audit), which belong to the listener that
// needs them; and never anything that reads a header value, a body or a
// query string into a log line: those carry codes, tokens and secrets.
package httpmw
