package admin

import (
	"net/url"
	"strings"
)

// Routes of the admin API, under Prefix, in Echo's pattern syntax (":name"
// is a path parameter). The server mounts them and the Go client
// (api/admin/client) builds its request paths from them with Path, so both
// sides name each route in this one place.
const (
	RouteClients       = "/clients"
	RouteClient        = "/clients/:id"
	RouteClientDisable = "/clients/:id/disable"
	RouteClientEnable  = "/clients/:id/enable"
	RouteClientSecrets = "/clients/:id/secrets"            // #nosec G101 -- a route pattern, not a credential
	RouteClientSecret  = "/clients/:id/secrets/:secret_id" // #nosec G101 -- a route pattern, not a credential
	RouteClientImport  = "/client-import"
	RouteClientExport  = "/client-export"
	RouteUsers         = "/users"
	// RouteUserImport and RouteUserExport sit beside /users, not under it,
	// so that they never shadow a user named "import" or "export".
	RouteUserImport   = "/user-import"
	RouteUserExport   = "/user-export"
	RouteUser         = "/users/:ref"
	RouteUserGrants   = "/users/:ref/grants"
	RouteUserGrant    = "/users/:ref/grants/:client_id"
	RouteUserSessions = "/users/:ref/sessions"
	RouteUserSession  = "/users/:ref/sessions/:session_id"
	RouteAuditEvents  = "/audit-events"
	RouteAuditVerify  = "/audit/verify"
	RouteKeys         = "/keys"
	RouteKeysRotate   = "/keys/rotate"
	RouteKeyRevoke    = "/keys/:kid/revoke"
	// RFC 9396 authorization details types
	RouteAuthorizationTypes = "/authorization-types"
	RouteAuthorizationType  = "/authorization-types/:type"
	// RouteHealth is the operator's health detail (build, store, keys);
	// the public /healthz stays a plain liveness answer.
	RouteHealth = "/health"
	// RouteOpenAPI serves this API's description (api/openapi.yaml)
	// without authentication: it holds no data, only the routes.
	RouteOpenAPI = "/openapi.yaml"
)

// Path is the request path of route (one of the Route constants) with its
// parameters filled in order, each path-escaped, under Prefix.
// Path(RouteClientSecret, "web", "s1") is "/admin/v1/clients/web/secrets/s1".
// It panics when the parameters do not match the route's: a programming
// error.
func Path(route string, params ...string) string {
	segs := strings.Split(route, "/")
	n := 0
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			if n >= len(params) {
				panic("admin.Path: too few parameters for " + route)
			}
			segs[i] = url.PathEscape(params[n])
			n++
		}
	}
	if n != len(params) {
		panic("admin.Path: too many parameters for " + route)
	}
	return Prefix + strings.Join(segs, "/")
}
