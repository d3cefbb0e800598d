package oauth

import "crypto/x509"

// WithClientCAs sets the trust anchors of tls_client_auth client
// certificates (serve --tls-client-ca). Without it no CA-issued certificate
// is trusted: tls_client_auth always fails, self_signed_tls_client_auth
// still works. Discovery lists the two RFC 8705 methods only when client
// CAs are set or WithClientCertificates reads a header: otherwise no client
// certificate can reach the server.
func WithClientCAs(pool *x509.CertPool) Option {
	return func(c *core) { c.clientCAs = pool }
}
