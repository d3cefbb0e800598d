// Package mtls holds the building blocks of OAuth 2.0 mutual-TLS client
// authentication and certificate-bound access tokens (RFC 8705): where a
// client's certificate comes from, the two client authentication methods,
// the certificate thumbprint that binds a token, and the public listener's
// TLS settings. It knows nothing of fosite or of any HTTP framework: callers
// hand it a *tls.ConnectionState, a peer address and headers (or an
// *http.Request) and get values and errors back.
//
// # Where the certificate comes from
//
// CertificateSource finds the certificate a client presented. When
// Strongroom terminates TLS it is the connection's peer certificate (the
// listener only requests one, see RequestClientCertificates). Behind a
// TLS-terminating proxy it is a header the proxy sets (serve
// --client-cert-header), believed only when the connection's peer is one of
// the trusted proxies (serve --trusted-proxy, the prefixes
// web.ParseTrustedProxies parses); from anyone else the header is ignored and the lookup says so, so
// the caller can log it. When the peer is a trusted proxy the header is the
// only source: the proxy's own certificate on a re-encrypted connection is
// never taken for the client's. The proxy must therefore set (overwrite) the
// header on every request and remove it when the client sent no certificate:
// a proxy that passes a client's own header through lets that client claim
// any certificate (Envoy: forward_client_cert_details SANITIZE_SET, never
// FORWARD_ONLY or APPEND_FORWARD). ParseCertificateHeader reads the formats
// real proxies send (nginx $ssl_client_escaped_cert and $ssl_client_cert,
// Apache, HAProxy base64 DER, Envoy x-forwarded-client-cert, Traefik, AWS
// ALB, RFC 9440 Client-Cert) and bounds their size.
//
// RequestClientCertificates makes the public listener ask for a certificate
// without requiring or verifying one, so that browsers and clients without a
// certificate are unaffected (the application verifies what it gets); the
// client CA file (LoadClientCAs) is only the trust anchor set of
// tls_client_auth. Some browsers offer a certificate chooser when asked for
// one; RFC 8705 §5 mtls_endpoint_aliases (a separate mTLS host name) is the
// way out if that matters.
//
// # Client authentication (RFC 8705 §2)
//
// Authenticator.TLSClientAuth implements tls_client_auth (§2.1): the
// certificate chains to the configured client CA pool (serve --tls-client-ca)
// for client authentication at the current time, and carries the one subject
// value the client registered (Identity, §2.1.2): a subject DN compared as a
// parsed RDN sequence (attribute types, case, insignificant spaces and
// escaping do not matter; order and content do), or a dNSName, URI, IP
// address or rfc822Name SAN. Authenticator.SelfSignedTLSClientAuth
// implements self_signed_tls_client_auth (§2.2): the certificate's public key
// is one of the signing keys in the client's registered JWK Set; no chain is
// verified, the validity dates still are. ValidateSelfSignedJWKS checks such
// a client's registered keys.
//
// # Certificate-bound tokens (RFC 8705 §3)
//
// Thumbprint is the x5t#S256 confirmation method (base64url SHA-256 of the
// DER certificate) that goes into a token's cnf claim (Confirmation), and
// VerifyBoundCertificate checks in constant time that the certificate a
// request came with is the one a token is bound to.
//
// # What never lives here
//
// No client lookup, no storage, no token issuance, no logging and no HTTP
// responses: the callers in authz and api decide what an error means
// (invalid_client at the token endpoint, invalid_token at userinfo) and log
// what this package reports. Every error wraps one of the Err… sentinels
// (errors.go) so that callers can tell them apart with errors.Is; none
// contains key material.
package mtls
