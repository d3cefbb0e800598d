package mtls

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"fmt"
)

// ConfirmationMethod is the member of a token's cnf claim that carries the
// certificate thumbprint (RFC 8705 §3.1).
const ConfirmationMethod = "x5t#S256"

// Confirmation is a cnf claim value binding a token to a certificate (RFC
// 8705 §3.1, RFC 7800): in JWT access tokens and in introspection responses.
type Confirmation struct {
	X5TS256 string `json:"x5t#S256"`
}

// Thumbprint returns the certificate's x5t#S256 thumbprint: the base64url
// encoding (no padding) of the SHA-256 hash of its DER encoding. cert must
// not be nil.
func Thumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ConfirmationFor returns the cnf value that binds a token to cert.
func ConfirmationFor(cert *x509.Certificate) Confirmation {
	return Confirmation{X5TS256: Thumbprint(cert)}
}

// VerifyBoundCertificate checks that the certificate a request came with is
// the one a token is bound to: its thumbprint equals boundThumbprint (the
// token's cnf x5t#S256), compared in constant time (RFC 8705 §3). No
// certificate wraps ErrNoCertificate; another certificate, or a thumbprint
// that is not a base64url SHA-256 hash, wraps ErrBindingMismatch.
func VerifyBoundCertificate(cert *ClientCertificate, boundThumbprint string) error {
	want, err := base64.RawURLEncoding.Strict().DecodeString(boundThumbprint)
	if err != nil || len(want) != sha256.Size {
		return fmt.Errorf("%w: the token's x5t#S256 is not a base64url SHA-256 thumbprint", ErrBindingMismatch)
	}
	if cert == nil || cert.Leaf == nil {
		return fmt.Errorf("%w: the token is bound to a client certificate and none was presented", ErrNoCertificate)
	}
	got := sha256.Sum256(cert.Leaf.Raw)
	if subtle.ConstantTimeCompare(got[:], want) != 1 {
		return fmt.Errorf("%w: the presented certificate is not the one the token is bound to", ErrBindingMismatch)
	}
	return nil
}
