// Package api is the public HTTP front end (Echo): the OAuth 2.0 / OpenID
// Connect endpoints, discovery, JWKS, health checks and the end-user pages
// from package web. The middleware shared with the admin API (api/httpmw)
// assigns request ids, writes one access-log line per request and recovers
// panics; this package's own caps bodies and refuses duplicated parameters
// at the OAuth endpoints. Handlers are thin and hand the protocol work to
// authz.
package api
