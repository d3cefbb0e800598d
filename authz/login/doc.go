// Package login is the browser flow of the authorization endpoint: the
// entry (Service.Authorize: answer at once from the browser session, or
// park the request as a flow bound to the browser), pending flows (open,
// bind, CSRF), the login steps (password, second factor, enrolment: through
// authz/password, authz/mfa and authz/throttle), consent, the one
// dispatcher that decides the next step (Service.Advance, as dex's
// server/authflow), browser sessions (idle and absolute timeouts, session
// replacement on a new login) and the end of a flow (Finish, Deny), whose
// authorization response the token service (oauth.Authorizer.Issue,
// AuthorizeError) builds.
//
// Pages (web) parse each request once and call one step; steps return
// values (a Next step, an *authz.AuthorizeResponse, errors) that the pages
// render.
//
// Never here: an http.ResponseWriter, Echo, the web package, HTML, SQL, or
// fosite composition and token issuance (authz).
package login
