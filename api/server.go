package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/api/httpmw"
	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/login"
	"github.com/strongroom/strongroom/authz/oauth"
)

// Options configure the public HTTP server.
type Options struct {
	// MaxBodyBytes caps request bodies at the OAuth endpoints (default 64 KiB).
	MaxBodyBytes int64
	// Ready reports readiness (the database is reachable); nil means always ready.
	Ready func(ctx context.Context) error
	// Draining reports that the server is shutting down: /readyz answers
	// 503 so that load balancers stop sending traffic; nil means never.
	Draining func() bool
	// JWKSMaxAge is the Cache-Control max-age of the JWKS (default 1 min):
	// the signing-key manager publishes a next key at least this long before
	// it signs.
	JWKSMaxAge time.Duration
	// Frontends mount their own routes beside the OAuth endpoints on the
	// public listener, behind the same middleware (the end-user pages).
	Frontends []Frontend
	// RateLimits, when set, limits requests per source address and per
	// client (429 with Retry-After and RateLimit headers); nil: no limits.
	RateLimits *RateLimits
}

// Frontend is a set of routes that mounts itself on the public listener
// (web.Pages).
type Frontend interface {
	Mount(e *echo.Echo)
}

// Browser is what the authorization endpoint needs from the end-user pages:
// the browser's session and flow-binding cookies, and the error page for an
// authorization request that cannot be answered to its client. web.Pages
// implements it; the composition root (server) passes it in, so api never
// imports web.
type Browser interface {
	// SessionCookie returns the browser session cookie value of r ("" if none).
	SessionCookie(r *http.Request) string
	// FlowBinding returns the browser's flow-binding secret, setting its
	// cookie if the browser has none.
	FlowBinding(w http.ResponseWriter, r *http.Request) (string, error)
	// RenderError shows the error page.
	RenderError(w http.ResponseWriter, status int, code, description string)
}

// Server is the public HTTP front end: the OAuth/OIDC endpoints, with the
// end-user pages mounted beside them (Options.Frontends).
type Server struct {
	p         *oauth.Tokens
	flows     *login.Service
	browser   Browser
	log       *slog.Logger
	opts      Options
	discovery []byte
	e         *echo.Echo
}

// New builds the server and mounts every route: the OAuth/OIDC endpoints,
// discovery, JWKS, health, then each of opts.Frontends. p answers the
// token-side endpoints, flows the authorization endpoint.
func New(p *oauth.Tokens, flows *login.Service, browser Browser, log *slog.Logger, opts Options) (*Server, error) {
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 64 << 10
	}
	if opts.JWKSMaxAge <= 0 {
		opts.JWKSMaxAge = time.Minute
	}
	disc, err := p.DiscoveryJSON()
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(log)
	s := &Server{p: p, flows: flows, browser: browser, log: log, opts: opts, discovery: disc, e: e}

	httpmw.Use(e, httpmw.Options{
		Log: log, WithRequestID: authz.WithRequestID, Caller: clientAttr,
		AccessLogMessage: "request", PanicMessage: "panic in handler",
	})
	limitClient := func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	if opts.RateLimits != nil {
		e.Use(s.limitAddress)
		limitClient = s.limitClient
	}

	// Per-route middleware (an Echo group would register a catch-all route
	// and turn every 405 into a 404).
	oauth := func(method, path string, h echo.HandlerFunc) { e.Add(method, path, h, s.limitBody, s.rejectDuplicates) }
	oauth(http.MethodGet, authz.PathAuthorize, s.authorize)
	oauth(http.MethodPost, authz.PathAuthorize, s.authorize)
	// The per-client limit at the endpoints where clients authenticate.
	client := func(method, path string, h echo.HandlerFunc) {
		e.Add(method, path, h, s.limitBody, s.rejectDuplicates, limitClient)
	}
	client(http.MethodPost, authz.PathToken, s.token)
	client(http.MethodPost, authz.PathIntrospect, s.introspect)
	client(http.MethodPost, authz.PathRevoke, s.revoke)
	client(http.MethodPost, authz.PathPAR, s.par)
	oauth(http.MethodGet, authz.PathUserinfo, s.userinfo)
	oauth(http.MethodPost, authz.PathUserinfo, s.userinfo)

	e.GET(authz.PathOIDCDiscovery, s.serveDiscovery)
	e.GET(authz.PathASMetadata, s.serveDiscovery)
	e.GET(authz.PathJWKS, s.jwks)
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", s.readyz)

	for _, f := range opts.Frontends {
		f.Mount(e)
	}
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.e.ServeHTTP(w, r) }

func (s *Server) readyz(c echo.Context) error {
	if s.opts.Draining != nil && s.opts.Draining() {
		return c.String(http.StatusServiceUnavailable, "shutting down\n")
	}
	if s.opts.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := s.opts.Ready(ctx); err != nil {
			s.log.Warn("not ready", "err", err)
			return c.String(http.StatusServiceUnavailable, "database unavailable\n")
		}
	}
	// A node whose rate limits fell back to per-node counting stays ready
	// (taking every node out because Redis is away would be an outage),
	// and says so.
	if rl := s.opts.RateLimits; rl != nil && rl.Limiter != nil && rl.Limiter.Degraded() {
		_, detail := rl.Limiter.Status()
		return c.String(http.StatusOK, "ready\n"+detail+"\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

func (s *Server) serveDiscovery(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/json", s.discovery)
}

func (s *Server) jwks(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(s.opts.JWKSMaxAge/time.Second)))
	return c.Blob(http.StatusOK, "application/jwk-set+json", s.p.JWKS())
}

// errorHandler renders Echo's own errors (unknown route, 405, body too large)
// as OAuth-style JSON, never with internals.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code, msg := http.StatusInternalServerError, "server_error"
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
			switch code {
			case http.StatusNotFound:
				msg = "not_found"
			case http.StatusMethodNotAllowed:
				msg = "method_not_allowed"
			case http.StatusRequestEntityTooLarge:
				msg = "invalid_request"
			default:
				msg = "invalid_request"
			}
		} else {
			log.Error("unhandled error", "err", err, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		}
		if code >= 500 {
			msg = "server_error"
		}
		_ = c.JSON(code, map[string]string{"error": msg, "error_description": http.StatusText(code)})
	}
}
