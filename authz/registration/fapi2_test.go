package registration_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

var (
	rsaKeysOnce          sync.Once
	rsa2048Key, rsa1024K *rsa.PrivateKey
)

func rsaKeys(t *testing.T) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	rsaKeysOnce.Do(func() {
		var err error
		if rsa2048Key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if rsa1024K, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
			panic(err)
		}
	})
	return rsa2048Key, rsa1024K
}

// jwksOf is a JWK Set of the public halves of keys; alg, when set, is put in every key.
func jwksOf(t *testing.T, alg string, keys ...crypto.Signer) json.RawMessage {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), Use: "sig", Algorithm: alg})
	}
	data, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func ecKey(t *testing.T, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func edKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fapi2Spec is a valid FAPI 2.0 registration: a confidential web client
// using PAR, private_key_jwt with ES256 and DPoP-bound tokens.
func fapi2Spec(t *testing.T) registration.ClientSpec {
	return registration.ClientSpec{
		ClientName:                  "Bank app",
		GrantTypes:                  []string{"authorization_code", "refresh_token"},
		RedirectURIs:                []string{"https://app.bank.example/cb"},
		Scope:                       "openid accounts",
		TokenEndpointAuthMethod:     storage.AuthMethodPrivateKeyJWT,
		JWKS:                        jwksOf(t, "", ecKey(t, elliptic.P256())),
		TokenEndpointAuthSigningAlg: "ES256",
		IDTokenSignedResponseAlg:    "ES256",
		RequirePAR:                  true,
		Profile:                     storage.ProfileFAPI2,
		DPoPBoundAccessTokens:       true,
	}
}

// mtlsPartnerSpec is a valid tls_client_auth client with certificate-bound tokens.
func mtlsPartnerSpec() registration.ClientSpec {
	return registration.ClientSpec{
		ClientName:                            "Partner",
		GrantTypes:                            []string{"client_credentials"},
		TokenEndpointAuthMethod:               storage.AuthMethodTLSClientAuth,
		Identity:                              mtls.Identity{SubjectDN: "CN=partner.example,O=Partner Ltd,C=GB"},
		TLSClientCertificateBoundAccessTokens: true,
	}
}

// buildProblems builds s and returns its problems (none when it is valid).
func buildProblems(t *testing.T, s registration.ClientSpec) []string {
	t.Helper()
	_, err := s.Build([]string{"RS256", "ES256", "PS256", "EdDSA"})
	if err == nil {
		return nil
	}
	var ve *registration.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Build: %T %v, want a *ValidationError", err, err)
	}
	return ve.Problems
}

// wantOnlyProblem requires exactly one problem, containing each of want.
func wantOnlyProblem(t *testing.T, s registration.ClientSpec, want ...string) {
	t.Helper()
	problems := buildProblems(t, s)
	if len(problems) != 1 {
		t.Fatalf("problems = %q, want exactly one containing %q", problems, want)
	}
	for _, w := range want {
		if !strings.Contains(problems[0], w) {
			t.Fatalf("problem %q does not contain %q", problems[0], w)
		}
	}
}

func wantValid(t *testing.T, s registration.ClientSpec) *storage.Client {
	t.Helper()
	c, err := s.Build([]string{"RS256", "ES256", "PS256", "EdDSA"})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return c
}

func TestFAPI2ProfileAcceptsAConformingClient(t *testing.T) {
	c := wantValid(t, fapi2Spec(t))
	md := c.Metadata
	if !md.IsFAPI2() || !md.DPoPBoundAccessTokens || md.TokenEndpointAuthSigningAlg != "ES256" || !c.RequirePAR {
		t.Fatalf("stored %+v", c)
	}

	partner := mtlsPartnerSpec()
	partner.Profile = storage.ProfileFAPI2
	partner.RequirePAR = true
	wantValid(t, partner)

	rsaKey, _ := rsaKeys(t)
	selfSigned := fapi2Spec(t)
	selfSigned.TokenEndpointAuthMethod = storage.AuthMethodSelfSignedTLSClientAuth
	selfSigned.TokenEndpointAuthSigningAlg = ""
	selfSigned.JWKS = jwksOf(t, "PS256", rsaKey)
	selfSigned.DPoPBoundAccessTokens, selfSigned.TLSClientCertificateBoundAccessTokens = false, true
	wantValid(t, selfSigned)

	eddsa := fapi2Spec(t)
	eddsa.JWKS = jwksOf(t, "", edKey(t))
	eddsa.TokenEndpointAuthSigningAlg = "EdDSA"
	wantValid(t, eddsa)
}

func TestFAPI2ProfileRefusesClientSecretBasic(t *testing.T) {
	s := fapi2Spec(t)
	s.TokenEndpointAuthMethod, s.JWKS, s.TokenEndpointAuthSigningAlg = storage.AuthMethodSecretBasic, nil, ""
	wantOnlyProblem(t, s, "profile fapi2", `token_endpoint_auth_method "client_secret_basic" is not allowed`, "private_key_jwt, tls_client_auth, self_signed_tls_client_auth")
}

func TestFAPI2ProfileRefusesClientSecretJWT(t *testing.T) {
	s := fapi2Spec(t)
	s.TokenEndpointAuthMethod, s.JWKS, s.TokenEndpointAuthSigningAlg = storage.AuthMethodSecretJWT, nil, ""
	// a method FAPI 2.0 does not allow (SP §5.3.2.1), though others may use it
	wantOnlyProblem(t, s, "profile fapi2", `token_endpoint_auth_method "client_secret_jwt" is not allowed`, "private_key_jwt, tls_client_auth, self_signed_tls_client_auth")
}

func TestFAPI2ProfileRefusesPublicClients(t *testing.T) {
	s := fapi2Spec(t)
	s.TokenEndpointAuthMethod, s.JWKS, s.TokenEndpointAuthSigningAlg = storage.AuthMethodNone, nil, ""
	s.GrantTypes = []string{"authorization_code"}
	wantOnlyProblem(t, s, "profile fapi2", "public client", "not allowed")
}

func TestFAPI2ProfileRefusesRS256(t *testing.T) {
	rsaKey, _ := rsaKeys(t)
	s := fapi2Spec(t)
	s.JWKS = jwksOf(t, "", rsaKey)
	s.TokenEndpointAuthSigningAlg = "RS256"
	wantOnlyProblem(t, s, "profile fapi2", `token_endpoint_auth_signing_alg "RS256" is not allowed`, "PS256, ES256, EdDSA")

	s = fapi2Spec(t)
	s.IDTokenSignedResponseAlg = "RS256"
	wantOnlyProblem(t, s, "profile fapi2", `id_token_signed_response_alg "RS256" is not allowed`)

	s = fapi2Spec(t)
	s.JWKS = jwksOf(t, "RS256", rsaKey)
	s.TokenEndpointAuthSigningAlg = "PS256"
	problems := buildProblems(t, s)
	if len(problems) != 2 || !strings.Contains(problems[0], "no key in jwks can sign PS256") || !strings.Contains(problems[1], `profile fapi2: jwks key 1 is for algorithm "RS256"`) {
		t.Fatalf("problems = %q", problems)
	}
}

func TestFAPI2ProfileRequiresTheAssertionAlgorithmWithPrivateKeyJWT(t *testing.T) {
	rsaKey, _ := rsaKeys(t)
	s := fapi2Spec(t)
	s.JWKS = jwksOf(t, "", rsaKey)
	s.TokenEndpointAuthSigningAlg = ""
	wantOnlyProblem(t, s, "profile fapi2", "token_endpoint_auth_signing_alg must be set", "RS256")
	s.TokenEndpointAuthSigningAlg = "PS256"
	wantValid(t, s)
}

func TestFAPI2ProfileRefusesHS256(t *testing.T) {
	s := fapi2Spec(t)
	s.TokenEndpointAuthMethod, s.JWKS, s.TokenEndpointAuthSigningAlg = storage.AuthMethodSecretJWT, nil, "HS256"
	problems := buildProblems(t, s)
	if len(problems) != 2 || !strings.Contains(problems[0], `profile fapi2: token_endpoint_auth_method "client_secret_jwt" is not allowed`) || !strings.Contains(problems[1], `token_endpoint_auth_signing_alg "HS256" is not allowed`) {
		t.Fatalf("problems = %q", problems)
	}
}

func TestFAPI2ProfileRequiresAnIDTokenAlgorithm(t *testing.T) {
	s := fapi2Spec(t)
	s.IDTokenSignedResponseAlg = ""
	wantOnlyProblem(t, s, "profile fapi2", "id_token_signed_response_alg must be set", "RS256, is not allowed")
}

func TestFAPI2ProfileRequiresPAR(t *testing.T) {
	s := fapi2Spec(t)
	s.RequirePAR = false
	wantOnlyProblem(t, s, "profile fapi2", "require_pushed_authorization_requests must be true")
}

func TestFAPI2ProfileRequiresResponseTypeCodeOnly(t *testing.T) {
	s := fapi2Spec(t)
	s.ResponseTypes = []string{"code", "code id_token"}
	wantOnlyProblem(t, s, "profile fapi2", `response_types must be exactly ["code"]`)
}

func TestFAPI2ProfileRequiresSenderConstrainedTokens(t *testing.T) {
	s := fapi2Spec(t)
	s.DPoPBoundAccessTokens = false
	wantOnlyProblem(t, s, "profile fapi2", "sender-constrained tokens are required", "dpop_bound_access_tokens", "tls_client_certificate_bound_access_tokens")

	s.TLSClientCertificateBoundAccessTokens = true
	wantValid(t, s)
}

func TestFAPI2ProfileRefusesShortRSAKeys(t *testing.T) {
	_, short := rsaKeys(t)
	s := fapi2Spec(t)
	s.JWKS = jwksOf(t, "", short)
	s.TokenEndpointAuthSigningAlg = "PS256"
	wantOnlyProblem(t, s, "profile fapi2", "jwks key 1 is a 1024-bit RSA key", "at least 2048 bits")
}

func TestFAPI2ProfileRefusesWeakECCurves(t *testing.T) {
	// go-jose does not read P-224 keys from JSON, so a weak curve cannot
	// even reach the profile check: the set is refused as invalid.
	s := fapi2Spec(t)
	s.JWKS = json.RawMessage(`{"keys":[{"kty":"EC","crv":"P-224","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}`)
	if problems := buildProblems(t, s); len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), "jwks") {
		t.Fatalf("problems = %q", problems)
	}
	// Larger curves pass the size rule (a P-384 key beside the ES256 one).
	s.JWKS = jwksOf(t, "", ecKey(t, elliptic.P256()), ecKey(t, elliptic.P384()))
	wantValid(t, s)
}

func TestFAPI2ProfileReportsEveryProblemAtOnce(t *testing.T) {
	_, short := rsaKeys(t)
	s := registration.ClientSpec{
		ClientName:                  "Everything wrong",
		GrantTypes:                  []string{"authorization_code"},
		RedirectURIs:                []string{"https://app.example/cb"},
		ResponseTypes:               []string{"code id_token"},
		Scope:                       "openid",
		TokenEndpointAuthMethod:     storage.AuthMethodPrivateKeyJWT,
		JWKS:                        jwksOf(t, "", short),
		TokenEndpointAuthSigningAlg: "RS256",
		IDTokenSignedResponseAlg:    "RS256",
		Profile:                     storage.ProfileFAPI2,
	}
	problems := buildProblems(t, s)
	for _, want := range []string{"require_pushed_authorization_requests", "response_types must be exactly", "sender-constrained", `token_endpoint_auth_signing_alg "RS256"`, `id_token_signed_response_alg "RS256"`, "1024-bit RSA key"} {
		found := 0
		for _, p := range problems {
			if strings.Contains(p, want) {
				found++
			}
		}
		if found != 1 {
			t.Errorf("%d problems mention %q: %q", found, want, problems)
		}
	}
}

func TestUnknownProfileIsRefused(t *testing.T) {
	s := mtlsPartnerSpec()
	s.Profile = "fapi1"
	wantOnlyProblem(t, s, `profile: unknown profile "fapi1"`)
}

func TestTLSClientAuthNeedsExactlyOneIdentity(t *testing.T) {
	s := mtlsPartnerSpec()
	s.Identity = mtls.Identity{}
	wantOnlyProblem(t, s, "token_endpoint_auth_method", "tls_client_auth needs exactly one of", "0 are set")

	s.Identity = mtls.Identity{SubjectDN: "CN=a", SANDNS: "a.example"}
	wantOnlyProblem(t, s, "tls_client_auth needs exactly one of", "2 are set")

	for _, id := range []mtls.Identity{
		{SubjectDN: "CN=partner"}, {SANDNS: "partner.example"}, {SANURI: "spiffe://bank/partner"},
		{SANIP: "192.0.2.7"}, {SANEmail: "ops@partner.example"},
	} {
		s.Identity = id
		c := wantValid(t, s)
		if got := registration.TLSClientAuthIdentity(c); got != id {
			t.Fatalf("stored identity %+v, want %+v", got, id)
		}
	}
}

func TestTLSClientAuthRefusesMalformedIdentity(t *testing.T) {
	for name, tc := range map[string]struct {
		id   mtls.Identity
		want string
	}{
		"dn":    {mtls.Identity{SubjectDN: "not a DN"}, `subject DN "not a DN"`},
		"dns":   {mtls.Identity{SANDNS: "*.example"}, "is not a DNS name"},
		"uri":   {mtls.Identity{SANURI: "partner"}, "is not an absolute URI"},
		"ip":    {mtls.Identity{SANIP: "999.1.1.1"}, "is not an IP address"},
		"email": {mtls.Identity{SANEmail: "ops"}, "is not an email address"},
	} {
		t.Run(name, func(t *testing.T) {
			s := mtlsPartnerSpec()
			s.Identity = tc.id
			wantOnlyProblem(t, s, tc.want)
		})
	}
}

func TestTLSClientAuthIdentityOnlyWithTLSClientAuth(t *testing.T) {
	s := mtlsPartnerSpec()
	s.TokenEndpointAuthMethod = storage.AuthMethodSecretBasic
	wantOnlyProblem(t, s, "are used only with token_endpoint_auth_method tls_client_auth")
}

func TestSelfSignedTLSClientAuthRequiresJWKS(t *testing.T) {
	s := mtlsPartnerSpec()
	s.TokenEndpointAuthMethod, s.Identity = storage.AuthMethodSelfSignedTLSClientAuth, mtls.Identity{}
	wantOnlyProblem(t, s, "self_signed_tls_client_auth requires jwks")

	s.JWKSURI = "https://partner.example/jwks"
	wantOnlyProblem(t, s, "jwks_uri: self_signed_tls_client_auth takes the certificate keys in jwks")

	s.JWKSURI = ""
	s.JWKS = json.RawMessage(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)
	wantOnlyProblem(t, s, "jwks: key 1 is a private or symmetric key")

	s.JWKS = jwksOf(t, "", ecKey(t, elliptic.P256()))
	wantValid(t, s)
}

func TestPrivateKeyJWTRequiresJWKS(t *testing.T) {
	s := fapi2Spec(t)
	s.Profile, s.DPoPBoundAccessTokens = "", false
	s.JWKS, s.TokenEndpointAuthSigningAlg = nil, ""
	wantOnlyProblem(t, s, "private_key_jwt requires jwks_uri or jwks")
}

// TestClientSecretJWTRegistration: a client may register client_secret_jwt
// (RFC 7523 HMAC assertions over its secret) with HS256, HS384 or HS512 as
// its one algorithm (none registered: HS256 at the token endpoint); an
// asymmetric algorithm, "none", or keys are refused, each with a problem
// that names the rule.
func TestClientSecretJWTRegistration(t *testing.T) {
	s := mtlsPartnerSpec()
	s.TokenEndpointAuthMethod, s.Identity, s.TLSClientCertificateBoundAccessTokens = storage.AuthMethodSecretJWT, mtls.Identity{}, false
	for _, alg := range []string{"", "HS256", "HS384", "HS512"} {
		s.TokenEndpointAuthSigningAlg = alg
		c := wantValid(t, s)
		if c.TokenEndpointAuthMethod != storage.AuthMethodSecretJWT || c.Metadata.TokenEndpointAuthSigningAlg != alg || c.Public {
			t.Fatalf("alg %q: built %+v", alg, c)
		}
		if !registration.UsesSecret(c.TokenEndpointAuthMethod) || registration.UsesJWKS(c.TokenEndpointAuthMethod) {
			t.Fatal("client_secret_jwt must use a secret and no keys")
		}
	}
	for _, alg := range []string{"ES256", "PS256", "EdDSA"} {
		s.TokenEndpointAuthSigningAlg = alg
		wantOnlyProblem(t, s, "client_secret_jwt signs with an HMAC algorithm", "HS256, HS384, HS512", alg)
	}
	s.TokenEndpointAuthSigningAlg = "none"
	wantOnlyProblem(t, s, `unsupported algorithm "none"`)
	s.TokenEndpointAuthSigningAlg = "HS256"
	s.JWKS = jwksOf(t, "", ecKey(t, elliptic.P256()))
	wantOnlyProblem(t, s, "jwks_uri and jwks are used only with token_endpoint_auth_method private_key_jwt")

	// HMAC algorithms belong to client_secret_jwt only.
	basic := mtlsPartnerSpec()
	basic.TokenEndpointAuthMethod, basic.Identity, basic.TLSClientCertificateBoundAccessTokens = storage.AuthMethodSecretBasic, mtls.Identity{}, false
	basic.TokenEndpointAuthSigningAlg = "HS256"
	wantOnlyProblem(t, basic, "token_endpoint_auth_signing_alg is used only with token_endpoint_auth_method private_key_jwt or client_secret_jwt")
}

func TestPrivateKeyJWTSigningAlgMustBeAsymmetricAndFitTheKeys(t *testing.T) {
	s := fapi2Spec(t)
	s.Profile, s.DPoPBoundAccessTokens = "", false
	s.TokenEndpointAuthSigningAlg = "HS256"
	wantOnlyProblem(t, s, "private_key_jwt needs an asymmetric algorithm")
	s.TokenEndpointAuthSigningAlg = "PS256"
	wantOnlyProblem(t, s, "no key in jwks can sign PS256")
	s.TokenEndpointAuthSigningAlg = "ES384"
	wantOnlyProblem(t, s, "no key in jwks can sign ES384")
	s.TokenEndpointAuthSigningAlg = "none"
	wantOnlyProblem(t, s, `unsupported algorithm "none"`)
	s.TokenEndpointAuthSigningAlg = "RS256"
	s.JWKS = jwksOf(t, "", edKey(t))
	wantOnlyProblem(t, s, "no key in jwks can sign RS256")
}

func TestAuthSigningAlgOnlyWithAssertionMethods(t *testing.T) {
	s := mtlsPartnerSpec()
	s.TokenEndpointAuthSigningAlg = "PS256"
	wantOnlyProblem(t, s, "token_endpoint_auth_signing_alg is used only with token_endpoint_auth_method private_key_jwt")
}

func TestSenderConstrainedFieldsRoundTrip(t *testing.T) {
	for name, s := range map[string]registration.ClientSpec{"fapi2": fapi2Spec(t), "mtls": mtlsPartnerSpec()} {
		t.Run(name, func(t *testing.T) {
			c := wantValid(t, s)
			back := registration.FromClient(c)
			if back.Profile != s.Profile || back.DPoPBoundAccessTokens != s.DPoPBoundAccessTokens ||
				back.TLSClientCertificateBoundAccessTokens != s.TLSClientCertificateBoundAccessTokens ||
				back.TokenEndpointAuthSigningAlg != s.TokenEndpointAuthSigningAlg || back.Identity != s.Identity ||
				back.RequirePAR != s.RequirePAR {
				t.Fatalf("round trip: %+v\nwant %+v", back, s)
			}
			data, err := json.Marshal(back)
			if err != nil {
				t.Fatal(err)
			}
			specs, err := registration.DecodeClientSpecs(data)
			if err != nil {
				t.Fatalf("decode %s: %v", data, err)
			}
			wantValid(t, specs[0])
		})
	}
}

func TestClientSpecJSONNames(t *testing.T) {
	s := mtlsPartnerSpec()
	s.Profile, s.DPoPBoundAccessTokens, s.TokenEndpointAuthSigningAlg = "fapi2", true, "PS256"
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{`"profile":"fapi2"`, `"dpop_bound_access_tokens":true`, `"tls_client_certificate_bound_access_tokens":true`,
		`"token_endpoint_auth_signing_alg":"PS256"`, `"tls_client_auth_subject_dn":"CN=partner.example,O=Partner Ltd,C=GB"`} {
		if !strings.Contains(string(data), name) {
			t.Errorf("%s lacks %s", data, name)
		}
	}
	var patched registration.ClientSpec
	if err := patched.MergePatch([]byte(`{"tls_client_auth_san_dns":"p.example","tls_client_auth_san_ip":"::1","tls_client_auth_san_uri":"urn:x","tls_client_auth_san_email":"a@b"}`)); err != nil {
		t.Fatal(err)
	}
	if patched.SANDNS != "p.example" || patched.SANIP != "::1" || patched.SANURI != "urn:x" || patched.SANEmail != "a@b" {
		t.Fatalf("%+v", patched.Identity)
	}
}
