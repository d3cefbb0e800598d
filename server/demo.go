package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/storage"
)

// Demo holds the credentials seeded in dev mode.
type Demo struct {
	Username, Password                       string
	ConfidentialClientID, ConfidentialSecret string
	PublicClientID                           string
	RedirectURI                              string
	AuthorizeURL                             string
	CodeVerifier                             string
}

// SeedDemo creates a demo user, a confidential and a public client in the
// store, and a ready-to-open authorization URL for the public client.
func (s *Server) SeedDemo(ctx context.Context) (*Demo, error) {
	pw, err := authz.GenerateSecret()
	if err != nil {
		return nil, err
	}
	pw = pw[:20]
	hash, err := password.Hash(pw, password.DefaultArgon2)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	user := &storage.User{
		ID: uuid.NewString(), Username: "demo", Email: "demo@example.com", EmailVerified: true,
		Name: "Demo User", GivenName: "Demo", FamilyName: "User", PasswordHash: hash, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.Store.CreateUser(ctx, user); err != nil {
		return nil, fmt.Errorf("seed demo user: %w", err)
	}
	secret, err := authz.GenerateSecret()
	if err != nil {
		return nil, err
	}
	sh, _ := s.OAuth.Hasher.Hash(ctx, []byte(secret))
	redirect := "http://127.0.0.1:9999/callback"
	conf := &storage.Client{
		ID: "demo-confidential", Name: "Demo confidential client",
		Secrets:       []storage.ClientSecret{{Hash: sh, CreatedAt: now}},
		RedirectURIs:  []string{redirect},
		GrantTypes:    []string{"authorization_code", "refresh_token", "client_credentials"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid", "profile", "email", "offline_access"},
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, AccessTokenFormat: storage.TokenFormatOpaque,
		Metadata:  storage.ClientMetadata{Introspect: true},
		CreatedAt: now, UpdatedAt: now,
	}
	pub := &storage.Client{
		ID: "demo-public", Name: "Demo public client", Public: true,
		RedirectURIs:  []string{redirect},
		GrantTypes:    []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid", "profile", "email", "offline_access"},
		TokenEndpointAuthMethod: storage.AuthMethodNone, AccessTokenFormat: storage.TokenFormatOpaque,
		CreatedAt: now, UpdatedAt: now,
	}
	for _, c := range []*storage.Client{conf, pub} {
		if err := s.Store.CreateClient(ctx, c); err != nil {
			return nil, fmt.Errorf("seed demo client: %w", err)
		}
	}
	verifier := randomB64(32)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {pub.ID},
		"redirect_uri":          {redirect},
		"scope":                 {"openid profile email offline_access"},
		"state":                 {randomB64(12)},
		"nonce":                 {randomB64(12)},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	return &Demo{
		Username: user.Username, Password: pw,
		ConfidentialClientID: conf.ID, ConfidentialSecret: secret,
		PublicClientID: pub.ID, RedirectURI: redirect,
		AuthorizeURL: s.cfg.Authz.URL(authz.PathAuthorize) + "?" + q.Encode(),
		CodeVerifier: verifier,
	}, nil
}

func randomB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
