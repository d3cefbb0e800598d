package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/oauth/clientauth"
	"github.com/strongroom/strongroom/storage"
)

func TestMapError(t *testing.T) {
	other := errors.New("something else")
	tests := []struct {
		name   string
		in     error
		code   string // "" : returned unchanged
		status int
	}{
		{"ok/unavailable", fmt.Errorf("postgres: get client: %w", storage.ErrUnavailable), "temporarily_unavailable", http.StatusServiceUnavailable},
		{"ok/unavailable-inside-invalid-client", fosite.ErrInvalidClient.WithWrap(fmt.Errorf("x: %w", storage.ErrUnavailable)), "temporarily_unavailable", http.StatusServiceUnavailable},
		{"ok/jti-known", fosite.ErrJTIKnown.WithWrap(storage.ErrAlreadyExists), "invalid_client", http.StatusUnauthorized},
		{"ok/other-unchanged", other, "", 0},
		{"ok/invalid-grant-unchanged", fosite.ErrInvalidGrant, "", 0},
		{"ok/not-found-unchanged", fmt.Errorf("x: %w", storage.ErrNotFound), "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := authz.MapError(tc.in)
			if tc.code == "" {
				if got != tc.in {
					t.Fatalf("MapError changed %v into %v", tc.in, got)
				}
				return
			}
			wantRFC(t, got, tc.code, tc.status)
			wantErr(t, got, tc.in) // the cause stays in the chain
		})
	}
	if authz.MapError(nil) != nil {
		t.Fatal("MapError(nil) != nil")
	}
}

// outageStore is a store whose client reads fail as when the database is down.
type outageStore struct{ storage.Store }

func (outageStore) GetClient(context.Context, string) (*storage.Client, error) {
	return nil, fmt.Errorf("postgres: get client: %w", storage.ErrUnavailable)
}

// TestAuthenticateClient runs client authentication through fosite with
// Strongroom's strategy (clientauth.Authenticator.Authenticate).
func TestAuthenticateClient(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	p.now = time.Now // fosite checks assertion expiry against the wall clock
	ctx := t.Context()

	secret, err := authz.GenerateSecret()
	must(t, err)
	oldSecret, err := authz.GenerateSecret()
	must(t, err)
	hash := func(s string) []byte {
		h, err := p.hasher.Hash(ctx, []byte(s))
		must(t, err)
		return h
	}
	expired := time.Now().Add(-time.Hour)
	expiredSecret := "expired-secret-value"
	basic := testClient("basic")
	basic.Secrets = []storage.ClientSecret{
		{Hash: hash(expiredSecret), ExpiresAt: &expired},
		{Hash: hash(oldSecret), ExpiresAt: ptr(time.Now().Add(time.Hour))},
		{Hash: hash(secret)},
	}
	post := testClient("post")
	post.TokenEndpointAuthMethod = storage.AuthMethodSecretPost
	post.Secrets = []storage.ClientSecret{{Hash: hash(secret)}}
	disabled := testClient("disabled")
	disabled.Secrets = []storage.ClientSecret{{Hash: hash(secret)}}
	disabled.Disabled = true

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	jwtClient := testClient("jwt")
	jwtClient.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	jwtClient.JWKS = jwks(t, jose.JSONWebKey{Key: &key.PublicKey, Use: "sig", KeyID: "k1"})
	for _, c := range []*storage.Client{basic, post, disabled, jwtClient} {
		must(t, store.CreateClient(ctx, c))
	}

	jti := 0
	assertion := func(signer *ecdsa.PrivateKey, lifetime time.Duration) string {
		jti++
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: signer},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		must(t, err)
		now := time.Now()
		claims, _ := json.Marshal(map[string]any{
			"iss": "jwt", "sub": "jwt", "aud": p.cfg.URL(authz.PathToken),
			"jti": fmt.Sprintf("jti-%d-%d", jti, now.UnixNano()), "iat": now.Unix(), "exp": now.Add(lifetime).Unix(),
		})
		sig, err := s.Sign(claims)
		must(t, err)
		out, err := sig.CompactSerialize()
		must(t, err)
		return out
	}
	jwtForm := func(a string) url.Values {
		return url.Values{
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {a},
		}
	}
	replayed := assertion(key, time.Minute)

	type request struct {
		basicID, basicSecret string
		form                 url.Values
	}
	tests := []struct {
		name   string
		p      *Authorizer
		req    request
		client string // "" : fails with code/status
		code   string
		status int
	}{
		{"ok/secret-basic", p, request{basicID: "basic", basicSecret: secret}, "basic", "", 0},
		{"ok/secret-basic-rotated-secret", p, request{basicID: "basic", basicSecret: oldSecret}, "basic", "", 0},
		{"ok/secret-post", p, request{form: url.Values{"client_id": {"post"}, "client_secret": {secret}}}, "post", "", 0},
		{"ok/private-key-jwt", p, request{form: jwtForm(assertion(key, time.Minute))}, "jwt", "", 0},
		{"ok/private-key-jwt-first-use", p, request{form: jwtForm(replayed)}, "jwt", "", 0},
		{"fail/private-key-jwt-replay", p, request{form: jwtForm(replayed)}, "", "invalid_client", http.StatusUnauthorized},
		{"fail/private-key-jwt-too-long-lived", p, request{form: jwtForm(assertion(key, time.Hour))}, "", "invalid_client", http.StatusUnauthorized},
		{"fail/private-key-jwt-expired", p, request{form: jwtForm(assertion(key, -time.Minute))}, "", "invalid_client", http.StatusUnauthorized},
		{"fail/private-key-jwt-wrong-key", p, request{form: jwtForm(assertion(otherKey, time.Minute))}, "", "invalid_client", http.StatusUnauthorized},
		{"fail/private-key-jwt-garbage", p, request{form: jwtForm("a.b.c")}, "", "invalid_client", http.StatusUnauthorized},
		{"fail/wrong-secret", p, request{basicID: "basic", basicSecret: secret + "x"}, "", "invalid_client", http.StatusUnauthorized},
		{"fail/expired-secret", p, request{basicID: "basic", basicSecret: expiredSecret}, "", "invalid_client", http.StatusUnauthorized},
		{"fail/unknown-client", p, request{basicID: "ghost", basicSecret: secret}, "", "invalid_client", http.StatusUnauthorized},
		{"fail/disabled-client", p, request{basicID: "disabled", basicSecret: secret}, "", "invalid_client", http.StatusUnauthorized},
		{"fail/no-credentials", p, request{form: url.Values{}}, "", "invalid_client", http.StatusUnauthorized},
		{"fail/secret-for-jwt-client", p, request{basicID: "jwt", basicSecret: secret}, "", "invalid_client", http.StatusUnauthorized},
		{"fail/outage-secret", newTestProvider(t, outageStore{store}), request{basicID: "basic", basicSecret: secret}, "", "temporarily_unavailable", http.StatusServiceUnavailable},
		{"fail/outage-assertion", func() *Authorizer {
			op := newTestProvider(t, outageStore{store})
			op.now = time.Now
			return op
		}(), request{form: jwtForm(assertion(key, time.Minute))}, "", "temporarily_unavailable", http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := tc.req.form
			if form == nil {
				form = url.Values{}
			}
			r := httptest.NewRequest(http.MethodPost, authz.PathToken, strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.req.basicID != "" {
				r.SetBasicAuth(url.QueryEscape(tc.req.basicID), url.QueryEscape(tc.req.basicSecret))
			}
			must(t, r.ParseForm())
			c, err := tc.p.provider.AuthenticateClient(t.Context(), r, r.PostForm)
			if tc.client != "" {
				must(t, err)
				if c.GetID() != tc.client {
					t.Fatalf("authenticated as %q, want %q", c.GetID(), tc.client)
				}
				return
			}
			if c != nil {
				t.Fatalf("client %q returned on failure", c.GetID())
			}
			wantRFC(t, err, tc.code, tc.status)
		})
	}
}

// assertionSigner signs client assertions for one client in the tests below.
type assertionSigner struct {
	t      *testing.T
	client string
	alg    jose.SignatureAlgorithm
	key    any
	kid    string
	n      int
}

// sign signs claims (iss, sub, aud, jti, iat and exp filled in unless given;
// a nil value drops the claim).
func (s *assertionSigner) sign(claims map[string]any) string {
	s.t.Helper()
	s.n++
	now := time.Now()
	c := map[string]any{
		"iss": s.client, "sub": s.client, "aud": "https://as.example",
		"jti": fmt.Sprintf("%s-%d-%d", s.client, s.n, now.UnixNano()), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if s.kid != "" {
		opts = opts.WithHeader("kid", s.kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, opts)
	must(s.t, err)
	payload, err := json.Marshal(c)
	must(s.t, err)
	sig, err := signer.Sign(payload)
	must(s.t, err)
	out, err := sig.CompactSerialize()
	must(s.t, err)
	return out
}

// authRequest is a request to path authenticating with form and, when
// basicID is set, an HTTP Basic header.
func authRequest(t *testing.T, path string, form url.Values, basicID, basicSecret string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		r.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	must(t, r.ParseForm())
	return r
}

func assertionForm(a string) url.Values {
	return url.Values{"client_assertion_type": {clientauth.AssertionType}, "client_assertion": {a}}
}

// TestClientAssertionRules authenticates private_key_jwt clients with real
// signed assertions: the audience (CVE-2025-27370/27371), clock skew,
// lifetime, iss/sub, the registered algorithm and HMAC are all enforced.
func TestClientAssertionRules(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	p.now = time.Now
	ctx := t.Context()

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	ec := testClient("ec")
	ec.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	ec.JWKS = jwks(t, jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "k1", Algorithm: "ES256"})
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	ps := testClient("ps") // registered for PS256 only
	ps.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	ps.JWKS = jwks(t, jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "r1", Algorithm: "PS256"})
	rs := testClient("rs") // an RSA key without "alg": RS256
	rs.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	rs.JWKS = jwks(t, jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "r1"})
	for _, c := range []*storage.Client{ec, ps, rs} {
		must(t, store.CreateClient(ctx, c))
	}
	ecs := &assertionSigner{t: t, client: "ec", alg: jose.ES256, key: ecKey, kid: "k1"}
	now := time.Now()
	const issuer, tokenURL, parURL = "https://as.example", "https://as.example/oauth2/token", "https://as.example/oauth2/par"

	tests := []struct {
		name      string
		path      string
		assertion string
		form      url.Values // added to the assertion form
		ok        bool
	}{
		{"ok/aud-issuer", authz.PathToken, ecs.sign(nil), nil, true},
		{"ok/aud-token-url", authz.PathToken, ecs.sign(map[string]any{"aud": tokenURL}), nil, true},
		{"ok/aud-issuer-one-element-array", authz.PathToken, ecs.sign(map[string]any{"aud": []string{issuer}}), nil, true},
		{"ok/aud-token-url-at-introspection", authz.PathIntrospect, ecs.sign(map[string]any{"aud": tokenURL}), nil, true},
		{"ok/aud-par-url-at-par", authz.PathPAR, ecs.sign(map[string]any{"aud": parURL}), nil, true},
		{"fail/aud-par-url-at-token", authz.PathToken, ecs.sign(map[string]any{"aud": parURL}), nil, false},
		{"fail/aud-issuer-and-foreign", authz.PathToken, ecs.sign(map[string]any{"aud": []string{issuer, "https://evil.example"}}), nil, false},
		{"fail/aud-foreign-and-token-url", authz.PathToken, ecs.sign(map[string]any{"aud": []string{"https://evil.example", tokenURL}}), nil, false},
		{"fail/aud-issuer-and-token-url", authz.PathToken, ecs.sign(map[string]any{"aud": []string{issuer, tokenURL}}), nil, false},
		{"fail/aud-foreign", authz.PathToken, ecs.sign(map[string]any{"aud": "https://evil.example"}), nil, false},
		{"fail/aud-missing", authz.PathToken, ecs.sign(map[string]any{"aud": nil}), nil, false},
		{"ok/iat-5s-ahead", authz.PathToken, ecs.sign(map[string]any{"iat": now.Add(5 * time.Second).Unix()}), nil, true},
		{"ok/nbf-5s-ahead", authz.PathToken, ecs.sign(map[string]any{"nbf": now.Add(5 * time.Second).Unix()}), nil, true},
		{"fail/iat-61s-ahead", authz.PathToken, ecs.sign(map[string]any{"iat": now.Add(61 * time.Second).Unix()}), nil, false},
		{"fail/nbf-61s-ahead", authz.PathToken, ecs.sign(map[string]any{"nbf": now.Add(61 * time.Second).Unix()}), nil, false},
		{"fail/exp-missing", authz.PathToken, ecs.sign(map[string]any{"exp": nil}), nil, false},
		{"fail/exp-past", authz.PathToken, ecs.sign(map[string]any{"exp": now.Add(-time.Second).Unix()}), nil, false},
		{"fail/sub-differs-from-iss", authz.PathToken, ecs.sign(map[string]any{"sub": "ps"}), nil, false},
		{"fail/iss-differs-from-client-id", authz.PathToken, ecs.sign(nil), url.Values{"client_id": {"ps"}}, false},
		{"ok/client-id-matches-iss", authz.PathToken, ecs.sign(nil), url.Values{"client_id": {"ec"}}, true},
		{"fail/jti-missing", authz.PathToken, ecs.sign(map[string]any{"jti": nil}), nil, false},
		{"fail/jti-too-long", authz.PathToken, ecs.sign(map[string]any{"jti": strings.Repeat("j", clientauth.MaxJTILen+1)}), nil, false},
		{"fail/iss-is-unknown-client", authz.PathToken, (&assertionSigner{t: t, client: "ghost", alg: jose.ES256, key: ecKey, kid: "k1"}).sign(nil), nil, false},
		{"ok/registered-alg-ps256", authz.PathToken, (&assertionSigner{t: t, client: "ps", alg: jose.PS256, key: rsaKey, kid: "r1"}).sign(nil), nil, true},
		{"fail/unregistered-alg-rs256", authz.PathToken, (&assertionSigner{t: t, client: "ps", alg: jose.RS256, key: rsaKey, kid: "r1"}).sign(nil), nil, false},
		{"ok/implied-alg-rs256", authz.PathToken, (&assertionSigner{t: t, client: "rs", alg: jose.RS256, key: rsaKey, kid: "r1"}).sign(nil), nil, true},
		{"fail/unregistered-alg-ps256-for-alg-less-rsa-key", authz.PathToken, (&assertionSigner{t: t, client: "rs", alg: jose.PS256, key: rsaKey, kid: "r1"}).sign(nil), nil, false},
		{"fail/hmac-client-secret-jwt", authz.PathToken, (&assertionSigner{t: t, client: "ec", alg: jose.HS256, key: []byte(strings.Repeat("s", 32))}).sign(nil), nil, false},
		{"fail/alg-none", authz.PathToken, unsignedAssertion(t, "ec"), nil, false},
		{"fail/unknown-kid", authz.PathToken, (&assertionSigner{t: t, client: "ec", alg: jose.ES256, key: ecKey, kid: "other"}).sign(nil), nil, false},
		{"fail/wrong-assertion-type", authz.PathToken, "", url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:saml2-bearer"}, "client_assertion": {ecs.sign(nil)}}, false},
		{"fail/assertion-type-without-assertion", authz.PathToken, "", url.Values{"client_assertion_type": {clientauth.AssertionType}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{}
			if tc.assertion != "" {
				form = assertionForm(tc.assertion)
			}
			for k, v := range tc.form {
				form[k] = v
			}
			c, err := p.provider.AuthenticateClient(t.Context(), authRequest(t, tc.path, form, "", ""), form)
			if tc.ok {
				must(t, err)
				return
			}
			if c != nil {
				t.Fatalf("client %q authenticated", c.GetID())
			}
			wantRFC(t, err, "invalid_client", http.StatusUnauthorized)
		})
	}
}

// unsignedAssertion is an assertion for client with alg "none".
func unsignedAssertion(t *testing.T, client string) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		must(t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now()
	return enc(map[string]string{"alg": "none"}) + "." + enc(map[string]any{
		"iss": client, "sub": client, "aud": "https://as.example", "jti": "none-" + client,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}) + "."
}

// TestRefusedClientAssertionDoesNotBurnJTI: an assertion refused for its
// audience does not record its jti, so it cannot be used to lock out the
// legitimate assertion with the same jti; an accepted one cannot be replayed,
// at the same or at another endpoint.
func TestRefusedClientAssertionDoesNotBurnJTI(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	p.now = time.Now
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	c := testClient("ec")
	c.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	c.JWKS = jwks(t, jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256"})
	must(t, store.CreateClient(t.Context(), c))
	s := &assertionSigner{t: t, client: "ec", alg: jose.ES256, key: key, kid: "k1"}
	auth := func(path, a string) error {
		form := assertionForm(a)
		_, err := p.provider.AuthenticateClient(t.Context(), authRequest(t, path, form, "", ""), form)
		return err
	}
	bad := s.sign(map[string]any{"jti": "shared-jti", "aud": "https://evil.example"})
	wantRFC(t, auth(authz.PathToken, bad), "invalid_client", http.StatusUnauthorized)
	good := s.sign(map[string]any{"jti": "shared-jti"})
	must(t, auth(authz.PathPAR, good))
	wantRFC(t, auth(authz.PathToken, good), "invalid_client", http.StatusUnauthorized)
	wantRFC(t, auth(authz.PathPAR, good), "invalid_client", http.StatusUnauthorized)
}

// TestOneClientAuthenticationMethodPerRequest: RFC 6749 §2.3 — a request
// that authenticates its client in two ways is invalid_request (400), never
// authenticated as either client.
func TestOneClientAuthenticationMethodPerRequest(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	p.now = time.Now
	ctx := t.Context()
	secret, err := authz.GenerateSecret()
	must(t, err)
	hash, err := p.hasher.Hash(ctx, []byte(secret))
	must(t, err)
	basic := testClient("basic")
	basic.Secrets = []storage.ClientSecret{{Hash: hash}}
	post := testClient("post")
	post.TokenEndpointAuthMethod = storage.AuthMethodSecretPost
	post.Secrets = []storage.ClientSecret{{Hash: hash}}
	public := testClient("public")
	public.Public, public.TokenEndpointAuthMethod = true, storage.AuthMethodNone
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	jwtClient := testClient("jwt")
	jwtClient.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	jwtClient.JWKS = jwks(t, jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256"})
	for _, c := range []*storage.Client{basic, post, public, jwtClient} {
		must(t, store.CreateClient(ctx, c))
	}
	s := &assertionSigner{t: t, client: "jwt", alg: jose.ES256, key: key, kid: "k1"}
	withForm := func(a url.Values, b url.Values) url.Values {
		out := url.Values{}
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out
	}

	tests := []struct {
		name                 string
		form                 url.Values
		basicID, basicSecret string
		extraAuth            string // a second Authorization header
		client               string // "" : refused with code/status
		code                 string
		status               int
	}{
		{"fail/assertion-and-basic-of-another-client", assertionForm(s.sign(nil)), "basic", secret, "", "", "invalid_request", http.StatusBadRequest},
		{"fail/assertion-and-basic-of-same-client", assertionForm(s.sign(nil)), "jwt", "x", "", "", "invalid_request", http.StatusBadRequest},
		{"fail/secret-post-and-basic", url.Values{"client_id": {"post"}, "client_secret": {secret}}, "basic", secret, "", "", "invalid_request", http.StatusBadRequest},
		{"fail/secret-post-and-basic-same-client", url.Values{"client_id": {"basic"}, "client_secret": {secret}}, "basic", secret, "", "", "invalid_request", http.StatusBadRequest},
		{"fail/client-id-differs-from-basic", url.Values{"client_id": {"post"}}, "basic", secret, "", "", "invalid_request", http.StatusBadRequest},
		{"fail/public-client-id-differs-from-basic", url.Values{"client_id": {"public"}}, "basic", secret, "", "", "invalid_request", http.StatusBadRequest},
		{"fail/assertion-and-client-secret", withForm(assertionForm(s.sign(nil)), url.Values{"client_secret": {secret}}), "", "", "", "", "invalid_request", http.StatusBadRequest},
		{"fail/assertion-type-only-and-basic", url.Values{"client_assertion_type": {clientauth.AssertionType}}, "basic", secret, "", "", "invalid_request", http.StatusBadRequest},
		{"fail/empty-client-secret-and-basic", url.Values{"client_secret": {""}}, "basic", secret, "", "", "invalid_request", http.StatusBadRequest},
		{"fail/two-authorization-headers", url.Values{}, "basic", secret, "Basic " + base64.StdEncoding.EncodeToString([]byte("post:"+secret)), "", "invalid_request", http.StatusBadRequest},
		{"fail/bare-basic-scheme-and-public-client-id", url.Values{"client_id": {"public"}}, "", "", "basic", "", "invalid_client", http.StatusUnauthorized},
		{"fail/malformed-basic-and-public-client-id", url.Values{"client_id": {"public"}}, "", "", "Basic !!!", "", "invalid_client", http.StatusUnauthorized},
		{"ok/basic-and-same-client-id", url.Values{"client_id": {"basic"}}, "basic", secret, "", "basic", "", 0},
		{"ok/basic-alone", url.Values{}, "basic", secret, "", "basic", "", 0},
		{"ok/secret-post-alone", url.Values{"client_id": {"post"}, "client_secret": {secret}}, "", "", "", "post", "", 0},
		{"ok/assertion-alone", assertionForm(s.sign(nil)), "", "", "", "jwt", "", 0},
		{"ok/public-client-basic-without-secret", url.Values{"client_id": {"public"}}, "public", "", "", "public", "", 0},
	}
	for _, tc := range tests {
		for _, path := range []string{authz.PathToken, authz.PathPAR, authz.PathIntrospect, authz.PathRevoke} {
			t.Run(tc.name+path, func(t *testing.T) {
				form := tc.form
				if tc.client == "jwt" {
					form = assertionForm(s.sign(nil)) // a fresh jti per endpoint
				}
				r := authRequest(t, path, form, tc.basicID, tc.basicSecret)
				if tc.extraAuth != "" {
					r.Header.Add("Authorization", tc.extraAuth)
				}
				c, err := p.provider.AuthenticateClient(t.Context(), r, r.PostForm)
				if tc.client != "" {
					must(t, err)
					if c.GetID() != tc.client {
						t.Fatalf("authenticated as %q, want %q", c.GetID(), tc.client)
					}
					return
				}
				if c != nil {
					t.Fatalf("client %q authenticated", c.GetID())
				}
				wantRFC(t, err, tc.code, tc.status)
			})
		}
	}
}

// TestClientAssertionJTIIsScopedToItsClient: a jti is unique per client, so
// one client cannot use up (or collide with) another client's jti.
func TestClientAssertionJTIIsScopedToItsClient(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	p.now = time.Now
	var signers []*assertionSigner
	for _, id := range []string{"first", "second"} {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(t, err)
		c := testClient(id)
		c.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
		c.JWKS = jwks(t, jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256"})
		must(t, store.CreateClient(t.Context(), c))
		signers = append(signers, &assertionSigner{t: t, client: id, alg: jose.ES256, key: key, kid: "k1"})
	}
	for _, s := range signers {
		form := assertionForm(s.sign(map[string]any{"jti": "predictable-1"}))
		c, err := p.provider.AuthenticateClient(t.Context(), authRequest(t, authz.PathToken, form, "", ""), form)
		must(t, err)
		if c.GetID() != s.client {
			t.Fatalf("authenticated as %q, want %q", c.GetID(), s.client)
		}
	}
}

// TestUnknownKIDDoesNotRefetchJWKSOnEveryRequest: an assertion naming a kid
// the cached JWK Set lacks forces a refetch of the client's jwks_uri at most
// once per clientauth's jwksRefreshInterval, however many such requests arrive (nothing
// authenticates them before the fetch); a rotated-in key is still found.
func TestUnknownKIDDoesNotRefetchJWKSOnEveryRequest(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	p.now = time.Now
	// the test's JWK Set is on loopback http
	WithJWKSFetchPolicy(clientauth.JWKSFetchPolicy{AllowHTTP: true, AllowPrivateAddresses: true})(p.core)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	var mu sync.Mutex
	fetches := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetches++
		mu.Unlock()
		_, _ = w.Write(jwks(t, jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}))
	}))
	t.Cleanup(srv.Close)
	c := testClient("remote")
	c.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
	c.JWKSURI = srv.URL + "/jwks.json"
	must(t, store.CreateClient(t.Context(), c))
	auth := func(kid string) error {
		s := &assertionSigner{t: t, client: "remote", alg: jose.ES256, key: key, kid: kid}
		form := assertionForm(s.sign(nil))
		_, err := p.provider.AuthenticateClient(t.Context(), authRequest(t, authz.PathToken, form, "", ""), form)
		return err
	}
	must(t, auth("k1")) // first fetch, cached
	for range 10 {
		wantRFC(t, auth(fmt.Sprintf("unknown-%d", time.Now().UnixNano())), "invalid_client", http.StatusUnauthorized)
	}
	must(t, auth("k1"))
	mu.Lock()
	defer mu.Unlock()
	if fetches > 2 {
		t.Fatalf("the JWK Set was fetched %d times for 12 assertions; want at most 2 (one cached fetch, one refresh)", fetches)
	}
}

// TestJWKSURIOnALoopbackAddressIsNeverFetched: by default the server does
// not fetch a jwks_uri that reaches a non-public address (a client
// registered, or edited in the database, to point at an internal service):
// the assertion is invalid_client and the internal service gets no request.
func TestJWKSURIOnALoopbackAddressIsNeverFetched(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	p.now = time.Now
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write(jwks(t, jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}))
	}))
	t.Cleanup(srv.Close)
	for i, uri := range []string{srv.URL + "/jwks.json", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/jwks.json"} {
		id := fmt.Sprintf("internal-%d", i)
		c := testClient(id)
		c.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
		c.JWKSURI = uri
		must(t, store.CreateClient(t.Context(), c))
		s := &assertionSigner{t: t, client: id, alg: jose.ES256, key: key, kid: "k1"}
		form := assertionForm(s.sign(nil))
		_, err = p.provider.AuthenticateClient(t.Context(), authRequest(t, authz.PathToken, form, "", ""), form)
		wantRFC(t, err, "invalid_client", http.StatusUnauthorized)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback jwks_uri was fetched %d times", n)
	}
}
