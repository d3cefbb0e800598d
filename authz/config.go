package authz

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/authz/throttle"
)

// Endpoint paths. Discovery advertises them; the HTTP layer mounts them.
const (
	PathAuthorize     = "/oauth2/authorize"
	PathToken         = "/oauth2/token" // #nosec G101 -- an endpoint path, not a credential
	PathIntrospect    = "/oauth2/introspect"
	PathRevoke        = "/oauth2/revoke"
	PathPAR           = "/oauth2/par"
	PathUserinfo      = "/userinfo"
	PathJWKS          = "/.well-known/jwks.json"
	PathOIDCDiscovery = "/.well-known/openid-configuration"
	PathASMetadata    = "/.well-known/oauth-authorization-server"
	// PathLogout is the end_session_endpoint (OIDC RP-Initiated Logout 1.0
	// §2), GET and POST; the pages mount it.
	PathLogout = "/oauth2/logout"
)

// MaxRefreshRotationGrace bounds Config.RefreshRotationGrace: a retry comes
// within seconds, and a longer window only helps a thief.
const MaxRefreshRotationGrace = time.Minute

// Config is the typed configuration of the authorization server. Build it,
// call ApplyDefaults, then Validate.
type Config struct {
	// Issuer is the https URL that identifies this server (no trailing slash,
	// no query or fragment). Every endpoint URL is derived from it.
	Issuer string

	AuthorizeCodeLifespan  time.Duration // default 60 s (FAPI 2.0)
	AccessTokenLifespan    time.Duration // default 10 min
	IDTokenLifespan        time.Duration // default 10 min
	RefreshTokenLifespan   time.Duration // default 30 days
	PARLifespan            time.Duration // default 60 s (RFC 9126 §2.2 expires_in)
	LoginFlowLifespan      time.Duration // how long a pending login/consent may take; default 10 min
	BrowserSessionLifespan time.Duration // absolute lifetime of a login session; default 12 h

	// BrowserSessionIdleTimeout ends a login session unused this long (default
	// 30 min); BrowserSessionLifespan bounds it however active it is.
	BrowserSessionIdleTimeout time.Duration

	// RefreshRotationGrace is how long after its rotation a refresh token
	// presented again is answered invalid_grant without revoking the grant
	// (a client retrying a refresh whose answer it lost). Default 0: any
	// reuse revokes the whole family, the newest tokens included (RFC 9700
	// §4.14.2). At most MaxRefreshRotationGrace.
	RefreshRotationGrace time.Duration

	// ClientAssertionMaxLifetime caps exp - now of private_key_jwt assertions.
	ClientAssertionMaxLifetime time.Duration // default 5 min

	// ClientCacheTTL bounds how long a client read stays cached when no change
	// notification arrives (the fallback for lost notifications).
	ClientCacheTTL time.Duration // default 30 s

	// SystemSecret keys the HMAC of opaque tokens, the keyed hash of client
	// secrets and CSRF tokens (each through its own HKDF-derived key). At least 32 bytes.
	SystemSecret []byte

	// IDTokenAlgs are the algorithms that sign ID tokens; the first is the default.
	IDTokenAlgs []string

	// SecureCookies sets Secure and the __Host- prefix on every cookie even
	// when the issuer is http (e.g. served over TLS with an http issuer).
	// Cookies are always secure when the issuer is https: see CookiesSecure.
	SecureCookies bool

	// ProductName labels TOTP entries in authenticator apps and is the
	// WebAuthn relying party's display name (default "Strongroom").
	ProductName string
	// LoginThrottle limits failed logins per account and per source address
	// (default throttle.Default; see authz/throttle).
	LoginThrottle throttle.Config
	// LoginURL and ConsentURL are the end-user pages (mounted by web) that
	// the authorization endpoint sends a browser to, as paths on this
	// server (defaults "/login" and "/consent").
	LoginURL, ConsentURL string

	// PasswordHashing bounds concurrent argon2id computations (default two
	// per core, waiting at most password.DefaultHashWait; see authz/password).
	PasswordHashing password.HashLimits
}

// ApplyDefaults fills every zero field with its default.
func (c *Config) ApplyDefaults() {
	c.Issuer = strings.TrimRight(c.Issuer, "/")
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.AuthorizeCodeLifespan, 60*time.Second)
	def(&c.AccessTokenLifespan, 10*time.Minute)
	def(&c.IDTokenLifespan, 10*time.Minute)
	def(&c.RefreshTokenLifespan, 30*24*time.Hour)
	def(&c.PARLifespan, 60*time.Second)
	def(&c.LoginFlowLifespan, 10*time.Minute)
	def(&c.BrowserSessionLifespan, 12*time.Hour)
	def(&c.BrowserSessionIdleTimeout, 30*time.Minute)
	def(&c.ClientAssertionMaxLifetime, 5*time.Minute)
	def(&c.ClientCacheTTL, 30*time.Second)
	if c.LoginURL == "" {
		c.LoginURL = "/login"
	}
	if c.ConsentURL == "" {
		c.ConsentURL = "/consent"
	}
	if c.ProductName == "" {
		c.ProductName = "Strongroom"
	}
	if c.LoginThrottle == (throttle.Config{}) {
		c.LoginThrottle = throttle.Default
	}
	if len(c.IDTokenAlgs) == 0 {
		c.IDTokenAlgs = []string{"RS256", "ES256"}
	}
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.Issuer)
	switch {
	case c.Issuer == "":
		errs = append(errs, errors.New("issuer is required"))
	case err != nil:
		errs = append(errs, fmt.Errorf("issuer is not a URL: %w", err))
	case u.Scheme != "https" && u.Scheme != "http":
		errs = append(errs, errors.New("issuer must be an https URL"))
	case u.Host == "":
		errs = append(errs, errors.New("issuer must have a host"))
	case u.RawQuery != "" || u.Fragment != "":
		errs = append(errs, errors.New("issuer must not have a query or fragment"))
	}
	for name, d := range map[string]time.Duration{
		"authorization code lifespan": c.AuthorizeCodeLifespan,
		"access token lifespan":       c.AccessTokenLifespan,
		"ID token lifespan":           c.IDTokenLifespan,
		"refresh token lifespan":      c.RefreshTokenLifespan,
		"PAR lifespan":                c.PARLifespan,
		"login flow lifespan":         c.LoginFlowLifespan,
		"browser session lifespan":    c.BrowserSessionLifespan,
		"session idle timeout":        c.BrowserSessionIdleTimeout,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", name))
		}
	}
	for name, d := range map[string]time.Duration{
		"client assertion max lifetime": c.ClientAssertionMaxLifetime,
		"refresh rotation grace":        c.RefreshRotationGrace,
		"client cache TTL":              c.ClientCacheTTL,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", name))
		}
	}
	if c.RefreshRotationGrace > MaxRefreshRotationGrace {
		errs = append(errs, fmt.Errorf("refresh rotation grace must be at most %s", MaxRefreshRotationGrace))
	}
	if len(c.SystemSecret) < 32 {
		errs = append(errs, errors.New("system secret must be at least 32 bytes"))
	}
	for _, alg := range c.IDTokenAlgs {
		switch alg {
		case "RS256", "ES256", "PS256", "EdDSA":
		default:
			errs = append(errs, fmt.Errorf("unsupported ID token algorithm %q", alg))
		}
	}
	return errors.Join(errs...)
}

// CookiesSecure reports whether cookies must carry Secure and the __Host-
// prefix: the browser reaches the issuer, so an https issuer means TLS in
// front of us (here or at a TLS-terminating proxy, --insecure-http) even when
// this process itself serves plain HTTP.
func (c *Config) CookiesSecure() bool {
	return c.SecureCookies || strings.HasPrefix(strings.ToLower(c.Issuer), "https://")
}

// URL returns the absolute URL of an endpoint path under the issuer.
func (c *Config) URL(path string) string { return c.Issuer + path }
