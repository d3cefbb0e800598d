package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/strongroom/strongroom/api"
	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/backchannel"
	"github.com/strongroom/strongroom/authz/dpop"
	"github.com/strongroom/strongroom/authz/dpop/redisreplay"
	"github.com/strongroom/strongroom/authz/janitor"
	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/authz/login"
	"github.com/strongroom/strongroom/authz/logout"
	"github.com/strongroom/strongroom/authz/mfa"
	"github.com/strongroom/strongroom/authz/mtls"
	"github.com/strongroom/strongroom/authz/oauth"
	"github.com/strongroom/strongroom/authz/oauth/clientauth"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/authz/ratelimit"
	"github.com/strongroom/strongroom/authz/throttle"
	"github.com/strongroom/strongroom/metrics"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/memory"
	"github.com/strongroom/strongroom/storage/postgres"
	"github.com/strongroom/strongroom/tracing"
	"github.com/strongroom/strongroom/web"
	"github.com/strongroom/strongroom/web/devrp"
)

// Config is everything needed to run a server.
type Config struct {
	// Authz is the authorization server configuration (issuer, lifetimes, system secret).
	Authz authz.Config
	// DatabaseURL selects PostgreSQL; empty with Dev selects the in-memory store.
	DatabaseURL string
	// Dev runs on the in-memory store.
	Dev bool
	// AllowInsecureRedirects lets the admin API register confidential
	// clients with http redirect URIs on a loopback host (always so with
	// Dev); serve --allow-insecure-redirects.
	AllowInsecureRedirects bool
	// KEK encrypts signing keys at rest (32 bytes).
	KEK []byte
	// PreviousKEK, while the KEK changes, decrypts the signing keys still
	// encrypted under it (keys.WithPreviousKEK), so that `strongroom keys
	// rewrap` needs no restart; nil otherwise.
	PreviousKEK []byte
	// TLS, when set, serves HTTPS with it.
	TLS *tls.Config
	// Product is shown on the end-user pages.
	Product string
	// Logo is the operator's logo shown on the end-user pages (web.Options.Logo).
	Logo []byte
	// KeyReloadInterval is the fallback reload period of signing keys.
	KeyReloadInterval time.Duration
	// JWKSCacheLifetime is the JWKS max-age; a next signing key is published
	// this long (plus keys.PropagationDelay) before it signs. Default 1 min.
	JWKSCacheLifetime time.Duration
	// KeyRotationInterval, when positive, rotates the signing keys once the
	// active key has signed this long (exactly one node rotates).
	KeyRotationInterval time.Duration
	// Backchannel tunes the back-channel logout worker (zero fields: defaults).
	Backchannel backchannel.Config
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// names the client of a login attempt (throttle and audit); empty: the
	// connection's peer is the client.
	TrustedProxies []netip.Prefix
	// ShutdownDrain is how long, once shutdown begins, /readyz answers 503
	// while every other request is still served, before the listener
	// closes: a load balancer stops sending new traffic first. Zero closes
	// at once.
	ShutdownDrain time.Duration

	// ClientCAs are the trust anchors of tls_client_auth client
	// certificates (serve --tls-client-ca; mtls.LoadClientCAs), whether
	// presented on Strongroom's TLS connection or forwarded by a trusted
	// proxy; nil: no CA-issued client certificate is trusted. When it is set
	// and Strongroom terminates TLS, TLS already requests (never requires)
	// client certificates (mtls.RequestClientCertificates). For
	// mtls.NewAuthenticator.
	ClientCAs *x509.CertPool
	// ClientCertificates finds the certificate a client presented: on the
	// TLS connection, or in the header a trusted proxy sets (serve
	// --client-cert-header, believed only from TrustedProxies). nil: the
	// connection only.
	ClientCertificates *mtls.CertificateSource
	// DPoPNonce is the server's DPoP nonce policy (serve --dpop-nonce):
	// dpop.NonceRequired, dpop.NonceOptional (nonces required of FAPI 2.0
	// clients, checked when others send one) or dpop.NonceOff; "" means
	// optional.
	DPoPNonce dpop.NonceMode
	// RedisURL, when set (serve --redis-url, REDIS_URL), keeps the DPoP
	// proof ids of every node in that Redis (authz/dpop/redisreplay)
	// instead of the database. New refuses a Redis it cannot reach: it
	// never falls back to the database silently. "": the database.
	RedisURL string
	// MTLSBaseURL, when set (serve --mtls-base-url), is the https base URL
	// of a separate host name serving the endpoints with mutual TLS:
	// discovery lists them under it as mtls_endpoint_aliases (RFC 8705 §5;
	// oauth.WithMTLSEndpointAliases). "": no aliases.
	MTLSBaseURL string
	// Tracing, when it exports (serve --otlp-endpoint, OTEL_ env;
	// tracing.Setup), records spans of every public request, of the
	// token-side endpoints' work and of every SQL query beneath them, in
	// one trace. nil or disabled: no spans. The caller shuts it down after
	// the server has stopped.
	Tracing *tracing.Provider
	// QueryTracer, when set, also sees every query of the PostgreSQL pool
	// (tests and benchmarks count a request's round trips with it). It
	// must never record query arguments.
	QueryTracer pgx.QueryTracer
	// JWKSURIAllowPrivate lets the fetches of clients' jwks_uri reach
	// loopback, private and link-local addresses (serve
	// --jwks-uri-allow-private). Otherwise only public addresses are
	// fetched (clientauth.JWKSFetchPolicy); http only when the issuer is.
	JWKSURIAllowPrivate bool
	// Now is the clock of the services the server builds (token store,
	// sessions, login flows, throttle, janitor); nil: time.Now. Tests set
	// a settable one (servertest.Clock) to cross time limits such as the
	// refresh reuse grace without waiting.
	Now func() time.Time
	// RateLimits are the request limits of the public listener (serve
	// --rate-limit-*); the zero value limits nothing.
	RateLimits RateLimits
}

// RateLimits configure the per-address and per-client request limits
// (authz/ratelimit). They are counted in Redis, shared by every node, when
// Config.RedisURL is set, else by each node alone; a client's registered
// rate_limit overrides Client for it.
type RateLimits struct {
	// Address limits each source address (an IPv6 /64; the address behind
	// a trusted proxy) over every public endpoint but the health probes;
	// ratelimit.Off (zero): none.
	Address ratelimit.Rate
	// Client limits each client at the token, PAR, introspection and
	// revocation endpoints; ratelimit.Off (zero): none, unless the client
	// registered its own.
	Client ratelimit.Rate
	// RedisPrefix is put before the limits' Redis keys; "":
	// ratelimit.DefaultPrefix. Deployments sharing a Redis set their own.
	RedisPrefix string
	// RedisRetry is how long the limits stay per node after Redis failed
	// before a request tries it again; 0: 5 s.
	RedisRetry time.Duration
	// Observer, when set, hears every rejection and every fallback to
	// per-node limits (metrics); the server also records them in the audit
	// trail, sampled (one rejection per key per minute).
	Observer ratelimit.Observer
}

// enabled reports whether any limit applies; when neither does, client
// overrides are not applied either (no limiter is built).
func (r RateLimits) enabled() bool { return !r.Address.IsOff() || !r.Client.IsOff() }

// Server is a composed, runnable Strongroom.
type Server struct {
	// OAuth is the token service (authz/oauth): fosite, the token-side
	// endpoints' answers (Tokens), the authorization responses
	// (Authorizer), the client cache, secret hasher and session manager.
	OAuth *oauth.Service
	// Login is the browser flow of the authorization endpoint.
	Login *login.Service
	// Passwords checks end-user passwords; its HashLimiter bounds the
	// concurrent argon2id computations of the node.
	Passwords *password.Authenticator
	// Throttle is the login brute-force throttle (Serve runs its cleanup).
	Throttle *throttle.Throttle
	Store    storage.Store
	Keys     *keys.Manager
	// Backchannel delivers queued back-channel logout tokens (Serve runs it).
	Backchannel *backchannel.Sender
	// Janitor deletes expired rows (Serve runs it on every node).
	Janitor *janitor.Janitor
	// Metrics is the server's Prometheus registry and recorders; the admin
	// listener serves it at /metrics (ServeAdmin). Services built beside
	// the server (the rate limiter's observer) record into it too.
	Metrics *metrics.Metrics
	Handler http.Handler
	cfg     Config
	log     *slog.Logger
	// now is the clock of the services the server builds.
	now func() time.Time
	// draining is set when shutdown begins (Serve); /readyz answers 503 from then on.
	draining *atomic.Bool
	// redis is the DPoP replay cache's client when Config.RedisURL is set; Close closes it.
	redis *redis.Client
	// demoRP is the dev server's demo relying party (Config.Dev only), set up by SeedDemo.
	demoRP *devrp.RP
	// RateLimiter counts the request limits (nil when Config.RateLimits
	// limit nothing); its Status says whether they are shared through Redis.
	RateLimiter *ratelimit.Limiter
}

// New composes a server. It refuses a PostgreSQL schema that is behind.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.prepare(); err != nil {
		return nil, err
	}
	var store storage.Store
	switch {
	case cfg.Dev && cfg.DatabaseURL == "":
		store = memory.New()
	case cfg.DatabaseURL == "":
		return nil, errors.New("a database URL is required (DATABASE_URL or --database-url)")
	default:
		var pgOpts []postgres.OpenOption
		var tracers []pgx.QueryTracer
		if cfg.Tracing.Enabled() {
			// statements only, never their arguments (token signatures, hashes)
			tracers = append(tracers, otelpgx.NewTracer(otelpgx.WithTracerProvider(cfg.Tracing)))
		}
		if cfg.QueryTracer != nil {
			tracers = append(tracers, cfg.QueryTracer)
		}
		switch len(tracers) {
		case 0:
		case 1:
			pgOpts = append(pgOpts, postgres.WithQueryTracer(tracers[0]))
		default:
			pgOpts = append(pgOpts, postgres.WithQueryTracer(multitracer.New(tracers...)))
		}
		pg, err := postgres.Open(ctx, cfg.DatabaseURL, log, pgOpts...)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		if err := postgres.CheckSchema(ctx, pg.Pool()); err != nil {
			pg.Close()
			return nil, err
		}
		store = pg
	}
	rdb, err := openRedis(ctx, cfg.RedisURL)
	if err != nil {
		store.Close()
		return nil, err
	}
	s, err := assemble(ctx, cfg, store, rdb, log)
	if err != nil {
		if rdb != nil {
			_ = rdb.Close()
		}
		store.Close()
		return nil, err
	}
	return s, nil
}

// openRedis connects to the Redis of the DPoP replay cache and the rate
// limits and checks that it answers; nil without a URL. Calls respect their
// context's deadline (the rate limits give Redis a fraction of a second
// before they count per node). Its errors never quote the URL (it may
// hold a password).
func openRedis(ctx context.Context, rawURL string) (*redis.Client, error) {
	if rawURL == "" {
		return nil, nil
	}
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, errors.New("DPoP replay cache: the Redis URL is not valid (redis://[user:password@]host:port[/db] or rediss://…)")
	}
	opts.ContextTimeoutEnabled = true
	client := redis.NewClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("DPoP replay cache: cannot reach Redis at %s: %w", opts.Addr, err)
	}
	return client, nil
}

// replayCache is where DPoP proof ids are recorded: Redis when configured,
// else the store.
func replayCache(store storage.Store, rdb *redis.Client) dpop.ReplayCache {
	if rdb != nil {
		return redisreplay.New(rdb, redisreplay.DefaultPrefix)
	}
	return dpop.NewStoreReplayCache(store)
}

// prepare completes and validates the configuration.
func (cfg *Config) prepare() error {
	// the authorization endpoint sends browsers to the pages web mounts
	cfg.Authz.LoginURL, cfg.Authz.ConsentURL = web.PathLogin, web.PathConsent
	cfg.Authz.ApplyDefaults()
	cfg.Authz.SecureCookies = cfg.Authz.SecureCookies || cfg.TLS != nil
	if cfg.Authz.ProductName == "" {
		cfg.Authz.ProductName = cfg.Product
	}
	if err := cfg.Authz.Validate(); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	if cfg.Tracing == nil {
		cfg.Tracing = tracing.Disabled()
	}
	return nil
}

func assemble(ctx context.Context, cfg Config, store storage.Store, rdb *redis.Client, log *slog.Logger) (*Server, error) {
	keyOpts := []keys.Option{keys.WithLogger(log), keys.WithAuditTrail(store), keys.WithPolicy(keys.Policy{
		JWKSCacheLifetime: cfg.JWKSCacheLifetime,
		TokenLifetime:     max(cfg.Authz.IDTokenLifespan, cfg.Authz.AccessTokenLifespan),
	})}
	if cfg.PreviousKEK != nil {
		keyOpts = append(keyOpts, keys.WithPreviousKEK(cfg.PreviousKEK))
	}
	km, err := keys.NewManager(store, cfg.KEK, keyOpts...)
	if err != nil {
		return nil, fmt.Errorf("key manager: %w", err)
	}
	if err := km.EnsureActive(ctx, cfg.Authz.IDTokenAlgs...); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	if err := km.Reload(ctx); err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	verifier, err := oauth.NewDPoPVerifier(cfg.Authz.SystemSecret, replayCache(store, rdb), cfg.DPoPNonce)
	if err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	mx := newMetrics(cfg, store, km, now, log)
	o, err := oauth.New(cfg.Authz, store, km, log, oauth.WithClock(now),
		oauth.WithDPoP(verifier, cfg.DPoPNonce), oauth.WithClientCertificates(cfg.ClientCertificates), oauth.WithClientCAs(cfg.ClientCAs),
		oauth.WithMTLSEndpointAliases(cfg.MTLSBaseURL),
		oauth.WithJWKSFetchPolicy(clientauth.JWKSFetchPolicy{
			AllowHTTP:             strings.HasPrefix(cfg.Authz.Issuer, "http://"),
			AllowPrivateAddresses: cfg.JWKSURIAllowPrivate,
		}),
		oauth.WithMetrics(mx), oauth.WithTracerProvider(cfg.Tracing))
	if err != nil {
		return nil, err
	}
	flows, err := newLogin(cfg.Authz, store, o, now, mx, cfg.Tracing, log)
	if err != nil {
		return nil, err
	}
	csrf, err := login.NewCSRF(cfg.Authz.SystemSecret)
	if err != nil {
		return nil, err
	}
	lo := &logout.Service{
		Sessions: flows.Service, CSRF: csrf, Manager: o.Sessions, SID: o.Authorizer.SessionSID,
		Clients: o.Clients, Keys: km, Issuer: cfg.Authz.Issuer, IDTokenAlg: cfg.Authz.IDTokenAlgs[0],
	}
	pages, err := web.New(flows.Service, csrf, lo, web.Options{
		Product: cfg.Product, SecureCookies: cfg.Authz.CookiesSecure(), SessionLifespan: cfg.Authz.BrowserSessionLifespan,
		Logo: cfg.Logo, TrustedProxies: cfg.TrustedProxies,
	}, log)
	if err != nil {
		return nil, err
	}
	draining := new(atomic.Bool)
	frontends := []api.Frontend{pages}
	var demoRP *devrp.RP
	if cfg.Dev {
		// the demo relying party SeedDemo configures (dev server only)
		demoRP = devrp.New(cfg.Authz.Issuer, log)
		frontends = append(frontends, demoRP)
	}
	limiter, limits := newRateLimits(cfg, store, rdb, o, mx, log)
	h, err := api.New(o.Tokens, flows.Service, pages, log, api.Options{
		Ready: store.Ping, Draining: draining.Load, JWKSMaxAge: km.Policy().JWKSCacheLifetime,
		Frontends: frontends, RateLimits: limits, Metrics: mx.HTTP("public"),
	})
	if err != nil {
		return nil, err
	}
	var handler http.Handler = h
	if cfg.Tracing.Enabled() {
		// the span of each request; httpmw names it by its route pattern
		handler = otelhttp.NewHandler(h, "http.server",
			otelhttp.WithTracerProvider(cfg.Tracing), otelhttp.WithPropagators(cfg.Tracing.Propagator))
	}
	bc := &backchannel.Sender{
		Store: store, Keys: km, Issuer: cfg.Authz.Issuer, DefaultAlg: cfg.Authz.IDTokenAlgs[0],
		SID: o.Authorizer.SessionSID, Now: now, Log: log,
	}
	jan := &janitor.Janitor{Store: store, Now: now, Log: log, Metrics: mx}
	return &Server{
		OAuth: o, Login: flows.Service, Passwords: flows.Passwords, Throttle: flows.Throttle,
		Store: store, Keys: km, Backchannel: bc, Janitor: jan, Metrics: mx, Handler: handler,
		cfg: cfg, log: log, draining: draining, now: now, redis: rdb, demoRP: demoRP, RateLimiter: limiter,
	}, nil
}

// rateLimitMetrics counts every rate-limit rejection and fallback (not the
// audit trail's sample) in the server's metrics.
type rateLimitMetrics struct{ m *metrics.Metrics }

// OnReject implements ratelimit.Observer.
func (r rateLimitMetrics) OnReject(scope ratelimit.Scope, _ string) {
	r.m.RateLimitRejected(string(scope))
}

// OnFallback implements ratelimit.Observer.
func (r rateLimitMetrics) OnFallback(active bool) { r.m.RateLimitFallback(active) }

// newRateLimits builds the limiter of cfg.RateLimits (in Redis when rdb is
// set) and the public listener's limits; nil, nil when nothing is limited.
// Rejections and fallbacks go to cfg.RateLimits.Observer and, sampled, to
// the audit trail.
func newRateLimits(cfg Config, store storage.Store, rdb *redis.Client, o *oauth.Service, mx *metrics.Metrics, log *slog.Logger) (*ratelimit.Limiter, *api.RateLimits) {
	rl := cfg.RateLimits
	if !rl.enabled() {
		return nil, nil
	}
	// metrics count every rejection; the audit trail gets a sample
	observers := ratelimit.Observers{rateLimitMetrics{mx}, ratelimit.Sample(&ratelimit.AuditTrail{Audit: store, Log: log}, ratelimit.SampleOptions{})}
	if rl.Observer != nil {
		observers = append(observers, rl.Observer)
	}
	opts := ratelimit.Options{Prefix: rl.RedisPrefix, Observer: observers, Log: log, RetryAfter: rl.RedisRetry}
	if rdb != nil { // never a typed nil in the interface
		opts.Redis = rdb
	}
	limiter := ratelimit.New(opts)
	return limiter, &api.RateLimits{
		Limiter: limiter, Address: rl.Address, Client: rl.Client, TrustedProxies: cfg.TrustedProxies,
		ClientRate: func(ctx context.Context, id string) (ratelimit.Rate, bool, bool) {
			c, err := o.Clients.Get(ctx, id)
			switch {
			case errors.Is(err, storage.ErrNotFound): // unknown or disabled: the shared budget
				return ratelimit.Rate{}, false, false
			case err != nil: // the database is away: the client's own budget, at the default
				return ratelimit.Rate{}, false, true
			}
			md := c.Registration().Metadata
			r, ok := ratelimit.ParseOverride(md.RateLimit, md.RateLimitBurst)
			return r, ok, true
		},
	}
}

// Serve runs the public listener on ln until ctx ends, with the background
// workers (runWorkers) beside it, then shuts down gracefully: first /readyz
// turns 503 for Config.ShutdownDrain while every request is still served
// (connections are no longer kept alive), then the listener closes and
// in-flight requests finish (up to 20 s); the workers stop last. It returns
// once all of them have stopped, so the store may then close.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stopWorkers := s.runWorkers(ctx)
	err := httpListener{
		name: "public listener", handler: s.Handler, tls: s.cfg.TLS,
		drain: s.cfg.ShutdownDrain, draining: s.draining, log: s.log,
		hsts: strings.HasPrefix(strings.ToLower(s.cfg.Authz.Issuer), "https://"),
	}.serve(ctx, ln)
	return errors.Join(err, stopWorkers())
}

// Close releases the store and the Redis client, if any.
func (s *Server) Close() {
	if s.redis != nil {
		_ = s.redis.Close()
	}
	s.Store.Close()
}

// TLSConfig loads a certificate and key for serving HTTPS (TLS 1.2 minimum).
func TLSConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
}

// loginParts is the browser flow and the services it is built from that
// the server also hands elsewhere (admin, workers).
type loginParts struct {
	Service   *login.Service
	Passwords *password.Authenticator
	Throttle  *throttle.Throttle
}

// newLogin builds the browser flow over the token service o: password
// checks under the configured hash limiter, second factors and the login
// throttle.
func newLogin(cfg authz.Config, store storage.Store, o *oauth.Service, now func() time.Time, mx login.Metrics, tp trace.TracerProvider, log *slog.Logger) (*loginParts, error) {
	passwords, err := password.NewAuthenticator(store)
	if err != nil {
		return nil, err
	}
	passwords.Limiter = password.NewHashLimiter(cfg.PasswordHashing)
	totpKey, err := authz.DeriveKey(cfg.SystemSecret, "totp")
	if err != nil {
		return nil, err
	}
	recoveryKey, err := authz.DeriveKey(cfg.SystemSecret, "recovery-code")
	if err != nil {
		return nil, err
	}
	factors, err := mfa.New(mfa.Options{
		Store: store, TOTPKey: totpKey, RecoveryKey: recoveryKey,
		Issuer: cfg.Issuer, ProductName: cfg.ProductName, Now: now,
	})
	if err != nil {
		return nil, err
	}
	parts := &loginParts{Passwords: passwords, Throttle: throttle.New(store, cfg.LoginThrottle, now)}
	parts.Service, err = login.New(login.Options{
		Config: cfg, Store: store, Clients: o.Clients, Authorizer: o.Authorizer, Sessions: o.Sessions,
		Passwords: passwords, Factors: factors, Throttle: parts.Throttle, Now: now, Log: log, Metrics: mx, Tracer: tp,
	})
	if err != nil {
		return nil, err
	}
	return parts, nil
}

// newMetrics builds the server's registry with the collectors that read
// state at scrape time: the database (reachability, and the pool on
// PostgreSQL), the signing keys and the back-channel logout queue.
func newMetrics(cfg Config, store storage.Store, km *keys.Manager, now func() time.Time, log *slog.Logger) *metrics.Metrics {
	mx := metrics.New()
	var pool *pgxpool.Pool
	if p, ok := store.(interface{ Pool() *pgxpool.Pool }); ok {
		pool = p.Pool()
	}
	mx.RegisterDatabase(store.Ping, pool, log)
	mx.RegisterSigningKeys(km.List, cfg.KeyRotationInterval, now, log)
	mx.RegisterBackchannelQueue(store.CountLogoutDeliveries, log)
	return mx
}
