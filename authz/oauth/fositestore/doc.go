// Package fositestore adapts storage.Store to the storage interfaces
// fosite's handlers type-assert at run time (codes, access and refresh
// tokens, OIDC sessions, PKCE, PAR, client lookups, transactions). It is
// the one place where storage errors become fosite errors, and where a
// fosite request is serialized without the secrets it was sent with.
//
// Never here: HTTP, grant policy (authz/oauth), or SQL (storage).
package fositestore
