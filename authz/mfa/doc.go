// Package mfa enrols and verifies second factors: TOTP codes (RFC 6238, each
// time step usable once, secrets sealed with AES-256-GCM bound to their
// user), WebAuthn passkeys (go-webauthn, ceremony state kept server-side on
// the pending login) and one-time recovery codes (stored as keyed hashes).
//
// Never here: when a second factor is required or which comes next (the
// login flow in authz), attempt throttling (authz/throttle), auditing of
// attempts, HTTP or pages.
package mfa
