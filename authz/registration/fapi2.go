package registration

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/storage"
)

// The FAPI 2.0 Security Profile's registration rules.
var (
	// supportedProfiles are the values of profile.
	supportedProfiles = []string{storage.ProfileNone, storage.ProfileFAPI2, storage.ProfileFAPI2MessageSigning}
	// fapi2AuthMethods are the client authentication methods FAPI 2.0
	// allows (SP §5.3.2.1): private_key_jwt and mutual TLS.
	fapi2AuthMethods = []string{storage.AuthMethodPrivateKeyJWT, storage.AuthMethodTLSClientAuth, storage.AuthMethodSelfSignedTLSClientAuth}
	// fapi2SigningAlgs are the JWS algorithms FAPI 2.0 allows (SP §5.4.1).
	fapi2SigningAlgs = []string{"PS256", "ES256", "EdDSA"}
)

// Minimum key sizes FAPI 2.0 requires of registered keys (SP §5.4.1).
const (
	fapi2MinRSABits = 2048
	fapi2MinECBits  = 256
)

// checkProfile checks the profile c registered. For "fapi2" every rule of
// the FAPI 2.0 Security Profile a registration can break is checked
// together, each failure its own problem; the rules only a request can
// break (PKCE S256, code lifetime, iss in responses, sender-constrained
// use of tokens) are the server's at run time.
func checkProfile(p *Problems, c *storage.Client, jwks *jose.JSONWebKeySet) {
	md := c.Metadata
	if !slices.Contains(supportedProfiles, md.Profile) {
		p.Add("profile: unknown profile %q (supported: fapi2, fapi2-message-signing, or none)", md.Profile)
		return
	}
	if !md.IsFAPI2() {
		return
	}
	if !c.RequirePAR {
		p.Add("profile fapi2: require_pushed_authorization_requests must be true (FAPI 2.0 sends authorization requests only by PAR, RFC 9126)")
	}
	if len(c.ResponseTypes) > 0 && !slices.Equal(c.ResponseTypes, []string{"code"}) {
		p.Add("profile fapi2: response_types must be exactly [\"code\"], not %q (FAPI 2.0 allows only the authorization code flow)", c.ResponseTypes)
	}
	if !md.DPoPBoundAccessTokens && !md.TLSClientCertificateBoundAccessTokens {
		p.Add("profile fapi2: sender-constrained tokens are required: set dpop_bound_access_tokens or tls_client_certificate_bound_access_tokens")
	}
	switch {
	case c.Public:
		p.Add("profile fapi2: a public client (token_endpoint_auth_method none) is not allowed; FAPI 2.0 clients are confidential")
	case !slices.Contains(fapi2AuthMethods, c.TokenEndpointAuthMethod):
		p.Add("profile fapi2: token_endpoint_auth_method %q is not allowed (allowed: %s)", c.TokenEndpointAuthMethod, strings.Join(fapi2AuthMethods, ", "))
	}
	switch alg := md.TokenEndpointAuthSigningAlg; {
	case alg != "" && !slices.Contains(fapi2SigningAlgs, alg):
		p.Add("profile fapi2: token_endpoint_auth_signing_alg %q is not allowed (allowed: %s)", alg, strings.Join(fapi2SigningAlgs, ", "))
	case alg == "" && c.TokenEndpointAuthMethod == storage.AuthMethodPrivateKeyJWT:
		// Without it a key's type names the algorithm, and an RSA key names RS256.
		p.Add("profile fapi2: token_endpoint_auth_signing_alg must be set to one of %s with private_key_jwt (an RSA key alone implies RS256)", strings.Join(fapi2SigningAlgs, ", "))
	}
	if alg := c.IDTokenSignedResponseAlg; alg != "" && !slices.Contains(fapi2SigningAlgs, alg) {
		p.Add("profile fapi2: id_token_signed_response_alg %q is not allowed (allowed: %s)", alg, strings.Join(fapi2SigningAlgs, ", "))
	}
	if c.IDTokenSignedResponseAlg == "" && slices.Contains(c.Scopes, "openid") {
		p.Add("profile fapi2: id_token_signed_response_alg must be set to one of %s (the server default, RS256, is not allowed)", strings.Join(fapi2SigningAlgs, ", "))
	}
	for _, f := range []struct{ name, alg string }{
		{"request_object_signing_alg", md.RequestObjectSigningAlg},
		{"authorization_signed_response_alg", md.AuthorizationSignedResponseAlg},
		{"introspection_signed_response_alg", md.IntrospectionSignedResponseAlg},
	} {
		if f.alg != "" && !slices.Contains(fapi2SigningAlgs, f.alg) {
			p.Add("profile fapi2: %s %q is not allowed (allowed: %s)", f.name, f.alg, strings.Join(fapi2SigningAlgs, ", "))
		}
	}
	if md.IsFAPI2MessageSigning() {
		if !md.RequireSignedRequestObject {
			p.Add("profile fapi2: require_signed_request_object must be true (FAPI 2.0 Message Signing sends every authorization request as a signed request object, RFC 9101)")
		}
		if md.RequestObjectSigningAlg == "" {
			p.Add("profile fapi2: request_object_signing_alg must be set to one of %s", strings.Join(fapi2SigningAlgs, ", "))
		}
	}
	if jwks != nil {
		checkFAPI2Keys(p, jwks)
	}
}

// checkFAPI2Keys requires RSA keys of at least 2048 bits, EC keys on a curve
// of at least 256 bits, and no key that names a forbidden algorithm.
func checkFAPI2Keys(p *Problems, jwks *jose.JSONWebKeySet) {
	for i, k := range jwks.Keys {
		switch key := k.Key.(type) {
		case *rsa.PublicKey:
			if bits := key.N.BitLen(); bits < fapi2MinRSABits {
				p.Add("profile fapi2: jwks key %d is a %d-bit RSA key; FAPI 2.0 needs at least %d bits", i+1, bits, fapi2MinRSABits)
			}
		case *ecdsa.PublicKey:
			if bits := key.Curve.Params().BitSize; bits < fapi2MinECBits {
				p.Add("profile fapi2: jwks key %d is on EC curve %s; FAPI 2.0 needs P-256 or stronger", i+1, key.Curve.Params().Name)
			}
		}
		if k.Algorithm != "" && !slices.Contains(fapi2SigningAlgs, k.Algorithm) {
			p.Add("profile fapi2: jwks key %d is for algorithm %q, which FAPI 2.0 does not allow (allowed: %s)", i+1, k.Algorithm, strings.Join(fapi2SigningAlgs, ", "))
		}
	}
}
