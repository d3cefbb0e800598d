package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/oauth"
)

// DefaultCacheTTL is how long an opaque token's lookup is reused
// (serve --gateway-cache-ttl): a revoked or expired-by-revocation opaque
// token is refused at most this long after the revocation commits.
const DefaultCacheTTL = 5 * time.Second

// MaxCacheTTL bounds Options.CacheTTL: longer would let revoked tokens
// through for longer than an operator of a payment API expects.
const MaxCacheTTL = time.Minute

// Tokens is what the gateway needs of the token service (authz/oauth's
// Tokens): the resource-side token checks userinfo uses too.
type Tokens interface {
	// LookupAccessToken looks an access token up through storage.
	LookupAccessToken(ctx context.Context, token string) (*oauth.AccessGrant, error)
	// VerifyJWTAccessToken verifies a JWT access token with the published keys.
	VerifyJWTAccessToken(ctx context.Context, token string) (*oauth.AccessGrant, error)
	// CheckSenderConstraint enforces a token's DPoP or certificate binding.
	CheckSenderConstraint(ctx context.Context, r *http.Request, target oauth.ResourceTarget, scheme, token string, g *oauth.AccessGrant) error
}

var _ Tokens = (*oauth.Tokens)(nil)

// Options configure a Checker.
type Options struct {
	// Tokens checks tokens (required).
	Tokens Tokens
	// Routes are the per-route requirements (required).
	Routes *Routes
	// CacheTTL is how long an opaque token's lookup is reused; 0 looks every
	// request up (no cache). At most MaxCacheTTL.
	CacheTTL time.Duration
	// CacheSize bounds the cached lookups (default 100,000).
	CacheSize int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Checker decides gateway forward-auth requests. It is safe for concurrent use.
type Checker struct {
	tokens Tokens
	routes *Routes
	cache  *tokenCache
	now    func() time.Time
}

// New validates opts and returns a Checker.
func New(opts Options) (*Checker, error) {
	switch {
	case opts.Tokens == nil || opts.Routes == nil:
		return nil, errors.New("gateway: Tokens and Routes are required")
	case opts.CacheTTL < 0 || opts.CacheTTL > MaxCacheTTL:
		return nil, fmt.Errorf("gateway: the token cache TTL must be between 0 and %s", MaxCacheTTL)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 100_000
	}
	c := &Checker{tokens: opts.Tokens, routes: opts.Routes, now: opts.Now}
	if opts.CacheTTL > 0 {
		c.cache = newTokenCache(opts.CacheTTL, opts.CacheSize)
	}
	return c, nil
}

// Request is a forward-auth request: the gateway's request to the check
// endpoint (its Authorization and DPoP headers, and the client certificate
// a trusted gateway forwards), and the original request the gateway asks
// about, as the client addressed it.
type Request struct {
	// HTTP is the gateway's check request.
	HTTP *http.Request
	// Method is the original request's method.
	Method string
	// Scheme and Host are the origin the client addressed (https, api.example.com).
	Scheme, Host string
	// EscapedPath is the original request's path as sent (no query).
	EscapedPath string
}

// Decision is an admitted request: who the token acts for, for the
// identity headers the gateway passes to the API.
type Decision struct {
	// Subject is the user, or the client for a client's own token (RFC 9068 §2.2).
	Subject string
	// Client is the client the token was issued to.
	Client string
	// Scopes are the token's granted scopes.
	Scopes []string
	// Route is the matched route's path prefix ("" for the default).
	Route string
}

// Check decides req: the token (Authorization: Bearer or DPoP), its
// validity (an opaque token through storage, reused for the cache TTL; a
// JWT access token locally with the published keys), its sender
// constraint against the original method and URI (DPoP proof with the
// token's cnf.jkt; certificate thumbprint), the audience, then the route's
// method and scopes. A refusal is a *authz.BearerError: 401 invalid_token
// (no, bad or foreign token, binding not met), 403 insufficient_scope
// (route denied, scopes missing; Scope names the route's scopes), 400
// invalid_request (malformed header or path). A storage outage is an
// error wrapping authz.ErrUnavailable.
func (c *Checker) Check(ctx context.Context, req Request) (*Decision, error) {
	scheme, token, err := oauth.BearerToken(req.HTTP)
	if err != nil {
		return nil, err
	}
	canon, err := CanonicalPath(req.EscapedPath)
	if err != nil {
		return nil, &authz.BearerError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "The request path cannot be routed."}
	}
	g, err := c.grant(ctx, token)
	if err != nil {
		return nil, err
	}
	target := oauth.ResourceTarget{Method: req.Method, URI: req.Scheme + "://" + req.Host + req.EscapedPath}
	if err := c.tokens.CheckSenderConstraint(ctx, req.HTTP, target, scheme, token, g); err != nil {
		return nil, err
	}
	dpopBound := g.JKT != ""
	if len(c.routes.Audience) > 0 && !slices.ContainsFunc(g.Audience, func(a string) bool { return slices.Contains(c.routes.Audience, a) }) {
		// RFC 9068 §4: a token for another resource is invalid_token
		return nil, &authz.BearerError{Status: http.StatusUnauthorized, Code: "invalid_token", Description: "The access token is not meant for this API (aud).", DPoP: dpopBound}
	}
	route := c.routes.Match(req.Method, canon)
	if route == nil {
		if !c.routes.DefaultAllow {
			return nil, &authz.BearerError{Status: http.StatusForbidden, Code: "insufficient_scope", Description: "No route admits this request.", DPoP: dpopBound}
		}
		return decision(g, ""), nil
	}
	for _, s := range route.Scopes {
		if !slices.Contains(g.Scopes, s) {
			return nil, &authz.BearerError{Status: http.StatusForbidden, Code: "insufficient_scope",
				Description: "The access token lacks a scope this route requires.", Scope: strings.Join(route.Scopes, " "), DPoP: dpopBound}
		}
	}
	return decision(g, route.Path), nil
}

func decision(g *oauth.AccessGrant, route string) *Decision {
	return &Decision{Subject: g.SubjectOrClient(), Client: g.ClientID, Scopes: slices.Clone(g.Scopes), Route: route}
}

// grant validates the token: a JWT access token locally, an opaque one
// through the cache over storage.
func (c *Checker) grant(ctx context.Context, token string) (*oauth.AccessGrant, error) {
	if oauth.IsJWT(token) {
		return c.tokens.VerifyJWTAccessToken(ctx, token)
	}
	now := c.now()
	if c.cache != nil {
		if g, ok := c.cache.get(token, now); ok {
			return g, nil
		}
	}
	g, err := c.tokens.LookupAccessToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if c.cache != nil {
		c.cache.put(token, g, now)
	}
	return g, nil
}
