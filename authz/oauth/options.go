package oauth

import (
	"crypto/x509"

	"github.com/strongroom/strongroom/authz/mtls"
)

// Option configures the token service (New).
type Option func(*core)

// WithClientCertificates sets where client certificates come from (the TLS
// connection, or a trusted proxy's header). Without it only the TLS
// connection is read.
func WithClientCertificates(src *mtls.CertificateSource) Option {
	return func(c *core) {
		if src != nil {
			c.certs = src
		}
	}
}

// WithClientCAs sets the trust anchors of tls_client_auth client
// certificates (serve --tls-client-ca). Without it no CA-issued certificate
// is trusted: tls_client_auth always fails, self_signed_tls_client_auth
// still works. Discovery lists the two RFC 8705 methods only when client
// CAs are set or WithClientCertificates reads a header: otherwise no client
// certificate can reach the server.
func WithClientCAs(pool *x509.CertPool) Option {
	return func(c *core) { c.clientCAs = pool }
}
