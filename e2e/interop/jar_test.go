package interop

import (
	"strings"
	"testing"

	"github.com/strongroom/strongroom/storage"
)

// TestOauth4webapiMessageSigningPARWithJARMAndDPoPAndJWTIntrospection:
// oauth4webapi, as a FAPI 2.0 Message Signing client over real TLS on
// PostgreSQL, pushes a request object it signed (issueRequestObject) with a
// private_key_jwt assertion and a DPoP proof; the code comes back only
// inside a JARM response that validateJwtAuthResponse verifies with the
// server's JWKS; the code becomes a DPoP-bound token; its introspection in
// JWT form (RFC 9701) verifies with the JWKS and shows the binding.
//
// RAR hook: node/jar-jarm-dpop-par.mjs sends input["authorization_details"]
// inside the request object; set it here (payment_initiation) and assert
// on Introspection["authorization_details"] once RFC 9396 is merged.
func TestOauth4webapiMessageSigningPARWithJARMAndDPoPAndJWTIntrospection(t *testing.T) {
	t.Parallel()
	e := startTLS(t, nil)
	jwks, private := signingKey(t, "rp-ms-1")
	in := e.codeClient("openid email", func(c *storage.Client) {
		c.TokenEndpointAuthMethod, c.JWKS = storage.AuthMethodPrivateKeyJWT, jwks
		c.IDTokenSignedResponseAlg = "ES256"
		c.Metadata.Profile = storage.ProfileFAPI2MessageSigning
		c.Metadata.TokenEndpointAuthSigningAlg = "ES256"
		c.Metadata.DPoPBoundAccessTokens = true
		c.Metadata.RequireSignedRequestObject = true
		c.Metadata.RequestObjectSigningAlg = "ES256"
		c.Metadata.AuthorizationSignedResponseAlg = "ES256"
		c.Metadata.IntrospectionSignedResponseAlg = "ES256"
	})
	in["private_jwk"] = private
	var r struct {
		TokenType              string         `json:"token_type"`
		Scope                  string         `json:"scope"`
		CallbackHasPlainCode   bool           `json:"callback_has_plain_code"`
		JARM                   map[string]any `json:"jarm"`
		IDTokenClaims          map[string]any `json:"id_token_claims"`
		DPoPJKT                string         `json:"dpop_jkt"`
		Introspection          map[string]any `json:"introspection"`
		IntrospectionSignature string         `json:"introspection_signature"`
		NonceRetries           int            `json:"nonce_retries"`
	}
	e.runRP(t, "jar-jarm-dpop-par.mjs", in).result(t, &r)

	clientID := in["client_id"].(string)
	if r.CallbackHasPlainCode || r.JARM["code"] == nil || r.JARM["iss"] != e.Issuer {
		t.Errorf("JARM: plain code in the callback %v, validated parameters %v", r.CallbackHasPlainCode, r.JARM)
	}
	if r.IDTokenClaims["sub"] != e.userID || !audienceHas(r.IDTokenClaims["aud"], clientID) {
		t.Errorf("ID token claims %v", r.IDTokenClaims)
	}
	if !strings.EqualFold(r.TokenType, "dpop") || r.NonceRetries < 1 {
		t.Errorf("token_type %q after %d nonce retries: want DPoP (the FAPI client needs server nonces)", r.TokenType, r.NonceRetries)
	}
	cnf, _ := r.Introspection["cnf"].(map[string]any)
	if r.IntrospectionSignature != "valid" || r.Introspection["active"] != true || r.Introspection["token_type"] != "DPoP" ||
		r.DPoPJKT == "" || cnf["jkt"] != r.DPoPJKT || r.Introspection["client_id"] != clientID {
		t.Errorf("JWT introspection (signature %q): %v, want an active DPoP token with cnf.jkt %s", r.IntrospectionSignature, r.Introspection, r.DPoPJKT)
	}
}
