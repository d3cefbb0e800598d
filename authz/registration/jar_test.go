package registration_test

import (
	"crypto/elliptic"
	"slices"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// messageSigningSpec is a valid FAPI 2.0 Message Signing registration.
func messageSigningSpec(t *testing.T) registration.ClientSpec {
	s := fapi2Spec(t)
	s.Profile = storage.ProfileFAPI2MessageSigning
	s.RequireSignedRequestObject = true
	s.RequestObjectSigningAlg = "ES256"
	s.AuthorizationSignedResponseAlg = "ES256"
	return s
}

func wantProblem(t *testing.T, problems []string, substr string) {
	t.Helper()
	if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, substr) }) {
		t.Fatalf("problems %q lack one mentioning %q", problems, substr)
	}
}

// TestFAPI2MessageSigningProfileRegistration: fapi2-message-signing is
// fapi2 plus signed request objects with a FAPI algorithm; the signed
// metadata round-trips through FromClient.
func TestFAPI2MessageSigningProfileRegistration(t *testing.T) {
	s := messageSigningSpec(t)
	if p := buildProblems(t, s); p != nil {
		t.Fatalf("a conforming client was refused: %q", p)
	}
	c, err := s.Build([]string{"RS256", "ES256", "PS256", "EdDSA"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Metadata.IsFAPI2() || !c.Metadata.IsFAPI2MessageSigning() {
		t.Fatal("message signing client is not FAPI 2.0")
	}
	back := registration.FromClient(c)
	if !back.RequireSignedRequestObject || back.RequestObjectSigningAlg != "ES256" || back.AuthorizationSignedResponseAlg != "ES256" || back.Profile != storage.ProfileFAPI2MessageSigning {
		t.Fatalf("FromClient lost the signed-message metadata: %+v", back)
	}

	s.RequireSignedRequestObject = false
	s.RequestObjectSigningAlg = ""
	p := buildProblems(t, s)
	wantProblem(t, p, "require_signed_request_object must be true")
	wantProblem(t, p, "request_object_signing_alg must be set")

	s = messageSigningSpec(t)
	s.RequestObjectSigningAlg = "RS256"
	s.AuthorizationSignedResponseAlg = "RS256"
	p = buildProblems(t, s)
	wantProblem(t, p, `request_object_signing_alg "RS256" is not allowed`)
	wantProblem(t, p, `authorization_signed_response_alg "RS256" is not allowed`)
}

// TestSignedRequestObjectNeedsKeys: a client of any auth method that asks
// for signed request objects registers keys, and may then register them.
func TestSignedRequestObjectNeedsKeys(t *testing.T) {
	s := registration.ClientSpec{
		ClientName: "Web", GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"https://web.example/cb"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, RequireSignedRequestObject: true,
	}
	wantProblem(t, buildProblems(t, s), "need the client's public keys")
	s.JWKS = jwksOf(t, "ES256", ecKey(t, elliptic.P256()))
	if p := buildProblems(t, s); p != nil {
		t.Fatalf("refused: %q", p)
	}
	s.RequestObjectSigningAlg = "PS256" // an EC key cannot make PS256 signatures
	wantProblem(t, buildProblems(t, s), "request_object_signing_alg: no key in jwks can sign PS256")
	s.RequestObjectSigningAlg = "none"
	wantProblem(t, buildProblems(t, s), `request_object_signing_alg: unsupported algorithm "none"`)
	s.RequestObjectSigningAlg = "HS256"
	wantProblem(t, buildProblems(t, s), `request_object_signing_alg: unsupported algorithm "HS256"`)
	s.RequestObjectSigningAlg = ""
	s.RequireSignedRequestObject = false
	wantProblem(t, buildProblems(t, s), "jwks_uri and jwks are used only")
}

// TestSignedResponseAlgorithmsAreTheServers: JARM and introspection
// response algorithms must be ones the server has keys for.
func TestSignedResponseAlgorithmsAreTheServers(t *testing.T) {
	s := registration.ClientSpec{
		ClientName: "Web", GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"https://web.example/cb"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, AuthorizationSignedResponseAlg: "ES512", IntrospectionSignedResponseAlg: "HS256",
	}
	p := buildProblems(t, s)
	wantProblem(t, p, `authorization_signed_response_alg: unsupported algorithm "ES512"`)
	wantProblem(t, p, `introspection_signed_response_alg: unsupported algorithm "HS256"`)
}
