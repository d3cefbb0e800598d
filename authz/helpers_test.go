package authz

import (
	"sync"
	"time"

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
	race             = authztest.Race
	eventually       = authztest.Eventually
	jwks             = authztest.JWKS
)

// testConfig is a valid configuration with defaults applied.
func testConfig() Config {
	cfg := Config{Issuer: "https://as.example", SystemSecret: testSystemSecret}
	cfg.ApplyDefaults()
	return cfg
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
