package authz

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/storage"
)

func mustClient(t *testing.T, sc *storage.Client) *Client {
	t.Helper()
	c, err := NewClient(sc)
	must(t, err)
	return c
}

func TestClientSecrets(t *testing.T) {
	past := time.Now().Add(-time.Minute)
	future := time.Now().Add(time.Hour)
	sec := func(hash string, exp *time.Time) storage.ClientSecret {
		return storage.ClientSecret{Hash: []byte(hash), ExpiresAt: exp}
	}
	tests := []struct {
		name    string
		secrets []storage.ClientSecret // oldest first, as stored
		current string
		rotated []string
	}{
		{"ok/none", nil, "", nil},
		{"ok/one", []storage.ClientSecret{sec("h1", nil)}, "h1", nil},
		{"ok/newest-first", []storage.ClientSecret{sec("h1", &future), sec("h2", nil), sec("h3", nil)}, "h3", []string{"h2", "h1"}},
		{"ok/expired-old-skipped", []storage.ClientSecret{sec("h1", &past), sec("h2", nil)}, "h2", nil},
		{"ok/expired-middle-skipped", []storage.ClientSecret{sec("h1", nil), sec("h2", &past), sec("h3", nil)}, "h3", []string{"h1"}},
		{"ok/expired-newest-skipped", []storage.ClientSecret{sec("h1", nil), sec("h2", &past)}, "h1", nil},
		{"fail/all-expired", []storage.ClientSecret{sec("h1", &past), sec("h2", &past)}, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := testClient("c1")
			sc.Secrets = tc.secrets
			c := mustClient(t, sc)
			if got := string(c.GetHashedSecret()); got != tc.current {
				t.Errorf("GetHashedSecret = %q, want %q", got, tc.current)
			}
			var rotated []string
			for _, h := range c.GetRotatedHashes() {
				rotated = append(rotated, string(h))
			}
			if !slices.Equal(rotated, tc.rotated) {
				t.Errorf("GetRotatedHashes = %q, want %q", rotated, tc.rotated)
			}
		})
	}
}

func TestClientDefaults(t *testing.T) {
	tests := []struct {
		name          string
		mutate        func(c *storage.Client)
		authMethod    string
		responseTypes fosite.Arguments
		format        string
	}{
		{"ok/confidential-defaults", func(c *storage.Client) { c.ResponseTypes = nil },
			storage.AuthMethodSecretBasic, fosite.Arguments{"code"}, storage.TokenFormatOpaque},
		{"ok/public-defaults", func(c *storage.Client) { c.Public, c.ResponseTypes = true, nil },
			storage.AuthMethodNone, fosite.Arguments{"code"}, storage.TokenFormatOpaque},
		{"ok/explicit", func(c *storage.Client) {
			c.TokenEndpointAuthMethod = storage.AuthMethodPrivateKeyJWT
			c.ResponseTypes = []string{"code id_token"}
			c.AccessTokenFormat = storage.TokenFormatJWT
		}, storage.AuthMethodPrivateKeyJWT, fosite.Arguments{"code id_token"}, storage.TokenFormatJWT},
		{"ok/unknown-format-is-opaque", func(c *storage.Client) { c.AccessTokenFormat = "JWT " },
			storage.AuthMethodSecretBasic, fosite.Arguments{"code"}, storage.TokenFormatOpaque},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := testClient("c1")
			tc.mutate(sc)
			c := mustClient(t, sc)
			if got := c.GetTokenEndpointAuthMethod(); got != tc.authMethod {
				t.Errorf("auth method = %q, want %q", got, tc.authMethod)
			}
			if got := c.GetResponseTypes(); !slices.Equal(got, tc.responseTypes) {
				t.Errorf("response types = %v, want %v", got, tc.responseTypes)
			}
			if got := c.AccessTokenFormat(); got != tc.format {
				t.Errorf("access token format = %q, want %q", got, tc.format)
			}
			if c.IsPublic() != sc.Public || c.GetID() != "c1" || c.Registration() != sc {
				t.Error("registration fields not passed through")
			}
		})
	}
	t.Run("ok/response-modes", func(t *testing.T) {
		modes := mustClient(t, testClient("c1")).GetResponseModes()
		for _, m := range []fosite.ResponseModeType{fosite.ResponseModeQuery, fosite.ResponseModeFragment, fosite.ResponseModeFormPost} {
			if !slices.Contains(modes, m) {
				t.Errorf("response mode %q not allowed", m)
			}
		}
	})
}

func TestClientSigningAlgorithm(t *testing.T) {
	ec := func(curve elliptic.Curve) *ecdsa.PublicKey {
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		must(t, err)
		return &k.PublicKey
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024) // size is irrelevant here
	must(t, err)
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	p256 := ec(elliptic.P256())

	tests := []struct {
		name string
		jwks []byte
		want string
	}{
		{"ok/no-jwks", nil, "RS256"},
		{"ok/empty-set", jwks(t), "RS256"},
		{"ok/p256", jwks(t, jose.JSONWebKey{Key: p256, Use: "sig"}), "ES256"},
		{"ok/p384", jwks(t, jose.JSONWebKey{Key: ec(elliptic.P384()), Use: "sig"}), "ES384"},
		{"ok/p521", jwks(t, jose.JSONWebKey{Key: ec(elliptic.P521())}), "ES512"},
		{"ok/ed25519", jwks(t, jose.JSONWebKey{Key: edPub, Use: "sig"}), "EdDSA"},
		{"ok/rsa", jwks(t, jose.JSONWebKey{Key: &rsaKey.PublicKey, Use: "sig"}), "RS256"},
		{"ok/explicit-alg-wins", jwks(t, jose.JSONWebKey{Key: &rsaKey.PublicKey, Use: "sig", Algorithm: "PS256"}), "PS256"},
		{"ok/encryption-key-skipped", jwks(t,
			jose.JSONWebKey{Key: &rsaKey.PublicKey, Use: "enc", Algorithm: "RSA-OAEP"},
			jose.JSONWebKey{Key: p256, Use: "sig"}), "ES256"},
		{"ok/first-signing-key-decides", jwks(t,
			jose.JSONWebKey{Key: p256, Use: "sig", KeyID: "a"},
			jose.JSONWebKey{Key: &rsaKey.PublicKey, Use: "sig", KeyID: "b"}), "ES256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := testClient("c1")
			sc.JWKS = tc.jwks
			c := mustClient(t, sc)
			if got := c.GetTokenEndpointAuthSigningAlgorithm(); got != tc.want {
				t.Fatalf("alg = %q, want %q", got, tc.want)
			}
			if tc.jwks != nil && c.GetJSONWebKeys() == nil {
				t.Fatal("JWK Set not exposed to fosite")
			}
		})
	}
	t.Run("fail/unparsable-jwks", func(t *testing.T) {
		sc := testClient("c1")
		sc.JWKS = []byte(`{"keys":[{"kty":"EC","crv":"P-256"}]}`) // no coordinates
		if _, err := NewClient(sc); err == nil {
			t.Fatal("invalid JWK Set accepted")
		}
		sc.JWKS = bytes.Repeat([]byte("{"), 3)
		if _, err := NewClient(sc); err == nil {
			t.Fatal("garbage JWK Set accepted")
		}
	})
}
