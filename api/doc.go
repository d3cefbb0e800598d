// Package api is the public HTTP front end (Echo): the OAuth 2.0 / OpenID
// Connect endpoints, discovery, JWKS, health checks and the end-user pages
// from package web. Middleware assigns request ids, writes one access-log line
// per request, caps bodies and refuses duplicated parameters; handlers are
// thin and hand the protocol work to authz.
package api
