package oauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
)

// assertionAuth authenticates one client assertion at the token endpoint.
func assertionAuth(t *testing.T, p *Authorizer, assertion string) error {
	t.Helper()
	form := assertionForm(assertion)
	_, err := p.provider.AuthenticateClient(t.Context(), authRequest(t, authz.PathToken, form, "", ""), form)
	return err
}

// wantHint fails unless err's description mentions want.
func wantHint(t *testing.T, err error, want string) {
	t.Helper()
	if d := authz.ErrorResponse(err).GetDescription(); !strings.Contains(d, want) {
		t.Fatalf("description %q does not say %q", d, want)
	}
}

// TestClientAssertionRegisteredSigningAlg: a client that registered
// token_endpoint_auth_signing_alg authenticates only with that algorithm,
// even when its key (an RSA key without "alg") could make others; EdDSA
// keys work.
func TestClientAssertionRegisteredSigningAlg(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	p.now = time.Now
	ctx := t.Context()

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	ps := testClient("ps-registered")
	ps.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	ps.Metadata.TokenEndpointAuthSigningAlg = "PS256"
	ps.JWKS = jwks(t, jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "r1"})
	edPub, edKey, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	ed := testClient("ed")
	ed.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	ed.Metadata.TokenEndpointAuthSigningAlg = "EdDSA"
	ed.JWKS = jwks(t, jose.JSONWebKey{Key: edPub, KeyID: "e1"})
	edImplied := testClient("ed-implied")
	edImplied.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	edImplied.JWKS = jwks(t, jose.JSONWebKey{Key: edPub, KeyID: "e1"})
	for _, c := range []*storage.Client{ps, ed, edImplied} {
		must(t, store.CreateClient(ctx, c))
	}
	if got := mustClient(t, ps).GetTokenEndpointAuthSigningAlgorithm(); got != "PS256" {
		t.Fatalf("GetTokenEndpointAuthSigningAlgorithm = %q, want the registered PS256", got)
	}

	must(t, assertionAuth(t, p, (&assertionSigner{t: t, client: "ps-registered", alg: jose.PS256, key: rsaKey, kid: "r1"}).sign(nil)))
	err = assertionAuth(t, p, (&assertionSigner{t: t, client: "ps-registered", alg: jose.RS256, key: rsaKey, kid: "r1"}).sign(nil))
	wantRFC(t, err, "invalid_client", http.StatusUnauthorized)
	wantHint(t, err, "registered token_endpoint_auth_signing_alg PS256")

	must(t, assertionAuth(t, p, (&assertionSigner{t: t, client: "ed", alg: jose.EdDSA, key: edKey, kid: "e1"}).sign(nil)))
	must(t, assertionAuth(t, p, (&assertionSigner{t: t, client: "ed-implied", alg: jose.EdDSA, key: edKey, kid: "e1"}).sign(nil)))
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	err = assertionAuth(t, p, (&assertionSigner{t: t, client: "ed", alg: jose.ES256, key: ecKey, kid: "e1"}).sign(nil))
	wantRFC(t, err, "invalid_client", http.StatusUnauthorized)
}

// TestFAPI2EnsureClientAssertionWithRS256Fails mirrors the conformance
// module fapi2-security-profile-final-ensure-client-assertion-with-RS256-fails:
// a FAPI 2.0 client's RS256 assertion is invalid_client, even when its key
// would verify it (an RSA key without a registered algorithm); PS256 works.
func TestFAPI2EnsureClientAssertionWithRS256Fails(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	p.now = time.Now
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	c := testClient("fapi")
	c.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	c.Metadata.Profile = storage.ProfileFAPI2
	c.JWKS = jwks(t, jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "r1"}) // implies RS256
	must(t, store.CreateClient(t.Context(), c))

	err = assertionAuth(t, p, (&assertionSigner{t: t, client: "fapi", alg: jose.RS256, key: rsaKey, kid: "r1"}).sign(nil))
	wantRFC(t, err, "invalid_client", http.StatusUnauthorized)
	wantHint(t, err, "FAPI 2.0 clients must sign client assertions with PS256, ES256 or EdDSA")

	must(t, store.UpdateClient(t.Context(), c.ID, func(c *storage.Client) error {
		c.Metadata.TokenEndpointAuthSigningAlg = "PS256"
		return nil
	}))
	p.clients.Invalidate(c.ID)
	must(t, assertionAuth(t, p, (&assertionSigner{t: t, client: "fapi", alg: jose.PS256, key: rsaKey, kid: "r1"}).sign(nil)))
	err = assertionAuth(t, p, (&assertionSigner{t: t, client: "fapi", alg: jose.RS256, key: rsaKey, kid: "r1"}).sign(nil))
	wantRFC(t, err, "invalid_client", http.StatusUnauthorized)
}
