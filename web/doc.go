// Package web serves the end-user pages of the authorization server: login,
// second factor (TOTP, passkeys, recovery codes) and enrolment, consent,
// RP-initiated logout and error pages, rendered with html/template from
// embedded files, CSRF-protected, with a strict Content-Security-Policy.
// The only script is the WebAuthn helper (static/webauthn.js), allowed by
// the CSP on the pages that offer a passkey. Pages mount their own routes
// (Pages.Mount, paths in routes.go) and are plain net/http handlers: they
// parse the form, call the browser flow (authz/login; a pending flow is a
// login.Flow) and render
// what it returns; a finished flow's authorization response is written by
// api/render.
//
// Never here: storage types or storage calls, OAuth policy (which scopes,
// which redirect URI), and anything the domain would have to call back.
package web
