// Package api is the public HTTP front end (Echo): the OAuth 2.0 / OpenID
// Connect endpoints, discovery, JWKS and health checks. Middleware assigns
// request ids, writes one access-log line per request, caps bodies and
// refuses duplicated parameters; handlers are thin: they hand the parsed
// request to authz and write the value it returns through api/render (one
// OAuth error writer). Other front ends (the end-user pages of package web)
// mount themselves beside these routes (Options.Frontends); the
// authorization endpoint reaches the pages only through the Browser
// interface.
//
// Never here: grant or token policy (authz decides), storage types or
// storage calls, and an import of web (server composes the two).
package api
