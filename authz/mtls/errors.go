package mtls

import "errors"

// Sentinel errors. Every error this package returns wraps exactly one of
// them (test with errors.Is); the wrapping message says what was wrong.
var (
	// ErrNoCertificate means the client presented no certificate (on the
	// connection, or in the header from a trusted proxy).
	ErrNoCertificate = errors.New("mtls: no client certificate presented")

	// ErrMalformedCertificate means a certificate, or the header carrying
	// it, could not be read.
	ErrMalformedCertificate = errors.New("mtls: malformed client certificate")

	// ErrUntrustedCertificate means the certificate does not chain, for
	// client authentication at the current time, to a configured client CA
	// (tls_client_auth), or is outside its validity dates.
	ErrUntrustedCertificate = errors.New("mtls: client certificate not trusted")

	// ErrIdentityMismatch means a trusted certificate does not carry the
	// subject value the client registered (tls_client_auth).
	ErrIdentityMismatch = errors.New("mtls: client certificate does not match the registered subject")

	// ErrKeyNotRegistered means the certificate's public key is not among
	// the client's registered signing keys (self_signed_tls_client_auth).
	ErrKeyNotRegistered = errors.New("mtls: client certificate key not registered")

	// ErrBindingMismatch means the presented certificate is not the one a
	// token is bound to (RFC 8705 §3).
	ErrBindingMismatch = errors.New("mtls: client certificate does not match the token's binding")

	// ErrInvalidRegistration means a client's registered mTLS metadata is
	// unusable (none or several subject values, an unparsable DN, …).
	ErrInvalidRegistration = errors.New("mtls: invalid mTLS client registration")

	// ErrInvalidConfig means the server's mTLS configuration is unusable
	// (client CA file, certificate header name, trusted proxies).
	ErrInvalidConfig = errors.New("mtls: invalid configuration")
)
