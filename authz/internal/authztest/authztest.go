package authztest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
	"github.com/strongroom/strongroom/storage/postgres"
	"github.com/strongroom/strongroom/storage/storagetest"
)

// SystemSecret is a valid (>= 32 bytes) system secret.
var SystemSecret = []byte("strongroom-test-system-secret-0123456789")

// Now is the fixed instant of tests that control the clock.
var Now = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

// Must fails the test on an unexpected error.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// WantErr fails unless err matches target (errors.Is).
func WantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want one matching %q", err, target)
	}
}

// WantRFC fails unless err is an OAuth error with the given code and status.
func WantRFC(t testing.TB, err error, code string, status int) {
	t.Helper()
	var rfc *fosite.RFC6749Error
	if !errors.As(err, &rfc) {
		t.Fatalf("error = %v (%T), want an RFC 6749 error %s", err, err, code)
	}
	if rfc.ErrorField != code || rfc.CodeField != status {
		t.Fatalf("error = %s/%d (%v), want %s/%d", rfc.ErrorField, rfc.CodeField, err, code, status)
	}
}

// NewMemoryStore returns an empty in-memory store closed with the test.
func NewMemoryStore(t testing.TB, opts ...memory.Option) *memory.Store {
	t.Helper()
	s := memory.New(opts...)
	t.Cleanup(s.Close)
	return s
}

// OpenPostgres opens a store on dbURL, closed with the test.
func OpenPostgres(t testing.TB, dbURL string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Client is a confidential client registration.
func Client(id string) *storage.Client {
	return &storage.Client{
		ID:            id,
		Name:          "Client " + id,
		RedirectURIs:  []string{"https://" + id + ".example/cb", "https://" + id + ".example/cb2"},
		GrantTypes:    []string{"authorization_code", "refresh_token", "client_credentials"},
		ResponseTypes: []string{"code"},
		Scopes:        []string{"openid", "profile", "email", "offline_access"},
		Audience:      []string{"https://api.example"},
		CreatedAt:     Now,
		UpdatedAt:     Now,
	}
}

// Keys is a signing-key source (authz.KeySource) with one P-256 key for
// every algorithm.
type Keys struct{ key *ecdsa.PrivateKey }

// NewKeys generates the key of a Keys.
func NewKeys(t testing.TB) Keys {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Must(t, err)
	return Keys{key: k}
}

// Signer returns a signer with the key.
func (k Keys) Signer(string) jwt.Signer {
	return &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (any, error) { return k.key, nil }}
}

// ActiveKID names the key for alg.
func (Keys) ActiveKID(alg string) (string, bool) { return "kid-" + alg, true }

// JWKS returns an empty JWK Set.
func (Keys) JWKS() []byte { return []byte(`{"keys":[]}`) }

// AuthorizeRequest builds an authorization request of client with form.
func AuthorizeRequest(client fosite.Client, form url.Values) *fosite.AuthorizeRequest {
	ar := fosite.NewAuthorizeRequest()
	ar.ID = "req-1"
	ar.Client = client
	ar.Form = form
	ar.RequestedAt = Now
	ar.ResponseTypes = strings.Fields(form.Get("response_type"))
	ar.RequestedScope = strings.Fields(form.Get("scope"))
	return ar
}

// Race runs fn(0) … fn(n-1) in n goroutines released together and returns
// their errors (storagetest.Race).
func Race(n int, fn func(i int) error) []error { return storagetest.Race(n, fn) }

// Eventually polls cond every 20 ms until it holds or timeout passes.
func Eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// JWKS is the JWK Set document of keys.
func JWKS(t *testing.T, keys ...jose.JSONWebKey) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	Must(t, err)
	return b
}

// Clock is a settable test clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now reports the clock's time (a func() time.Time for the services).
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// SeedConsentedUser stores client c1 (Client), user u1 "alice" and u1's
// consent to c1 for "openid profile": what a flow test starts from.
func SeedConsentedUser(t testing.TB, store storage.Store) {
	t.Helper()
	ctx := context.Background()
	Must(t, store.CreateClient(ctx, Client("c1")))
	Must(t, store.CreateUser(ctx, &storage.User{ID: "u1", Username: "alice", Email: "alice@example.com", EmailVerified: true, Name: "Alice", UpdatedAt: Now}))
	Must(t, store.SaveConsent(ctx, &storage.Consent{UserID: "u1", ClientID: "c1", Scopes: []string{"openid", "profile"}, GrantedAt: Now}))
}
