// Package rar is Rich Authorization Requests (RFC 9396): the
// authorization_details parameter a client sends at the authorization, PAR
// and token endpoints, parsed into a canonical form, validated against the
// JSON Schema of its type (types registered per deployment in storage, plus
// the built-in payment_initiation type), limited to the types the client is
// registered for, narrowed (never widened) on refresh, and described in
// plain words for the consent page with money formatted for the user's
// locale.
//
// Every refusal is invalid_authorization_details (RFC 9396 §5): 400 at the
// token and PAR endpoints, an error redirect at the authorization endpoint.
package rar
