package authz

import (
	"strings"
	"testing"
	"time"
)

func TestConfigApplyDefaults(t *testing.T) {
	t.Run("ok/zero-config", func(t *testing.T) {
		c := Config{Issuer: "https://as.example/"}
		c.ApplyDefaults()
		for _, d := range []struct {
			name      string
			got, want time.Duration
		}{
			{"authorization code", c.AuthorizeCodeLifespan, 60 * time.Second},
			{"access token", c.AccessTokenLifespan, 10 * time.Minute},
			{"ID token", c.IDTokenLifespan, 10 * time.Minute},
			{"refresh token", c.RefreshTokenLifespan, 720 * time.Hour},
			{"PAR", c.PARLifespan, 60 * time.Second},
			{"login flow", c.LoginFlowLifespan, 10 * time.Minute},
			{"browser session", c.BrowserSessionLifespan, 12 * time.Hour},
			{"client assertion max lifetime", c.ClientAssertionMaxLifetime, 5 * time.Minute},
			{"refresh rotation grace", c.RefreshRotationGrace, 0}, // RFC 9700 §4.14.2: any reuse revokes
			{"client cache TTL", c.ClientCacheTTL, 30 * time.Second},
		} {
			if d.got != d.want {
				t.Errorf("%s default = %s, want %s", d.name, d.got, d.want)
			}
		}
		if c.Issuer != "https://as.example" {
			t.Errorf("issuer = %q, want the trailing slash removed", c.Issuer)
		}
		if strings.Join(c.IDTokenAlgs, ",") != "RS256,ES256" {
			t.Errorf("ID token algs = %v, want RS256 first (OIDC default), then ES256", c.IDTokenAlgs)
		}
		if c.URL(PathToken) != "https://as.example/oauth2/token" {
			t.Errorf("token URL = %q", c.URL(PathToken))
		}
	})
	t.Run("ok/set-values-kept", func(t *testing.T) {
		c := Config{AccessTokenLifespan: time.Minute, RefreshTokenLifespan: time.Hour, IDTokenAlgs: []string{"EdDSA"}}
		c.ApplyDefaults()
		if c.AccessTokenLifespan != time.Minute || c.RefreshTokenLifespan != time.Hour || c.IDTokenAlgs[0] != "EdDSA" {
			t.Fatalf("defaults overwrote configured values: %+v", c)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	valid := func() Config { return testConfig() }
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string // substrings of the error; none: valid
	}{
		{"ok/defaults", func(*Config) {}, nil},
		{"ok/issuer-with-path", func(c *Config) { c.Issuer = "https://as.example/tenant-1" }, nil},
		{"ok/every-alg", func(c *Config) { c.IDTokenAlgs = []string{"RS256", "ES256", "PS256", "EdDSA"} }, nil},
		{"fail/issuer-empty", func(c *Config) { c.Issuer = "" }, []string{"issuer is required"}},
		{"fail/negative-assertion-lifetime", func(c *Config) { c.ClientAssertionMaxLifetime = -time.Second }, []string{"client assertion max lifetime must not be negative"}},
		{"fail/negative-refresh-grace", func(c *Config) { c.RefreshRotationGrace = -time.Second }, []string{"refresh rotation grace must not be negative"}},
		{"ok/refresh-grace-max", func(c *Config) { c.RefreshRotationGrace = MaxRefreshRotationGrace }, nil},
		{"fail/refresh-grace-too-long", func(c *Config) { c.RefreshRotationGrace = MaxRefreshRotationGrace + time.Second }, []string{"refresh rotation grace must be at most 1m0s"}},
		{"fail/negative-cache-ttl", func(c *Config) { c.ClientCacheTTL = -time.Second }, []string{"client cache TTL must not be negative"}},
		{"fail/issuer-not-url", func(c *Config) { c.Issuer = "https://as example:port/" }, []string{"issuer is not a URL"}},
		{"fail/issuer-scheme", func(c *Config) { c.Issuer = "ftp://as.example" }, []string{"https URL"}},
		{"fail/issuer-relative", func(c *Config) { c.Issuer = "as.example" }, []string{"https URL"}},
		{"fail/issuer-no-host", func(c *Config) { c.Issuer = "https:///path" }, []string{"must have a host"}},
		{"fail/issuer-query", func(c *Config) { c.Issuer = "https://as.example?x=1" }, []string{"query or fragment"}},
		{"fail/issuer-fragment", func(c *Config) { c.Issuer = "https://as.example#top" }, []string{"query or fragment"}},
		{"fail/secret-short", func(c *Config) { c.SystemSecret = make([]byte, 31) }, []string{"at least 32 bytes"}},
		{"fail/secret-missing", func(c *Config) { c.SystemSecret = nil }, []string{"at least 32 bytes"}},
		{"fail/unknown-alg", func(c *Config) { c.IDTokenAlgs = []string{"RS256", "HS256"} }, []string{`"HS256"`}},
		{"fail/alg-none", func(c *Config) { c.IDTokenAlgs = []string{"none"} }, []string{`"none"`}},
		{"fail/zero-code-lifespan", func(c *Config) { c.AuthorizeCodeLifespan = 0 }, []string{"authorization code lifespan must be positive"}},
		{"fail/negative-access-lifespan", func(c *Config) { c.AccessTokenLifespan = -time.Second }, []string{"access token lifespan must be positive"}},
		{"fail/negative-id-lifespan", func(c *Config) { c.IDTokenLifespan = -1 }, []string{"ID token lifespan must be positive"}},
		{"fail/negative-refresh-lifespan", func(c *Config) { c.RefreshTokenLifespan = -1 }, []string{"refresh token lifespan must be positive"}},
		{"fail/negative-par-lifespan", func(c *Config) { c.PARLifespan = -1 }, []string{"PAR lifespan must be positive"}},
		{"fail/negative-flow-lifespan", func(c *Config) { c.LoginFlowLifespan = -1 }, []string{"login flow lifespan must be positive"}},
		{"fail/negative-session-lifespan", func(c *Config) { c.BrowserSessionLifespan = -1 }, []string{"browser session lifespan must be positive"}},
		{"fail/everything-at-once", func(c *Config) {
			c.Issuer = "ftp://as.example"
			c.SystemSecret = []byte("short")
			c.IDTokenAlgs = []string{"HS512", "RS256", "XX1"}
			c.AccessTokenLifespan = -time.Minute
			c.RefreshTokenLifespan = 0
		}, []string{"https URL", "at least 32 bytes", `"HS512"`, `"XX1"`, "access token lifespan", "refresh token lifespan"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.mutate(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				must(t, err)
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", c)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			// One problem per line, and nothing reported that is not wrong.
			if n := len(strings.Split(err.Error(), "\n")); n != len(tc.want) {
				t.Errorf("%d problems reported, want %d: %q", n, len(tc.want), err)
			}
		})
	}
}
