// Package grant decides which scopes and audiences a grant gets, and holds
// Strongroom's wrappers of fosite's grant, PKCE and token-strategy handlers:
//
//	Code               the authorization code grant at both endpoints
//	Refresh            the refresh token grant (narrowing, races, FAPI 2.0
//	                   refresh without rotation)
//	ClientCredentials  the client_credentials grant
//	PKCE               RFC 7636 at the token endpoint, burning the code on failure
//	TokenStrategy      opaque HMAC tokens, or RFC 9068 JWT access tokens
//
// and the audience policy (ExactAudience, RequestedTargets, DefaultAudience,
// IssuerAudience, Requested). authz/oauth composes them into fosite.
//
// Never here: client authentication, HTTP (no http.ResponseWriter, no Echo),
// storage beyond authz/oauth/fositestore, or an import of authz/oauth.
package grant
