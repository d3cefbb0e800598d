// Package clientauth is how a client proves who it is at the token, PAR,
// introspection and revocation endpoints: client_secret_basic and
// client_secret_post (through fosite's default strategy), private_key_jwt
// and client_secret_jwt (RFC 7523; the secrets of client_secret_jwt
// clients are derived by the server, never stored) and RFC 8705 mutual TLS (tls_client_auth,
// self_signed_tls_client_auth). Its Authenticator.Authenticate is installed
// as fosite's ClientAuthenticationStrategy by authz/oauth.
//
// Never here: grants, tokens, HTTP writes. This package must not import
// authz/oauth.
package clientauth
