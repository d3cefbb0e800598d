// Package authz is Strongroom's authorization server domain: fosite's
// composition (config, token strategies, the explicit handler list and our
// own handlers), the fosite storage adapter onto storage, client
// authentication (secrets, private_key_jwt) and the client cache, the grant
// policy (which scopes and audiences a grant gets: grants.go), the browser
// flow (pending flows, login with password and second factors, consent,
// browser sessions, RP-initiated and back-channel logout), throttling and
// password hashing, and the administration services.
//
// Operations take parsed requests (fosite's *http.Request passes through to
// fosite) and return values: an AuthorizeResponse to redirect or form-post,
// an *UnredirectableError for a page, OAuth errors as fosite RFC6749Errors,
// an Introspection, userinfo claims, token bodies. The HTTP layers (api,
// api/render, web) write them.
//
// Never here: an http.ResponseWriter, Echo, the web package, HTML, or SQL.
package authz
