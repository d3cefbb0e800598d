// Package logout answers OpenID Connect RP-Initiated Logout 1.0: it
// validates a logout request (id_token_hint signed by this server,
// client_id, an exactly registered post_logout_redirect_uri), decides
// whether the user must confirm (a request not tied to the session's user
// and session), checks the confirmation's CSRF token and ends the browser
// session through authz.SessionManager, which queues back-channel logouts.
//
// Never here: rendering pages or redirecting (web does, from a Plan),
// delivering logout tokens (authz/backchannel).
package logout
