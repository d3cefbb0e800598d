// Package web serves the end-user pages of the authorization server: login,
// consent and error pages, rendered with html/template from embedded files,
// CSRF-protected, with a strict Content-Security-Policy and no script. Page
// handlers are plain net/http handlers that call authz; they never touch
// storage directly.
package web
