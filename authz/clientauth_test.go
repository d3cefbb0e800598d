package authz

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/storage"
)

// unsignedJWT is a compact JWS with the given payload and a dummy signature.
func unsignedJWT(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"ES256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + "." + enc([]byte("sig"))
}

func TestCheckAssertionLifetime(t *testing.T) {
	p := newTestProvider(t, newMemoryStore(t))
	max := p.Config.ClientAssertionMaxLifetime
	exp := func(d time.Duration) string { return unsignedJWT(fmt.Sprintf(`{"exp":%d}`, testNow.Add(d).Unix())) }
	tests := []struct {
		name      string
		assertion string
		ok        bool
	}{
		{"ok/one-minute", exp(time.Minute), true},
		{"ok/exactly-max", exp(max), true},
		{"ok/already-expired", exp(-time.Minute), true}, // fosite refuses it when it checks exp
		{"ok/fractional-exp", unsignedJWT(fmt.Sprintf(`{"exp":%d.5}`, testNow.Add(time.Minute).Unix())), true},
		{"fail/max-plus-one-second", exp(max + time.Second), false},
		{"fail/one-hour", exp(time.Hour), false},
		{"fail/far-future", unsignedJWT(`{"exp":9999999999}`), false},
		{"fail/no-exp", unsignedJWT(`{"iss":"c1","sub":"c1"}`), false},
		{"fail/exp-null", unsignedJWT(`{"exp":null}`), false},
		{"fail/exp-string", unsignedJWT(`{"exp":"soon"}`), false},
		{"fail/exp-object", unsignedJWT(`{"exp":{}}`), false},
		{"fail/payload-not-json", unsignedJWT(`not json`), false},
		{"fail/payload-not-base64", "eyJhbGciOiJFUzI1NiJ9.***.c2ln", false},
		{"fail/two-parts", "eyJhbGciOiJFUzI1NiJ9.e30", false},
		{"fail/empty", "", false},
		{"fail/garbage", "garbage", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := p.checkAssertionLifetime(tc.assertion)
			if tc.ok {
				must(t, err)
				return
			}
			wantRFC(t, err, "invalid_client", http.StatusUnauthorized)
		})
	}
}

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
			got := MapError(tc.in)
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
	if MapError(nil) != nil {
		t.Fatal("MapError(nil) != nil")
	}
}

// outageStore is a store whose client reads fail as when the database is down.
type outageStore struct{ storage.Store }

func (outageStore) GetClient(context.Context, string) (*storage.Client, error) {
	return nil, fmt.Errorf("postgres: get client: %w", storage.ErrUnavailable)
}

// TestAuthenticateClient runs client authentication through fosite with
// Strongroom's strategy (Provider.authenticateClient).
func TestAuthenticateClient(t *testing.T) {
	store := newMemoryStore(t)
	p := newTestProvider(t, store)
	p.now = time.Now // fosite checks assertion expiry against the wall clock
	ctx := t.Context()

	secret, err := GenerateSecret()
	must(t, err)
	oldSecret, err := GenerateSecret()
	must(t, err)
	hash := func(s string) []byte {
		h, err := p.Hasher.Hash(ctx, []byte(s))
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
			"iss": "jwt", "sub": "jwt", "aud": p.Config.URL(PathToken),
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
		p      *Provider
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
		{"fail/outage-assertion", func() *Provider {
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
			r := httptest.NewRequest(http.MethodPost, PathToken, strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.req.basicID != "" {
				r.SetBasicAuth(url.QueryEscape(tc.req.basicID), url.QueryEscape(tc.req.basicSecret))
			}
			must(t, r.ParseForm())
			c, err := tc.p.OAuth2.AuthenticateClient(t.Context(), r, r.PostForm)
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
