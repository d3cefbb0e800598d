package registration

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/storage"
)

// Algorithms token_endpoint_auth_signing_alg may name: the asymmetric ones
// for private_key_jwt, the HMAC ones for client_secret_jwt (RFC 7523 over
// the client secret, which the server derives long enough for each:
// authz.SecretHasher.DeriveSecret).
var (
	asymmetricAuthSigningAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	symmetricAuthSigningAlgs  = []string{"HS256", "HS384", "HS512"}
)

// TLSClientAuthIdentity is the RFC 8705 §2.1.2 subject c registered, in the
// form authz/mtls matches certificates against.
func TLSClientAuthIdentity(c *storage.Client) mtls.Identity {
	md := c.Metadata
	return mtls.Identity{
		SubjectDN: md.TLSClientAuthSubjectDN,
		SANDNS:    md.TLSClientAuthSANDNS,
		SANURI:    md.TLSClientAuthSANURI,
		SANIP:     md.TLSClientAuthSANIP,
		SANEmail:  md.TLSClientAuthSANEmail,
	}
}

// mtlsProblem is an authz/mtls registration error as a problem message,
// without the package's sentinel prefix.
func mtlsProblem(err error) string {
	msg := err.Error()
	if errors.Is(err, mtls.ErrInvalidRegistration) {
		msg = strings.TrimPrefix(msg, mtls.ErrInvalidRegistration.Error()+": ")
	}
	return msg
}

// checkTLSClientAuthIdentity requires exactly one well-formed subject value
// for tls_client_auth and none for the other methods.
func checkTLSClientAuthIdentity(p *Problems, authMethod string, id mtls.Identity) {
	if authMethod == storage.AuthMethodTLSClientAuth {
		if err := id.Validate(); err != nil {
			p.Add("token_endpoint_auth_method: %s", mtlsProblem(err))
		}
		return
	}
	if id != (mtls.Identity{}) {
		p.Add("tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip and tls_client_auth_san_email are used only with token_endpoint_auth_method tls_client_auth")
	}
}

// checkAuthSigningAlg keeps token_endpoint_auth_signing_alg to the methods
// that sign assertions and to algorithms that fit the method: asymmetric
// for private_key_jwt, and one a registered key can make; HMAC for
// client_secret_jwt (HS256 when none is registered).
func checkAuthSigningAlg(p *Problems, authMethod, alg string, jwks *jose.JSONWebKeySet) {
	if alg == "" {
		return
	}
	known := slices.Contains(asymmetricAuthSigningAlgs, alg) || slices.Contains(symmetricAuthSigningAlgs, alg)
	switch {
	case alg == "none" || !known:
		p.Add("token_endpoint_auth_signing_alg: unsupported algorithm %q (supported with private_key_jwt: %s; with client_secret_jwt: %s)",
			alg, strings.Join(asymmetricAuthSigningAlgs, ", "), strings.Join(symmetricAuthSigningAlgs, ", "))
	case authMethod == storage.AuthMethodSecretJWT:
		if !slices.Contains(symmetricAuthSigningAlgs, alg) {
			p.Add("token_endpoint_auth_signing_alg: client_secret_jwt signs with an HMAC algorithm (%s), not %q", strings.Join(symmetricAuthSigningAlgs, ", "), alg)
		}
	case authMethod == storage.AuthMethodPrivateKeyJWT:
		if !slices.Contains(asymmetricAuthSigningAlgs, alg) {
			p.Add("token_endpoint_auth_signing_alg: private_key_jwt needs an asymmetric algorithm (%s), not %q", strings.Join(asymmetricAuthSigningAlgs, ", "), alg)
		} else if jwks != nil && !anyKeySigns(jwks, alg) {
			p.Add("token_endpoint_auth_signing_alg: no key in jwks can sign %s", alg)
		}
	default:
		p.Add("token_endpoint_auth_signing_alg is used only with token_endpoint_auth_method private_key_jwt or client_secret_jwt")
	}
}

// anyKeySigns reports whether some key of set can make alg signatures
// (and, when the key names its alg, names this one).
func anyKeySigns(set *jose.JSONWebKeySet, alg string) bool {
	for _, k := range set.Keys {
		if (k.Algorithm == "" || k.Algorithm == alg) && keySigns(k, alg) {
			return true
		}
	}
	return false
}

// keySigns reports whether k is of the type (and EC curve) alg signs with.
func keySigns(k jose.JSONWebKey, alg string) bool {
	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		want := map[string]string{"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg]
		return want != "" && key.Curve.Params().Name == want
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}
