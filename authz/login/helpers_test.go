package login

import (
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/internal/authztest"
	"github.com/strongroom/strongroom/authz/mfa"
	"github.com/strongroom/strongroom/authz/oauth"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/authz/throttle"
	"github.com/strongroom/strongroom/storage"
)

// Helpers shared by the tests of the authz packages (authztest).
var (
	testSystemSecret = authztest.SystemSecret
	testNow          = authztest.Now
	must             = authztest.Must
	wantRFC          = authztest.WantRFC
	newMemoryStore   = authztest.NewMemoryStore
	openPostgres     = authztest.OpenPostgres
	newFakeKeys      = authztest.NewKeys
	authorizeRequest = authztest.AuthorizeRequest
	race             = authztest.Race
)

// testConfig is a valid configuration with defaults applied.
func testConfig() authz.Config {
	cfg := authz.Config{Issuer: "https://as.example", SystemSecret: testSystemSecret}
	cfg.ApplyDefaults()
	return cfg
}

// newTestProvider composes the browser flow over a token service on
// store; the flow's clock is testNow.
func newTestProvider(t testing.TB, store storage.Store) *Service {
	t.Helper()
	cfg := testConfig()
	must(t, cfg.Validate())
	log := slog.New(slog.DiscardHandler)
	o, err := oauth.New(cfg, store, newFakeKeys(t), log)
	must(t, err)
	now := func() time.Time { return testNow }
	passwords, err := password.NewAuthenticator(store)
	must(t, err)
	passwords.Limiter = password.NewHashLimiter(cfg.PasswordHashing)
	totpKey, err := authz.DeriveKey(cfg.SystemSecret, "totp")
	must(t, err)
	recoveryKey, err := authz.DeriveKey(cfg.SystemSecret, "recovery-code")
	must(t, err)
	factors, err := mfa.New(mfa.Options{Store: store, TOTPKey: totpKey, RecoveryKey: recoveryKey, Issuer: cfg.Issuer, ProductName: cfg.ProductName, Now: now})
	must(t, err)
	s, err := New(Options{
		Config: cfg, Store: store, Clients: o.Clients, Authorizer: o.Authorizer,
		Sessions: &authz.SessionManager{Store: store, Now: now}, Passwords: passwords, Factors: factors,
		Throttle: throttle.New(store, cfg.LoginThrottle, now), Now: now, Log: log,
	})
	must(t, err)
	return s
}

// flowScopes returns the scopes a flow requests.
func flowScopes(f *storage.AuthFlow) []string {
	form, _ := url.ParseQuery(string(f.Form))
	return fosite.RemoveEmpty(strings.Split(form.Get("scope"), " "))
}
