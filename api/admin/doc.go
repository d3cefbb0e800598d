// Package admin is Strongroom's admin REST API (described by api/openapi.yaml):
// clients and their secrets, users with their grants and browser sessions,
// signing keys, and the audit trail. It runs on its own
// listener, never on the public one. Middleware authenticates every request
// before a handler runs (a bearer access token with the strongroom:admin
// scope, or a verified TLS client certificate when mTLS is configured);
// handlers parse, call the administration services (authz/admin, with the
// registration types of authz/registration) and render; every error becomes
// an RFC 9457 problem document through one renderer (problem.go), which
// never sees a storage type: the services' errors are classified by
// authzadmin.ErrorKind. The route table (routes.go) is shared with the Go
// client in api/admin/client.
package admin
