// Package registration is what a client registration is to Strongroom:
// the ClientSpec operators write (RFC 7591 and OpenID Connect metadata
// names, plus Strongroom's own options), its validation into the stored
// client (every problem reported at once, as a ValidationError), the way
// back from a stored client to a spec, and the ClientInfo a client is
// listed and shown as (secret metadata, never a secret or a hash).
//
// Validation is split by concern: spec.go holds the RFC 7591 fields,
// mtlsauth.go the client authentication fields of RFC 8705 (the
// tls_client_auth subject, checked with authz/mtls) and
// token_endpoint_auth_signing_alg, fapi2.go the FAPI 2.0 profile, whose
// rules are checked together so that every unmet rule is its own problem.
//
// It is pure: no store, no clock of its own, no I/O. The administration
// services (authz/admin) run the operations on registrations with their
// audit events; the admin API and the CLI use these types on the wire and
// in files (clients import and export).
//
// What must never live here: storage access, HTTP, or the rules of
// authentication at use time (authz).
package registration
