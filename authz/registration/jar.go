package registration

import (
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// RequestObjectAlgs are the JWS algorithms a signed request object
// (RFC 9101) may use; FAPI 2.0 clients are held to PS256, ES256 and EdDSA
// (checkProfile). "none" and HMAC algorithms are never accepted.
var RequestObjectAlgs = []string{"PS256", "ES256", "EdDSA", "RS256"}

// signsRequestObjects reports whether the registration asks for signed
// request objects: then it registers keys (jwks or jwks_uri) whatever its
// client authentication method.
func (s *ClientSpec) signsRequestObjects() bool {
	return s.RequireSignedRequestObject || s.RequestObjectSigningAlg != ""
}

// checkSignedMessages checks the signed request and response metadata
// (RFC 9101 request objects, JARM, RFC 9701): the request object algorithm
// is one the server verifies and the client has keys to sign with; the
// response algorithms are ones the server signs with (signingAlgs, the
// server's key algorithms).
// jwks, when registered inline, must hold a key that can make the request
// object algorithm's signatures.
func checkSignedMessages(p *Problems, s *ClientSpec, signingAlgs []string, jwks *jose.JSONWebKeySet) {
	if len(signingAlgs) == 0 {
		signingAlgs = defaultIDTokenAlgs
	}
	if alg := s.RequestObjectSigningAlg; alg != "" && !slices.Contains(RequestObjectAlgs, alg) {
		p.Add("request_object_signing_alg: unsupported algorithm %q (supported: %s)", alg, strings.Join(RequestObjectAlgs, ", "))
	} else if alg != "" && jwks != nil && !anyKeySigns(jwks, alg) {
		p.Add("request_object_signing_alg: no key in jwks can sign %s", alg)
	}
	if s.signsRequestObjects() && s.JWKSURI == "" && len(s.JWKS) == 0 {
		p.Add("require_signed_request_object and request_object_signing_alg need the client's public keys in jwks or jwks_uri")
	}
	for _, f := range []struct{ name, alg string }{
		{"authorization_signed_response_alg", s.AuthorizationSignedResponseAlg},
		{"introspection_signed_response_alg", s.IntrospectionSignedResponseAlg},
	} {
		if f.alg != "" && !slices.Contains(signingAlgs, f.alg) {
			p.Add("%s: unsupported algorithm %q (the server signs with: %s)", f.name, f.alg, strings.Join(signingAlgs, ", "))
		}
	}
}
