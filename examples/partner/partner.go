// Package partner is the integrator guide's partner server: a machine
// client that gets access tokens with the client credentials grant and
// authenticates with private_key_jwt (RFC 7523): it proves itself with a
// short-lived JWT signed by its own key, so no shared secret exists.
package partner

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Config names the client and its signing key.
type Config struct {
	Issuer   string // the server's issuer: the assertion's audience
	TokenURL string // from discovery: token_endpoint
	ClientID string
	Key      crypto.Signer // the private half of the key registered with --jwks-file
	KeyID    string        // its kid in the registered JWKS
	Alg      jose.SignatureAlgorithm
	Scopes   []string
}

// TokenSource returns an oauth2.TokenSource that reuses a token until it
// expires and then asks for a new one with a fresh assertion (each
// assertion's jti is accepted once).
func TokenSource(ctx context.Context, cfg Config) oauth2.TokenSource {
	return oauth2.ReuseTokenSource(nil, &assertionSource{ctx: ctx, cfg: cfg})
}

type assertionSource struct {
	ctx context.Context
	cfg Config
}

// Token builds a new assertion and runs one client credentials request.
func (s *assertionSource) Token() (*oauth2.Token, error) {
	assertion, err := Assertion(s.cfg, time.Now())
	if err != nil {
		return nil, err
	}
	cc := clientcredentials.Config{
		ClientID: s.cfg.ClientID, TokenURL: s.cfg.TokenURL, Scopes: s.cfg.Scopes,
		AuthStyle: oauth2.AuthStyleInParams,
		EndpointParams: map[string][]string{
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {assertion},
		},
	}
	return cc.Token(s.ctx)
}

// Assertion signs a client assertion: iss and sub the client, aud the
// issuer (a single string), a unique jti and a one-minute lifetime.
func Assertion(cfg Config, now time.Time) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: cfg.Alg, Key: jose.JSONWebKey{Key: cfg.Key, KeyID: cfg.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("client assertion signer: %w", err)
	}
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	claims := jwt.Claims{
		Issuer: cfg.ClientID, Subject: cfg.ClientID, Audience: jwt.Audience{cfg.Issuer},
		ID: base64.RawURLEncoding.EncodeToString(jti), IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	return s, nil
}
