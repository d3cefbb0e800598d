package keys

import (
	"crypto"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	josev3 "github.com/go-jose/go-jose/v3"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/storage"
)

// Signing algorithms (RFC 7518 section 3.1, RFC 8037 section 3.1).
const (
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256: the OpenID Connect default
	PS256 = "PS256" // RSASSA-PSS with SHA-256 (FAPI)
	ES256 = "ES256" // ECDSA P-256 with SHA-256 (FAPI)
	EdDSA = "EdDSA" // Ed25519
)

// RSABits is the modulus size of generated RSA keys (RS256, PS256). 2048 bits
// is what RFC 7518 section 3.3 requires at least and what every relying party
// accepts; it is NIST-acceptable through 2030 and keeps key generation (and
// the tests) fast. Raise it to 3072 when the deployment needs security beyond
// 2030; existing keys keep working, as the size is read from the key.
const RSABits = 2048

// useSig is the JWK "use" of every key (RFC 7517 section 4.2).
const useSig = "sig"

// ErrUnsupportedAlg reports an algorithm this package does not generate or sign with.
var ErrUnsupportedAlg = errors.New("keys: unsupported signing algorithm")

// algSpec describes one supported algorithm.
type algSpec struct {
	method   josev3.SignatureAlgorithm
	generate func() (crypto.Signer, error)
	// fits reports whether pub is a key of the right type for the algorithm.
	fits func(pub crypto.PublicKey) bool
}

// algOrder is the preference order reported by Algorithms: RS256 first, as
// OpenID Connect Discovery requires it.
var algOrder = []string{RS256, PS256, ES256, EdDSA}

func lookupAlg(alg string) (algSpec, bool) {
	switch alg {
	case RS256:
		return algSpec{josev3.RS256, generateRSA, isRSA}, true
	case PS256:
		return algSpec{josev3.PS256, generateRSA, isRSA}, true
	case ES256:
		return algSpec{josev3.ES256, generateP256, isP256}, true
	case EdDSA:
		return algSpec{josev3.EdDSA, generateEd25519, isEd25519}, true
	}
	return algSpec{}, false
}

// SupportedAlgorithms lists the algorithms Generate accepts, RS256 first.
func SupportedAlgorithms() []string {
	return append([]string(nil), algOrder...)
}

func generateRSA() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, RSABits) }

func generateP256() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

func generateEd25519() (crypto.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	return priv, err
}

func isRSA(pub crypto.PublicKey) bool {
	k, ok := pub.(*rsa.PublicKey)
	return ok && k.N.BitLen() >= 2048
}

func isP256(pub crypto.PublicKey) bool {
	k, ok := pub.(*ecdsa.PublicKey)
	return ok && k.Curve == elliptic.P256()
}

func isEd25519(pub crypto.PublicKey) bool {
	_, ok := pub.(ed25519.PublicKey)
	return ok
}

// Generate creates a key pair for alg (RS256, PS256, ES256 or EdDSA) and
// returns it as a storage row: KID is the RFC 7638 SHA-256 thumbprint of the
// public key (base64url, 43 characters), PublicJWK the public JWK with kid,
// alg and use "sig", PrivateEnc the PKCS#8 private key encrypted under kek
// (see ParseKEK). CreatedAt is now; State and the other timestamps are left
// to the caller.
func Generate(kek []byte, alg string, now time.Time) (*storage.SigningKey, error) {
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	return generate(aead, alg, now)
}

func generate(aead cipher.AEAD, alg string, now time.Time) (*storage.SigningKey, error) {
	spec, ok := lookupAlg(alg)
	if !ok {
		return nil, fmt.Errorf("keys: generate %q: %w", alg, ErrUnsupportedAlg)
	}
	priv, err := spec.generate()
	if err != nil {
		return nil, fmt.Errorf("keys: generate %s key: %w", alg, err)
	}
	jwk := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: useSig}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("keys: %s key thumbprint: %w", alg, err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	pubJSON, err := jwk.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("keys: marshal public JWK %s: %w", jwk.KeyID, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal private key %s: %w", jwk.KeyID, err)
	}
	defer clear(der)
	enc, err := seal(aead, jwk.KeyID, der)
	if err != nil {
		return nil, err
	}
	return &storage.SigningKey{
		KID:        jwk.KeyID,
		Alg:        alg,
		PublicJWK:  pubJSON,
		PrivateEnc: enc,
		CreatedAt:  now.UTC(),
	}, nil
}

// openPrivateKey decrypts and parses the private key of k and checks that it
// belongs to pub.
func openPrivateKey(aead cipher.AEAD, k *storage.SigningKey, pub crypto.PublicKey) (crypto.Signer, error) {
	der, err := open(aead, k.KID, k.PrivateEnc)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.KID, err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		// The parser's message describes the structure, not the key bytes.
		return nil, fmt.Errorf("key %s: private key is not PKCS#8: %w", k.KID, err)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key %s: private key type %T cannot sign", k.KID, parsed)
	}
	eq, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(pub) {
		return nil, fmt.Errorf("key %s: private key does not match its public JWK", k.KID)
	}
	return signer, nil
}

// parsePublicKey parses and checks the public JWK of k.
func parsePublicKey(k *storage.SigningKey) (crypto.PublicKey, error) {
	spec, ok := lookupAlg(k.Alg)
	if !ok {
		return nil, fmt.Errorf("key %s: %q: %w", k.KID, k.Alg, ErrUnsupportedAlg)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(k.PublicJWK); err != nil {
		return nil, fmt.Errorf("key %s: public JWK: %w", k.KID, err)
	}
	if jwk.KeyID != k.KID {
		return nil, fmt.Errorf("key %s: public JWK has kid %q", k.KID, jwk.KeyID)
	}
	if jwk.Algorithm != "" && jwk.Algorithm != k.Alg {
		return nil, fmt.Errorf("key %s: public JWK has alg %q, row has %q", k.KID, jwk.Algorithm, k.Alg)
	}
	// Public() drops private parameters should a JWK ever carry them.
	pub := jwk.Public()
	if !pub.Valid() || !spec.fits(pub.Key) {
		return nil, fmt.Errorf("key %s: public JWK is not a valid %s key", k.KID, k.Alg)
	}
	return pub.Key, nil
}
