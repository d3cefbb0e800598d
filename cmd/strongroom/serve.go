package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/buildinfo"
	"github.com/strongroom/strongroom/cmd/strongroom/internal/flagsource"
	"github.com/strongroom/strongroom/server"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/tracing"
	"github.com/strongroom/strongroom/web"
)

const envKEK = "STRONGROOM_KEK"

type serveFlags struct {
	// startSettings are the effective, redacted settings, audited at start.
	startSettings          map[string]string
	dev                    bool
	allowInsecureRedirects bool
	devSeed                string
	listen, issuer         string
	tlsCert, tlsKey        string
	insecureHTTP           bool
	product                string
	logoFile               string
	codeTTL, accessTTL     time.Duration
	idTokenTTL, refreshTTL time.Duration
	refreshGrace           time.Duration
	keyRotation, jwksCache time.Duration
	adminListen, adminCA   string
	metricsTokenFile       string
	otlpEndpoint           string
	session                sessionFlags
	trustedProxies         []string
	shutdownDrain          time.Duration
	shutdownDrainSet       bool // --shutdown-drain given (else 0 with --dev)
	hashConcurrency        int
	senderConstraints      senderConstraintFlags
	gateway                gatewayFlags
	rateLimits             rateLimitFlags
	logFormat              logFormat
	logLevel               logLevel
}

// newServeCmd builds `strongroom serve`.
func newServeCmd(a *app) *cobra.Command {
	f := serveFlags{logFormat: logText, logLevel: logLevel(slog.LevelInfo)}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the authorization server",
		Long: `Run the authorization server.

With --dev: an embedded in-memory store, plain HTTP on 127.0.0.1 only, a demo
user and two demo clients whose credentials are printed at start.

Without --dev: DATABASE_URL (or --database-url), STRONGROOM_SECRET and
STRONGROOM_KEK (32 bytes, base64 or hex: encrypts signing keys at rest) are
required (STRONGROOM_KEK_PREVIOUS, while the KEK changes: keys still under it
are decrypted with it, see keys rewrap); HTTPS with --tls-cert/--tls-key (TLS 1.2 minimum), or plain HTTP only
with --insecure-http (e.g. behind a TLS-terminating proxy). SIGTERM or SIGINT
stop it gracefully: /readyz answers 503 for --shutdown-drain while requests
are still served, then the listener closes and in-flight requests finish.

Every flag can also be set with a STRONGROOM_<FLAG_NAME> variable (e.g.
STRONGROOM_ISSUER, STRONGROOM_ACCESS_TOKEN_LIFESPAN; lists comma-separated)
or in the YAML file of --config (keys named as the flags); a flag beats the
variable, which beats the file. strongroom config show prints the result.`,
		Example: `  strongroom serve --dev
  strongroom serve --config /etc/strongroom/strongroom.yaml
  strongroom serve --issuer https://auth.example.com --listen :8443 \
      --tls-cert /etc/strongroom/tls.crt --tls-key /etc/strongroom/tls.key

  # mTLS clients (RFC 8705) on Strongroom's own TLS
  strongroom serve --issuer https://auth.example.com --tls-cert tls.crt --tls-key tls.key \
      --tls-client-ca /etc/strongroom/partner-ca.pem

  # Several nodes sharing one rate-limit budget (and DPoP replay cache) in Redis
  strongroom serve --issuer https://auth.example.com --insecure-http --trusted-proxy 10.0.0.0/8 \
      --redis-url redis://redis.internal:6379/0 --rate-limit-client 100/s --rate-limit-client-burst 200

  # Behind a TLS-terminating proxy that forwards the client certificate
  strongroom serve --issuer https://auth.example.com --insecure-http \
      --trusted-proxy 10.0.0.0/8 --client-cert-header X-Client-Cert --tls-client-ca partner-ca.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			origins, err := applyConfigSources(cmd, a)
			if err != nil {
				return err
			}
			f.startSettings = startSettings(effectiveConfig(cmd.Flags(), origins, a.getenv))
			f.shutdownDrainSet = cmd.Flags().Changed("shutdown-drain")
			if a.logTo != nil {
				a.log = newLogger(a.logTo, f.logFormat, slog.Level(f.logLevel))
			}
			a.log.Info("strongroom starting", append(versionLogAttrs(buildinfo.Read()), "config", configPath(cmd, a))...)
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runServe(ctx, a, &f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.dev, "dev", false, "development mode: in-memory store, HTTP on loopback, demo user and clients")
	fl.BoolVar(&f.allowInsecureRedirects, "allow-insecure-redirects", false, "let the admin API register confidential clients with http redirect URIs on 127.0.0.1, [::1] or localhost (local development; always so with --dev, never by default)")
	fl.StringVar(&f.devSeed, "dev-seed", "", "with --dev: YAML file of fixed demo credentials and extra users and clients, so a front end's configuration survives restarts")
	fl.StringVar(&f.listen, "listen", "", "address to listen on (default 127.0.0.1:8080 in dev mode, :8443 with TLS, :8080 otherwise)")
	fl.StringVar(&f.issuer, "issuer", "", "issuer URL (default derived from --listen in dev mode)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate file (PEM)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fl.BoolVar(&f.insecureHTTP, "insecure-http", false, "serve plain HTTP without --dev (only behind a TLS-terminating proxy)")
	fl.StringVar(&f.product, "product-name", "Strongroom", "product name shown on the login pages")
	fl.StringVar(&f.logoFile, "logo-file", "", "logo shown on the login pages: PNG, JPEG, GIF, WebP or SVG file, at most 64 KiB")
	fl.DurationVar(&f.codeTTL, "authorization-code-lifespan", 60*time.Second, "authorization code lifetime")
	fl.DurationVar(&f.accessTTL, "access-token-lifespan", 10*time.Minute, "access token lifetime")
	fl.DurationVar(&f.idTokenTTL, "id-token-lifespan", 10*time.Minute, "ID token lifetime")
	fl.DurationVar(&f.refreshTTL, "refresh-token-lifespan", 30*24*time.Hour, "refresh token lifetime")
	fl.DurationVar(&f.refreshGrace, "refresh-token-reuse-grace", 0, "a rotated refresh token presented again this soon is refused without revoking its family (a lost-response retry); 0: every reuse revokes the family (RFC 9700), at most 1m")
	fl.DurationVar(&f.keyRotation, "key-rotation-interval", 0, "rotate the signing keys once the active key has signed this long, e.g. 720h (0: off, rotate with strongroom keys rotate)")
	fl.StringVar(&f.adminListen, "admin-listen", defaultAdminListen, `address of the admin API listener, never the public one ("off" disables it)`)
	fl.StringVar(&f.adminCA, "admin-client-ca", "", "PEM CA bundle: the admin listener then requires and verifies client certificates (mTLS; needs --tls-cert)")
	fl.StringVar(&f.otlpEndpoint, "otlp-endpoint", "", "OpenTelemetry collector base URL (OTLP/HTTP, e.g. http://otel-collector:4318): export traces of requests, token-endpoint work and SQL queries (default off; OTEL_EXPORTER_OTLP_ENDPOINT is honoured too)")
	fl.StringVar(&f.metricsTokenFile, "metrics-token-file", "", "file holding a bearer token (one line, at least 16 bytes) that scrapes of /metrics on the admin listener must present (default: /metrics needs no token)")
	fl.DurationVar(&f.jwksCache, "jwks-cache-lifespan", keys.DefaultJWKSCacheLifetime, "JWKS Cache-Control max-age; a next signing key is published this long (+5s) before it signs")
	// Durations are named --*-lifespan; the old names stay as hidden aliases.
	flagsource.Alias(fl, "jwks-cache-lifetime", "jwks-cache-lifespan")
	f.session.register(fl)
	fl.DurationVar(&f.shutdownDrain, "shutdown-drain", 5*time.Second, "on SIGTERM, answer /readyz with 503 this long while still serving, before the listener closes (default 0 with --dev)")
	fl.StringArrayVar(&f.trustedProxies, "trusted-proxy", nil, "CIDR or address of a reverse proxy whose X-Forwarded-For names the client of a login attempt (repeatable); other peers' headers are ignored")
	f.senderConstraints.register(fl)
	f.gateway.register(fl)
	f.rateLimits.register(fl)
	addConfigFlag(fl)
	fl.Var(&f.logFormat, "log-format", "log format: text (key=value) or json (one object a line)")
	fl.Var(&f.logLevel, "log-level", "least severe log level written: debug, info, warn or error")
	fl.IntVar(&f.hashConcurrency, "password-hash-concurrency", 0, "argon2id computations (19 MiB each) that may run at once; a login beyond them gets 503 with Retry-After (0: two per CPU)")
	return cmd
}

func runServe(ctx context.Context, a *app, f *serveFlags) error {
	cfg := server.Config{Dev: f.dev, AllowInsecureRedirects: f.allowInsecureRedirects, Product: f.product, KeyRotationInterval: f.keyRotation, JWKSCacheLifetime: f.jwksCache, ShutdownDrain: f.shutdownDrain}
	switch {
	case f.shutdownDrain < 0:
		return usageErrorf("--shutdown-drain must not be negative")
	case f.dev && !f.shutdownDrainSet:
		cfg.ShutdownDrain = 0 // nothing balances a dev server's traffic
	}
	if f.logoFile != "" {
		logo, err := os.ReadFile(f.logoFile)
		if err != nil {
			return usageErrorf("--logo-file: %v", err)
		}
		cfg.Logo = logo
	}
	if err := checkKeyFlags(f); err != nil {
		return err
	}
	cfg.Authz = authz.Config{
		Issuer: f.issuer, AuthorizeCodeLifespan: f.codeTTL, AccessTokenLifespan: f.accessTTL,
		IDTokenLifespan: f.idTokenTTL, RefreshTokenLifespan: f.refreshTTL, RefreshRotationGrace: f.refreshGrace,
		PasswordHashing: password.HashLimits{Concurrent: f.hashConcurrency},
	}
	if f.hashConcurrency < 0 {
		return usageErrorf("--password-hash-concurrency must not be negative")
	}
	if err := f.session.apply(&cfg); err != nil {
		return err
	}
	proxies, perr := web.ParseTrustedProxies(f.trustedProxies)
	if perr != nil {
		return usageErrorf("--trusted-proxy: %v", perr)
	}
	cfg.TrustedProxies = proxies
	if f.refreshGrace < 0 || f.refreshGrace > authz.MaxRefreshRotationGrace {
		return usageErrorf("--refresh-token-reuse-grace must be between 0 and %s", authz.MaxRefreshRotationGrace)
	}
	for name, d := range map[string]time.Duration{
		"--authorization-code-lifespan": f.codeTTL, "--access-token-lifespan": f.accessTTL,
		"--id-token-lifespan": f.idTokenTTL, "--refresh-token-lifespan": f.refreshTTL,
	} {
		if d <= 0 {
			return usageErrorf("%s must be positive", name)
		}
	}
	tlsOn := f.tlsCert != "" || f.tlsKey != ""
	switch {
	case tlsOn && (f.tlsCert == "" || f.tlsKey == ""):
		return usageErrorf("--tls-cert and --tls-key go together")
	case f.devSeed != "" && !f.dev:
		return usageErrorf("--dev-seed needs --dev: it seeds the in-memory dev store")
	case f.dev && tlsOn:
		return usageErrorf("--dev serves plain HTTP on loopback; drop --tls-cert/--tls-key")
	case !f.dev && !tlsOn && !f.insecureHTTP:
		return usageErrorf("refusing to serve plain HTTP: pass --tls-cert and --tls-key, or --insecure-http behind a TLS proxy")
	}
	if err := f.senderConstraints.apply(&cfg, tlsOn, a.getenv); err != nil {
		return err
	}
	if err := f.rateLimits.apply(&cfg); err != nil {
		return err
	}
	listen := f.listen
	if listen == "" {
		switch {
		case f.dev:
			listen = "127.0.0.1:8080"
		case tlsOn:
			listen = ":8443"
		default:
			listen = ":8080"
		}
	}
	if f.dev {
		host, _, err := net.SplitHostPort(listen)
		if err != nil {
			return usageErrorf("--listen: %v", err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return usageErrorf("--dev listens on loopback only (127.0.0.1 or [::1]), not %q", host)
		}
	}

	var err error
	if f.dev {
		cfg.Authz.SystemSecret, err = devSecret(a, envSecret)
		if err != nil {
			return err
		}
		cfg.KEK, err = devSecret(a, envKEK)
		if err != nil {
			return err
		}
		cfg.DatabaseURL = a.databaseURL
	} else {
		if cfg.DatabaseURL, err = a.dbURL(); err != nil {
			return err
		}
		if cfg.Authz.SystemSecret, err = a.systemSecret(); err != nil {
			return usageErrorf("%v", err)
		}
		if cfg.KEK, err = keys.ParseKEK(a.getenv(envKEK)); err != nil {
			return usageErrorf("%s: %v", envKEK, err)
		}
		if cfg.PreviousKEK, err = a.previousKEK(); err != nil {
			return err
		}
		if cfg.Authz.Issuer == "" {
			return usageErrorf("--issuer is required without --dev: pass it, set STRONGROOM_ISSUER or put issuer: in the --config file")
		}
	}
	var certs *server.CertificateReloader
	if tlsOn {
		if cfg.TLS, certs, err = server.ReloadableTLSConfig(f.tlsCert, f.tlsKey); err != nil {
			return err
		}
		requestClientCertificates(&cfg)
	}
	reloadOnHangup(ctx, a, certs)
	if f.otlpEndpoint != "" {
		if _, err := tracing.ParseEndpoint(f.otlpEndpoint); err != nil {
			return usageErrorf("--otlp-endpoint: %v", err)
		}
	}
	tp, err := tracing.Setup(ctx, tracing.Options{Endpoint: f.otlpEndpoint, ServiceVersion: buildinfo.Read().Version, Getenv: a.getenv})
	if err != nil {
		return err
	}
	defer func() {
		// after the listeners stopped: the last spans are sent
		if err := tp.Shutdown(context.WithoutCancel(ctx)); err != nil {
			a.log.Warn("tracing: flushing spans at shutdown failed", "err", err)
		}
	}()
	cfg.Tracing = tp

	adminLn, err := listenAdmin(a, f, tlsOn)
	if err != nil {
		return err
	}
	defer adminLn.close()
	gatewayLn, err := listenGateway(&f.gateway)
	if err != nil {
		return err
	}
	defer gatewayLn.close()
	var seed *server.DevSeed
	if f.devSeed != "" {
		if seed, err = server.LoadDevSeed(f.devSeed); err != nil {
			return usageErrorf("--dev-seed: %v", err)
		}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("listen: %s: address already in use (another strongroom?): choose another address with --listen, e.g. --listen 127.0.0.1:9090 (make run ARGS=\"--listen 127.0.0.1:9090\")", listen)
		}
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	if cfg.Authz.Issuer == "" {
		cfg.Authz.Issuer = "http://" + ln.Addr().String()
	}
	srv, err := server.New(ctx, cfg, a.log)
	if err != nil {
		return err
	}
	defer srv.Close()
	if f.dev {
		demo, err := srv.SeedDemo(ctx, seed)
		if err != nil {
			return err
		}
		adminURL := ""
		if adminLn != nil {
			adminURL = "http://" + adminLn.ln.Addr().String()
		}
		printDemo(a, cfg.Authz.Issuer, adminURL, demo)
	}
	if err := auditStart(ctx, srv.Store, f.startSettings, ln.Addr().String()); err != nil {
		return err
	}
	a.log.Info("strongroom listening", "addr", ln.Addr().String(), "issuer", cfg.Authz.Issuer, "dev", f.dev, "tls", tlsOn,
		"client_certificates", cfg.ClientCAs != nil, "client_cert_header", cfg.ClientCertificates.Header(), "dpop_nonce", string(cfg.DPoPNonce),
		"dpop_replay_cache", dpopReplayCacheName(cfg.RedisURL), "mtls_base_url", cfg.MTLSBaseURL,
		"tracing", tp.Enabled(), "otlp_endpoint", tp.Endpoint)
	a.log.Info("rate limits", rateLimitsLog(cfg)...)
	if f.allowInsecureRedirects && !f.dev {
		a.log.Warn("--allow-insecure-redirects: the admin API registers confidential clients with http redirect URIs on loopback hosts; meant for local development only")
	}
	return serveWithAdmin(ctx, a, srv, ln, adminLn, gatewayLn)
}

// reloadOnHangup rereads the TLS certificate and key on every SIGHUP until
// ctx ends (certificates renewed on disk, e.g. by certbot or cert-manager,
// take effect without a restart or a dropped connection). A pair that does
// not load is logged and the previous one kept. SIGHUP never stops the
// server: without TLS it only says there is nothing to reload. The
// configuration file is read at start only; changing it needs a restart.
func reloadOnHangup(ctx context.Context, a *app, certs *server.CertificateReloader) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			}
			if certs == nil {
				a.log.Info("SIGHUP: no TLS certificate to reload (no --tls-cert); configuration changes need a restart")
				continue
			}
			leaf, err := certs.Reload()
			if err != nil {
				a.log.Error("SIGHUP: TLS certificate not reloaded; still serving the previous one", "err", err)
				continue
			}
			a.log.Info("SIGHUP: TLS certificate reloaded", "subject", leaf.Subject.String(), "serial", leaf.SerialNumber.String(),
				"not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
		}
	}()
}

// dpopReplayCacheName is where DPoP proof ids are kept, for the start log.
func dpopReplayCacheName(redisURL string) string {
	if redisURL != "" {
		return "redis"
	}
	return "database"
}

// devSecret returns the variable's value when set, or a fresh random key
// (dev mode only; said out loud).
func devSecret(a *app, env string) ([]byte, error) {
	if v := a.getenv(env); v != "" {
		var key []byte
		var err error
		if env == envKEK {
			key, err = keys.ParseKEK(v)
		} else {
			key, err = parseSecret(v)
		}
		if err != nil {
			return nil, usageErrorf("%s: %v", env, err)
		}
		return key, nil
	}
	gen, err := keys.GenerateKEK()
	if err != nil {
		return nil, err
	}
	a.log.Warn("dev mode: generated a random key for this run only", "variable", env)
	return keys.ParseKEK(gen)
}

func printDemo(a *app, issuer, adminURL string, d *server.Demo) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nStrongroom dev server — in-memory store, nothing is kept\n\n")
	if d.DemoAppURL != "" {
		fmt.Fprintf(&b, "  ▶ Try it: open %s and sign in as %s / %s\n\n", d.DemoAppURL, d.Username, d.Password)
	}
	fmt.Fprintf(&b, "  issuer      %s\n  discovery   %s/.well-known/openid-configuration\n\n", issuer, issuer)
	fmt.Fprintf(&b, "  demo user            username %s  password %s\n", d.Username, d.Password)
	fmt.Fprintf(&b, "  confidential client  client_id %s  client_secret %s\n", d.ConfidentialClientID, d.ConfidentialSecret)
	fmt.Fprintf(&b, "  public client        client_id %s (PKCE, no secret)\n", d.PublicClientID)
	fmt.Fprintf(&b, "  redirect URI         %s\n\n", d.RedirectURI)
	fmt.Fprintf(&b, "  Open in a browser to sign in (PKCE code_verifier %s):\n  %s\n\n", d.CodeVerifier, d.AuthorizeURL)
	fmt.Fprintf(&b, "  Client credentials:\n  curl -s -u %s:%s -d grant_type=client_credentials -d scope=openid %s%s\n\n",
		d.ConfidentialClientID, d.ConfidentialSecret, issuer, authz.PathToken)
	if adminURL != "" {
		fmt.Fprintf(&b, "  Admin API (%s), as client %s:\n", adminURL, d.AdminClientID)
		fmt.Fprintf(&b, "  TOKEN=$(curl -s -u %s:%s -d grant_type=client_credentials -d scope=%s %s%s | jq -r .access_token)\n",
			d.AdminClientID, d.AdminSecret, authz.AdminScope, issuer, authz.PathToken)
		fmt.Fprintf(&b, "  curl -s -H \"Authorization: Bearer $TOKEN\" %s/admin/v1/clients\n\n", adminURL)
	}
	if len(d.SeededUsers)+len(d.SeededClients) > 0 {
		fmt.Fprintf(&b, "  From the seed file: users %s; clients %s\n\n", strings.Join(d.SeededUsers, ", "), strings.Join(d.SeededClients, ", "))
	}
	fmt.Fprint(a.out, b.String())
}

// ActionServerStart is the audit action written when serve starts.
const ActionServerStart = "server.start"

// startSettings returns the settings of entries worth auditing: every value
// that is set, as `config show` prints it (secrets redacted).
func startSettings(entries []configEntry) map[string]string {
	out := map[string]string{}
	for _, e := range entries {
		if e.Value != "" && e.Source != "unset" {
			out[e.Key] = e.Value
		}
	}
	return out
}

// auditStart records the start of this node and the configuration it runs
// with (PCI DSS v4 10.2.1.6: initialisation of audit logs; 10.2.1.7 changes
// in configuration show from one start to the next). Settings never hold
// secrets: they are config show's redacted values.
func auditStart(ctx context.Context, store storage.Audit, settings map[string]string, addr string) error {
	d := maps.Clone(settings)
	if d == nil {
		d = map[string]string{}
	}
	info := buildinfo.Read()
	d["version"], d["listen_addr"], d["source"] = info.Version, addr, authzadmin.SourceServer
	host, _ := os.Hostname()
	e := &storage.AuditEvent{Time: time.Now().UTC(), Actor: "system", Action: ActionServerStart, Target: host,
		Outcome: storage.OutcomeSuccess, Details: d}
	if err := store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit the start: %w", err)
	}
	return nil
}
