package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/google/uuid"
	"gopkg.in/yaml.v3"

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
	// DemoAppURL is the built-in demo relying party's start page.
	DemoAppURL string
	// AdminClientID and AdminSecret are a client_credentials client that
	// may request the admin API's scope (authz.AdminScope).
	AdminClientID, AdminSecret string
	// Seeded names the clients and users a --dev-seed file added.
	SeededClients, SeededUsers []string
}

// DevSeed is a dev server's --dev-seed file: fixed demo credentials and the
// users and clients a front-end developer's configuration needs, so they
// survive restarts of the in-memory server. Every field is optional; what
// is missing is generated as without the file.
type DevSeed struct {
	// DemoPassword is the demo user's password.
	DemoPassword string `yaml:"demo_password"`
	// DemoClientSecret is demo-confidential's secret.
	DemoClientSecret string `yaml:"demo_client_secret"`
	// AdminClientSecret is demo-admin's secret.
	AdminClientSecret string `yaml:"admin_client_secret"`
	// Users are created beside the demo user.
	Users []DevSeedUser `yaml:"users"`
	// Clients are created beside the demo clients.
	Clients []DevSeedClient `yaml:"clients"`
}

// DevSeedUser is one user of a --dev-seed file.
type DevSeedUser struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	Email    string `yaml:"email"`
	Name     string `yaml:"name"`
}

// DevSeedClient is one client of a --dev-seed file. A client without
// client_secret is public (PKCE, no secret).
type DevSeedClient struct {
	ClientID          string   `yaml:"client_id"`
	ClientSecret      string   `yaml:"client_secret"`
	Name              string   `yaml:"name"`
	RedirectURIs      []string `yaml:"redirect_uris"`
	GrantTypes        []string `yaml:"grant_types"`
	Scopes            []string `yaml:"scopes"`
	Audience          []string `yaml:"audience"`
	AccessTokenFormat string   `yaml:"access_token_format"`
	FirstParty        bool     `yaml:"first_party"`
}

// LoadDevSeed reads a --dev-seed file (YAML or JSON). Unknown fields are an
// error, so a misspelt key is not silently ignored.
func LoadDevSeed(path string) (*DevSeed, error) {
	f, err := os.Open(path) // #nosec G304 -- the operator's --dev-seed file
	if err != nil {
		return nil, fmt.Errorf("dev seed: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var seed DevSeed
	if err := dec.Decode(&seed); err != nil {
		return nil, fmt.Errorf("dev seed %s: %w", path, err)
	}
	for i, c := range seed.Clients {
		switch {
		case c.ClientID == "":
			return nil, fmt.Errorf("dev seed %s: client %d has no client_id", path, i+1)
		case slices.Contains([]string{"demo-confidential", "demo-public", "demo-admin"}, c.ClientID):
			return nil, fmt.Errorf("dev seed %s: client_id %q is the dev server's own", path, c.ClientID)
		case c.ClientSecret != "" && len(c.ClientSecret) < 16:
			return nil, fmt.Errorf("dev seed %s: client %q: client_secret must be at least 16 characters", path, c.ClientID)
		}
	}
	for i, u := range seed.Users {
		if u.Username == "" || u.Password == "" {
			return nil, fmt.Errorf("dev seed %s: user %d needs username and password", path, i+1)
		}
	}
	return &seed, nil
}

// SeedDemo creates a demo user, a confidential, a public and an admin
// client in the store, then seed's users and clients (seed may be nil), and
// sets up the demo relying party; it returns the credentials and a
// ready-to-open authorization URL for the public client.
func (s *Server) SeedDemo(ctx context.Context, seed *DevSeed) (*Demo, error) {
	if seed == nil {
		seed = &DevSeed{}
	}
	pw, err := orGenerated(seed.DemoPassword, 20)
	if err != nil {
		return nil, err
	}
	user, err := s.seedUser(ctx, DevSeedUser{Username: "demo", Password: pw, Email: "demo@example.com", Name: "Demo User"})
	if err != nil {
		return nil, err
	}
	secret, err := orGenerated(seed.DemoClientSecret, 0)
	if err != nil {
		return nil, err
	}
	adminSecret, err := orGenerated(seed.AdminClientSecret, 0)
	if err != nil {
		return nil, err
	}
	redirect := "http://127.0.0.1:9999/callback"
	scopes := []string{"openid", "profile", "email", "offline_access"}
	redirects := []string{redirect}
	if s.demoRP != nil {
		redirects = append(redirects, s.demoRP.CallbackURL())
	}
	conf := &storage.Client{
		ID: "demo-confidential", Name: "Demo confidential client",
		RedirectURIs:  redirects,
		GrantTypes:    []string{"authorization_code", "refresh_token", "client_credentials"},
		ResponseTypes: []string{"code"}, Scopes: scopes,
		TokenEndpointAuthMethod: storage.AuthMethodSecretBasic, AccessTokenFormat: storage.TokenFormatOpaque,
		Metadata: storage.ClientMetadata{Introspect: true},
	}
	pub := &storage.Client{
		ID: "demo-public", Name: "Demo public client", Public: true,
		RedirectURIs:  []string{redirect},
		GrantTypes:    []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scopes: scopes,
		TokenEndpointAuthMethod: storage.AuthMethodNone, AccessTokenFormat: storage.TokenFormatOpaque,
	}
	admin := &storage.Client{
		ID: "demo-admin", Name: "Dev admin API client", GrantTypes: []string{"client_credentials"},
		Scopes: []string{authz.AdminScope}, TokenEndpointAuthMethod: storage.AuthMethodSecretBasic,
		AccessTokenFormat: storage.TokenFormatOpaque,
	}
	if err := s.seedClient(ctx, conf, secret); err != nil {
		return nil, err
	}
	if err := s.seedClient(ctx, pub, ""); err != nil {
		return nil, err
	}
	if err := s.seedClient(ctx, admin, adminSecret); err != nil {
		return nil, err
	}
	demo := &Demo{
		Username: user.Username, Password: pw,
		ConfidentialClientID: conf.ID, ConfidentialSecret: secret,
		PublicClientID: pub.ID, RedirectURI: redirect,
		AdminClientID: admin.ID, AdminSecret: adminSecret,
	}
	for _, u := range seed.Users {
		if _, err := s.seedUser(ctx, u); err != nil {
			return nil, err
		}
		demo.SeededUsers = append(demo.SeededUsers, u.Username)
	}
	for _, c := range seed.Clients {
		if err := s.seedClient(ctx, seedClient(c), c.ClientSecret); err != nil {
			return nil, err
		}
		demo.SeededClients = append(demo.SeededClients, c.ClientID)
	}
	if s.demoRP != nil {
		s.demoRP.Configure(conf.ID, secret, scopes)
		demo.DemoAppURL = s.demoRP.HomeURL()
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
	demo.AuthorizeURL = s.cfg.Authz.URL(authz.PathAuthorize) + "?" + q.Encode()
	demo.CodeVerifier = verifier
	return demo, nil
}

// seedClient converts a --dev-seed client into a registration.
func seedClient(c DevSeedClient) *storage.Client {
	sc := &storage.Client{
		ID: c.ClientID, Name: c.Name, RedirectURIs: c.RedirectURIs, GrantTypes: c.GrantTypes, ResponseTypes: []string{"code"},
		Scopes: c.Scopes, Audience: c.Audience, AccessTokenFormat: c.AccessTokenFormat,
		Public: c.ClientSecret == "", TokenEndpointAuthMethod: storage.AuthMethodSecretBasic,
		Metadata: storage.ClientMetadata{SkipConsent: c.FirstParty},
	}
	if sc.Name == "" {
		sc.Name = c.ClientID
	}
	if sc.Public {
		sc.TokenEndpointAuthMethod = storage.AuthMethodNone
	}
	if len(sc.GrantTypes) == 0 {
		sc.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	if len(sc.Scopes) == 0 {
		sc.Scopes = []string{"openid", "profile", "email", "offline_access"}
	}
	if sc.AccessTokenFormat == "" {
		sc.AccessTokenFormat = storage.TokenFormatOpaque
	}
	return sc
}

// seedUser stores u with an argon2id hash of its password.
func (s *Server) seedUser(ctx context.Context, u DevSeedUser) (*storage.User, error) {
	hash, err := password.Hash(u.Password, password.DefaultArgon2)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if u.Email == "" {
		u.Email = u.Username + "@example.com"
	}
	if u.Name == "" {
		u.Name = u.Username
	}
	user := &storage.User{ID: uuid.NewString(), Username: u.Username, Email: u.Email, EmailVerified: true, Name: u.Name,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateUser(ctx, user); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return nil, fmt.Errorf("seed user %q: the username is taken", u.Username)
		}
		return nil, fmt.Errorf("seed user %q: %w", u.Username, err)
	}
	return user, nil
}

// seedClient stores c with secret's keyed hash (none when secret is empty).
func (s *Server) seedClient(ctx context.Context, c *storage.Client, secret string) error {
	now := time.Now()
	c.CreatedAt, c.UpdatedAt = now, now
	if secret != "" {
		h, err := s.OAuth.Hasher.Hash(ctx, []byte(secret))
		if err != nil {
			return err
		}
		c.Secrets = []storage.ClientSecret{{Hash: h, CreatedAt: now}}
	}
	if err := s.Store.CreateClient(ctx, c); err != nil {
		return fmt.Errorf("seed client %q: %w", c.ID, err)
	}
	return nil
}

// orGenerated returns v, or a fresh random secret (cut to n characters when n > 0).
func orGenerated(v string, n int) (string, error) {
	if v != "" {
		return v, nil
	}
	g, err := authz.GenerateSecret()
	if err != nil {
		return "", err
	}
	if n > 0 && n < len(g) {
		g = g[:n]
	}
	return g, nil
}

func randomB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
