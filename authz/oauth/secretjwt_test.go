package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/oauth/clientauth"
	"github.com/strongroom/strongroom/storage"
)

func mustECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	return k
}

// secretJWTClient is a client_secret_jwt client registered for alg ("" :
// none) whose secrets are the server-derived ones of secretIDs, oldest
// first; it returns the client and the secrets (what create/rotate showed).
func secretJWTClient(t *testing.T, p *Authorizer, id, alg string, secretIDs ...string) (*storage.Client, []string) {
	t.Helper()
	c := testClient(id)
	c.TokenEndpointAuthMethod = storage.AuthMethodSecretJWT
	c.Metadata.TokenEndpointAuthSigningAlg = alg
	var plain []string
	for _, sid := range secretIDs {
		secret := p.hasher.DeriveSecret(id, sid)
		hash, err := p.hasher.Hash(t.Context(), []byte(secret))
		must(t, err)
		c.Secrets = append(c.Secrets, storage.ClientSecret{ID: sid, Hash: hash, CreatedAt: time.Now()})
		plain = append(plain, secret)
	}
	return c, plain
}

// TestClientSecretJWTSucceeds: a client_secret_jwt client authenticates
// with an RFC 7523 assertion HMAC'd with its secret (the one create
// showed, which the server recomputes: only its hash is stored), with or
// without a kid naming the secret, with each HMAC algorithm it may register,
// at the token, PAR, introspection and revocation endpoints.
func TestClientSecretJWTSucceeds(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	p.now = time.Now
	for _, tc := range []struct {
		alg jose.SignatureAlgorithm
		reg string
	}{{jose.HS256, ""}, {jose.HS256, "HS256"}, {jose.HS384, "HS384"}, {jose.HS512, "HS512"}} {
		id := "sj-" + string(tc.alg) + "-" + tc.reg
		c, secrets := secretJWTClient(t, p, id, tc.reg, "a1b2c3d4e5f6")
		must(t, store.CreateClient(t.Context(), c))
		for _, kid := range []string{"a1b2c3d4e5f6", ""} {
			for _, path := range []string{authz.PathToken, authz.PathPAR, authz.PathIntrospect, authz.PathRevoke} {
				s := &assertionSigner{t: t, client: id, alg: tc.alg, key: []byte(secrets[0]), kid: kid}
				form := assertionForm(s.sign(nil))
				got, err := p.provider.AuthenticateClient(t.Context(), authRequest(t, path, form, "", ""), form)
				if err != nil {
					t.Fatalf("%s registered %q, kid %q, %s: %v", tc.alg, tc.reg, kid, path, authz.ErrorResponse(err).GetDescription())
				}
				if got.GetID() != id {
					t.Fatalf("authenticated as %q", got.GetID())
				}
			}
		}
	}
}

// TestClientSecretJWTEnsureInvalidAssertionsFail: every assertion of a
// client_secret_jwt client that is not an HMAC with its own live secret, in
// its registered algorithm, for this server, used once, is invalid_client
// (401): a wrong secret, alg none, another client's secret, an algorithm
// it did not register, an asymmetric algorithm, a replayed jti, an aud
// array naming another party beside us, a kid naming no secret of its own,
// an expired secret, a secret sent in place of an assertion.
func TestClientSecretJWTEnsureInvalidAssertionsFail(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	p.now = time.Now
	ctx := t.Context()
	c, secrets := secretJWTClient(t, p, "sj", "HS256", "0000000000aa")
	other, otherSecrets := secretJWTClient(t, p, "sj-other", "HS256", "0000000000bb")
	expired, expiredSecrets := secretJWTClient(t, p, "sj-expired", "HS256", "0000000000cc")
	expired.Secrets[0].ExpiresAt = ptr(time.Now().Add(-time.Minute))
	// a secret the server did not derive (generated for client_secret_basic, then the method edited in the database)
	random, err := authz.GenerateSecret()
	must(t, err)
	underived := testClient("sj-underived")
	underived.TokenEndpointAuthMethod = storage.AuthMethodSecretJWT
	h, err := p.hasher.Hash(ctx, []byte(random))
	must(t, err)
	underived.Secrets = []storage.ClientSecret{{ID: "0000000000dd", Hash: h}}
	fapi, fapiSecrets := secretJWTClient(t, p, "sj-fapi", "HS256", "0000000000ff")
	fapi.Metadata.Profile = storage.ProfileFAPI2 // edited in the database: registration refuses it
	basic := testClient("basic")
	basic.Secrets = []storage.ClientSecret{{ID: "0000000000ee", Hash: h}}
	for _, sc := range []*storage.Client{c, other, expired, underived, fapi, basic} {
		must(t, store.CreateClient(ctx, sc))
	}
	sign := func(client, secret string, alg jose.SignatureAlgorithm, kid string, claims map[string]any) string {
		return (&assertionSigner{t: t, client: client, alg: alg, key: []byte(secret), kid: kid}).sign(claims)
	}
	replayed := sign("sj", secrets[0], jose.HS256, "", nil)
	must(t, assertionAuth(t, p, replayed))
	longWrong := strings.Repeat("w", 86)

	tests := []struct {
		name string
		form url.Values
		hint string
	}{
		{"ensure-client-assertion-with-wrong-secret-fails", assertionForm(sign("sj", longWrong, jose.HS256, "", nil)), "does not verify with the client's secret"},
		{"ensure-client-assertion-with-alg-none-fails", assertionForm(unsignedAssertion(t, "sj")), "not a JWS signed with a supported algorithm"},
		{"ensure-client-assertion-with-other-clients-secret-fails", assertionForm(sign("sj", otherSecrets[0], jose.HS256, "", nil)), "does not verify"},
		{"ensure-client-assertion-with-other-clients-secret-and-kid-fails", assertionForm(sign("sj", otherSecrets[0], jose.HS256, "0000000000bb", nil)), "names no live client_secret_jwt secret"},
		{"ensure-client-assertion-with-unregistered-HS512-fails", assertionForm(sign("sj", secrets[0], jose.HS512, "", nil)), "registered token_endpoint_auth_signing_alg HS256, not HS512"},
		{"ensure-client-assertion-with-ES256-fails", assertionForm((&assertionSigner{t: t, client: "sj", alg: jose.ES256, key: mustECKey(t)}).sign(nil)), "registered for client_secret_jwt"},
		{"ensure-client-assertion-replay-fails", assertionForm(replayed), ""},
		{"ensure-client-assertion-with-foreign-aud-array-fails", assertionForm(sign("sj", secrets[0], jose.HS256, "", map[string]any{"aud": []string{"https://as.example", "https://evil.example"}})), "'aud' must be"},
		{"ensure-client-assertion-with-foreign-aud-fails", assertionForm(sign("sj", secrets[0], jose.HS256, "", map[string]any{"aud": "https://evil.example"})), "'aud' must be"},
		{"ensure-client-assertion-with-expired-secret-fails", assertionForm(sign("sj-expired", expiredSecrets[0], jose.HS256, "", nil)), "no live secret"},
		{"ensure-client-assertion-with-underived-secret-fails", assertionForm(sign("sj-underived", random+random, jose.HS256, "", nil)), "no live secret"},
		{"ensure-client-assertion-with-expired-exp-fails", assertionForm(sign("sj", secrets[0], jose.HS256, "", map[string]any{"exp": time.Now().Add(-time.Second).Unix()})), "expired"},
		{"fapi2-ensure-client-secret-jwt-fails", assertionForm(sign("sj-fapi", fapiSecrets[0], jose.HS256, "", nil)), "FAPI 2.0 clients must sign client assertions with PS256, ES256 or EdDSA"},
		{"ensure-hmac-assertion-for-client-secret-basic-client-fails", assertionForm(sign("basic", random+random, jose.HS256, "", nil)), "not registered for private_key_jwt or client_secret_jwt"},
		{"ensure-client-secret-post-for-client-secret-jwt-client-fails", url.Values{"client_id": {"sj"}, "client_secret": {secrets[0]}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := p.provider.AuthenticateClient(t.Context(), authRequest(t, authz.PathToken, tc.form, "", ""), tc.form)
			if got != nil {
				t.Fatalf("client %q authenticated", got.GetID())
			}
			wantRFC(t, err, "invalid_client", http.StatusUnauthorized)
			if tc.hint != "" {
				wantHint(t, err, tc.hint)
			}
		})
	}
	// HTTP Basic with the derived secret: not the client's method either.
	_, err = p.provider.AuthenticateClient(ctx, authRequest(t, authz.PathToken, url.Values{}, "sj", secrets[0]), url.Values{})
	wantRFC(t, err, "invalid_client", http.StatusUnauthorized)
}

// TestClientSecretJWTRotationGrace: after a rotation both live secrets
// authenticate (the old one until its grace ends), found by kid or tried
// newest first; once the old secret has expired its assertions fail.
func TestClientSecretJWTRotationGrace(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	now := time.Now()
	p.now = func() time.Time { return now }
	c, secrets := secretJWTClient(t, p, "sj", "", "0000000000a1", "0000000000a2")
	c.Secrets[0].ExpiresAt = ptr(now.Add(time.Hour)) // the previous secret, in its grace
	must(t, store.CreateClient(t.Context(), c))
	for i, kid := range []string{"0000000000a1", "0000000000a2"} {
		for _, k := range []string{kid, ""} {
			must(t, assertionAuth(t, p, (&assertionSigner{t: t, client: "sj", alg: jose.HS256, key: []byte(secrets[i]), kid: k}).sign(nil)))
		}
	}
	// kid naming the new secret over an assertion made with the old: refused.
	wantRFC(t, assertionAuth(t, p, (&assertionSigner{t: t, client: "sj", alg: jose.HS256, key: []byte(secrets[0]), kid: "0000000000a2"}).sign(nil)), "invalid_client", http.StatusUnauthorized)

	now = now.Add(time.Hour + time.Second) // the grace is over
	for _, kid := range []string{"0000000000a1", ""} {
		a := (&assertionSigner{t: t, client: "sj", alg: jose.HS256, key: []byte(secrets[0]), kid: kid}).sign(map[string]any{
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		})
		wantRFC(t, assertionAuth(t, p, a), "invalid_client", http.StatusUnauthorized)
	}
	must(t, assertionAuth(t, p, (&assertionSigner{t: t, client: "sj", alg: jose.HS256, key: []byte(secrets[1])}).sign(map[string]any{
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	})))
}

// TestClientSecretJWTDiscovery: discovery lists client_secret_jwt and the
// HMAC algorithms the token endpoint checks, beside private_key_jwt's.
func TestClientSecretJWTDiscovery(t *testing.T) {
	d := newTestTokens(t, newMemoryStore(t)).discovery()
	for _, key := range []string{"token_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported"} {
		if !slices.Contains(d[key].([]string), storage.AuthMethodSecretJWT) {
			t.Errorf("%s = %v lacks client_secret_jwt", key, d[key])
		}
	}
	algs := d["token_endpoint_auth_signing_alg_values_supported"].([]string)
	for _, alg := range []string{"HS256", "HS384", "HS512", "PS256", "ES256", "EdDSA"} {
		if !slices.Contains(algs, alg) {
			t.Errorf("token_endpoint_auth_signing_alg_values_supported = %v lacks %s", algs, alg)
		}
	}
	if slices.Contains(algs, "none") {
		t.Error("none is listed")
	}
	for _, alg := range clientauth.HMACAssertionAlgs() {
		if !slices.Contains(algs, string(alg)) {
			t.Errorf("%s checked but not listed", alg)
		}
	}
}
