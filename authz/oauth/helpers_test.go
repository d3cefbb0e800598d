package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
	"github.com/strongroom/strongroom/storage/postgres"
)

// Shared helpers of the authz tests.

// testSystemSecret is a valid (>= 32 bytes) system secret.
var testSystemSecret = []byte("strongroom-test-system-secret-0123456789")

// testNow is the fixed instant of tests that control the clock.
var testNow = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantErr fails unless err matches target (errors.Is).
func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want one matching %q", err, target)
	}
}

// wantRFC fails unless err is an OAuth error with the given code and status.
func wantRFC(t testing.TB, err error, code string, status int) {
	t.Helper()
	var rfc *fosite.RFC6749Error
	if !errors.As(err, &rfc) {
		t.Fatalf("error = %v (%T), want an RFC 6749 error %s", err, err, code)
	}
	if rfc.ErrorField != code || rfc.CodeField != status {
		t.Fatalf("error = %s/%d (%v), want %s/%d", rfc.ErrorField, rfc.CodeField, err, code, status)
	}
}

// newMemoryStore returns an empty in-memory store closed with the test.
func newMemoryStore(t testing.TB, opts ...memory.Option) *memory.Store {
	t.Helper()
	s := memory.New(opts...)
	t.Cleanup(s.Close)
	return s
}

// openPostgres opens a store on dbURL, closed with the test.
func openPostgres(t testing.TB, dbURL string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// testClient is a confidential client registration.
func testClient(id string) *storage.Client {
	return &storage.Client{
		ID:            id,
		Name:          "Client " + id,
		RedirectURIs:  []string{"https://" + id + ".example/cb", "https://" + id + ".example/cb2"},
		GrantTypes:    []string{"authorization_code", "refresh_token", "client_credentials"},
		ResponseTypes: []string{"code"},
		Scopes:        []string{"openid", "profile", "email", "offline_access"},
		Audience:      []string{"https://api.example"},
		CreatedAt:     testNow,
		UpdatedAt:     testNow,
	}
}

// testConfig is a valid configuration with defaults applied.
func testConfig() authz.Config {
	cfg := authz.Config{Issuer: "https://as.example", SystemSecret: testSystemSecret}
	cfg.ApplyDefaults()
	return cfg
}

// fakeKeys is a KeySource with one P-256 key for every algorithm.
type fakeKeys struct{ key *ecdsa.PrivateKey }

var _ authz.KeySource = fakeKeys{}

func newFakeKeys(t testing.TB) fakeKeys {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	return fakeKeys{key: k}
}

func (k fakeKeys) Signer(string) jwt.Signer {
	return &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (any, error) { return k.key, nil }}
}

func (fakeKeys) ActiveKID(alg string) (string, bool) { return "kid-" + alg, true }

func (fakeKeys) JWKS() []byte { return []byte(`{"keys":[]}`) }

// newTestProvider composes the token service over store whose clock is
// testNow; its Authorizer face (every method of the core besides).
func newTestProvider(t testing.TB, store storage.Store) *Authorizer {
	t.Helper()
	cfg := testConfig()
	must(t, cfg.Validate())
	p, err := newCore(cfg, store, newFakeKeys(t), slog.New(slog.DiscardHandler))
	must(t, err)
	p.now = func() time.Time { return testNow }
	return &Authorizer{p}
}

// authorizeRequest builds an authorization request of client with form.
func authorizeRequest(client fosite.Client, form url.Values) *fosite.AuthorizeRequest {
	ar := fosite.NewAuthorizeRequest()
	ar.ID = "req-1"
	ar.Client = client
	ar.Form = form
	ar.RequestedAt = testNow
	ar.ResponseTypes = strings.Fields(form.Get("response_type"))
	ar.RequestedScope = strings.Fields(form.Get("scope"))
	return ar
}

// race runs fn(0) … fn(n-1) in n goroutines released together and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// eventually polls cond every 20 ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// flowScopes returns the scopes a flow requests.
func flowScopes(f *storage.AuthFlow) []string {
	form, _ := url.ParseQuery(string(f.Form))
	return fosite.RemoveEmpty(strings.Split(form.Get("scope"), " "))
}

// jwks serializes public keys as a JWK Set.
func jwks(t *testing.T, keys ...jose.JSONWebKey) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	must(t, err)
	return b
}

func mustClient(t *testing.T, sc *storage.Client) *authz.Client {
	t.Helper()
	c, err := authz.NewClient(sc)
	must(t, err)
	return c
}
