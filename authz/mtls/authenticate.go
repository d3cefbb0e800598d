package mtls

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The token_endpoint_auth_method values of RFC 8705 §2.1.1 and §2.2.1.
const (
	MethodTLSClientAuth           = "tls_client_auth"
	MethodSelfSignedTLSClientAuth = "self_signed_tls_client_auth"
)

// Authenticator checks a presented certificate for the two RFC 8705 client
// authentication methods. It is safe for concurrent use.
type Authenticator struct {
	clientCAs *x509.CertPool
	now       func() time.Time
}

// NewAuthenticator returns an Authenticator that verifies tls_client_auth
// certificates against clientCAs (serve --tls-client-ca; nil: no client CA
// is configured and tls_client_auth always fails) at the time now returns
// (nil: time.Now).
func NewAuthenticator(clientCAs *x509.CertPool, now func() time.Time) *Authenticator {
	if now == nil {
		now = time.Now
	}
	return &Authenticator{clientCAs: clientCAs, now: now}
}

// TLSClientAuth authenticates a tls_client_auth client (RFC 8705 §2.1): the
// certificate must chain to a configured client CA (through the
// intermediates it came with), be valid now and allowed for client
// authentication (an extended key usage, when present, must include
// clientAuth), and carry the subject value the client registered.
//
// Errors wrap ErrNoCertificate, ErrUntrustedCertificate, ErrIdentityMismatch
// or, for a broken registration, ErrInvalidRegistration.
func (a *Authenticator) TLSClientAuth(cert *ClientCertificate, id Identity) error {
	if cert == nil || cert.Leaf == nil {
		return fmt.Errorf("%w: tls_client_auth needs a client certificate", ErrNoCertificate)
	}
	m, err := id.matcher()
	if err != nil {
		return err
	}
	if a.clientCAs == nil {
		return fmt.Errorf("%w: no client CA is configured (serve --tls-client-ca)", ErrUntrustedCertificate)
	}
	intermediates := x509.NewCertPool()
	for _, c := range cert.Intermediates {
		intermediates.AddCert(c)
	}
	_, err = cert.Leaf.Verify(x509.VerifyOptions{
		Roots:         a.clientCAs,
		Intermediates: intermediates,
		CurrentTime:   a.now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUntrustedCertificate, err)
	}
	return m.check(cert.Leaf)
}

// SelfSignedTLSClientAuth authenticates a self_signed_tls_client_auth client
// (RFC 8705 §2.2): the certificate's public key must equal the public key of
// one of the client's registered JWKs (a bare key or one with x5c); keys
// registered for encryption ("use": "enc") do not count. No chain is
// verified (the certificate may be self-signed or issued by anyone), but the
// certificate must be within its validity dates.
//
// Errors wrap ErrNoCertificate, ErrUntrustedCertificate (dates) or
// ErrKeyNotRegistered.
func (a *Authenticator) SelfSignedTLSClientAuth(cert *ClientCertificate, jwks *jose.JSONWebKeySet) error {
	if cert == nil || cert.Leaf == nil {
		return fmt.Errorf("%w: self_signed_tls_client_auth needs a client certificate", ErrNoCertificate)
	}
	if err := checkValidity(cert.Leaf, a.now()); err != nil {
		return err
	}
	if jwks == nil || len(jwks.Keys) == 0 {
		return fmt.Errorf("%w: the client has no registered keys", ErrKeyNotRegistered)
	}
	for _, k := range jwks.Keys {
		if k.Use == "enc" {
			continue
		}
		if publicKeyEqual(k.Public().Key, cert.Leaf.PublicKey) {
			return nil
		}
		if len(k.Certificates) > 0 && publicKeyEqual(k.Certificates[0].PublicKey, cert.Leaf.PublicKey) {
			return nil
		}
	}
	return fmt.Errorf("%w: the certificate's public key is not among the client's registered keys", ErrKeyNotRegistered)
}

// checkValidity requires now within [NotBefore, NotAfter], as x509 Verify
// would for a chain.
func checkValidity(c *x509.Certificate, now time.Time) error {
	switch {
	case now.Before(c.NotBefore):
		return fmt.Errorf("%w: the certificate is not valid before %s", ErrUntrustedCertificate, c.NotBefore.UTC().Format(time.RFC3339))
	case now.After(c.NotAfter):
		return fmt.Errorf("%w: the certificate expired at %s", ErrUntrustedCertificate, c.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// publicKeyEqual compares two public keys by value (type and parameters),
// whatever their concrete types; anything that is not a public key (nil, a
// symmetric key) equals nothing.
func publicKeyEqual(a, b crypto.PublicKey) bool {
	if a == nil || b == nil {
		return false
	}
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// ValidateSelfSignedJWKS checks the JWK Set a self_signed_tls_client_auth
// client registers: no private key material, and at least one asymmetric
// public key that is not for encryption (one a certificate can carry).
// Errors wrap ErrInvalidRegistration.
func ValidateSelfSignedJWKS(jwks *jose.JSONWebKeySet) error {
	if jwks == nil || len(jwks.Keys) == 0 {
		return fmt.Errorf("%w: self_signed_tls_client_auth needs a JWK Set with the client's certificate keys", ErrInvalidRegistration)
	}
	usable := 0
	for i, k := range jwks.Keys {
		if !k.IsPublic() {
			return fmt.Errorf("%w: JWK %d (kid %q) is not a public key; register public keys only", ErrInvalidRegistration, i+1, k.KeyID)
		}
		if k.Use != "enc" && k.Valid() {
			usable++
		}
	}
	if usable == 0 {
		return fmt.Errorf("%w: the JWK Set has no public signing key a client certificate could carry", ErrInvalidRegistration)
	}
	return nil
}
