package oauth

import (
	"log/slog"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/internal/authztest"
	"github.com/strongroom/strongroom/storage"
)

// Helpers shared by the tests of the authz packages (authztest).
var (
	testSystemSecret = authztest.SystemSecret
	testNow          = authztest.Now
	must             = authztest.Must
	wantErr          = authztest.WantErr
	wantRFC          = authztest.WantRFC
	newMemoryStore   = authztest.NewMemoryStore
	testClient       = authztest.Client
	newFakeKeys      = authztest.NewKeys
	authorizeRequest = authztest.AuthorizeRequest
	jwks             = authztest.JWKS
)

func ptr[T any](v T) *T { return &v }

// testConfig is a valid configuration with defaults applied.
func testConfig() authz.Config {
	cfg := authz.Config{Issuer: "https://as.example", SystemSecret: testSystemSecret}
	cfg.ApplyDefaults()
	return cfg
}

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

func mustClient(t *testing.T, sc *storage.Client) *authz.Client {
	t.Helper()
	c, err := authz.NewClient(sc)
	must(t, err)
	return c
}

// newTestTokens composes the token service as the server does (New, with
// opts) over store: for what needs the whole service, e.g. discovery.
func newTestTokens(t testing.TB, store storage.Store, opts ...Option) *Tokens {
	t.Helper()
	cfg := testConfig()
	must(t, cfg.Validate())
	s, err := New(cfg, store, newFakeKeys(t), slog.New(slog.DiscardHandler), opts...)
	must(t, err)
	return s.Tokens
}
