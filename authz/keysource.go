package authz

import (
	"github.com/ory/fosite/token/jwt"
)

// KeySource is what the provider needs from the signing-key manager
// (authz/keys): a signer, the active key per algorithm and the public JWKS.
type KeySource interface {
	// Signer returns a fosite signer whose default algorithm is alg.
	Signer(defaultAlg string) jwt.Signer
	// ActiveKID names the key that currently signs for alg.
	ActiveKID(alg string) (string, bool)
	// JWKS returns the published JWK Set document.
	JWKS() []byte
}
