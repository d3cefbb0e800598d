package authz

import (
	"github.com/strongroom/strongroom/authz/internal/authztest"
)

// Helpers shared by the tests of the authz packages (authztest).
var (
	testSystemSecret = authztest.SystemSecret
	testNow          = authztest.Now
	must             = authztest.Must
	wantErr          = authztest.WantErr
	newMemoryStore   = authztest.NewMemoryStore
	openPostgres     = authztest.OpenPostgres
	testClient       = authztest.Client
	eventually       = authztest.Eventually
	jwks             = authztest.JWKS
)

// testConfig is a valid configuration with defaults applied.
func testConfig() Config {
	cfg := Config{Issuer: "https://as.example", SystemSecret: testSystemSecret}
	cfg.ApplyDefaults()
	return cfg
}
